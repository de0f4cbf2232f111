package oidc_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/accounts/accountstest"
	"github.com/tongban/tongban/keyring"
	tboidc "github.com/tongban/tongban/oidc"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// testPasswordParams keep password hashing cheap in tests (production: ≈50 ms).
var testPasswordParams = smcrypto.PasswordParams{Iterations: 1000, SaltLen: 16, KeyLen: 32}

const testPassword = "correct horse battery staple"

// clock is an adjustable clock: real time plus an offset.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// env is a running provider over real HTTP (TLS unless plain), with its storage and keyring.
type env struct {
	t        testing.TB
	store    storage.Storage
	kr       *keyring.Keyring
	accounts *accounts.Service // registers people with the server's PasswordParams (the server has its own Service)
	srv      *tboidc.Server
	hs       *httptest.Server
	clock    *clock
	reg      *prometheus.Registry
	logs     *lockedBuffer
	pii      []string // personal data given to the provider, which must never reach the logs
	issuer   string
	ctx      context.Context // carries the TLS-trusting HTTP client for go-oidc and x/oauth2
}

type envOptions struct {
	plain  bool // http instead of https
	mutate func(*tboidc.Config)
}

func newEnv(t testing.TB, store storage.Storage, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	kek, err := smcrypto.GenerateKEK(nil)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.Open(ctx, store, kek)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: store, kr: kr, clock: &clock{}, reg: prometheus.NewRegistry(), logs: &lockedBuffer{}}
	var handler http.Handler
	var mu sync.RWMutex
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.RLock()
		h := handler
		mu.RUnlock()
		h.ServeHTTP(w, r)
	})
	if o.plain {
		e.hs = httptest.NewServer(front)
	} else {
		e.hs = httptest.NewTLSServer(front)
	}
	t.Cleanup(e.hs.Close)
	e.issuer = e.hs.URL
	cfg := tboidc.Config{
		Issuer:          e.issuer,
		Store:           store,
		Keyring:         kr,
		Now:             e.clock.Now,
		Logger:          slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		PasswordParams:  testPasswordParams,
		InsecureCookies: o.plain,
		ClientCacheTTL:  -1,
		Registerer:      e.reg,
	}
	if o.mutate != nil {
		o.mutate(&cfg)
	}
	e.accounts, err = accounts.New(accounts.Config{Store: store, Keyring: kr, PasswordParams: cfg.PasswordParams})
	if err != nil {
		t.Fatal(err)
	}
	e.srv, err = tboidc.NewServer(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	handler = e.srv.Handler()
	mu.Unlock()
	e.ctx = oidc.ClientContext(ctx, e.hs.Client())
	return e
}

// residentID returns a fresh valid resident ID number (GB 11643-1999).
func residentID(t testing.TB) string { return accountstest.ResidentID(t) }

// person registers a person with testPassword and returns it with its ID number.
func (e *env) person(name, phone string) (storage.Person, string) {
	e.t.Helper()
	num := residentID(e.t)
	p, err := e.accounts.CreatePerson(context.Background(), accounts.NewPerson{
		IDNumber: num, Name: name, Phone: phone, Password: []byte(testPassword),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.pii = append(e.pii, num, name)
	if phone != "" {
		n, _ := strings.CutPrefix(strings.NewReplacer(" ", "", "-", "").Replace(phone), "+86")
		e.pii = append(e.pii, n)
	}
	return p, num
}

// rp is a relying party: an OAuth client registered with the provider, driven by go-oidc and
// x/oauth2.
type rp struct {
	e        *env
	client   storage.Client
	secret   string
	provider *oidc.Provider
	oauth    oauth2.Config
	redirect string
}

var clientSeq struct {
	mu sync.Mutex
	n  int
}

// newRP registers a client (confidential unless nc.Public) with a loopback redirect URI.
func (e *env) newRP(nc tboidc.NewClient) *rp {
	e.t.Helper()
	clientSeq.mu.Lock()
	clientSeq.n++
	n := clientSeq.n
	clientSeq.mu.Unlock()
	if nc.ID == "" {
		nc.ID = fmt.Sprintf("app-%d", n)
	}
	if nc.Name == "" {
		nc.Name = "测试应用 " + nc.ID
	}
	redirect := fmt.Sprintf("http://127.0.0.1:%d/callback", 40000+n)
	if nc.RedirectURIs == nil && !(len(nc.GrantTypes) == 1 && nc.GrantTypes[0] == tboidc.GrantClientCredentials) {
		nc.RedirectURIs = []string{redirect}
	}
	if nc.PostLogoutRedirectURIs == nil {
		nc.PostLogoutRedirectURIs = []string{fmt.Sprintf("http://127.0.0.1:%d/bye", 40000+n)}
	}
	c, secret, err := tboidc.CreateClient(context.Background(), e.store, e.kr, nc)
	if err != nil {
		e.t.Fatal(err)
	}
	provider, err := oidc.NewProvider(e.ctx, e.issuer)
	if err != nil {
		e.t.Fatal(err)
	}
	scopes := []string{oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess}
	return &rp{e: e, client: c, secret: secret, provider: provider, redirect: redirect, oauth: oauth2.Config{
		ClientID: c.ID, ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: redirect, Scopes: scopes,
	}}
}

// authRequest is one authorization request of an rp: its URL and the secrets to check the
// answer with.
type authRequest struct {
	url, state, nonce, verifier string
}

func randString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authURL builds an authorization request with PKCE S256, state and nonce, plus extra params.
func (r *rp) authURL(extra ...oauth2.AuthCodeOption) authRequest {
	a := authRequest{state: randString(), nonce: randString(), verifier: oauth2.GenerateVerifier()}
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(a.verifier), oidc.Nonce(a.nonce)}, extra...)
	a.url = r.oauth.AuthCodeURL(a.state, opts...)
	return a
}

// exchange redeems code with the verifier.
func (r *rp) exchange(code, verifier string) (*oauth2.Token, error) {
	ctx := context.WithValue(r.e.ctx, oauth2.HTTPClient, r.e.hs.Client())
	return r.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
}

// login runs a full code flow for identifier in browser b (login form when b has no session,
// consent when needed) and redeems the code; it fails the test on any error.
func (r *rp) login(t *testing.T, b *browser, identifier string, extra ...oauth2.AuthCodeOption) *oauth2.Token {
	t.Helper()
	a := r.authURL(extra...)
	tok, err := r.exchange(b.signIn(a, identifier), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// verify checks an ID token with go-oidc (ES256/RS256) and returns its claims.
func (r *rp) verify(raw, nonce string) (*oidc.IDToken, map[string]any) {
	r.e.t.Helper()
	idt, err := r.provider.Verifier(&oidc.Config{ClientID: r.client.ID}).Verify(r.e.ctx, raw)
	if err != nil {
		r.e.t.Fatalf("go-oidc verify: %v", err)
	}
	if idt.Nonce != nonce {
		r.e.t.Fatalf("nonce = %q, want %q", idt.Nonce, nonce)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		r.e.t.Fatal(err)
	}
	return idt, claims
}

// browser is a person's browser: a cookie jar, following redirects within the provider and
// stopping at the first redirect that leaves it (to the app's callback).
type browser struct {
	t      testing.TB
	e      *env
	c      *http.Client
	header http.Header // extra request headers (e.g. a distinct client IP is not settable; unused)
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	base := e.hs.Client()
	c := &http.Client{
		Transport: base.Transport,
		Jar:       jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if !strings.HasPrefix(req.URL.String(), e.issuer) {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return &browser{t: e.t, e: e, c: c}
}

// page is a fetched response with its body.
type page struct {
	status   int
	url      *url.URL // final URL
	location string   // Location of a redirect that left the provider
	body     string
	header   http.Header
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	// <wbr> (citizenui.Breakable, in masked numbers) is not text: body reads as the page does.
	return page{status: resp.StatusCode, url: resp.Request.URL, location: resp.Header.Get("Location"),
		body: strings.ReplaceAll(string(body), "<wbr>", ""), header: resp.Header}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// form extracts the first form of a page: its absolute action and its input values.
func (p page) form(t testing.TB) (string, url.Values) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(p.body))
	if err != nil {
		t.Fatal(err)
	}
	var action string
	vals := url.Values{}
	var walk func(*html.Node)
	found := false
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "form" && !found {
			found = true
			action = attr(n, "action")
			var inputs func(*html.Node)
			inputs = func(m *html.Node) {
				if m.Type == html.ElementNode && m.Data == "input" {
					vals.Set(attr(m, "name"), attr(m, "value"))
				}
				for c := m.FirstChild; c != nil; c = c.NextSibling {
					inputs(c)
				}
			}
			inputs(n)
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if !found {
		t.Fatalf("no form in page %s (status %d):\n%s", p.url, p.status, p.body)
	}
	u, err := p.url.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	return u.String(), vals
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func (p page) isLogin() bool   { return p.status == 200 && strings.Contains(p.body, `name="password"`) }
func (p page) isConsent() bool { return strings.Contains(p.body, `name="decision"`) }

// isLoginForm: the page has the login form, whatever its status (a failed login answers 401
// or 429 with the form).
func (p page) isLoginForm() bool { return strings.Contains(p.body, `name="password"`) }

// login submits the login form of p.
func (b *browser) login(p page, identifier, password string, extra ...string) page {
	b.t.Helper()
	action, vals := p.form(b.t)
	vals.Set("identifier", identifier)
	vals.Set("password", password)
	for i := 0; i+1 < len(extra); i += 2 {
		vals.Set(extra[i], extra[i+1])
	}
	return b.post(action, vals)
}

// consent answers the consent form of p with "allow" or "deny".
func (b *browser) consent(p page, decision string) page {
	b.t.Helper()
	action, vals := p.form(b.t)
	vals.Set("decision", decision)
	return b.post(action, vals)
}

// callback parses the redirect to the app: its query parameters.
func (p page) callback(t testing.TB) url.Values {
	t.Helper()
	if p.status != http.StatusSeeOther && p.status != http.StatusFound || p.location == "" {
		t.Fatalf("want a redirect to the app, got status %d at %s:\n%s", p.status, p.url, p.body)
	}
	u, err := url.Parse(p.location)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// signIn runs the browser part of a code flow: authorization request, login if asked, consent
// if asked; it returns the code after checking state and iss.
func (b *browser) signIn(a authRequest, identifier string) string {
	b.t.Helper()
	p := b.get(a.url)
	if p.isLogin() {
		p = b.login(p, identifier, testPassword)
	}
	if p.isConsent() {
		p = b.consent(p, "allow")
	}
	q := p.callback(b.t)
	if q.Get("error") != "" {
		b.t.Fatalf("authorization error %s: %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("state") != a.state {
		b.t.Fatalf("state = %q, want %q", q.Get("state"), a.state)
	}
	if q.Get("iss") != b.e.issuer {
		b.t.Fatalf("iss = %q, want %q (RFC 9207)", q.Get("iss"), b.e.issuer)
	}
	return q.Get("code")
}

// tokenRequest posts a form to the token endpoint (or another) with client_secret_basic when
// secret is set, and returns status and decoded JSON.
func (e *env) postForm(path, clientID, secret string, form url.Values) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	} else if clientID != "" {
		form.Set("client_id", clientID)
		req, _ = http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := e.hs.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	return resp.StatusCode, out
}

// introspect asks whether token is active, authenticating as the given confidential client.
func (e *env) introspect(introspector *rp, token string) map[string]any {
	e.t.Helper()
	status, out := e.postForm("/introspect", introspector.client.ID, introspector.secret, url.Values{"token": {token}})
	if status != http.StatusOK {
		e.t.Fatalf("introspect: status %d %v", status, out)
	}
	return out
}

func active(m map[string]any) bool { b, _ := m["active"].(bool); return b }

// clone returns a deep copy of v.
func clone(v url.Values) url.Values {
	w := url.Values{}
	for k, x := range v {
		w[k] = slices.Clone(x)
	}
	return w
}

// pkcePair returns a verifier and its S256 challenge.
func pkcePair() (string, string) {
	v := oauth2.GenerateVerifier()
	s := sha256.Sum256([]byte(v))
	return v, base64.RawURLEncoding.EncodeToString(s[:])
}

// userinfo calls the UserInfo endpoint with a bearer token.
func (e *env) userinfo(token string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.hs.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func base64URLDecode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// counter returns the value of the counter name with label = value in the provider's
// registry, 0 when it has not been counted yet.
func (e *env) counter(name, label, value string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
