package idpserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/accounts/accountstest"
	"github.com/tongban/tongban/admin"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/oidc"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// adminSvc is a real service (Open: NewService's wiring, the real adapters) on the store db
// (an SQLite file path or a PostgreSQL URL), over HTTP, for the console's tests and
// benchmarks. serverTime adds up the time its handler spent answering.
type adminSvc struct {
	t          testing.TB
	url        string
	store      storage.Storage
	kr         *keyring.Keyring
	acc        *accounts.Service
	serverTime atomic.Int64 // nanoseconds
}

func newAdminSvc(t testing.TB, db string) *adminSvc {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.DB = db
	if db == "" {
		cfg.DB = filepath.Join(dir, "tongban.db")
	}
	cfg.KEKFile = filepath.Join(dir, "kek")
	cfg.PasswordIterations = 1000
	cfg.Issuer = "http://" + ln.Addr().String()
	ctx := context.Background()
	svc, err := Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	s := &adminSvc{t: t, url: cfg.Issuer, store: svc.Backend.Store, kr: svc.Backend.Keyring}
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		svc.Handler.ServeHTTP(w, r)
		s.serverTime.Add(int64(time.Since(start)))
	}))
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
	if s.acc, err = accounts.New(accounts.Config{Store: s.store, Keyring: s.kr, PasswordParams: smcrypto.PasswordParams{Iterations: 1000, SaltLen: 16, KeyLen: 32}}); err != nil {
		t.Fatal(err)
	}
	return s
}

const adminTestPassword = "correct horse battery staple"

// adminUser is a person with roles and a TOTP secret.
type adminUser struct {
	id, number, secret string
}

// user registers a person with roles ("role" or "department-admin@dept") and a TOTP secret.
func (s *adminSvc) user(name string, roles ...string) adminUser {
	s.t.Helper()
	ctx := context.Background()
	num := accountstest.ResidentID(s.t)
	p, err := s.acc.CreatePerson(ctx, accounts.NewPerson{IDNumber: num, Name: name, Password: []byte(adminTestPassword)})
	if err != nil {
		s.t.Fatal(err)
	}
	for _, r := range roles {
		role, dept, _ := strings.Cut(r, "@")
		if err := admin.GrantRole(ctx, s.store, audit.Shell, time.Now(), p.ID, role, dept); err != nil {
			s.t.Fatal(err)
		}
	}
	uri, err := s.acc.EnrollTOTP(ctx, p.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		s.t.Fatal(err)
	}
	return adminUser{id: p.ID, number: num, secret: key.Secret()}
}

// adminBrowser is one administrator's cookie jar, logged in with password and TOTP.
type adminBrowser struct {
	s    *adminSvc
	c    *http.Client
	csrf string
}

var (
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)
	csrfJSON    = regexp.MustCompile(`"csrf_token":"([^"]+)"`)
)

// login logs u in through the console and reads the session's CSRF token.
func (s *adminSvc) login(u adminUser) *adminBrowser {
	s.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &adminBrowser{s: s, c: &http.Client{Jar: jar}}
	_, body := b.get("/admin/")
	action, v := b.formOf(body, "/login")
	code, err := totp.GenerateCode(u.secret, time.Now())
	if err != nil {
		s.t.Fatal(err)
	}
	v.Set("identifier", u.number)
	v.Set("password", adminTestPassword)
	v.Set("otp", code)
	if st, body := b.post(action, v); st != http.StatusOK {
		s.t.Fatalf("login: %d\n%s", st, body)
	}
	_, me := b.get("/admin/api/v1/me")
	m := csrfJSON.FindStringSubmatch(me)
	if m == nil {
		s.t.Fatalf("me: %s", me)
	}
	b.csrf = m[1]
	return b
}

func (b *adminBrowser) do(req *http.Request) (int, string) {
	b.s.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *adminBrowser) get(path string) (int, string) {
	b.s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.s.url+path, nil)
	return b.do(req)
}

// post posts a form to u (absolute, or a path).
func (b *adminBrowser) post(u string, form url.Values) (int, string) {
	b.s.t.Helper()
	if strings.HasPrefix(u, "/") {
		u = b.s.url + u
	}
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// api sends a JSON body to an API path with the CSRF header.
func (b *adminBrowser) api(method, path, body string) (int, string) {
	b.s.t.Helper()
	req, _ := http.NewRequest(method, b.s.url+"/admin/api/v1"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", b.csrf)
	return b.do(req)
}

// formOf returns the action URL and hidden fields of the form whose action contains part.
func (b *adminBrowser) formOf(body, part string) (string, url.Values) {
	b.s.t.Helper()
	re := regexp.MustCompile(`(?s)<form method="post" action="([^"]*` + regexp.QuoteMeta(part) + `[^"]*)"[^>]*>(.*?)</form>`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		b.s.t.Fatalf("no form %q in:\n%s", part, body)
	}
	v := url.Values{}
	for _, h := range hiddenInput.FindAllStringSubmatch(m[2], -1) {
		v.Set(h[1], strings.ReplaceAll(h[2], "&amp;", "&"))
	}
	base, _ := url.Parse(b.s.url)
	a, _ := base.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
	return a.String(), v
}

// audited reports whether the audit log has an entry of action on subject by actor whose
// detail contains part.
func (s *adminSvc) audited(action, subject, actor, part string) bool {
	s.t.Helper()
	es, err := s.store.QueryAudit(context.Background(), storage.AuditQuery{Action: action, Limit: 1000})
	if err != nil {
		s.t.Fatal(err)
	}
	for _, e := range es {
		if e.Subject == subject && e.Actor == actor && strings.Contains(e.Detail, part) {
			return true
		}
	}
	return false
}

func TestAdminRegisterAndChangeAppsSQLite(t *testing.T) { testAdminRegisterAndChange(t, "") }
func TestAdminRegisterAndChangeAppsPostgres(t *testing.T) {
	testAdminRegisterAndChange(t, storagetest.PostgresDSN(t))
}

// testAdminRegisterAndChange: a department administrator registers an app of its department
// in the console (bad input first: shown again, nothing stored), gets the secret once, the app
// waits for review and cannot be approved by them; registers a service through the API; is
// refused another department's (403, audited); proposes a change of the published app, which
// waits for review while the app keeps its metadata. An operator registers for a department
// it names.
func testAdminRegisterAndChange(t *testing.T, db string) {
	s := newAdminSvc(t, db)
	ctx := context.Background()
	da := s.user("李部门", storage.RoleDepartmentAdmin+"@gongan")
	op := s.user("王运维", storage.RoleOperator)
	if _, _, err := oidc.CreateClient(ctx, s.store, s.kr, oidc.NewClient{ID: "shebao-app", Department: "shebao",
		RedirectURIs: []string{"https://sb.example.gov.cn/cb"}}); err != nil {
		t.Fatal(err)
	}
	b := s.login(da)

	// The form, from the app list.
	if st, body := b.get("/admin/apps"); st != 200 || !strings.Contains(body, `href="/admin/register"`) {
		t.Fatalf("apps: %d, no register link\n%s", st, body)
	}
	st, body := b.get("/admin/register")
	if st != 200 || !strings.Contains(body, `<option selected>gongan</option>`) {
		t.Fatalf("register form: %d\n%s", st, body)
	}
	action, v := b.formOf(body, "/register")
	v.Set("id", "gongan-hukou")
	v.Set("name", "户籍办理")
	v.Set("department", "gongan")
	v.Set("redirect_uris", "http://hk.example.gov.cn/cb") // not https: refused
	v.Set("scopes", "openid profile")
	v["grant_types"] = []string{"authorization_code", "refresh_token"}
	st, body = b.post(action, v)
	if st != http.StatusBadRequest || !strings.Contains(body, "invalid redirect URI") ||
		!strings.Contains(body, `value="gongan-hukou"`) || !strings.Contains(body, "户籍办理") || !strings.Contains(body, "http://hk.example.gov.cn/cb") {
		t.Fatalf("bad redirect URI: %d, want 400 with the problem and the input kept\n%s", st, body)
	}
	if _, err := s.store.GetClient(ctx, "gongan-hukou"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a refused registration stored something: %v", err)
	}
	v.Set("redirect_uris", "https://hk.example.gov.cn/cb\r\nhttps://hk.example.gov.cn/cb2")
	st, body = b.post(action, v)
	secret := regexp.MustCompile(`<code id="once-value">([A-Za-z0-9_-]{43})</code>`).FindStringSubmatch(body)
	if st != http.StatusCreated || secret == nil {
		t.Fatalf("register: %d, want 201 with the secret once\n%s", st, body)
	}
	c, err := s.store.GetClient(ctx, "gongan-hukou")
	if err != nil || c.EffectiveStatus() != storage.ClientPendingReview || c.Department != "gongan" || len(c.RedirectURIs) != 2 ||
		string(c.SecretHash) != string(s.kr.ClientSecretHash(secret[1])) {
		t.Fatalf("registered app: %+v %v", c, err)
	}
	if !s.audited("client.register", "gongan-hukou", da.id, "role=department-admin") {
		t.Error("registration not audited with the department administrator")
	}
	// Registered twice: the form again, 409.
	if st, body = b.post(action, v); st != http.StatusConflict || !strings.Contains(body, "应用 ID 已被使用") {
		t.Errorf("second registration: %d\n%s", st, body)
	}
	// A department administrator never approves.
	if st, _ := b.api("POST", "/apps/gongan-hukou/approve", `{}`); st != http.StatusForbidden {
		t.Errorf("department administrator approves: %d", st)
	}
	// Another department: refused and audited, in the console and the API.
	v.Set("id", "other")
	v.Set("department", "shebao")
	if st, _ := b.post(action, v); st != http.StatusForbidden {
		t.Errorf("register for another department: %d", st)
	}
	if st, _ := b.api("PUT", "/apps/shebao-app", `{"name":"改名"}`); st != http.StatusForbidden {
		t.Errorf("change another department's app: %d", st)
	}
	if !s.audited("admin.denied", "shebao", da.id, "attempt=client.register") || !s.audited("admin.denied", "shebao-app", da.id, "attempt=client.update") {
		t.Error("refusals not audited")
	}

	// The API: a service registered with client_credentials, JSON arrays.
	st, body = b.api("POST", "/apps", `{"id":"gongan-svc","name":"人口库接口","grant_types":["client_credentials"],"scopes":["profile"]}`)
	var reg struct {
		App    admin.App `json:"app"`
		Secret string    `json:"client_secret"`
	}
	if st != http.StatusCreated || json.Unmarshal([]byte(body), &reg) != nil || reg.App.Status != admin.StatusPendingReview ||
		reg.App.Department != "gongan" || len(reg.Secret) != 43 {
		t.Fatalf("API register: %d %s", st, body)
	}
	if st, body := b.api("POST", "/apps", `{"id":"gongan-bad","scopes":["openid","admin"]}`); st != http.StatusBadRequest || !strings.Contains(body, "invalid scope") {
		t.Errorf("API register with an unknown scope: %d %s", st, body)
	}
	for _, name := range []string{`a\u202eb`, `税务\u200b局`, `e\u0301\u0301\u0301\u0301\u0301`, strings.Repeat("局", 101)} {
		st, body := b.api("POST", "/apps", `{"id":"gongan-name","name":"`+name+`","redirect_uris":["https://hk.example.gov.cn/cb"]}`)
		if st != http.StatusBadRequest || !strings.Contains(body, "invalid client name") {
			t.Errorf("API register with the name %q: %d %s, want 400 naming the problem", name, st, body)
		}
	}

	// Published by a reviewer (the shell here), the app gets a change through review.
	if err := oidc.ApproveClient(ctx, s.store, audit.Shell, "gongan-hukou"); err != nil {
		t.Fatal(err)
	}
	_, body = b.get("/admin/apps/gongan-hukou")
	if !strings.Contains(body, `href="/admin/apps/gongan-hukou/change"`) {
		t.Fatalf("app page without the change link:\n%s", body)
	}
	_, body = b.get("/admin/apps/gongan-hukou/change")
	action, v = b.formOf(body, "/change")
	v.Set("name", "户籍业务办理")
	v.Set("redirect_uris", "https://hk.example.gov.cn/cb3")
	v.Set("scopes", "openid profile")
	v["grant_types"] = []string{"authorization_code", "refresh_token"}
	st, body = b.post(action, v)
	if st != http.StatusOK || !strings.Contains(body, "修改已提交") || !strings.Contains(body, "https://hk.example.gov.cn/cb3") {
		t.Fatalf("change: %d\n%s", st, body)
	}
	c, _ = s.store.GetClient(ctx, "gongan-hukou")
	if c.Name != "户籍办理" || len(c.RedirectURIs) != 2 || c.PendingChange == nil || c.EffectiveStatus() != storage.ClientPublished {
		t.Errorf("after the change: the published metadata must stay until review: %+v", c)
	}
	if !s.audited("client.update", "gongan-hukou", da.id, "change=pending") {
		t.Error("change not audited")
	}
	if st, body := b.api("GET", "/apps/gongan-hukou", ""); st != http.StatusOK || !strings.Contains(body, `"requested_at":"20`) || strings.Contains(body, `"requested_at":"0001`) {
		t.Errorf("the pending change's time: %d %s", st, body)
	}
	if st, body := b.api("PUT", "/apps/gongan-hukou", `{"logo_uri":"http://hk.example.gov.cn/logo.png"}`); st != http.StatusBadRequest || !strings.Contains(body, "logo") {
		t.Errorf("API change with an http logo: %d %s", st, body)
	}
	if st, body := b.api("PUT", "/apps/gongan-hukou", `{}`); st != http.StatusBadRequest {
		t.Errorf("API change of nothing: %d %s", st, body)
	}

	// An operator names the department; without one the registration is refused.
	ob := s.login(op)
	if st, body := ob.api("POST", "/apps", `{"id":"sb-new","redirect_uris":["https://sb.example.gov.cn/new"]}`); st != http.StatusBadRequest || !strings.Contains(body, "department") {
		t.Errorf("operator without department: %d %s", st, body)
	}
	if st, body := ob.api("POST", "/apps", `{"id":"sb-new","department":"shebao","redirect_uris":["https://sb.example.gov.cn/new"]}`); st != http.StatusCreated {
		t.Errorf("operator registers for shebao: %d %s", st, body)
	}
	if cl, _ := s.store.GetClient(ctx, "sb-new"); cl.Department != "shebao" || cl.EffectiveStatus() != storage.ClientPendingReview {
		t.Errorf("operator's registration: %+v", cl)
	}
}
