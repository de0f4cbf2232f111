// Package idpserver assembles the identity provider that `idp serve` runs — storage, the
// key-encryption key, the keyring, the signing keys, the oidc.Server and the operations
// endpoints — from a Config, so that other commands (the one-command demo, cmd/demo;
// end-to-end tests of the wallet) can run the same provider in process. Its wallet
// counterpart is cmd/internal/walletserver.
//
//	cfg := idpserver.DefaultConfig()
//	cfg.HTTP.Addr = "127.0.0.1:0"
//	svc, err := idpserver.Open(ctx, cfg, logger)
//	...
//	defer svc.Close()
//	ln, err := cfg.HTTP.Listen(ctx, logger)
//	err = app.Serve(ctx, ln, svc.Handler, cfg.HTTP, logger)
package idpserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/admin"
	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/oidc"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/health"
)

// Defaults of Config.
const (
	DefaultAddr   = "127.0.0.1:8080"
	DefaultIssuer = "http://127.0.0.1:8080"
)

// PurgedRecords names what the provider's purge deletes, for the --purge-interval help.
const PurgedRecords = "codes, tokens, one-time values, login sessions, old login failures, expired grant revocations, recovery codes and per-app hourly counts older than 31 days"

// SigningAlgorithms are the ID-token signing algorithms the provider keeps an active key for;
// Open creates the missing keys on first start.
var SigningAlgorithms = []string{keyring.AlgSM2, keyring.AlgES256, keyring.AlgRS256}

// Config is the configuration of `idp serve`. The zero value is not usable; start from
// DefaultConfig or register the flags with AddFlags.
type Config struct {
	app.Common
	HTTP app.HTTPConfig

	// Issuer is the issuer URL (--issuer, TONGBAN_ISSUER): https, or http on a loopback host
	// (127.0.0.0/8, ::1, localhost) for development, in which case cookies lose their Secure
	// attribute. It must be https when the server terminates TLS itself (HTTP.TLSEnabled).
	// Default DefaultIssuer.
	Issuer string
	// FederationOrganization is the organization_name of the OpenID Federation entity
	// configuration (--federation-organization, TONGBAN_FEDERATION_ORGANIZATION); "" leaves
	// it out.
	FederationOrganization string
	// PasswordIterations is the PBKDF2-HMAC-SM3 iteration count for new password hashes and
	// for the dummy check run for unknown users (--password-iterations). Default
	// smcrypto.DefaultPasswordParams.Iterations (≈50 ms of one core).
	PasswordIterations int
	// ClientIPHeader names the request header holding the client IP address set by a trusted
	// reverse proxy (--client-ip-header), used by the per-IP login lockout: "X-Real-IP", or
	// "X-Forwarded-For" (its last address is taken). "" means the peer address of the
	// connection. Set it only behind a proxy that overwrites the header.
	ClientIPHeader string
	// PprofAddr is a loopback host:port on which to serve net/http/pprof (--pprof-addr), for
	// profiling; "" (the default) serves none.
	PprofAddr string
	// PurgeInterval is how often expired tokens, one-time values, login sessions and old
	// login failures are deleted (--purge-interval, TONGBAN_PURGE_INTERVAL); 0 never.
	// Default app.DefaultPurgeInterval.
	PurgeInterval time.Duration
	// Audit configures the audit chain's checkpoints and sink (--audit-*).
	Audit app.AuditConfig
	// Notifier picks how access-recovery codes reach people (--notifier, TONGBAN_NOTIFIER):
	// "none" (the default) turns recovery off; "console" writes each code to NotifierOut, for
	// development and the demo only. An SMS gateway is an accounts.Notifier built in Go
	// (docs/citizens/recovery.md).
	Notifier string
	// NotifierOut is where the console notifier writes; nil means standard output.
	NotifierOut io.Writer
	// Licences, when set, lets corrections of a licence field (纠错) reach the licences: the
	// demo sets it to its wallet, which shares the provider's database. `idp serve` leaves it
	// nil (the provider does not depend on the wallet), so only name and phone corrections
	// are offered there.
	Licences accounts.LicenceFields

	// Lifetimes and lockout (see oidc.Config for each; flags in AddFlags).
	CodeLifetime         time.Duration
	AccessTokenLifetime  time.Duration
	RefreshTokenLifetime time.Duration
	IDTokenLifetime      time.Duration
	SessionLifetime      time.Duration
	AuthRequestLifetime  time.Duration
	AccountLockThreshold int
	AccountLockWindow    time.Duration
	IPLockThreshold      int
	IPLockWindow         time.Duration
	ClientCacheTTL       time.Duration
}

// DefaultConfig returns the configuration `idp serve` runs with when given no flags,
// environment or config file.
func DefaultConfig() Config {
	fs := pflag.NewFlagSet("idp", pflag.ContinueOnError)
	var c Config
	c.Common.AddFlags(fs)
	AddPasswordFlag(fs, &c.PasswordIterations)
	c.AddFlags(fs)
	return c
}

// AddPasswordFlag registers --password-iterations (configurable) on fs; `idp serve` and
// `idp people add` share it.
func AddPasswordFlag(fs *pflag.FlagSet, iterations *int) {
	fs.IntVar(iterations, "password-iterations", smcrypto.DefaultPasswordParams.Iterations,
		"PBKDF2-HMAC-SM3 iterations for new password hashes (the default costs ≈50 ms of one core)")
	app.Configurable(fs, "password-iterations")
}

// AddFlags registers the serve settings (HTTP, issuer, lifetimes, lockout) on fs, all
// configurable. The common settings and --password-iterations are registered separately
// (Common.AddFlags, AddPasswordFlag), normally as persistent flags of the root command.
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	c.HTTP.AddFlags(fs, DefaultAddr)
	fs.StringVar(&c.Issuer, "issuer", DefaultIssuer, "issuer URL: https, or http on a loopback host for development")
	fs.StringVar(&c.FederationOrganization, "federation-organization", "", "organization_name in the OpenID Federation entity configuration")
	app.Configurable(fs, "federation-organization")
	fs.StringVar(&c.ClientIPHeader, "client-ip-header", "", "header with the client IP set by a trusted reverse proxy (X-Real-IP or X-Forwarded-For); empty = connection peer")
	app.AddPurgeFlag(fs, &c.PurgeInterval, PurgedRecords)
	c.Audit.AddFlags(fs)
	fs.StringVar(&c.Notifier, "notifier", "none", "how access-recovery codes are sent: none (recovery off) or console (printed on standard output; development only)")
	app.Configurable(fs, "notifier")
	fs.StringVar(&c.PprofAddr, "pprof-addr", "", "loopback host:port serving /debug/pprof/ for profiling; empty = off")
	fs.DurationVar(&c.CodeLifetime, "code-lifetime", oidc.DefaultCodeLifetime, "authorization code lifetime")
	fs.DurationVar(&c.AccessTokenLifetime, "access-token-lifetime", oidc.DefaultAccessTokenLifetime, "access token lifetime")
	fs.DurationVar(&c.RefreshTokenLifetime, "refresh-token-lifetime", oidc.DefaultRefreshTokenLifetime, "refresh token lifetime")
	fs.DurationVar(&c.IDTokenLifetime, "id-token-lifetime", oidc.DefaultIDTokenLifetime, "ID token lifetime")
	fs.DurationVar(&c.SessionLifetime, "session-lifetime", oidc.DefaultSessionLifetime, "SSO login session lifetime")
	fs.DurationVar(&c.AuthRequestLifetime, "auth-request-lifetime", oidc.DefaultAuthRequestLifetime, "time a pending authorization request stays usable on the login and consent pages")
	fs.IntVar(&c.AccountLockThreshold, "account-lock-threshold", oidc.DefaultAccountLockThreshold, "failed logins per account from untrusted browsers within account-lock-window before each further attempt must wait (1s doubling to 15m)")
	fs.DurationVar(&c.AccountLockWindow, "account-lock-window", oidc.DefaultAccountLockWindow, "how long a login failure counts against an account or a device (at least 15m)")
	fs.IntVar(&c.IPLockThreshold, "ip-lock-threshold", oidc.DefaultIPLockThreshold, "refused logins per client IP within ip-lock-window before it is refused")
	fs.DurationVar(&c.IPLockWindow, "ip-lock-window", oidc.DefaultIPLockWindow, "sliding window of ip-lock-threshold")
	fs.DurationVar(&c.ClientCacheTTL, "client-cache-ttl", oidc.DefaultClientCacheTTL, "how long registered clients are cached (negative: no cache)")
	app.Configurable(fs, "issuer", "client-ip-header", "pprof-addr", "code-lifetime", "access-token-lifetime",
		"refresh-token-lifetime", "id-token-lifetime", "session-lifetime", "auth-request-lifetime",
		"account-lock-threshold", "account-lock-window", "ip-lock-threshold", "ip-lock-window",
		"client-cache-ttl")
}

// ValidatePasswordIterations records a problem unless n is from 1 to
// smcrypto.MaxPasswordIterations (the most CheckPassword accepts).
func ValidatePasswordIterations(p *app.Problems, n int) {
	if n < 1 || n > smcrypto.MaxPasswordIterations {
		p.Addf("password-iterations: must be from 1 to %d, got %d", smcrypto.MaxPasswordIterations, n)
	}
}

// Validate records every problem of c in p (the common and HTTP settings included).
func (c *Config) Validate(p *app.Problems) {
	c.Common.Validate(p)
	c.HTTP.Validate(p)
	if _, err := c.issuer(); err != nil {
		p.Add(err)
	}
	ValidatePasswordIterations(p, c.PasswordIterations)
	app.ValidateLoopbackAddr(p, "pprof-addr", c.PprofAddr)
	app.ValidatePurgeInterval(p, c.PurgeInterval)
	c.Audit.Validate(p)
	switch c.Notifier {
	case "none", "console":
	default:
		p.Addf("notifier: want none or console, got %q", c.Notifier)
	}
	switch http.CanonicalHeaderKey(c.ClientIPHeader) {
	case "", "X-Real-Ip", "X-Forwarded-For":
	default:
		p.Addf("client-ip-header: want X-Real-IP or X-Forwarded-For, got %q", c.ClientIPHeader)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"code-lifetime", c.CodeLifetime}, {"access-token-lifetime", c.AccessTokenLifetime},
		{"refresh-token-lifetime", c.RefreshTokenLifetime}, {"id-token-lifetime", c.IDTokenLifetime},
		{"session-lifetime", c.SessionLifetime}, {"auth-request-lifetime", c.AuthRequestLifetime},
		{"account-lock-window", c.AccountLockWindow}, {"ip-lock-window", c.IPLockWindow},
	} {
		if d.v < time.Second {
			p.Addf("%s: must be at least 1s, got %s", d.name, d.v)
		}
	}
	if c.CodeLifetime > 10*time.Minute {
		p.Addf("code-lifetime: at most 10m (RFC 6749 §4.1.2), got %s", c.CodeLifetime)
	}
	if c.AccountLockWindow >= time.Second && c.AccountLockWindow < oidc.DefaultAccountMaxDelay {
		p.Addf("account-lock-window: must be at least %s (the longest login delay), got %s", oidc.DefaultAccountMaxDelay, c.AccountLockWindow)
	}
	if c.AccountLockThreshold < 1 {
		p.Addf("account-lock-threshold: must be at least 1, got %d", c.AccountLockThreshold)
	}
	if c.IPLockThreshold < 1 {
		p.Addf("ip-lock-threshold: must be at least 1, got %d", c.IPLockThreshold)
	}
}

// PasswordParams returns the password hash parameters of c.
func (c *Config) PasswordParams() smcrypto.PasswordParams {
	p := smcrypto.DefaultPasswordParams
	p.Iterations = c.PasswordIterations
	return p
}

// issuer parses and checks the issuer URL and reports whether it is a development (http on
// loopback) issuer. With TLS (c.HTTP.TLSEnabled) it must be https, so that discovery names
// the URLs the server answers on and cookies are Secure.
func (c *Config) issuer() (insecure bool, err error) {
	u, perr := url.Parse(c.Issuer)
	switch {
	case perr != nil || !u.IsAbs() || u.Host == "":
		return false, fmt.Errorf("issuer %q: want an absolute URL such as https://id.example.gov.cn", c.Issuer)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return false, fmt.Errorf("issuer %q: must not have a query, fragment or user info", c.Issuer)
	case u.Scheme == "https":
		return false, nil
	case u.Scheme == "http" && c.HTTP.TLSEnabled():
		return false, fmt.Errorf("issuer %q: the server terminates TLS (tls-cert, tls-key), so the issuer must be its https URL", c.Issuer)
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return true, nil
	case u.Scheme == "http":
		return false, fmt.Errorf("issuer %q: http is allowed only on a loopback host (development); use https", c.Issuer)
	}
	return false, fmt.Errorf("issuer %q: scheme must be https", c.Issuer)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// clientIP returns the oidc.Config.ClientIP function for c.ClientIPHeader (nil: the default).
func (c *Config) clientIP() func(*http.Request) string {
	h := http.CanonicalHeaderKey(c.ClientIPHeader)
	if h == "" {
		return nil
	}
	return func(r *http.Request) string {
		v := r.Header.Get(h)
		if h == "X-Forwarded-For" {
			if i := strings.LastIndexByte(v, ','); i >= 0 {
				v = v[i+1:]
			}
		}
		v = strings.TrimSpace(v)
		if net.ParseIP(v) == nil {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				return r.RemoteAddr
			}
			return host
		}
		return v
	}
}

// notifier returns the accounts.Notifier of c.Notifier (nil for "none").
func (c *Config) notifier() accounts.Notifier {
	if c.Notifier != "console" {
		return nil
	}
	w := c.NotifierOut
	if w == nil {
		w = os.Stdout
	}
	return &accounts.ConsoleNotifier{W: w}
}

// Service is a running identity provider: open storage and keys, and the handler to serve.
type Service struct {
	// Backend is the store and keyring the provider works on.
	Backend *app.Backend
	// Metrics is the service's Prometheus registry, exposed at /metrics.
	Metrics *app.Metrics
	// OIDC is the provider.
	OIDC *oidc.Server
	// Admin is the admin console and API, served at OIDC.AdminPath() (package admin).
	Admin *admin.Handler
	// Health tells whether the database accepts writes: /readyz answers it. Run starts its
	// checks (app.StartHealth).
	Health *health.Monitor
	// Handler serves the provider, the admin console and /healthz, /readyz, /metrics
	// (app.OpsHandler).
	Handler http.Handler

	ownBackend bool
}

// Open opens the backend of cfg (app.OpenBackend: storage, key-encryption key, keyring) and
// builds the provider on it with NewService. cfg must have passed Validate. Close releases
// the backend.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Service, error) {
	b, err := app.OpenBackend(ctx, cfg.Common, log)
	if err != nil {
		return nil, err
	}
	s, err := NewService(ctx, cfg, b, log)
	if err != nil {
		b.Close()
		return nil, err
	}
	s.ownBackend = true
	return s, nil
}

// NewService builds the provider on an open backend: it creates the missing ID-token signing
// keys (SigningAlgorithms), a metrics registry, the oidc.Server and the handler. Close does not
// close b. Errors wrap oidc.ErrInvalidConfig for a configuration oidc refuses.
func NewService(ctx context.Context, cfg Config, b *app.Backend, log *slog.Logger) (*Service, error) {
	insecure, err := cfg.issuer()
	if err != nil {
		return nil, app.Usage(err)
	}
	if err := b.Keyring.EnsureSigningKeys(ctx, storage.PurposeIDToken, SigningAlgorithms...); err != nil {
		return nil, fmt.Errorf("create signing keys: %w", err)
	}
	m := app.NewMetrics()
	licences := cfg.Licences
	srv, err := oidc.NewServer(ctx, oidc.Config{
		Licences:               licences,
		Issuer:                 strings.TrimSuffix(cfg.Issuer, "/"),
		FederationOrganization: cfg.FederationOrganization,
		Store:                  b.Store,
		Keyring:                b.Keyring,
		Logger:                 log,
		Registerer:             m.Registry,
		CodeLifetime:           cfg.CodeLifetime,
		AccessTokenLifetime:    cfg.AccessTokenLifetime,
		RefreshTokenLifetime:   cfg.RefreshTokenLifetime,
		IDTokenLifetime:        cfg.IDTokenLifetime,
		SessionLifetime:        cfg.SessionLifetime,
		AuthRequestLifetime:    cfg.AuthRequestLifetime,
		PasswordParams:         cfg.PasswordParams(),
		AccountLockThreshold:   cfg.AccountLockThreshold,
		AccountLockWindow:      cfg.AccountLockWindow,
		IPLockThreshold:        cfg.IPLockThreshold,
		IPLockWindow:           cfg.IPLockWindow,
		ClientIP:               cfg.clientIP(),
		Notifier:               cfg.notifier(),
		InsecureCookies:        insecure,
		ClientCacheTTL:         cfg.ClientCacheTTL,
	})
	if err != nil {
		if errors.Is(err, oidc.ErrInvalidConfig) {
			return nil, app.Usage(err)
		}
		return nil, fmt.Errorf("start provider: %w", err)
	}
	backends, err := adminBackends(srv, b, cfg, log, licences)
	if err != nil {
		return nil, fmt.Errorf("start admin console: %w", err)
	}
	adm, err := NewAdmin(srv, b, cfg, backends)
	if err != nil {
		return nil, fmt.Errorf("start admin console: %w", err)
	}
	h := app.NewHealth(b.Store, "idp", log)
	return &Service{
		Backend: b,
		Metrics: m,
		OIDC:    srv,
		Admin:   adm,
		Health:  h,
		Handler: app.OpsHandler(withAdmin(srv.Handler(), adm), h.Ready, m, log),
	}, nil
}

// Purge deletes the expired records of the provider once (oidc.Server.Purge), in the form
// app.StartPurge wants.
func (s *Service) Purge(ctx context.Context) (map[string]int64, error) {
	c, err := s.OIDC.Purge(ctx)
	return c.Map(), err
}

// StartPurge runs Purge every interval in the background until ctx ends (app.StartPurge);
// call stop before Close. interval 0 runs nothing.
func (s *Service) StartPurge(ctx context.Context, interval time.Duration, log *slog.Logger) (stop func()) {
	return app.StartPurge(ctx, interval, s.Purge, log)
}

// Close releases what Open opened (the backend); after NewService it does nothing.
func (s *Service) Close() error {
	if s.ownBackend {
		return s.Backend.Close()
	}
	return nil
}

// Run is `idp serve`: it opens the service, listens on cfg.HTTP.Addr and serves until ctx ends
// (SIGINT or SIGTERM through app.SignalContext), then shuts down gracefully and closes
// storage. Meanwhile it purges expired records every cfg.PurgeInterval, stores the per-app
// counts every 10 seconds (oidc.Server.StartAppStats; once more at shutdown) and checks every
// second that the database accepts writes (Service.Health). ready, when not nil, is called with the
// listening address once requests are accepted. cfg must have passed Validate.
func Run(ctx context.Context, cfg Config, log *slog.Logger, ready func(net.Addr)) error {
	svc, err := Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer svc.Close()
	ln, err := cfg.HTTP.Listen(ctx, log)
	if err != nil {
		return err
	}
	log.Info("identity provider starting", "issuer", cfg.Issuer, "kek_id", svc.Backend.KEKID)
	if cfg.PprofAddr != "" {
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			if err := app.ServePprof(pctx, cfg.PprofAddr, log); err != nil {
				log.Error("pprof listener failed", "err", err.Error())
			}
		}()
	}
	stopPurge := svc.StartPurge(ctx, cfg.PurgeInterval, log)
	defer stopPurge() // before svc.Close
	stopAppStats := svc.OIDC.StartAppStats(ctx)
	defer stopAppStats()                             // after the server drained its requests: flushes the last per-app counts
	stopLogouts := svc.OIDC.StartLogoutDelivery(ctx) // back-channel logout outbox
	defer stopLogouts()
	stopAudit, err := app.StartAudit(ctx, cfg.Audit, svc.Backend, log)
	if err != nil {
		return err
	}
	defer stopAudit() // after the server drained its requests, before svc.Close
	stopHealth := app.StartHealth(ctx, svc.Health)
	defer stopHealth()
	if ready != nil {
		ready(ln.Addr())
	}
	return app.Serve(ctx, ln, svc.Handler, cfg.HTTP, log)
}
