package oidc

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/internal/httpkit"
	"github.com/tongban/tongban/keyring"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// Config configures a Server. The zero value of every optional field means the default given
// in its comment; only Issuer, Store and Keyring are required. Only cmd/idp reads files, flags
// and environment: this package takes a plain struct.
type Config struct {
	// Issuer is the issuer identifier (OpenID Connect Discovery 1.0 §3, RFC 8414 §2): an
	// absolute https URL without query or fragment, e.g. "https://idp.example.gov.cn" or
	// "https://example.gov.cn/idp". Every endpoint lives under its path. An http issuer is
	// accepted only together with InsecureCookies (development). Required.
	Issuer string

	// Store persists everything. Required.
	Store storage.Storage

	// Keyring supplies data keys (field encryption, blind index, token HMAC, client-secret
	// HMAC) and ID-token signing keys. NewServer creates the missing SGD_SM3_SM2, ES256 and
	// RS256 ID-token keys (keyring.EnsureSigningKeys). Required.
	Keyring *keyring.Keyring

	// Now returns the current time. Nil means time.Now. Tests inject a clock to expire codes,
	// tokens and sessions; fosite's own bookkeeping still reads the wall clock, so Now should
	// stay close to it outside tests.
	Now func() time.Time

	// Logger receives JSON-friendly structured logs: client IDs, opaque person IDs, error
	// codes — never names, numbers, phone numbers, passwords or tokens. Nil means
	// slog.Default().
	Logger *slog.Logger

	// Registerer receives the Prometheus collectors (see Metrics in doc.go). Nil means no
	// metrics are registered.
	Registerer prometheus.Registerer

	// CodeLifetime is how long an authorization code can be redeemed. Zero means 60 seconds
	// (RFC 9700 §4.2.1 asks for a short lifetime; DESIGN §4).
	CodeLifetime time.Duration
	// AccessTokenLifetime is the lifetime of access tokens. Zero means 10 minutes. A revoked
	// grant stays in the revoked-grant list for this long plus a minute, so shortening it
	// while older tokens are out shortens how long their revocation is remembered.
	AccessTokenLifetime time.Duration
	// RefreshTokenLifetime is the lifetime of each refresh token of a rotating family. Zero
	// means 30 days.
	RefreshTokenLifetime time.Duration
	// IDTokenLifetime is the validity of ID tokens (exp − iat). Zero means 10 minutes.
	IDTokenLifetime time.Duration
	// SessionLifetime is the lifetime of an SSO login session from the login that created it;
	// it is not extended by use. Zero means 8 hours.
	SessionLifetime time.Duration
	// AuthRequestLifetime is how long a pending authorization request stays usable on the
	// login and consent pages. Zero means 15 minutes.
	AuthRequestLifetime time.Duration
	// FreshLogin is how recent a login must be for the account page's sensitive actions
	// (enrolling a passkey or an OTP device, seeing an OTP secret or new recovery codes,
	// downloading the full ID number and phone number, closing the account); an older session is
	// asked to log in again. (Changing the password asks for the old one instead.) Zero means 5
	// minutes.
	FreshLogin time.Duration

	// PasswordParams and the lockout settings below configure the accounts.Service that the
	// login page checks credentials with (accounts.Config has the same fields).
	//
	// PasswordParams are the PBKDF2-HMAC-SM3 parameters for new password hashes and for the
	// dummy check run for unknown users (so both cost the same). A hash made with other
	// parameters is re-hashed after a successful login. Zero means smcrypto.DefaultPasswordParams
	// (≈50 ms of one core).
	PasswordParams smcrypto.PasswordParams

	// AccountLockThreshold is the number of failed logins for one account (the person,
	// whichever identifier was typed, or an identifier nobody has) from untrusted clients —
	// browsers without a valid device cookie for that person — within AccountLockWindow after
	// which each further attempt from an untrusted client must wait: AccountDelay, doubling
	// per failure, up to AccountMaxDelay (accounts.Config). Zero means 5.
	AccountLockThreshold int
	// AccountLockWindow is how long a login failure counts against an account or a device.
	// Zero means 24 hours; it must be at least AccountMaxDelay.
	AccountLockWindow time.Duration
	// AccountDelay is the first wait after AccountLockThreshold failures. Zero means 1 second.
	AccountDelay time.Duration
	// AccountMaxDelay caps the wait. Zero means 15 minutes.
	AccountMaxDelay time.Duration
	// DeviceLockThreshold is the number of failed logins from one browser holding a device
	// cookie, within AccountLockWindow, after which the cookie is no longer trusted. Zero
	// means 10.
	DeviceLockThreshold int
	// DeviceCookieLifetime is how long the device cookie set after each successful login
	// (tb_device: the opaque person ID, a random nonce and the issue time under HMAC-SM3)
	// is kept and accepted (OWASP device cookies). Zero means 180 days.
	DeviceCookieLifetime time.Duration
	// IPLockThreshold is the number of refused logins (failed, or refused because the account
	// was paused) from one client IP address within IPLockWindow after which logins from that
	// address without a trusted device cookie are refused. Zero means 50.
	IPLockThreshold int
	// IPLockWindow is the sliding window of IPLockThreshold. Zero means 15 minutes.
	IPLockWindow time.Duration

	// ClientIP returns the client IP address of a browser request, for the per-IP lockout.
	// Nil means the host part of r.RemoteAddr; behind a reverse proxy, supply a function that
	// reads the header the proxy sets.
	ClientIP func(r *http.Request) string

	// Notifier sends the one-time codes of access recovery ("forgot password" on the login
	// page) to the person's mobile number (accounts.Notifier). Nil means recovery is off: the
	// recovery page says so.
	Notifier accounts.Notifier

	// Licences reaches the fields of licences (电子证照) for corrections of a licence
	// (accounts.Config.Licences; package wallet implements it). Nil means only corrections of
	// the person record (name, mobile number) can be filed and applied.
	Licences accounts.LicenceFields

	// InsecureCookies drops the Secure attribute and the __Host- prefix from the session and
	// CSRF cookies. It is required for an http issuer (local development) and must stay false
	// in production. With an https issuer cookies are always Secure unless this is set.
	InsecureCookies bool

	// DevicePollInterval is the interval of device authorization responses (RFC 8628 §3.2):
	// how long a device waits between two polls of the token endpoint, in whole seconds (a
	// fraction is dropped). Zero means 5 seconds (DefaultDevicePollInterval).
	DevicePollInterval time.Duration

	// ClientCacheTTL is how long a registered client is cached in memory before storage is
	// read again, so changes made by `idp clients …` reach a running server within this time.
	// Upstream providers of brokered login (`idp upstreams …`) are cached for the same time.
	// Zero means 10 seconds; a negative value disables the cache.
	ClientCacheTTL time.Duration

	// MetricClients bounds the distinct values of the client label of the Prometheus series
	// (metrics.go): the first MetricClients registered clients this process counts keep their
	// ID, later ones are counted under client="_other" for the process's lifetime. Zero means
	// 200 (DefaultMetricClients). Server.AppStats is exact for every app whatever this is.
	MetricClients int
	// AppStatsFlushInterval is how often StartAppStats adds the per-app counts accumulated
	// in memory to storage (storage.AppStats). Zero means 10 seconds.
	AppStatsFlushInterval time.Duration
	// AppStatsRetention is how long per-app hourly counts are kept: Purge deletes older
	// hours. Zero means 31 days.
	AppStatsRetention time.Duration

	// UpstreamHTTPClient is the HTTP client of brokered logins (broker.go): discovery, JWKS
	// and token requests to upstream providers. Nil means a client with a 10-second timeout.
	UpstreamHTTPClient *http.Client

	// OpenID Federation 1.0 (federation.go).

	// FederationOrganization is the organization_name of this entity's federation_entity
	// metadata, e.g. "乙省政务服务平台"; "" leaves it out.
	FederationOrganization string
	// FederationLifetime is how long entity configurations, subordinate statements and resolve
	// responses this instance signs are valid (exp − iat). Zero means 24 hours.
	FederationLifetime time.Duration
	// FederationHTTPClient fetches other entities' statements (the resolve endpoint,
	// FederationResolver). Nil means a client with a 10-second timeout.
	FederationHTTPClient *http.Client

	// Federation resolves the trust chains of automatic registration and of federation
	// upstreams (federation_rp.go): an app whose client_id is its entity identifier and whose
	// trust chain resolves to a trust anchor is registered from its resolved metadata on its
	// first authorization request (a signed request object), and upstreams added with `idp
	// upstreams add --federation` get their OP metadata from their chains. Nil means this
	// server's own: FederationResolver over the stored trust anchors (`idp federation anchor
	// add`), with the issuer as entity ID.
	Federation Federation

	// Single logout (logout_backchannel.go; defaults filled by logoutDefaults).

	// LogoutHTTPClient POSTs back-channel logout tokens. Nil means a client with a 5-second
	// timeout (DefaultLogoutTimeout) that follows no redirects.
	LogoutHTTPClient *http.Client
	// LogoutRetryBase is the wait before the first retry of a failed delivery; each further
	// retry waits twice as long. Zero means 1 second.
	LogoutRetryBase time.Duration
	// LogoutMaxAttempts is how many attempts a delivery gets before it is dropped (WARN log).
	// Zero means 10.
	LogoutMaxAttempts int
	// LogoutMaxAge drops a delivery whose next attempt would come later than this after the
	// logout. Zero means 1 hour.
	LogoutMaxAge time.Duration
	// LogoutConcurrency bounds the POSTs in flight per replica. Zero means 32.
	LogoutConcurrency int
	// LogoutPollInterval is how often StartLogoutDelivery looks for due retries and for
	// deliveries other replicas enqueued. Zero means 1 second.
	LogoutPollInterval time.Duration
}

// Defaults of Config.
const (
	DefaultCodeLifetime         = 60 * time.Second
	DefaultAccessTokenLifetime  = 10 * time.Minute
	DefaultRefreshTokenLifetime = 30 * 24 * time.Hour
	DefaultIDTokenLifetime      = 10 * time.Minute
	DefaultSessionLifetime      = 8 * time.Hour
	DefaultAuthRequestLifetime  = 15 * time.Minute
	DefaultFreshLogin           = 5 * time.Minute
	DefaultAccountLockThreshold = accounts.DefaultAccountLockThreshold // 5
	DefaultAccountLockWindow    = accounts.DefaultAccountLockWindow    // 24 hours
	DefaultAccountDelay         = accounts.DefaultAccountDelay         // 1 second
	DefaultAccountMaxDelay      = accounts.DefaultAccountMaxDelay      // 15 minutes
	DefaultDeviceLockThreshold  = accounts.DefaultDeviceLockThreshold  // 10
	DefaultIPLockThreshold      = accounts.DefaultIPLockThreshold      // 50
	DefaultIPLockWindow         = accounts.DefaultIPLockWindow         // 15 minutes
	DefaultDeviceCookieLifetime = 180 * 24 * time.Hour
	DefaultClientCacheTTL       = 10 * time.Second
)

// withDefaults returns a copy of c with zero fields replaced by their defaults, and the
// parsed issuer; the error wraps ErrInvalidConfig and lists every problem.
func (c Config) withDefaults() (Config, *url.URL, error) {
	var problems []string
	var iss *url.URL
	if c.Issuer == "" {
		problems = append(problems, "Issuer is required")
	} else {
		u, err := url.Parse(c.Issuer)
		switch {
		case err != nil || !u.IsAbs() || u.Host == "":
			problems = append(problems, fmt.Sprintf("Issuer %q is not an absolute URL", c.Issuer))
		case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			problems = append(problems, "Issuer must not have a query, fragment or user info")
		case u.Scheme == "http" && !c.InsecureCookies:
			problems = append(problems, "an http Issuer needs InsecureCookies (development only); use https")
		case u.Scheme != "https" && u.Scheme != "http":
			problems = append(problems, fmt.Sprintf("Issuer scheme %q is not https", u.Scheme))
		default:
			u.Path = strings.TrimSuffix(u.Path, "/")
			iss = u
		}
	}
	if c.Store == nil {
		problems = append(problems, "Store is required")
	}
	if c.Keyring == nil {
		problems = append(problems, "Keyring is required")
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"CodeLifetime", &c.CodeLifetime, DefaultCodeLifetime},
		{"AccessTokenLifetime", &c.AccessTokenLifetime, DefaultAccessTokenLifetime},
		{"RefreshTokenLifetime", &c.RefreshTokenLifetime, DefaultRefreshTokenLifetime},
		{"IDTokenLifetime", &c.IDTokenLifetime, DefaultIDTokenLifetime},
		{"SessionLifetime", &c.SessionLifetime, DefaultSessionLifetime},
		{"AuthRequestLifetime", &c.AuthRequestLifetime, DefaultAuthRequestLifetime},
		{"FreshLogin", &c.FreshLogin, DefaultFreshLogin},
		{"AccountLockWindow", &c.AccountLockWindow, DefaultAccountLockWindow},
		{"IPLockWindow", &c.IPLockWindow, DefaultIPLockWindow},
		{"DeviceCookieLifetime", &c.DeviceCookieLifetime, DefaultDeviceCookieLifetime},
		{"DevicePollInterval", &c.DevicePollInterval, DefaultDevicePollInterval},
	} {
		switch {
		case *d.v == 0:
			*d.v = d.def
		case *d.v < time.Second:
			problems = append(problems, fmt.Sprintf("%s %v is below one second", d.name, *d.v))
		}
	}
	if c.CodeLifetime > 10*time.Minute {
		problems = append(problems, "CodeLifetime above 10 minutes (RFC 6749 §4.1.2)")
	}
	if c.AccountLockThreshold == 0 {
		c.AccountLockThreshold = DefaultAccountLockThreshold
	}
	if c.IPLockThreshold == 0 {
		c.IPLockThreshold = DefaultIPLockThreshold
	}
	if c.AccountLockThreshold < 0 || c.IPLockThreshold < 0 {
		problems = append(problems, "lock thresholds must be positive")
	}
	if c.ClientCacheTTL == 0 {
		c.ClientCacheTTL = DefaultClientCacheTTL
	}
	appStatsDefaults(&c, &problems) // appstats.go
	logoutDefaults(&c, &problems)   // logout_backchannel.go
	if c.PasswordParams == (smcrypto.PasswordParams{}) {
		c.PasswordParams = smcrypto.DefaultPasswordParams
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ClientIP == nil {
		c.ClientIP = httpkit.RemoteIP
	}
	if len(problems) > 0 {
		return c, nil, fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(problems, "; "))
	}
	return c, iss, nil
}
