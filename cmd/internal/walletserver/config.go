package walletserver

import (
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/wallet"
	"github.com/tongban/tongban/wallet/web"
)

// Defaults of Config.
const (
	DefaultAddr      = "127.0.0.1:8081"
	DefaultIssuer    = "http://127.0.0.1:8080"
	DefaultPublicURL = "http://127.0.0.1:8081"
	DefaultClientID  = "wallet"
)

// PurgedRecords names what the wallet's purge deletes, for the --purge-interval help.
const PurgedRecords = "wallet sessions and code records past their retention"

// Config is the configuration of `wallet serve` beyond the common settings (app.Common). The
// zero value is not usable; start from DefaultConfig or register the flags with AddFlags.
type Config struct {
	HTTP app.HTTPConfig

	// Issuer is the identity provider's issuer URL (--issuer). Default DefaultIssuer.
	Issuer string
	// ClientID is the wallet's client ID at the provider (--client-id). Default
	// DefaultClientID.
	ClientID string
	// ClientSecret is the wallet's client secret (--client-secret, TONGBAN_CLIENT_SECRET);
	// ClientSecretFile names a file holding it instead (--client-secret-file). One is required.
	ClientSecret     string
	ClientSecretFile string
	// PublicURL is the wallet's base URL as browsers reach it (--public-url). Cookies are
	// Secure, and HSTS is sent, exactly when it is https; it must be https when the wallet
	// terminates TLS itself (HTTP.TLSEnabled). Default DefaultPublicURL.
	PublicURL string
	// APIClients and APIAudience say whose access tokens the JSON API accepts (--api-client,
	// --api-audience; web.Config). Default none: the API refuses every token.
	APIClients  []string
	APIAudience string
	// IDTokenAlg is the only ID-token algorithm accepted (--id-token-alg). Default
	// web.DefaultIDTokenAlg.
	IDTokenAlg string
	// KeyIssuer names the code-signing key's issuer in the trust list (--key-issuer). Default
	// wallet.DefaultKeyIssuer.
	KeyIssuer string
	// SessionLifetime is how long a wallet login lasts (--session-lifetime). Default
	// web.DefaultSessionLifetime.
	SessionLifetime time.Duration
	// TrustListPeriod, TrustListValidity and StatusListValidity are those of
	// wallet.ServiceConfig (--trust-list-period, --trust-list-validity,
	// --status-list-validity).
	TrustListPeriod    time.Duration
	TrustListValidity  time.Duration
	StatusListValidity time.Duration
	// PurgeInterval is how often expired wallet sessions and old code records are deleted
	// (--purge-interval); 0 never. Default app.DefaultPurgeInterval.
	PurgeInterval time.Duration
	// Audit configures the audit chain's checkpoints and sink (--audit-*).
	Audit app.AuditConfig
}

// DefaultConfig returns the configuration `wallet serve` runs with when given no flags,
// environment or config file (and no client secret).
func DefaultConfig() Config {
	var c Config
	c.AddFlags(pflag.NewFlagSet("wallet", pflag.ContinueOnError))
	return c
}

// AddFlags registers the serve settings on fs, all configurable.
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	c.HTTP.AddFlags(fs, DefaultAddr)
	fs.StringVar(&c.Issuer, "issuer", DefaultIssuer, "issuer URL of the identity provider")
	fs.StringVar(&c.ClientID, "client-id", DefaultClientID, "the wallet's client ID at the identity provider")
	fs.StringVar(&c.ClientSecret, "client-secret", "", "the wallet's client secret (prefer TONGBAN_CLIENT_SECRET or --client-secret-file: a flag shows in the process list)")
	fs.StringVar(&c.ClientSecretFile, "client-secret-file", "", "file holding the wallet's client secret")
	fs.StringVar(&c.PublicURL, "public-url", DefaultPublicURL, "the wallet's base URL as browsers reach it (scheme://host[:port])")
	fs.StringSliceVar(&c.APIClients, "api-client", nil, "client ID whose access tokens the JSON API accepts (repeat; default none: with no --api-audience either, the API refuses every token)")
	fs.StringVar(&c.APIAudience, "api-audience", "", "the wallet's resource identifier: the JSON API accepts access tokens whose aud contains it")
	fs.StringVar(&c.IDTokenAlg, "id-token-alg", web.DefaultIDTokenAlg, "the only ID-token signing algorithm accepted: the one the wallet's client is registered for ("+strings.Join(web.IDTokenAlgs, ", ")+")")
	fs.StringVar(&c.KeyIssuer, "key-issuer", wallet.DefaultKeyIssuer, "issuer name of the code-signing key in the trust list")
	fs.DurationVar(&c.SessionLifetime, "session-lifetime", web.DefaultSessionLifetime, "wallet login lifetime")
	fs.DurationVar(&c.TrustListPeriod, "trust-list-period", wallet.DefaultTrustListPeriod, "the trust list is re-issued at least this often")
	fs.DurationVar(&c.TrustListValidity, "trust-list-validity", wallet.DefaultTrustListValidity, "how long a trust list stays fresh; verifiers must update within it")
	AddStatusListValidityFlag(fs, &c.StatusListValidity)
	app.AddPurgeFlag(fs, &c.PurgeInterval, PurgedRecords)
	c.Audit.AddFlags(fs)
	app.Configurable(fs, "issuer", "client-id", "client-secret", "client-secret-file", "public-url", "api-client",
		"api-audience", "id-token-alg", "key-issuer", "session-lifetime", "trust-list-period", "trust-list-validity",
		"status-list-validity")
}

// AddStatusListValidityFlag registers --status-list-validity on fs (`wallet serve`,
// `wallet status-list export`); the caller marks it configurable.
func AddStatusListValidityFlag(fs *pflag.FlagSet, v *time.Duration) {
	fs.DurationVar(v, "status-list-validity", qr.DefaultStatusListValidity,
		"how long a status list stays fresh (1m to 24h): counters accepting pre-fetched codes must load a new one within it")
}

// Validate records every problem of c in p: the HTTP settings (TLS included), the purge
// interval, an issuer or public URL of the wrong shape, an http public URL while the wallet
// terminates TLS, an unknown ID-token algorithm, an empty API client ID, and a client secret
// given twice or not at all. The service's own checks (wallet.NewService,
// web.NewServer) run when it is built.
func (c *Config) Validate(p *app.Problems) {
	c.HTTP.Validate(p)
	app.ValidatePurgeInterval(p, c.PurgeInterval)
	c.Audit.Validate(p)
	if u, err := url.Parse(c.Issuer); err != nil || !u.IsAbs() || u.Host == "" {
		p.Addf("issuer %q: want an absolute URL", c.Issuer)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
		p.Addf("public-url %q: want scheme://host[:port] without a path", c.PublicURL)
	} else if u.Scheme == "http" && c.HTTP.TLSEnabled() {
		p.Addf("public-url %q: the wallet terminates TLS (tls-cert, tls-key), so its public URL must be https", c.PublicURL)
	}
	if c.ClientSecret != "" && c.ClientSecretFile != "" {
		p.Addf("client-secret and client-secret-file are both set: give one")
	}
	if !slices.Contains(web.IDTokenAlgs, c.IDTokenAlg) {
		p.Addf("id-token-alg %q: want one of %s", c.IDTokenAlg, strings.Join(web.IDTokenAlgs, ", "))
	}
	if slices.Contains(c.APIClients, "") {
		p.Addf("api-client: empty client ID")
	}
	if c.ClientSecret == "" && c.ClientSecretFile == "" {
		p.Addf("client-secret: required (TONGBAN_CLIENT_SECRET or --client-secret-file); register the wallet with 'idp clients add'")
	}
}

// LoadSecret reads ClientSecretFile, when set, into ClientSecret (surrounding white space
// trimmed) and clears ClientSecretFile. An unreadable file is a usage error.
func (c *Config) LoadSecret() error {
	if c.ClientSecretFile == "" {
		return nil
	}
	b, err := os.ReadFile(c.ClientSecretFile)
	if err != nil {
		return app.Usagef("client-secret-file: %w", err)
	}
	c.ClientSecret, c.ClientSecretFile = strings.TrimSpace(string(b)), ""
	return nil
}

// ServiceConfig returns the wallet.ServiceConfig of c, without Store, Keyring and Logger.
func (c *Config) ServiceConfig() wallet.ServiceConfig {
	return wallet.ServiceConfig{
		KeyIssuer: c.KeyIssuer, TrustListPeriod: c.TrustListPeriod, TrustListValidity: c.TrustListValidity,
		StatusListValidity: c.StatusListValidity,
	}
}
