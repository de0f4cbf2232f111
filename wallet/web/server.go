package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tongban/tongban/internal/citizenui"
	"github.com/tongban/tongban/internal/httpkit"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/wallet"
)

// Defaults of Config.
const (
	DefaultSessionLifetime = time.Hour
	DefaultTokenCacheTTL   = 30 * time.Second
	// LookupTokenCacheTTL bounds how long the lookup API (full licence reads) trusts an
	// introspection answer: a withdrawn consent, or a suspended app, stops its reads within
	// this time.
	LookupTokenCacheTTL = 5 * time.Second
	DefaultRefresh      = 30 * time.Second
	DefaultPNGScale     = 6
	DefaultIDPTimeout   = 10 * time.Second
)

// Config configures a Server. Service, Issuer, ClientID, ClientSecret and PublicURL are
// required; the zero value of every other field means the default given in its comment.
type Config struct {
	// Service is the wallet core the server puts on the web. Required.
	Service *wallet.Service

	// Issuer is the identity provider's issuer URL (OpenID Connect Discovery), e.g.
	// "http://127.0.0.1:8080". Discovery runs on first use, so the wallet may start before
	// the provider. Required.
	Issuer string
	// ClientID and ClientSecret are the wallet's confidential OIDC client at the provider,
	// registered with the redirect URI PublicURL + "/callback", the post-logout redirect URI
	// PublicURL + "/", and the scopes "openid profile id_number". The secret also
	// authenticates introspection calls. Required.
	ClientID, ClientSecret string
	// PublicURL is the wallet's own base URL as browsers reach it, scheme and host (and
	// port), without a path: "https://wallet.example.gov.cn", or "http://127.0.0.1:8081"
	// for development. Cookies are Secure exactly when it is https. Required.
	PublicURL string

	// HTTPClient makes the calls to the provider (discovery, JWKS, token, introspection,
	// userinfo). Nil means a client with a DefaultIDPTimeout (10 s) timeout.
	HTTPClient *http.Client
	// Now is the clock for sessions and token caches (the Service has its own for codes).
	// Nil means time.Now.
	Now func() time.Time
	// Logger receives request logs with opaque subjects, client IDs, licence IDs and error
	// causes — never names, numbers, tokens or cookies. Nil means slog.Default().
	Logger *slog.Logger

	// SessionLifetime is how long a wallet login lasts (the sealed session cookie). Zero
	// means DefaultSessionLifetime (1 h).
	SessionLifetime time.Duration
	// TokenCacheTTL is how long the API trusts a bearer token's introspection and userinfo
	// answer before asking the provider again (never past the token's exp). Zero means
	// DefaultTokenCacheTTL (30 s); negative means no cache.
	TokenCacheTTL time.Duration
	// IDTokenAlg is the one algorithm the wallet accepts ID-token signatures in: the one its
	// client is registered for at the provider (idp clients add --id-token-alg), one of
	// IDTokenAlgs. Tokens signed with any other algorithm the provider publishes are
	// refused. "" means DefaultIDTokenAlg (SGD_SM3_SM2).
	IDTokenAlg string
	// Sessions stores the wallet's logins server-side, so that logout ends a session for good
	// (a copied session cookie is dead after it). Rows have IDs "wallet:" + a keyed hash of
	// the session's random ID, never the cookie, and PersonID "wallet:" + the subject, so
	// they cannot be mistaken for the provider's own sessions in a shared database. Nil means
	// the Service's Store, which must then implement storage.LoginSessions.
	Sessions storage.LoginSessions
	// Nonces remembers the jti of back-channel logout tokens (POST /backchannel-logout,
	// backchannel.go), so that none is accepted twice. Nil means the Service's Store when it
	// implements storage.Nonces; without one the endpoint is not served.
	Nonces storage.Nonces

	// The JSON API is deny-by-default: it accepts an access token (granted id_number) only
	// when the provider's introspection says it was issued to one of APIClients, or its aud
	// contains APIAudience. With neither set the API is off: every call answers 403
	// invalid_token ("the wallet API accepts no app's tokens").

	// APIClients lists the client IDs whose access tokens the JSON API accepts (the mobile
	// app). The wallet's own ClientID is not implied.
	APIClients []string
	// APIAudience is the wallet's resource identifier (e.g. its PublicURL): access tokens whose
	// introspected aud contains it are accepted, whatever client they were issued to (the
	// provider grants an audience only to clients registered for it). "" means none.
	APIAudience string
	// Refresh is the interval at which the code page fetches a fresh code. Zero means
	// DefaultRefresh (30 s); it must be shorter than the codes' validity.
	Refresh time.Duration
	// PNGScale is the size of one QR module in PNG pixels. Zero means DefaultPNGScale (6).
	PNGScale int
}

// Server is the wallet's HTTP service: citizens' pages, the JSON API and the trust list, in
// one route table (routes). It is safe for concurrent use; its only state beyond storage is a
// short-lived cache of bearer-token answers.
type Server struct {
	cfg       Config
	svc       *wallet.Service
	idp       *idp
	log       *slog.Logger
	now       func() time.Time
	public    string          // PublicURL without a trailing slash
	issuerOrg string          // scheme://host of the issuer, for form-action
	cookies   httpkit.Cookies // Secure, with the __Host- prefix, when PublicURL is https
	csrf      httpkit.CSRF    // the logout form's tokens, bound to the session's SID
	pages     *pages

	cookieAEAD *smcrypto.SM4GCM      // seals the cookies (key derived for them alone)
	sessionKey []byte                // HMAC-SM3 key: session SID → stored session ID
	sessions   storage.LoginSessions // live logins; logout deletes them
	nonces     storage.Nonces        // jti of back-channel logout tokens (backchannel.go); may be nil
	tokens     *tokenCache
	// lookupTokens caches the lookup API's token answers (lookup.go), apart from tokens: the
	// two APIs check different things.
	lookupTokens *tokenCache
	receiptLimit *receiptLimiter // receipts per counter (receipts.go)
	mux          *http.ServeMux
}

//go:embed templates/*.html assets/*
var webFS embed.FS

// NewServer checks cfg and builds the server. It does not contact the provider (discovery
// happens on the first login or API call), so ctx is not used yet. Errors list every invalid
// field.
func NewServer(_ context.Context, cfg Config) (*Server, error) {
	var problems []string
	if cfg.Service == nil {
		problems = append(problems, "Service is required")
	}
	iss, err := url.Parse(cfg.Issuer)
	if err != nil || !iss.IsAbs() || iss.Host == "" || iss.RawQuery != "" || iss.Fragment != "" {
		problems = append(problems, fmt.Sprintf("Issuer %q: want an absolute http(s) URL", cfg.Issuer))
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		problems = append(problems, "ClientID and ClientSecret are required")
	}
	pub, err := url.Parse(cfg.PublicURL)
	if err != nil || (pub.Scheme != "https" && pub.Scheme != "http") || pub.Host == "" ||
		strings.Trim(pub.Path, "/") != "" || pub.RawQuery != "" || pub.Fragment != "" {
		problems = append(problems, fmt.Sprintf("PublicURL %q: want scheme://host[:port] without a path", cfg.PublicURL))
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: DefaultIDPTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SessionLifetime == 0 {
		cfg.SessionLifetime = DefaultSessionLifetime
	}
	if cfg.TokenCacheTTL == 0 {
		cfg.TokenCacheTTL = DefaultTokenCacheTTL
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.PNGScale == 0 {
		cfg.PNGScale = DefaultPNGScale
	}
	if cfg.IDTokenAlg == "" {
		cfg.IDTokenAlg = DefaultIDTokenAlg
	}
	if !slices.Contains(IDTokenAlgs, cfg.IDTokenAlg) {
		problems = append(problems, fmt.Sprintf("IDTokenAlg %q: want one of %s", cfg.IDTokenAlg, strings.Join(IDTokenAlgs, ", ")))
	}
	if cfg.Sessions == nil && cfg.Service != nil {
		cfg.Sessions, _ = cfg.Service.Store().(storage.LoginSessions)
	}
	if cfg.Nonces == nil && cfg.Service != nil {
		cfg.Nonces, _ = cfg.Service.Store().(storage.Nonces)
	}
	if cfg.Sessions == nil {
		problems = append(problems, "Sessions is required (the Service's Store does not store sessions)")
	}
	if slices.Contains(cfg.APIClients, "") {
		problems = append(problems, "APIClients: empty client ID")
	}
	if cfg.SessionLifetime < time.Minute {
		problems = append(problems, "SessionLifetime: at least 1m")
	}
	if cfg.Service != nil && (cfg.Refresh < time.Second || cfg.Refresh >= cfg.Service.CodeValidity()) {
		problems = append(problems, fmt.Sprintf("Refresh: want 1s up to less than the code validity %s", cfg.Service.CodeValidity()))
	}
	if cfg.PNGScale < 1 || cfg.PNGScale > 40 {
		problems = append(problems, "PNGScale: want 1 to 40 pixels per module")
	}
	if len(problems) > 0 {
		return nil, errors.New("wallet: invalid server configuration: " + strings.Join(problems, "; "))
	}
	public := strings.TrimSuffix(cfg.PublicURL, "/")
	// The cookie keys are derived from the keyring's token key under labels of their own, like
	// the provider's (tongban/oidc/…): never the field key that encrypts licences and
	// personal data at rest.
	tk := cfg.Service.Keyring().TokenKey()
	derive := func(label string) []byte { return smcrypto.HMACSM3(tk, []byte("tongban/wallet/"+label)) }
	cookieAEAD, err := smcrypto.NewSM4GCM(derive("cookie")[:16])
	if err != nil {
		return nil, fmt.Errorf("wallet: cookie key: %w", err)
	}
	s := &Server{
		cfg: cfg, svc: cfg.Service, log: cfg.Logger, now: cfg.Now,
		public: public, issuerOrg: iss.Scheme + "://" + iss.Host,
		cookies:      httpkit.Cookies{Secure: pub.Scheme == "https"},
		cookieAEAD:   cookieAEAD,
		sessionKey:   derive("session-id"),
		sessions:     cfg.Sessions,
		nonces:       cfg.Nonces,
		tokens:       newTokenCache(cfg.TokenCacheTTL, cfg.Now),
		lookupTokens: newTokenCache(min(cfg.TokenCacheTTL, LookupTokenCacheTTL), cfg.Now),
		receiptLimit: newReceiptLimiter(cfg.Now),
	}
	s.csrf = httpkit.CSRF{Key: derive("csrf"), Cookies: s.cookies}
	s.idp = &idp{
		issuer: strings.TrimSuffix(cfg.Issuer, "/"), clientID: cfg.ClientID, secret: cfg.ClientSecret,
		redirect: s.RedirectURL(), alg: cfg.IDTokenAlg, hc: cfg.HTTPClient, now: cfg.Now,
	}
	if s.pages, err = newPages(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// RedirectURL is the wallet's OIDC redirect URI: PublicURL + "/callback".
func (s *Server) RedirectURL() string { return s.public + pathCallback }

// PostLogoutRedirectURL is where the provider sends the browser after logout: PublicURL + "/".
func (s *Server) PostLogoutRedirectURL() string { return s.public + "/" }

// Route paths.
const (
	pathHome       = "/"
	pathLogin      = "/login"
	pathCallback   = "/callback"
	pathLogout     = "/logout"
	pathShow       = "/show"
	pathBundle     = "/bundle"
	pathCodeJSON   = "/code.json"
	pathCodePNG    = "/code.png"
	pathLang       = "/lang"
	pathTrustList  = "/trust-list"
	pathStatusList = "/status-list"
	pathAPILic     = "/api/v1/licences"
	pathAPICodes   = "/api/v1/codes"
	pathAPILookup  = "/api/v1/lookup/licences" // lookup.go
	pathRecords    = "/records"                // record.go
)

// routes builds the one route table (Go 1.22 ServeMux patterns); other methods get 405, and a
// GET of any other path the wallet's own 404 page (handleNotFound).
func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleHome)
	mux.HandleFunc("GET "+pathLogin, s.handleLogin)
	mux.HandleFunc("GET "+pathCallback, s.handleCallback)
	mux.HandleFunc("GET "+pathLogout, s.handleLogoutConfirm)
	mux.HandleFunc("POST "+pathLogout, s.handleLogout)
	mux.Handle("POST "+citizenui.PathElder, citizenui.Handler{Cookies: s.cookies})
	mux.HandleFunc("GET /", s.handleNotFound)
	if s.nonces != nil {
		mux.HandleFunc("POST "+pathBackchannelLogout, s.handleBackchannelLogout) // backchannel.go
	}
	mux.HandleFunc("GET "+pathShow, s.handleShow)
	mux.HandleFunc("GET "+pathBundle, s.handleBundle)
	mux.HandleFunc("GET "+pathCodeJSON, s.handleCodeJSON)
	mux.HandleFunc("GET "+pathCodePNG, s.handleCodePNG)
	mux.HandleFunc("GET "+pathLang, s.handleLang)
	mux.HandleFunc("GET /assets/{file}", s.handleAsset)
	mux.HandleFunc("GET "+pathTrustList, s.handleTrustList)
	mux.HandleFunc("GET "+pathStatusList, s.handleStatusList)
	mux.HandleFunc("GET "+pathVerify, s.handleVerifyRoot) // verify_handler.go
	mux.HandleFunc("GET "+pathVerify+"/{file...}", s.handleVerify)
	mux.HandleFunc("GET "+pathAPILic, s.handleAPILicences)
	mux.HandleFunc("POST "+pathAPICodes, s.handleAPICodes)
	mux.HandleFunc("GET "+pathAPILookup, s.handleLookup)
	mux.HandleFunc("GET "+pathRecords, s.handleRecords)
	mux.HandleFunc("POST "+pathCounterEnrol, s.handleCounterEnrol) // receipts.go
	mux.HandleFunc("OPTIONS "+pathCounterEnrol, s.handleCORSPreflight)
	mux.HandleFunc("POST "+pathReceipts, s.handleReceipt)
	mux.HandleFunc("OPTIONS "+pathReceipts, s.handleCORSPreflight)
	s.mux = mux
}

// Handler returns the handler of every route. Every response carries the security headers
// of httpkit.SecurityHeaders: Content-Security-Policy (scripts, styles and fetches from the
// wallet itself only, images from itself and data: URIs, forms to itself and the provider,
// frame-ancestors 'none'), X-Frame-Options DENY, X-Content-Type-Options nosniff,
// Referrer-Policy no-referrer and Cache-Control no-store (the static assets and the trust list
// override it), and Strict-Transport-Security when PublicURL is https. The counter verifier
// under /verify/ has a CSP of its own (verifyCSP: WebAssembly, the camera).
func (s *Server) Handler() http.Handler {
	csp := "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; " +
		"form-action 'self' " + s.issuerOrg + "; frame-ancestors 'none'; base-uri 'none'"
	return httpkit.SecurityHeaders{CSP: csp, HSTS: s.cookies.Secure}.Wrap(s.mux)
}

// Ready reports whether the wallet can serve: storage answers (through the trust list, which
// reads the keys) — for /readyz.
func (s *Server) Ready(ctx context.Context) error {
	_, _, err := s.svc.TrustList(ctx)
	return err
}

func (s *Server) handleAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	var b []byte
	if name == "wallet.css" || name == "wallet.js" {
		b, _ = webFS.ReadFile("assets/" + name) // embedded: present
	} else {
		b = citizenui.Asset(name) // citizen.css, citizen.js; nil for another name
	}
	httpkit.ServeAsset(w, r, name, b, time.Hour)
}
