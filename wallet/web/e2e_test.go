package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/qr/qrimage"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
	"github.com/tongban/tongban/wallet"
	"github.com/tongban/tongban/wallet/wallettest"
	"github.com/tongban/tongban/wallet/web"
)

const (
	citizen     = "11010119900307002X"
	citizenName = "林晓彤"
	password    = "demo-password-2026"
	mobileApp   = "mobile-app"
	otherApp    = "other-app" // a relying app granted id_number, not a wallet API client
)

// lateHandler is an httptest handler set after the server's URL is known.
type lateHandler struct {
	mu sync.RWMutex
	h  http.Handler
}

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.RLock()
	h := l.h
	l.mu.RUnlock()
	h.ServeHTTP(w, r)
}

func (l *lateHandler) set(h http.Handler) { l.mu.Lock(); l.h = h; l.mu.Unlock() }

// world is the identity provider and the wallet on one SQLite store (or each on its own, see
// worldOptions.walletStore), over real HTTP.
type world struct {
	store     storage.Storage  // the provider's store, and the wallet's unless it has its own
	kr        *keyring.Keyring // the keyring on store
	svc       *wallet.Service
	idp, wal  *httptest.Server
	srv       *web.Server
	op        *oidc.Server // the provider
	mobileRed string
	logs      *syncBuffer // the wallet's logs
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// checkLogs fails when the wallet logged personal data or a secret.
func (w *world) checkLogs(t *testing.T, secrets ...string) {
	t.Helper()
	logs := w.logs.String()
	for _, s := range append([]string{citizen, citizenName, "林*彤", password}, secrets...) {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("the wallet's logs contain %q", s)
		}
	}
}

func newWorld(t *testing.T) *world { return newWorldAlg(t, oidc.AlgSM2) }

// newWorldAlg is newWorld with the wallet client registered for, and the wallet configured
// for, ID tokens signed with alg.
func newWorldAlg(t *testing.T, alg string) *world {
	t.Helper()
	return newWorldWith(t, alg, func(c *web.Config) { c.IDTokenAlg = alg })
}

// newWorldWith is newWorld with the wallet client registered for ID tokens signed with alg
// and the wallet's configuration (which accepts API tokens of the mobile app) changed by mod.
func newWorldWith(t *testing.T, alg string, mod func(*web.Config)) *world {
	t.Helper()
	return newWorldOpts(t, worldOptions{alg: alg, mod: mod})
}

// worldOptions say how newWorldOpts builds a world.
type worldOptions struct {
	alg string            // the ID-token algorithm the wallet client is registered for
	mod func(*web.Config) // changes the wallet's configuration; nil: none
	// walletStore, when not nil, is the wallet's own store (licences, keys, sessions), apart
	// from the provider's: a fault of one does not touch the other.
	walletStore storage.Storage
	// store, when not nil, is the provider's store (and the wallet's unless walletStore is
	// set) instead of a fresh SQLite file, e.g. storagetest.Postgres.
	store storage.Storage
	// walletNow, when not nil, is the wallet service's clock (codes, receipts, enrolment).
	walletNow func() time.Time
}

func newWorldOpts(t *testing.T, o worldOptions) *world {
	t.Helper()
	alg, mod := o.alg, o.mod
	ctx := context.Background()
	w := &world{store: o.store}
	if w.store == nil {
		w.store = storagetest.SQLite(t)
	}
	kek, err := smcrypto.GenerateKEK(nil)
	must(t, err)
	w.kr, err = keyring.Open(ctx, w.store, kek)
	must(t, err)
	quiet := slog.New(slog.DiscardHandler)

	idpH, walH := &lateHandler{}, &lateHandler{}
	w.idp, w.wal = httptest.NewServer(idpH), httptest.NewServer(walH)
	t.Cleanup(w.idp.Close)
	t.Cleanup(w.wal.Close)

	params := smcrypto.PasswordParams{Iterations: 1000, SaltLen: 16, KeyLen: 32}
	op, err := oidc.NewServer(ctx, oidc.Config{
		Issuer: w.idp.URL, Store: w.store, Keyring: w.kr, Logger: quiet,
		PasswordParams: params, InsecureCookies: true, ClientCacheTTL: -1,
	})
	must(t, err)
	idpH.set(op.Handler())
	w.op = op

	people, err := accounts.New(accounts.Config{Store: w.store, Keyring: w.kr, PasswordParams: params})
	must(t, err)
	_, err = people.CreatePerson(ctx, accounts.NewPerson{
		IDNumber: citizen, Name: citizenName, Password: []byte(password),
	})
	must(t, err)
	_, secret, err := oidc.CreateClient(ctx, w.store, w.kr, oidc.NewClient{
		ID: "wallet", Name: "电子证照", RedirectURIs: []string{w.wal.URL + "/callback"},
		PostLogoutRedirectURIs: []string{w.wal.URL + "/"},
		Scopes:                 []string{"openid", "profile", "id_number"}, IDTokenAlg: alg,
		BackchannelLogoutURI: w.wal.URL + "/backchannel-logout", // backchannel_test.go
	})
	must(t, err)
	w.mobileRed = "http://127.0.0.1:1/app/callback"
	_, _, err = oidc.CreateClient(ctx, w.store, w.kr, oidc.NewClient{
		ID: mobileApp, Public: true, RedirectURIs: []string{w.mobileRed},
		Scopes: []string{"openid", "profile", "id_number"},
	})
	must(t, err)
	// Another relying app granted id_number: its tokens are not for the wallet API.
	_, _, err = oidc.CreateClient(ctx, w.store, w.kr, oidc.NewClient{
		ID: otherApp, Public: true, RedirectURIs: []string{w.mobileRed},
		Scopes: []string{"openid", "profile", "id_number"},
	})
	must(t, err)
	_, _, err = oidc.CreateClient(ctx, w.store, w.kr, oidc.NewClient{
		ID: "no-id-app", Public: true, RedirectURIs: []string{w.mobileRed}, Scopes: []string{"openid", "profile"},
	})
	must(t, err)

	w.logs = &syncBuffer{}
	walletLog := slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	walletStore, walletKR := w.store, w.kr
	if o.walletStore != nil {
		walletStore = o.walletStore
		walletKR, err = keyring.Open(ctx, walletStore, kek)
		must(t, err)
	}
	w.svc, err = wallet.NewService(ctx, wallet.ServiceConfig{Store: walletStore, Keyring: walletKR, Logger: walletLog, Now: o.walletNow})
	must(t, err)
	data, err := os.ReadFile("../../docs/examples/licences.jsonl")
	must(t, err)
	rep, err := w.svc.Import(ctx, bytes.NewReader(data), wallet.Operator)
	must(t, err)
	if len(rep.Rejected) != 0 {
		t.Fatalf("example licences rejected: %v", rep.Rejected)
	}
	cfg := web.Config{
		Service: w.svc, Issuer: w.idp.URL, ClientID: "wallet", ClientSecret: secret,
		PublicURL: w.wal.URL, Logger: walletLog, APIClients: []string{mobileApp},
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := web.NewServer(ctx, cfg)
	must(t, err)
	w.srv = srv
	walH.set(srv.Handler())
	return w
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// verifier fetches /trust-list and parses it against the anchors pinned out of band.
func (w *world) verifier(t *testing.T) *qr.Verifier {
	t.Helper()
	resp, err := http.Get(w.wal.URL + "/trust-list")
	must(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/cose") {
		t.Fatalf("trust list: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	anchors, err := w.svc.TrustAnchors(context.Background())
	must(t, err)
	store := qr.NewTrustStore(anchors, nil)
	_, err = store.Update(body)
	must(t, err)
	return &qr.Verifier{Trust: store, Replay: &qr.MemoryReplayCache{}}
}

var imgRE = regexp.MustCompile(`id="code-img" src="data:image/png;base64,([^"]+)"`)

// pngText decodes the PNG of a code page with gozxing.
func pngText(t *testing.T, page string) string {
	t.Helper()
	m := imgRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no inline code image in page:\n%s", page)
	}
	png, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
	must(t, err)
	text, err := qrimage.Decode(png)
	must(t, err)
	return text
}

var idRE = regexp.MustCompile(`href="/show\?l=([A-Za-z0-9_-]+)"`)

func TestBrowserFlow(t *testing.T) {
	w := newWorld(t)
	b := wallettest.NewBrowser(t)

	// Logged out: the landing page, with the security headers.
	p := b.Get(w.wal.URL + "/")
	if p.Status != 200 || !strings.Contains(p.Body, `href="/login"`) {
		t.Fatalf("landing: %d\n%s", p.Status, p.Body)
	}
	csp := p.Header.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors 'none'", "script-src 'self'", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if p.Header.Get("Cache-Control") != "no-store" || p.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers: %v", p.Header)
	}

	// A page that needs a login sends the browser through the provider and back to it.
	p = b.LoginAndConsent(b.Get(w.wal.URL+"/bundle"), citizen, password)
	if p.Status != 200 || p.URL.Path != "/bundle" {
		t.Fatalf("login via /bundle ended at %d %s", p.Status, p.URL)
	}
	home := b.Get(w.wal.URL + "/")
	if strings.Contains(home.Body, citizen) || strings.Contains(home.Body, citizenName) {
		t.Error("the licence list shows the full ID number or name")
	}
	if !strings.Contains(home.Body, "110101********002X") || !strings.Contains(home.Body, "林*彤") {
		t.Errorf("licence list lacks the masked number and name:\n%s", home.Body)
	}
	ids := idRE.FindAllStringSubmatch(home.Body, -1)
	if len(ids) != 8 {
		t.Fatalf("%d showable licences listed, want 8", len(ids))
	}
	for _, c := range []string{"居民身份证", "营业执照", "健康码", "乘车码"} {
		if !strings.Contains(home.Body, c) {
			t.Errorf("licence list lacks %s", c)
		}
	}

	recs, err := w.svc.Licences(context.Background(), citizen)
	must(t, err)
	idOf := map[credentials.Kind]string{}
	for _, r := range recs {
		idOf[r.Licence.Kind] = r.ID
	}

	// Open the resident ID card: a code, decoded from the PNG by gozxing, verified offline.
	v := w.verifier(t)
	show := b.Get(w.wal.URL + "/show?l=" + idOf[credentials.ResidentID])
	if show.Status != 200 {
		t.Fatalf("show: %d\n%s", show.Status, show.Body)
	}
	if !strings.Contains(show.Body, `id="countdown"`) || !strings.Contains(show.Body, `src="/assets/wallet.js"`) {
		t.Error("code page lacks the countdown or the refresh script")
	}
	res, err := v.Verify(pngText(t, show.Body))
	must(t, err)
	if res.Identity == nil || res.Identity.Kind != credentials.ResidentID || res.Identity.MaskedName != "林*彤" {
		t.Fatalf("verified %+v", res)
	}

	// The refresh endpoint gives a fresh code (another cti).
	var cj struct{ Text, PNG, ExpiresAt string }
	p = b.Get(w.wal.URL + "/code.json?l=" + idOf[credentials.ResidentID])
	must(t, json.Unmarshal([]byte(p.Body), &cj))
	res2, err := v.Verify(cj.Text)
	must(t, err)
	if res2.CTI == res.CTI {
		t.Error("refreshed code has the same cti")
	}
	if _, err := v.Verify(cj.Text); err == nil {
		t.Error("replayed code accepted")
	}

	// The download is a PNG of a valid code.
	p = b.Get(w.wal.URL + "/code.png?l=" + idOf[credentials.DrivingLicence])
	if p.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("code.png: %s", p.Header.Get("Content-Type"))
	}
	text, err := qrimage.Decode([]byte(p.Body))
	must(t, err)
	if _, err := v.Verify(text); err != nil {
		t.Fatal(err)
	}

	// 多码合一: three licences under one signature.
	q := url.Values{"profile": {"bundle"}, "l": {idOf[credentials.ResidentID], idOf[credentials.MedicalInsurance], idOf[credentials.HealthCode]}}
	show = b.Get(w.wal.URL + "/show?" + q.Encode())
	res, err = v.Verify(pngText(t, show.Body))
	must(t, err)
	if res.Bundle == nil || len(res.Bundle.Entries) != 3 {
		t.Fatalf("bundle: %+v", res)
	}
	// Full registration with chosen fields.
	q = url.Values{"profile": {"full"}, "l": {idOf[credentials.DrivingLicence]}, "f": {"class"}}
	show = b.Get(w.wal.URL + "/show?" + q.Encode())
	res, err = v.Verify(pngText(t, show.Body))
	must(t, err)
	if res.Registration == nil || len(res.Registration.Fields) != 1 || res.Registration.Fields["class"] != "C1" {
		t.Fatalf("full registration: %+v", res.Registration)
	}
	// Mixed holders: a clear refusal, not a server error.
	q = url.Values{"l": {idOf[credentials.ResidentID], idOf[credentials.BusinessLicence]}}
	if p := b.Get(w.wal.URL + "/show?" + q.Encode()); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "同一持证人") {
		t.Errorf("mixed bundle: %d", p.Status)
	}

	// A revoked licence gets no code.
	_, err = w.svc.SetStatus(context.Background(), idOf[credentials.SocialSecurity], credentials.StatusRevoked, wallet.Operator)
	must(t, err)
	p = b.Get(w.wal.URL + "/show?l=" + idOf[credentials.SocialSecurity])
	if p.Status != http.StatusConflict || !strings.Contains(p.Body, "已吊销") {
		t.Errorf("revoked: %d\n%s", p.Status, p.Body)
	}
	p = b.Get(w.wal.URL + "/code.json?l=" + idOf[credentials.SocialSecurity])
	if p.Status != http.StatusConflict || !strings.Contains(p.Body, `"licence_revoked"`) {
		t.Errorf("revoked json: %d %s", p.Status, p.Body)
	}

	// English switch.
	p = b.Get(w.wal.URL + "/lang?set=en&next=/")
	if !strings.Contains(p.Body, "My licences") {
		t.Error("English switch did not switch")
	}
	b.Get(w.wal.URL + "/lang?set=zh&next=/")

	// Logout ends the wallet session and the provider's SSO session.
	home = b.Get(w.wal.URL + "/")
	action, vals, ok := b.Get(w.wal.URL + "/logout").Form("csrf") // the logout confirmation
	if !ok {
		t.Fatal("no logout form")
	}
	if p := b.PostForm(w.wal.URL+"/logout", url.Values{"csrf": {"forged"}}); p.Status != http.StatusForbidden {
		t.Errorf("logout with a forged CSRF token: %d", p.Status)
	}
	// RP-Initiated Logout without id_token_hint (the ID token holds personal data): the
	// provider's end_session_endpoint gets client_id, post_logout_redirect_uri, state and
	// logout_hint, the provider's sid, and ends its session without asking again (the
	// person confirmed in the wallet).
	follow := b.Client.CheckRedirect
	b.Client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Host == mustURL(t, w.idp.URL).Host && req.URL.Path == "/logout" {
			q := req.URL.Query()
			if q.Has("id_token_hint") || q.Get("client_id") == "" || q.Get("state") == "" ||
				q.Get("post_logout_redirect_uri") != w.wal.URL+"/" || q.Get("logout_hint") == "" {
				t.Errorf("logout redirect: %s", req.URL)
			}
			if strings.Contains(req.URL.String(), "eyJ") {
				t.Errorf("logout URL carries a JWT: %s", req.URL)
			}
		}
		return follow(req, via)
	}
	p = b.PostForm(action, vals)
	b.Client.CheckRedirect = follow
	if _, _, ok := p.Form("confirm"); ok {
		t.Fatalf("the provider asked to confirm the logout a second time: %s", p.URL)
	}
	if p.URL.Scheme+"://"+p.URL.Host+p.URL.Path != w.wal.URL+"/" || p.URL.Query().Get("state") == "" || !strings.Contains(p.Body, `href="/login"`) {
		t.Fatalf("after logout: %s\n%s", p.URL, p.Body)
	}
	p = b.Get(w.wal.URL + "/login")
	if _, _, ok := p.Form("password"); !ok {
		t.Error("after logout the provider did not ask for the password again")
	}
	if !strings.Contains(w.logs.String(), `"msg":"login"`) {
		t.Error("the wallet did not log the login")
	}
	w.checkLogs(t)
}

// token runs the code flow for a public client through the browser and returns its access
// token.
func (w *world) token(t *testing.T, b *wallettest.Browser, clientID string, opts ...oauth2.AuthCodeOption) string {
	t.Helper()
	cfg := oauth2.Config{
		ClientID: clientID, RedirectURL: w.mobileRed, Scopes: []string{"openid", "profile", "id_number"},
		Endpoint: oauth2.Endpoint{AuthURL: w.idp.URL + "/authorize", TokenURL: w.idp.URL + "/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	if clientID != mobileApp && !strings.HasPrefix(clientID, otherApp) {
		cfg.Scopes = []string{"openid", "profile"}
	}
	verifier := oauth2.GenerateVerifier()
	b.Stop = []string{w.mobileRed}
	opts = append(opts, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "nonce-123456789"))
	p := b.LoginAndConsent(b.Get(cfg.AuthCodeURL("state-123456789", opts...)), citizen, password)
	loc := p.Location()
	if loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("no code: %d %s\n%s", p.Status, p.Header.Get("Location"), p.Body)
	}
	tok, err := cfg.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	must(t, err)
	return tok.AccessToken
}

type apiResp struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func api(t *testing.T, method, u, token, ctype, body string) apiResp {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	must(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := apiResp{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("%s %s: bad JSON %q", method, u, raw)
		}
	}
	return r
}

func TestAPI(t *testing.T) {
	w := newWorld(t)
	b := wallettest.NewBrowser(t)
	tok := w.token(t, b, mobileApp)
	lic, codes := w.wal.URL+"/api/v1/licences", w.wal.URL+"/api/v1/codes"

	r := api(t, "GET", lic, tok, "", "")
	if r.status != 200 {
		t.Fatalf("licences: %d %s", r.status, r.raw)
	}
	list, _ := r.body["licences"].([]any)
	if len(list) != 8 {
		t.Fatalf("%d licences", len(list))
	}
	if strings.Contains(r.raw, citizen) || strings.Contains(r.raw, citizenName) {
		t.Error("API list shows personal data unmasked")
	}

	v := w.verifier(t)
	r = api(t, "POST", codes, tok, "application/json", `{"kinds":["resident-id","social-security","driving-licence"],"profile":"bundle"}`)
	if r.status != 200 {
		t.Fatalf("codes: %d %s", r.status, r.raw)
	}
	png, err := base64.StdEncoding.DecodeString(r.body["png"].(string))
	must(t, err)
	text, err := qrimage.Decode(png)
	must(t, err)
	if text != r.body["text"] {
		t.Fatal("PNG and text differ")
	}
	res, err := v.Verify(text)
	must(t, err)
	if res.Bundle == nil || len(res.Bundle.Entries) != 3 {
		t.Fatalf("bundle %+v", res)
	}
	exp, err := time.Parse(time.RFC3339, r.body["expires_at"].(string))
	must(t, err)
	if !exp.Equal(res.ExpiresAt) {
		t.Errorf("expires_at %s, code says %s", exp, res.ExpiresAt)
	}
	if ver := r.body["version"].(float64); ver > 10 {
		t.Errorf("three-licence bundle needs QR version %v, want ≤ 10", ver)
	}

	recs, err := w.svc.Licences(context.Background(), citizen)
	must(t, err)
	var revoked string
	for _, rec := range recs {
		if rec.Licence.Kind == credentials.TransitCode {
			revoked = rec.ID
		}
	}
	_, err = w.svc.SetStatus(context.Background(), revoked, credentials.StatusRevoked, wallet.Operator)
	must(t, err)

	noID := w.token(t, wallettest.NewBrowser(t), "no-id-app")
	other := w.token(t, wallettest.NewBrowser(t), otherApp)
	big := `{"kinds":["resident-id"],"profile":"` + strings.Repeat("x", 5000) + `"}`
	for _, tc := range []struct {
		name, token, ctype, body string
		status                   int
		code                     string
		desc                     string // in error_description, when not ""
	}{
		{"fail/no-token", "", "application/json", `{"kinds":["resident-id"]}`, 401, "invalid_request", ""},
		{"fail/bogus-token", "not-a-token", "application/json", `{"kinds":["resident-id"]}`, 401, "invalid_token", ""},
		// A client not on the allow-list is refused as such, whatever its scope.
		{"fail/other-client-no-id-number-scope", noID, "application/json", `{"kinds":["resident-id"]}`, 403, "invalid_token", "tokens of this client are not accepted"},
		{"fail/other-client", other, "application/json", `{"kinds":["resident-id"],"profile":"full"}`, 403, "invalid_token", ""},
		{"fail/content-type", tok, "text/plain", `{"kinds":["resident-id"]}`, 415, "invalid_request", ""},
		{"fail/malformed", tok, "application/json", `{"kinds":`, 400, "invalid_request", ""},
		{"fail/unknown-member", tok, "application/json", `{"kinds":["resident-id"],"colour":"red"}`, 400, "invalid_request", ""},
		{"fail/trailing", tok, "application/json", `{"kinds":["resident-id"]} {}`, 400, "invalid_request", ""},
		{"fail/too-large", tok, "application/json", big, 413, "invalid_request", ""},
		{"fail/unknown-kind", tok, "application/json", `{"kinds":["passport"]}`, 400, "invalid_request", ""},
		{"fail/unknown-profile", tok, "application/json", `{"kinds":["resident-id"],"profile":"everything"}`, 400, "invalid_request", ""},
		{"fail/nothing", tok, "application/json", `{}`, 400, "invalid_request", "the request names no licence: give kinds"},
		{"fail/null-kinds", tok, "application/json", `{"kinds":null}`, 400, "invalid_request", "the request names no licence: give kinds"},
		{"fail/null-body", tok, "application/json", `null`, 400, "invalid_request", "the body is null"},
		{"fail/unknown-id", tok, "application/json", `{"licences":["nope"]}`, 404, "not_found", ""},
		{"fail/bundle-of-one", tok, "application/json", `{"kinds":["resident-id"],"profile":"bundle"}`, 422, "licence_count", fmt.Sprintf("bundle 2 to %d", qr.MaxBundle)},
		{"fail/mixed-holders", tok, "application/json", `{"kinds":["resident-id","business-licence"]}`, 422, "mixed_holders", ""},
		{"fail/fields-not-full", tok, "application/json", `{"kinds":["resident-id"],"fields":["sex"]}`, 400, "invalid_request", "only with the full profile"},
		{"fail/fields-bundle", tok, "application/json", `{"kinds":["resident-id","social-security"],"profile":"bundle","fields":[]}`, 400, "invalid_request", "only with the full profile"},
		{"fail/revoked", tok, "application/json", `{"kinds":["transit-code"]}`, 409, "licence_revoked", ""},
		{"ok/full", tok, "application/json", `{"kinds":["resident-id"],"profile":"full","fields":["sex","birth_date"]}`, 200, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := api(t, "POST", codes, tc.token, tc.ctype, tc.body)
			if r.status != tc.status || (tc.code != "" && r.body["error"] != tc.code) {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tc.status, tc.code)
			}
			if r.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Error("401 without WWW-Authenticate: Bearer")
			}
			if tc.code != "" && r.body["error_description"] == "" {
				t.Error("error without a description")
			}
			if d, _ := r.body["error_description"].(string); !strings.Contains(d, tc.desc) {
				t.Errorf("error_description %q, want it to say %q", d, tc.desc)
			}
			if d, _ := r.body["error_description"].(string); strings.Contains(d, "wallet:") || strings.Contains(d, "go back") || strings.Contains(d, "json:") || strings.Contains(d, "qr:") {
				t.Errorf("error_description leaks browser wording or an error chain: %q", d)
			}
			if r.status == 200 {
				if _, err := v.Verify(r.body["text"].(string)); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	if r := api(t, "GET", lic, "", "", ""); r.status != 401 {
		t.Errorf("licences without a token: %d", r.status)
	}
	if r := api(t, "DELETE", lic, tok, "", ""); r.status != http.StatusMethodNotAllowed {
		t.Errorf("DELETE licences: %d", r.status)
	}
	if r := api(t, "GET", lic, other, "", ""); r.status != http.StatusForbidden {
		t.Errorf("licences with another app's token: %d %s", r.status, r.raw)
	}
	w.checkLogs(t, tok, noID, other)
}

// TestAPIDenyByDefault: a wallet configured with no API client and no API audience accepts
// no token, not even the mobile app's; a wallet with its resource identifier as APIAudience
// accepts a token only when the provider granted that audience.
func TestAPIDenyByDefault(t *testing.T) {
	w := newWorldWith(t, oidc.AlgSM2, func(c *web.Config) { c.APIClients = nil })
	tok := w.token(t, wallettest.NewBrowser(t), mobileApp)
	for _, u := range []string{w.wal.URL + "/api/v1/licences", w.wal.URL + "/api/v1/codes"} {
		method, body := "GET", ""
		if strings.HasSuffix(u, "codes") {
			method, body = "POST", `{"kinds":["resident-id"]}`
		}
		r := api(t, method, u, tok, "application/json", body)
		if r.status != http.StatusForbidden || r.body["error"] != "invalid_token" ||
			!strings.Contains(r.body["error_description"].(string), "not configured") ||
			!strings.Contains(r.body["error_description"].(string), "start wallet serve with --api-client CLIENT_ID (or --api-audience)") {
			t.Errorf("%s %s on an unconfigured API: %d %s", method, u, r.status, r.raw)
		}
	}

	const resource = "https://wallet.example"
	w = newWorldWith(t, oidc.AlgSM2, func(c *web.Config) { c.APIClients, c.APIAudience = nil, resource })
	if r := api(t, "GET", w.wal.URL+"/api/v1/licences", w.token(t, wallettest.NewBrowser(t), mobileApp), "", ""); r.status != http.StatusForbidden {
		t.Errorf("token without the wallet's audience: %d %s", r.status, r.raw)
	}
	_, _, err := oidc.CreateClient(context.Background(), w.store, w.kr, oidc.NewClient{
		ID: otherApp + "-aud", Public: true, RedirectURIs: []string{w.mobileRed},
		Scopes: []string{"openid", "profile", "id_number"}, Audience: []string{resource},
	})
	must(t, err)
	audTok := w.token(t, wallettest.NewBrowser(t), otherApp+"-aud", oauth2.SetAuthURLParam("audience", resource))
	if r := api(t, "GET", w.wal.URL+"/api/v1/licences", audTok, "", ""); r.status != http.StatusOK {
		t.Errorf("token granted the wallet's audience: %d %s", r.status, r.raw)
	}
}

// TestAPIScope: a token of an allowed client without the id_number scope is
// insufficient_scope.
func TestAPIScope(t *testing.T) {
	w := newWorldWith(t, oidc.AlgSM2, func(c *web.Config) { c.APIClients = []string{mobileApp, "no-id-app"} })
	noID := w.token(t, wallettest.NewBrowser(t), "no-id-app")
	r := api(t, "GET", w.wal.URL+"/api/v1/licences", noID, "", "")
	if r.status != http.StatusForbidden || r.body["error"] != "insufficient_scope" ||
		!strings.Contains(r.header.Get("WWW-Authenticate"), `scope="openid id_number"`) {
		t.Errorf("allowed client without id_number: %d %s", r.status, r.raw)
	}
}

func TestLoginRefusals(t *testing.T) {
	w := newWorld(t)
	b := wallettest.NewBrowser(t)
	// A callback without a login in progress, or with a wrong state.
	if p := b.Get(w.wal.URL + "/callback?code=x&state=y"); p.Status != 400 {
		t.Errorf("callback without login: %d", p.Status)
	}
	p := b.Get(w.wal.URL + "/login")
	if _, _, ok := p.Form("password"); !ok {
		t.Fatal("no login form")
	}
	if p := b.Get(w.wal.URL + "/callback?code=x&state=wrong"); p.Status != 400 {
		t.Errorf("callback with a wrong state: %d", p.Status)
	}
	// Deny consent: a clear page, no session.
	p = b.Get(w.wal.URL + "/login")
	action, vals, _ := p.Form("password")
	vals.Set("identifier", citizen)
	vals.Set("password", password)
	p = b.PostForm(action, vals)
	action, vals, ok := p.Form("decision")
	if !ok {
		t.Fatalf("no consent page: %s", p.Body)
	}
	vals.Set("decision", "deny")
	p = b.PostForm(action, vals)
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "取消") {
		t.Errorf("denied consent: %d\n%s", p.Status, p.Body)
	}
	if p := b.Get(w.wal.URL + "/code.json?l=x"); p.Status != 401 {
		t.Errorf("code.json without session: %d", p.Status)
	}
	// The return path after login is local only: no open redirect.
	b2 := wallettest.NewBrowser(t)
	p = b2.LoginAndConsent(b2.Get(w.wal.URL+"/login?next=//evil.example/x"), citizen, password)
	if p.URL.String() != w.wal.URL+"/" {
		t.Errorf("login with next=//evil.example ended at %s", p.URL)
	}
}

// TestLoginAlgorithms logs in with a wallet client registered for each ID-token algorithm:
// the wallet verifies SM2 through smjose and ES256/RS256 through go-jose, all from the JWKS.
func TestLoginAlgorithms(t *testing.T) {
	for _, alg := range []string{oidc.AlgSM2, oidc.AlgES256, oidc.AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			w := newWorldAlg(t, alg)
			p := wallettest.NewBrowser(t).LoginWallet(w.wal.URL, citizen, password)
			if !strings.Contains(p.Body, "110101********002X") {
				t.Fatalf("not logged in with %s:\n%s", alg, p.Body)
			}
		})
	}
}

// TestLoginRefusesOtherIDTokenAlg: the provider publishes SM2, ES256 and RS256 keys; a wallet
// configured for SGD_SM3_SM2 (the default) refuses an ID token signed with ES256 or RS256 even
// though it verifies under a published key.
func TestLoginRefusesOtherIDTokenAlg(t *testing.T) {
	for _, alg := range []string{oidc.AlgES256, oidc.AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			w := newWorldWith(t, alg, nil) // registered for alg, wallet left at its default
			b := wallettest.NewBrowser(t)
			p := b.LoginAndConsent(b.Get(w.wal.URL+"/login"), citizen, password)
			if p.Status != http.StatusBadGateway || strings.Contains(p.Body, "110101********002X") {
				t.Fatalf("login with an ID token signed with %s: %d\n%s", alg, p.Status, p.Body)
			}
			if !strings.Contains(w.logs.String(), "ID token refused") {
				t.Error("the refusal was not logged")
			}
		})
	}
}

// TestLogoutRevokesSession: a session cookie copied before logout is refused after it.
func TestLogoutRevokesSession(t *testing.T) {
	w := newWorld(t)
	b := wallettest.NewBrowser(t)
	b.LoginWallet(w.wal.URL, citizen, password)
	u, _ := url.Parse(w.wal.URL)
	var stolen *http.Cookie
	for _, c := range b.Client.Jar.Cookies(u) {
		if c.Name == "tbw_session" {
			stolen = c
		}
	}
	if stolen == nil {
		t.Fatal("no session cookie after login")
	}
	replay := func() int {
		req, err := http.NewRequest("GET", w.wal.URL+"/code.json?l=x", nil)
		must(t, err)
		req.AddCookie(&http.Cookie{Name: stolen.Name, Value: stolen.Value})
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := replay(); st == http.StatusUnauthorized {
		t.Fatalf("the copied cookie does not work before logout: %d", st)
	}
	action, vals, ok := b.Get(w.wal.URL + "/logout").Form("csrf") // the logout confirmation
	if !ok {
		t.Fatal("no logout form")
	}
	b.PostForm(action, vals)
	if st := replay(); st != http.StatusUnauthorized {
		t.Errorf("the copied cookie still works after logout: %d", st)
	}
}

// TestPurgeSessions: Purge deletes the wallet's expired sessions server-side (not only when
// the cookie comes back), keeps live ones, and is idempotent.
func TestPurgeSessions(t *testing.T) {
	var mu sync.Mutex
	offset := time.Duration(0)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(offset) }
	w := newWorldWith(t, oidc.AlgSM2, func(c *web.Config) { c.Now = now })
	ctx := context.Background()
	wallettest.NewBrowser(t).LoginWallet(w.wal.URL, citizen, password)

	if n, err := w.srv.Purge(ctx); err != nil || n != 0 {
		t.Errorf("Purge of a live session = %d, %v; want 0", n, err)
	}
	mu.Lock()
	offset = web.DefaultSessionLifetime + time.Minute // the provider's 8 h SSO session lives on
	mu.Unlock()
	if n, err := w.srv.Purge(ctx); err != nil || n != 1 {
		t.Errorf("Purge after the session lifetime = %d, %v; want 1", n, err)
	}
	if n, err := w.srv.Purge(ctx); err != nil || n != 0 {
		t.Errorf("second Purge = %d, %v; want 0", n, err)
	}
	w.checkLogs(t)
}

// TestCookieKeyIsNotFieldKey: the wallet's cookies are not sealed with the keyring's field key
// (which encrypts licences): a session sealed with it is refused, and a wallet cookie does not
// open with it.
func TestCookieKeyIsNotFieldKey(t *testing.T) {
	w := newWorld(t)
	b := wallettest.NewBrowser(t)
	b.LoginWallet(w.wal.URL, citizen, password)
	u, _ := url.Parse(w.wal.URL)
	var real string
	for _, c := range b.Client.Jar.Cookies(u) {
		if c.Name == "tbw_session" {
			real = c.Value
		}
	}
	raw, err := base64.RawURLEncoding.DecodeString(real)
	must(t, err)
	if _, err := w.kr.OpenField(raw, "wallet/session"); err == nil {
		t.Fatal("the session cookie opens with the field key")
	}
	plain, err := json.Marshal(map[string]any{
		"sub": "x", "idx": w.svc.HolderIndex(citizen), "name": "林*彤", "num": "110101********002X",
		"sid": "forged", "exp": time.Now().Add(time.Hour).Unix(),
	})
	must(t, err)
	forged, err := w.kr.SealField(plain, "wallet/session")
	must(t, err)
	req, err := http.NewRequest("GET", w.wal.URL+"/code.json?l=x", nil)
	must(t, err)
	req.AddCookie(&http.Cookie{Name: "tbw_session", Value: base64.RawURLEncoding.EncodeToString(forged)})
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a session sealed with the field key: %d", resp.StatusCode)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
