package oidc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/accounts/passkey"
	"github.com/tongban/tongban/internal/httpkit"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// Server is the OpenID Connect provider: every endpoint is a method, and Handler serves them
// all from one route table. It is safe for concurrent use and keeps no state that must be
// shared between replicas outside storage (the lockout counters are in storage.Throttle too).
type Server struct {
	cfg     Config
	issuer  string // Config.Issuer without a trailing slash
	path    string // the issuer's path ("" or "/something"), prefix of every route
	store   storage.Storage
	kr      *keyring.Keyring
	now     func() time.Time
	log     *slog.Logger
	metrics *metrics

	clients      *fositeadapter.ClientCache
	fstore       *fositeadapter.Store
	provider     *fosite.Fosite
	fositeConfig *fosite.Config
	strategy     *fositeadapter.TokenStrategy
	signer       *idTokenSigner
	validator    *openid.OpenIDConnectRequestValidator

	accounts *accounts.Service // people, credentials and lockout, built from cfg

	// passkeys is the WebAuthn relying party (passkey.go); nil when the issuer's host cannot
	// be an RP ID.
	passkeys *passkey.RelyingParty

	// cookies are Secure with the __Host- prefix for an https issuer without
	// Config.InsecureCookies; that also turns on HSTS.
	cookies httpkit.Cookies
	// csrf protects the login, consent and logout forms: tokens bound to a random secret in
	// the tb_csrf cookie and to the purposes "login", "consent" and "logout".
	csrf      httpkit.CSRF
	keys      struct{ csrf, authz, session, pairwise, adminBinding []byte }
	deviceKey []byte // HMAC-SM3 key of the device cookie (devicecookie.go)
	pages     *pages
	discovery []byte
	mux       *http.ServeMux
	scan      scanHub             // scan.go: wakes held scan-to-login status requests
	stats     appStatsAccumulator // appstats.go: per-app hourly counts until flushed
	broker    brokerState         // broker.go: upstream discovery and keys
	slo       *sloState           // logout_backchannel.go: the back-channel logout worker
	rp        *rpSigner           // federation_rp.go: this instance's keys as a federation relying party
	fed       fedState            // federation.go: the resolver of the stored trust anchors
}

// NewServer validates cfg, creates the ID-token signing keys that do not exist yet (SGD_SM3_SM2,
// ES256 and RS256, keyring.EnsureSigningKeys), builds the accounts.Service the login page checks
// credentials with (cfg's password parameters and lockout settings), wires fosite and builds the
// route table. Errors: ErrInvalidConfig listing every problem of cfg; a keyring or storage error; a
// Prometheus registration error (prometheus.AlreadyRegisteredError when two servers share a
// Registerer).
func NewServer(ctx context.Context, cfg Config) (*Server, error) {
	cfg, iss, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		issuer:  iss.String(),
		path:    iss.Path,
		store:   cfg.Store,
		kr:      cfg.Keyring,
		now:     cfg.Now,
		log:     cfg.Logger,
		cookies: httpkit.Cookies{Secure: iss.Scheme == "https" && !cfg.InsecureCookies},
	}
	if err := s.kr.EnsureSigningKeys(ctx, storage.PurposeIDToken, AlgSM2, AlgES256, AlgRS256); err != nil {
		return nil, fmt.Errorf("oidc: ID-token keys: %w", err)
	}
	if err := EnsureFederationKeys(ctx, s.kr); err != nil {
		return nil, fmt.Errorf("oidc: federation keys: %w", err)
	}
	// federation_rp.go: the key of request objects and client assertions sent to federation upstreams.
	if err := s.kr.EnsureSigningKeys(ctx, storage.PurposeFederationRP, AlgSM2); err != nil {
		return nil, fmt.Errorf("oidc: federation relying-party key: %w", err)
	}
	s.rp = &rpSigner{kr: s.kr}
	tk := s.kr.TokenKey()
	derive := func(label string) []byte { return smcrypto.HMACSM3(tk, []byte("tongban/oidc/"+label)) }
	s.keys.csrf, s.keys.authz, s.keys.session, s.keys.pairwise =
		derive("csrf"), derive("authz"), derive("session"), derive("pairwise-subject")
	s.deviceKey = derive("device-cookie")
	s.keys.adminBinding = derive("admin-session")
	s.csrf = httpkit.CSRF{Key: s.keys.csrf, Cookies: s.cookies, Cookie: csrfCookieName}
	s.accounts, err = accounts.New(accounts.Config{
		Store: s.store, Keyring: s.kr, Now: s.now, Logger: s.log,
		PasswordParams:       cfg.PasswordParams,
		AccountLockThreshold: cfg.AccountLockThreshold, AccountLockWindow: cfg.AccountLockWindow,
		IPLockThreshold: cfg.IPLockThreshold, IPLockWindow: cfg.IPLockWindow,
		AccountDelay: cfg.AccountDelay, AccountMaxDelay: cfg.AccountMaxDelay, DeviceLockThreshold: cfg.DeviceLockThreshold,
		Notifier: cfg.Notifier, PasswordResetURL: s.url(pathPasswordReset), Licences: cfg.Licences, Scopes: SupportedScopes,
		// Withdrawing an agent revokes the grants issued while acting (s.fstore exists by then).
		RevokeGrant: func(ctx context.Context, requestID string) error { return s.fstore.RevokeGrant(ctx, requestID) },
		// An operator ending the person's sessions reaches their apps (logout_backchannel.go).
		OnSessionsEnded: func(ctx context.Context, personID string) { s.PersonSessionsEnded(ctx, personID) },
	})
	s.slo = newSLOState(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if s.metrics, err = newMetrics(cfg.Registerer, cfg.MetricClients); err != nil {
		return nil, fmt.Errorf("oidc: metrics: %w", err)
	}
	if s.pages, err = newPages(); err != nil {
		return nil, err
	}
	s.clients = fositeadapter.NewClientCache(s.store, cfg.ClientCacheTTL, s.now)
	s.signer = newIDTokenSigner(s.kr, s.now)
	s.strategy = fositeadapter.NewTokenStrategy(tk, s.signer, s.issuer, s.url(pathUserinfo), cfg.AccessTokenLifetime, s.now)
	s.fstore = fositeadapter.NewStore(fositeadapter.StoreConfig{
		Storage: s.store, Sealer: s.strategy.Sealer(), Clients: s.clients, Now: s.now, Logger: s.log, Replays: s.metrics.replays,
		CodeLifetime: cfg.CodeLifetime, AccessTokenLifetime: cfg.AccessTokenLifetime, RefreshTokenLifetime: cfg.RefreshTokenLifetime,
	})
	s.composeFosite()
	if s.discovery, err = s.discoveryDocument(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// composeFosite wires fosite with tongban's storage adapter, token strategy (HMAC-SM3, and
// RFC 9068 JWT access tokens for clients that ask for them), ID-token
// signer and handlers, and with the RFC 9700 profile: PKCE S256 required for every client,
// plain refused, 60-second codes, exact redirect URIs (loopback ports may vary), https or
// loopback redirects only, refresh tokens only with offline_access; and tongban's own handler
// of the device access token request (RFC 8628, deviceGrantHandler). fosite's implicit,
// hybrid, password, JWT-bearer and PAR handlers are not registered.
func (s *Server) composeFosite() {
	fc := &fosite.Config{
		AccessTokenLifespan:            s.cfg.AccessTokenLifetime,
		RefreshTokenLifespan:           s.cfg.RefreshTokenLifetime,
		AuthorizeCodeLifespan:          s.cfg.CodeLifetime,
		IDTokenLifespan:                s.cfg.IDTokenLifetime,
		IDTokenIssuer:                  s.issuer,
		AccessTokenIssuer:              s.issuer,
		TokenURL:                       s.issuer + "/token",
		ScopeStrategy:                  fosite.ExactScopeStrategy,
		EnforcePKCE:                    true,
		EnforcePKCEForPublicClients:    true,
		EnablePKCEPlainChallengeMethod: false,
		AllowedPromptValues:            []string{"none", "login", "consent"},
		RedirectSecureChecker:          redirectSecure,
		RefreshTokenScopes:             []string{ScopeOfflineAccess},
		MinParameterEntropy:            fosite.MinParameterEntropy,
		SanitationWhiteList:            []string{"redirect_uri"},
		OmitRedirectScopeParam:         true,
		ClientSecretsHasher:            secretHasher{s.kr},
		ClientAuthenticationStrategy:   s.authenticateClient,
		HMACHasher:                     smcrypto.NewSM3,
		GlobalSecret:                   s.kr.TokenKey(),
	}
	s.fositeConfig = fc
	s.provider = fosite.NewOAuth2Provider(s.fstore, fc)
	s.validator = openid.NewOpenIDConnectRequestValidator(s.signer, fc)

	code := &oauth2.AuthorizeExplicitGrantHandler{
		AccessTokenStrategy:    s.strategy,
		RefreshTokenStrategy:   s.strategy,
		AuthorizeCodeStrategy:  s.strategy,
		CoreStorage:            s.fstore,
		TokenRevocationStorage: s.fstore,
		Config:                 fc,
	}
	pkce := fositeadapter.PKCEHandler{}
	oidcAuth := &oidcAuthorizeHandler{validator: s.validator}
	refresh := &oauth2.RefreshTokenGrantHandler{
		AccessTokenStrategy:    s.strategy,
		RefreshTokenStrategy:   s.strategy,
		TokenRevocationStorage: s.fstore,
		Config:                 fc,
	}
	cc := &oauth2.ClientCredentialsGrantHandler{
		HandleHelper: &oauth2.HandleHelper{AccessTokenStrategy: s.strategy, AccessTokenStorage: s.fstore, Config: fc},
		Config:       fc,
	}
	idt := &idTokenHandler{s: s}
	device := &deviceGrantHandler{s: s, grantHandler: grantHandler{GrantDeviceCode}}
	tokenExchange := &tokenExchangeHandler{s: s, grantHandler: grantHandler{GrantTokenExchange}} // exchange.go

	// Authorization endpoint: validate PKCE and the OIDC parameters before the code is
	// issued, so a refused request leaves no code behind.
	fc.AuthorizeEndpointHandlers.Append(pkce)
	fc.AuthorizeEndpointHandlers.Append(oidcAuth)
	fc.AuthorizeEndpointHandlers.Append(code)
	// Token endpoint: the code handler adopts the stored session before PKCE reads it; the
	// ID token is made last, when the access token exists (at_hash).
	// (Append de-duplicates by type, which would drop the second grantOnly.)
	fc.TokenEndpointHandlers = fosite.TokenEndpointHandlers{grantOnly{code}, pkce, grantOnly{refresh}, grantOnly{cc}, grantOnly{device}, grantOnly{tokenExchange}, idt}
	fc.TokenIntrospectionHandlers.Append(&oauth2.CoreValidator{CoreStrategy: s.strategy, CoreStorage: s.fstore, Config: fc})
	fc.RevocationHandlers.Append(&oauth2.TokenRevocationHandler{
		TokenRevocationStorage: s.fstore, AccessTokenStrategy: s.strategy, RefreshTokenStrategy: s.strategy,
	})
}

// Issuer returns the issuer identifier, without a trailing slash.
func (s *Server) Issuer() string { return s.issuer }

// Route paths relative to the issuer.
const (
	pathDiscovery  = "/.well-known/openid-configuration"
	pathASMetadata = "/.well-known/oauth-authorization-server"
	pathJWKS       = "/jwks"
	pathAuthorize  = "/authorize"
	pathResume     = "/authorize/resume"
	pathLogin      = "/login"
	pathConsent    = "/consent"
	pathToken      = "/token"
	pathUserinfo   = "/userinfo"
	pathIntrospect = "/introspect"
	pathRevoke     = "/revoke"
	pathLogout     = "/logout"
)

// routes builds the route table (Go 1.22 ServeMux patterns). Unlisted methods get 405.
func (s *Server) routes() {
	mux := http.NewServeMux()
	handle := func(method, path string, h http.HandlerFunc) {
		mux.HandleFunc(method+" "+s.path+path, h)
	}
	handle("GET", pathDiscovery, s.handleDiscovery)
	handle("GET", pathASMetadata, s.handleDiscovery)
	if s.path != "" { // RFC 8414 §3: the well-known segment goes before the issuer's path
		mux.HandleFunc("GET "+pathASMetadata+s.path, s.handleDiscovery)
	}
	handle("GET", pathJWKS, s.handleJWKS)
	handle("GET", pathAuthorize, s.timed(endpointAuthorize, s.handleAuthorize))
	handle("POST", pathAuthorize, s.timed(endpointAuthorize, s.handleAuthorize))
	handle("GET", pathResume, s.timed(endpointAuthorize, s.handleResume))
	handle("GET", pathLogin, s.handleLoginPage)
	handle("POST", pathLogin, s.handleLogin)
	handle("GET", pathConsent, s.handleConsentPage)
	handle("POST", pathConsent, s.handleConsent)
	handle("POST", pathToken, cors(s.timed(endpointToken, s.handleToken)))
	handle("GET", pathUserinfo, cors(s.handleUserinfo))
	handle("POST", pathUserinfo, cors(s.handleUserinfo))
	handle("POST", pathIntrospect, s.handleIntrospect)
	handle("POST", pathRevoke, cors(s.handleRevoke))
	for _, p := range []string{pathToken, pathUserinfo, pathRevoke, pathJWKS, pathDiscovery} {
		handle("OPTIONS", p, preflight)
	}
	handle("GET", pathLogout, s.handleLogout)
	handle("POST", pathLogout, s.handleLogout)
	handle("GET", pathAsset+"{name}", s.handleAsset)
	handle("GET", pathAccount, s.handleAccount)
	handle("GET", pathAccountLogin, s.handleAccountLogin)
	s.routesSelf(handle)
	s.routesPasskeys(handle)
	s.routesOTP(handle)
	s.routesCorrections(handle) // account_corrections.go
	s.routesScan(handle)
	s.routesDevice(handle)
	s.routesRegistration(handle) // dcr.go
	s.routesAgents(handle)
	s.routesBroker(handle)     // broker.go
	s.routesFederation(handle) // federation.go
	s.routesElder(handle)      // elder.go
	s.mux = mux
}

// csp is the provider's Content-Security-Policy: its pages load nothing but its own stylesheet
// and scripts (pathAsset), images from itself or data: URIs (QR codes), and fetch only from
// itself; no inline script or style, no frames, no base URI. (No form-action: browsers apply it
// to the redirect after a login or consent form, which goes to the app.)
const csp = "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; base-uri 'none'"

// Handler returns the HTTP handler of every endpoint, under the issuer's path. It sets the
// security headers of every response (httpkit.SecurityHeaders): Content-Security-Policy csp
// (frame-ancestors 'none'), X-Frame-Options DENY, X-Content-Type-Options nosniff,
// Referrer-Policy no-referrer, Cache-Control no-store (discovery, JWKS and the stylesheet
// override it), and Strict-Transport-Security for https issuers (without InsecureCookies). It
// bounds every request body to maxBody bytes. A path no route serves gets 404 with the
// provider's own page, or JSON below the JSON endpoints (notfound.go).
func (s *Server) Handler() http.Handler {
	headers := httpkit.SecurityHeaders{CSP: csp, HSTS: s.cookies.Secure}
	return headers.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		s.serveRouted(w, r) // notfound.go: the route table, with a citizen page for its 404
	}))
}

// url returns the absolute URL of a route.
func (s *Server) url(path string) string { return s.issuer + path }

// localPath returns the path of a route on this host (for redirects between our own pages).
func (s *Server) localPath(path string) string { return s.path + path }

// grantOnly calls a fosite token handler's PopulateTokenEndpointResponse only for the grant
// types it handles. fosite calls every handler, and its own answer the others with
// errorsx.WithStack(ErrUnknownRequest), which captures a stack trace each time (about 3% of a
// client-credentials request).
type grantOnly struct{ fosite.TokenEndpointHandler }

func (g grantOnly) PopulateTokenEndpointResponse(ctx context.Context, req fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !g.CanHandleTokenEndpointRequest(ctx, req) {
		return fosite.ErrUnknownRequest
	}
	return g.TokenEndpointHandler.PopulateTokenEndpointResponse(ctx, req, resp)
}

// maxBody bounds every request body (the largest legitimate one, an authorization request
// posted with a claims parameter and an id_token_hint, is a few kilobytes).
const maxBody = 64 << 10

// cors lets browser apps (public clients) call an endpoint from any origin. These endpoints
// use no cookies — the caller presents a code, a token or its client credentials — so
// Access-Control-Allow-Origin: * without credentials exposes nothing (RFC 9700 §2.1.1 public
// clients, OAuth 2.0 for Browser-Based Apps).
func cors(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			w.Header().Set("Access-Control-Allow-Origin", "*")
		}
		h(w, r)
	}
}

// preflight answers CORS preflight requests for the endpoints wrapped by cors.
func preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, POST")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// PurgeCounts says how many records one Purge deleted, by kind.
type PurgeCounts struct {
	Tokens        int64 // authorization codes, access and refresh tokens, PKCE and OIDC request data
	Nonces        int64 // one-time values (used TOTP codes, client assertion IDs…) past their lifetime
	LoginSessions int64 // expired SSO sessions (and the wallet's, in a shared database)
	Failures      int64 // login failures older than the lockout windows
	Revocations   int64 // revoked-grant entries whose access tokens have all expired
	Devices       int64 // expired device authorizations (RFC 8628)
	ScanLogins    int64 // expired scan-to-login requests
	RecoveryCodes int64 // access-recovery codes past their lifetime
	AppStats      int64 // per-app hourly counts older than Config.AppStatsRetention
	// InitialAccessTokens are RFC 7591 initial access tokens (IssueInitialAccessToken) that
	// expired, used or not.
	InitialAccessTokens int64
}

// Map returns the counts keyed by snake_case kind, for logs.
func (c PurgeCounts) Map() map[string]int64 {
	return map[string]int64{
		"tokens": c.Tokens, "nonces": c.Nonces, "login_sessions": c.LoginSessions, "failures": c.Failures,
		"revocations": c.Revocations, "device_authorizations": c.Devices, "scan_logins": c.ScanLogins,
		"access_recovery_codes": c.RecoveryCodes, "app_stats": c.AppStats,
		"initial_access_tokens": c.InitialAccessTokens,
	}
}

// Purge deletes token records (codes, access and refresh tokens) that expired before now, one-time
// values (TOTP codes) past their lifetime, login sessions that expired before now and login
// failures older than the lockout windows (accounts.Service.PurgeFailures), the entries of the
// revoked-grant list whose access tokens have all expired, expired access-recovery codes and
// password-reset links, expired initial access tokens (RFC 7591), and per-app hourly counts
// older than Config.AppStatsRetention; run it
// periodically
// (`idp serve` does, every --purge-interval). Inactive refresh tokens are kept until they expire,
// so reuse is still detected. Every step runs even when an earlier one fails; it returns how many
// records of each kind went and the failures joined. It deletes by expiry only, so it is idempotent
// and several replicas may run it at once.
func (s *Server) Purge(ctx context.Context) (PurgeCounts, error) {
	now := s.now()
	var c PurgeCounts
	var errs []error
	step := func(n *int64, what string, f func(context.Context, time.Time) (int64, error), before time.Time) {
		var err error
		if *n, err = f(ctx, before); err != nil {
			errs = append(errs, fmt.Errorf("purge %s: %w", what, err))
		}
	}
	step(&c.Tokens, "tokens", s.store.DeleteExpiredTokens, now)
	step(&c.Nonces, "nonces", s.store.PurgeNonces, now)
	step(&c.LoginSessions, "login sessions", s.store.DeleteExpiredLoginSessions, now)
	step(&c.Revocations, "grant revocations", s.store.PurgeRevocations, now)
	step(&c.Failures, "login failures", s.accounts.PurgeFailures, now)
	step(&c.Devices, "device authorizations", s.store.DeleteExpiredDeviceAuthorizations, now)
	var otpEnrolments int64 // account_otp.go: pending OTP devices past accounts.OTPEnrolmentTTL
	step(&otpEnrolments, "OTP enrolments", s.accounts.PurgeOTPEnrolments, now)
	step(&c.ScanLogins, "scan logins", s.store.DeleteExpiredScanLogins, now)
	step(&c.RecoveryCodes, "recovery codes", s.accounts.PurgeAccessRecoveryCodes, now)
	step(&c.AppStats, "app stats", s.store.PurgeAppStats, now.Add(-s.cfg.AppStatsRetention))
	var resets int64 // account_corrections.go: password-reset links past their expiry
	step(&resets, "password-reset links", s.store.PurgePasswordResets, now)
	var actingGrants int64 // agents.go: grants issued while acting, past their refresh tokens' expiry
	step(&actingGrants, "acting grants", s.store.PurgeActingGrants, now)
	step(&c.InitialAccessTokens, "initial access tokens", s.store.PurgeInitialAccessTokens, now)
	var sessionClients int64 // logout_backchannel.go: session ↔ client records past their grants
	step(&sessionClients, "session clients", s.store.PurgeSessionClients, now)
	return c, errors.Join(errs...)
}
