package admin_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/net/html"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/accounts/accountstest"
	"github.com/tongban/tongban/admin"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/oidc"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

var testPasswordParams = smcrypto.PasswordParams{Iterations: 1000, SaltLen: 16, KeyLen: 32}

const testPassword = "correct horse battery staple"

// t0 is the tests' fixed start time (a TOTP code depends on it).
var t0 = time.Date(2026, 3, 2, 1, 30, 0, 0, time.UTC)

// clock is a fixed clock the tests advance.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// sessions adapts *oidc.Server to admin.Sessions, as cmd/internal/idpserver does.
type sessions struct{ s *oidc.Server }

func (a sessions) Session(r *http.Request) (admin.Session, bool, error) {
	s, ok, err := a.s.AdminSession(r)
	return admin.Session{PersonID: s.PersonID, MFA: s.MFA, Fresh: s.Fresh, SecondFactor: s.SecondFactor, Binding: s.Binding}, ok, err
}

func (a sessions) Login(w http.ResponseWriter, r *http.Request, next, lang string, fresh bool) {
	a.s.AdminLogin(w, r, next, lang, fresh)
}

// env is a real provider with the console mounted at /admin, over HTTPS, on a real store.
type env struct {
	t      testing.TB
	store  storage.Storage
	clock  *clock
	hs     *httptest.Server
	issuer string
	acc    *accounts.Service
	apps   *testApps
	people *testPeople
	adm    *admin.Handler
}

func newEnv(t testing.TB, store storage.Storage) *env {
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
	e := &env{t: t, store: store, clock: &clock{now: t0}}
	var mu sync.RWMutex
	var handler http.Handler
	e.hs = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.RLock()
		h := handler
		mu.RUnlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.hs.Close)
	e.issuer = e.hs.URL
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := oidc.NewServer(ctx, oidc.Config{Issuer: e.issuer, Store: store, Keyring: kr, Now: e.clock.Now, Logger: log,
		PasswordParams: testPasswordParams, ClientCacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	if e.acc, err = accounts.New(accounts.Config{Store: store, Keyring: kr, PasswordParams: testPasswordParams, Now: e.clock.Now}); err != nil {
		t.Fatal(err)
	}
	e.apps = &testApps{store: store, now: e.clock.Now, apps: map[string]admin.App{}}
	e.people = &testPeople{store: store, acc: e.acc, now: e.clock.Now}
	e.adm, err = admin.New(admin.Config{Path: srv.AdminPath(), Store: store, Sessions: sessions{srv},
		Apps: e.apps, People: e.people, Stats: testStats{e.apps},
		CSRFKey: smcrypto.HMACSM3(kr.TokenKey(), []byte("tongban/admin/csrf")), Origin: e.issuer, Secure: true,
		Now: e.clock.Now, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.Handle(e.adm.Path()+"/", e.adm)
	mux.Handle(e.adm.Path(), e.adm)
	mu.Lock()
	handler = mux
	mu.Unlock()
	return e
}

// admin is a person with roles and, unless noOTP, a TOTP secret.
type person struct {
	id, number, secret string
}

// newPerson registers a person with testPassword, grants roles ("role" or
// "department-admin@dept") on the shell, and enrols a TOTP secret unless noOTP.
func (e *env) newPerson(name string, noOTP bool, roles ...string) person {
	e.t.Helper()
	ctx := context.Background()
	num := accountstest.ResidentID(e.t)
	p, err := e.acc.CreatePerson(ctx, accounts.NewPerson{IDNumber: num, Name: name, Password: []byte(testPassword)})
	if err != nil {
		e.t.Fatal(err)
	}
	out := person{id: p.ID, number: num}
	for _, r := range roles {
		role, dept, _ := strings.Cut(r, "@")
		if err := admin.GrantRole(ctx, e.store, audit.Shell, e.clock.Now(), p.ID, role, dept); err != nil {
			e.t.Fatal(err)
		}
	}
	if !noOTP {
		uri, err := e.acc.EnrollTOTP(ctx, p.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		k, err := otp.NewKeyFromURL(uri)
		if err != nil {
			e.t.Fatal(err)
		}
		out.secret = k.Secret()
	}
	return out
}

// code is the person's TOTP code now; the clock moves on a step so that the next code differs.
func (e *env) code(p person) string {
	e.t.Helper()
	c, err := totp.GenerateCode(p.secret, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// browser is a cookie-keeping client that follows redirects within the provider.
type browser struct {
	t testing.TB
	e *env
	c *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, e: e, c: &http.Client{Transport: e.hs.Client().Transport, Jar: jar}}
}

type page struct {
	status int
	url    *url.URL
	body   string
	header http.Header
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, url: resp.Request.URL, body: string(body), header: resp.Header}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.issuer+path, nil)
	return b.do(req)
}

// post posts form to path (an absolute URL or a path) with the headers (name, value pairs).
func (b *browser) post(path string, form url.Values, headers ...string) page {
	b.t.Helper()
	if strings.HasPrefix(path, "/") {
		path = b.e.issuer + path
	}
	req, _ := http.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

// postJSON posts a JSON body to an API path with the CSRF header tok ("" = none).
func (b *browser) postJSON(path, body, tok string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.e.issuer+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("X-CSRF-Token", tok)
	}
	return b.do(req)
}

// form returns the action and the input values of the first form of p whose action
// contains part.
func (p page) form(t testing.TB, part string) (string, url.Values) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(p.body))
	if err != nil {
		t.Fatal(err)
	}
	var action string
	var vals url.Values
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if vals != nil {
			return
		}
		if n.Type == html.ElementNode && n.Data == "form" && strings.Contains(attr(n, "action"), part) {
			action, vals = attr(n, "action"), url.Values{}
			var inputs func(*html.Node)
			inputs = func(m *html.Node) {
				if m.Type == html.ElementNode && m.Data == "input" && attr(m, "name") != "" {
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
	if vals == nil {
		t.Fatalf("no form with action %q in page %s (status %d):\n%s", part, p.url, p.status, p.body)
	}
	u, _ := p.url.Parse(action)
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

// login answers the login page p as the person, with their TOTP code when withOTP.
func (b *browser) login(p page, who person, withOTP bool) page {
	b.t.Helper()
	action, vals := p.form(b.t, "")
	vals.Set("identifier", who.number)
	vals.Set("password", testPassword)
	if withOTP {
		vals.Set("otp", b.e.code(who))
		b.e.clock.Advance(30 * time.Second) // each step's code logs in once
	}
	return b.post(action, vals)
}

// adminLogin logs the person in through the console (password and, when they have one, OTP)
// and returns the console overview.
func (b *browser) adminLogin(who person) page {
	b.t.Helper()
	p := b.get("/admin/")
	if !strings.Contains(p.body, `name="password"`) {
		b.t.Fatalf("GET /admin/ without a session: %d %s, want the login page", p.status, p.url)
	}
	return b.login(p, who, who.secret != "")
}

// auditEntries returns the entries of action.
func (e *env) auditEntries(action string) []storage.AuditEvent {
	e.t.Helper()
	es, err := e.store.QueryAudit(context.Background(), storage.AuditQuery{Action: action, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return es
}
