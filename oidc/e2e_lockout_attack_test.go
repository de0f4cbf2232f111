package oidc_test

import (
	"context"
	"html"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// The attacker of issue 10: someone who knows a citizen's ID number hammers the login page
// with wrong passwords from 127.0.0.2 for an hour (simulated: a fixed clock the test moves),
// while the citizen logs in from their own browser (a device cookie from an earlier login) at
// 127.0.0.1 throughout. Brute force is slowed, the owner is never locked out.

func TestLockoutAttackSQLite(t *testing.T) {
	runLockoutAttack(t, func(t testing.TB) storage.Storage { return storagetest.SQLite(t) })
}

func TestLockoutAttackPostgres(t *testing.T) {
	runLockoutAttack(t, func(t testing.TB) storage.Storage { return storagetest.Postgres(t) })
}

// fixedClock is a clock that moves only when told to.
type fixedClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fixedClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func runLockoutAttack(t *testing.T, newStore func(testing.TB) storage.Storage) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, *env, *fixedClock)
	}{
		{"ok/owner-logs-in-throughout-an-attack", testAttackFromAnotherAddress},
		{"fail/device-cookie-forged-expired-or-other-person", testDeviceCookieChecks},
		{"ok/device-cookie-attributes", testDeviceCookieAttributes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Behind real time, and it stays behind while the simulated hour passes: fosite's
			// OpenID validator refuses an auth_time more than 5 s after its own time.Now.
			fc := &fixedClock{now: time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)}
			e := newEnv(t, newStore(t), envOptions{mutate: func(c *tboidc.Config) { c.Now = fc.Now }})
			tc.test(t, e, fc)
		})
	}
}

// browserFrom is a browser whose connections come from the loopback address ip (Linux routes
// all of 127.0.0.0/8 to lo), so the provider sees a different client address.
func (e *env) browserFrom(ip string) *browser {
	b := e.browser()
	tr := e.hs.Client().Transport.(*http.Transport).Clone()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	tr.DialContext = d.DialContext
	b.c.Transport = tr
	return b
}

// loginError is the error message of a login page ("" when it has none).
func (p page) loginError() string {
	const open = `<p class="error" role="alert">`
	i := strings.Index(p.body, open)
	if i < 0 {
		return ""
	}
	rest := p.body[i+len(open):]
	return html.UnescapeString(rest[:strings.Index(rest, "</p>")])
}

// retryAfter is the Retry-After header of p in seconds, 0 when absent.
func (p page) retryAfter(t testing.TB) int {
	t.Helper()
	v := p.header.Get("Retry-After")
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("Retry-After %q", v)
	}
	return n
}

// ownLogin logs in with prompt=login (the password form every time, not the SSO session) and
// redeems the code; it returns the login page's answer when the login did not succeed.
func ownLogin(t *testing.T, r *rp, b *browser, num string) (page, bool) {
	t.Helper()
	a := r.authURL(oauth2.SetAuthURLParam("prompt", "login"))
	p := b.get(a.url)
	if !p.isLogin() {
		t.Fatalf("no login form: %d", p.status)
	}
	p = b.login(p, num, testPassword)
	if p.isConsent() {
		p = b.consent(p, "allow")
	}
	if p.isLoginForm() {
		return p, false
	}
	if _, err := r.exchange(p.callback(t).Get("code"), a.verifier); err != nil {
		t.Fatalf("token exchange: %v", err)
	}
	return p, true
}

func testAttackFromAnotherAddress(t *testing.T, e *env, fc *fixedClock) {
	victim, num := e.person("郑十", "13800138010")
	r := e.newRP(tboidc.NewClient{})
	own := e.browserFrom("127.0.0.1")
	if _, ok := ownLogin(t, r, own, num); !ok { // the earlier login that made own a known device
		t.Fatal("first login failed")
	}
	attacker := e.browserFrom("127.0.0.2")
	attempt := func() page {
		return attacker.login(attacker.get(r.authURL().url), num, "guess-"+randString()[:8])
	}
	const (
		tick     = 10 * time.Second // one attempt by the attacker
		hour     = 360              // ticks
		ownEvery = 30               // ticks: the owner logs in every 5 minutes
	)
	var guesses, paused, addressLocked, ownLogins int
	var retryAfters []int
	newDeviceLogins := 0
	newDeviceDone := false
	for i := 1; i <= hour; i++ {
		fc.Advance(tick)
		p := attempt()
		switch {
		case p.status == http.StatusUnauthorized:
			guesses++
		case p.status == http.StatusTooManyRequests && strings.Contains(p.loginError(), "该账号登录失败次数过多"):
			paused++
			retryAfters = append(retryAfters, p.retryAfter(t))
		case p.status == http.StatusTooManyRequests && strings.Contains(p.loginError(), "您所在网络地址的登录失败次数过多"):
			addressLocked++
			if p.retryAfter(t) < 1 {
				t.Fatal("address lock without Retry-After")
			}
		default:
			t.Fatalf("attacker's attempt %d: %d %q", i, p.status, p.loginError())
		}
		if i%ownEvery == 0 {
			if p, ok := ownLogin(t, r, own, num); !ok {
				t.Fatalf("minute %d: the owner's own browser was refused: %d %q", i*10/60, p.status, p.loginError())
			}
			ownLogins++
		}
		// Half an hour in, right after one of the attacker's guesses, the owner tries a new
		// phone: slowed (told how long to wait), not walled.
		if !newDeviceDone && i >= hour/2 && p.status == http.StatusUnauthorized {
			newDeviceDone = true
			phone := e.browserFrom("127.0.0.1")
			q, ok := ownLogin(t, r, phone, num)
			if ok || q.status != http.StatusTooManyRequests || !strings.Contains(q.loginError(), "在您以前登录过的设备上可以正常登录") {
				t.Fatalf("new device while paused: %d %q", q.status, q.loginError())
			}
			wait := q.retryAfter(t)
			if wait < 1 || wait > int(tboidc.DefaultAccountMaxDelay/time.Second) {
				t.Fatalf("new device: Retry-After %d", wait)
			}
			fc.Advance(time.Duration(wait) * time.Second)
			if q, ok := ownLogin(t, r, phone, num); !ok {
				t.Fatalf("new device after waiting %d s: %d %q", wait, q.status, q.loginError())
			}
			newDeviceLogins++ // counted like a failure: the account was paused (Guess.Succeed)
		}
	}
	t.Logf("an hour of attack: %d guesses checked, %d refused as paused, %d refused by the address lock; %d own logins",
		guesses, paused, addressLocked, ownLogins)
	if ownLogins != hour/ownEvery || !newDeviceDone {
		t.Errorf("own logins %d, new device tried %v", ownLogins, newDeviceDone)
	}
	// Brute force slowed: 360 attempts, a handful of them checked.
	if guesses > 20 {
		t.Errorf("%d of the attacker's %d attempts were checked", guesses, hour)
	}
	// The attacker's address got locked, and most of its attempts were refused by that lock.
	if addressLocked < hour/3 {
		t.Errorf("only %d attempts refused by the address lock", addressLocked)
	}
	// The waits the attacker was told grew.
	if len(retryAfters) == 0 || maxInt(retryAfters) < 256 {
		t.Errorf("Retry-After values told to the attacker: %v", retryAfters)
	}
	// No failure counted while paused or locked: the account holds exactly the guesses checked
	// (and the new device's login, which came while it was paused).
	n, err := e.store.CountFailures(context.Background(), "login-person:"+victim.ID, fc.Now(), tboidc.DefaultAccountLockWindow)
	if err != nil {
		t.Fatal(err)
	}
	if n != guesses+newDeviceLogins {
		t.Errorf("the account counts %d failures, want the %d guesses checked + %d", n, guesses, newDeviceLogins)
	}
	logs := e.logs.String()
	for _, want := range []string{
		`"level":"WARN","msg":"login lockout: account paused for untrusted clients","client_id":"` + r.client.ID + `","client_ip":"127.0.0.2","person_id":"` + victim.ID + `"`,
		`"level":"WARN","msg":"login lockout: client address locked","client_id":"` + r.client.ID + `","client_ip":"127.0.0.2"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s", want)
		}
	}
	if strings.Contains(logs, `"level":"WARN","msg":"login lockout: client address locked","client_id":"`+r.client.ID+`","client_ip":"127.0.0.1"`) {
		t.Error("the owner's own address was locked")
	}
	for _, secret := range append(e.pii, testPassword) {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
}

func maxInt(v []int) int {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// pauseAccount fails logins for identifier from b, waiting out each pause, until the account is
// paused for at least 30 s for untrusted clients; it returns the error messages of the
// failures and the final Retry-After.
func pauseAccount(t *testing.T, e *env, advance func(time.Duration), r *rp, b *browser, identifier string) ([]string, int) {
	t.Helper()
	var msgs []string
	for range 20 {
		p := b.login(b.get(r.authURL().url), identifier, "wrong password")
		switch p.status {
		case http.StatusUnauthorized:
			msgs = append(msgs, p.loginError())
		case http.StatusTooManyRequests:
			wait := p.retryAfter(t)
			if wait >= 30 {
				return msgs, wait
			}
			advance(time.Duration(wait) * time.Second)
		default:
			t.Fatalf("login answered %d", p.status)
		}
	}
	t.Fatal("the account was never paused for 30 s")
	return nil, 0
}

func testDeviceCookieChecks(t *testing.T, e *env, fc *fixedClock) {
	victim, num := e.person("钱十一", "")
	other, otherNum := e.person("孙十二", "")
	r := e.newRP(tboidc.NewClient{})
	own := e.browserFrom("127.0.0.1")
	if _, ok := ownLogin(t, r, own, num); !ok {
		t.Fatal("first login failed")
	}
	mine := e.browserFrom("127.0.0.3") // the attacker's own account, logged in from its browser
	if _, ok := ownLogin(t, r, mine, otherNum); !ok {
		t.Fatal("other person's login failed")
	}
	pauseAccount(t, e, fc.Advance, r, e.browserFrom("127.0.0.2"), num)
	u, _ := url.Parse(e.issuer)
	cookie := func(b *browser) *http.Cookie {
		for _, c := range b.c.Jar.Cookies(u) {
			if c.Name == "__Host-tb_device" {
				return c
			}
		}
		t.Fatal("no device cookie")
		return nil
	}
	valid := cookie(own).Value
	if !strings.Contains(valid, "."+victim.ID+".") || strings.Contains(valid, num) {
		t.Fatalf("device cookie %q does not name the person by opaque ID only", valid)
	}
	withCookie := func(ip, value string) page {
		b := e.browserFrom(ip)
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "__Host-tb_device", Value: value, Path: "/", Secure: true}})
		return b.login(b.get(r.authURL(oauth2.SetAuthURLParam("prompt", "login")).url), num, testPassword)
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	parts := strings.Split(valid, ".")
	for _, tc := range []struct {
		name  string
		value string
	}{
		{"mac flipped", flip(valid, len(valid)-5)},
		{"nonce flipped", flip(valid, len(parts[0])+len(parts[1])+3)},
		{"person swapped", strings.Replace(valid, victim.ID, other.ID, 1)},
		{"issued later", strings.Replace(valid, "."+parts[3]+".", "."+strconv.Itoa(mustAtoi(t, parts[3])+1)+".", 1)},
		{"other person's valid cookie", cookie(mine).Value},
		{"truncated", valid[:len(valid)-1]},
		{"empty fields", "v1...."},
	} {
		if p := withCookie("127.0.0.4", tc.value); p.status != http.StatusTooManyRequests {
			t.Errorf("%s: %d %q, want 429 (untrusted while the account is paused)", tc.name, p.status, p.loginError())
		}
	}
	// The valid cookie makes any browser at any address a trusted device (it is a bearer
	// credential, like the session cookie) …
	if p := withCookie("127.0.0.5", valid); p.isLoginForm() {
		t.Fatalf("valid device cookie: %d %q", p.status, p.loginError())
	}
	// … until it is older than DeviceCookieLifetime.
	fc.Advance(tboidc.DefaultDeviceCookieLifetime)
	pauseAccount(t, e, fc.Advance, r, e.browserFrom("127.0.0.6"), num)
	if p := withCookie("127.0.0.7", valid); p.status != http.StatusTooManyRequests {
		t.Errorf("expired device cookie: %d %q", p.status, p.loginError())
	}
	if logs := e.logs.String(); !strings.Contains(logs, `"msg":"device cookie refused","reason":"mac"`) ||
		!strings.Contains(logs, `"msg":"device cookie refused","reason":"expired"`) {
		t.Error("refused device cookies not logged")
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func testDeviceCookieAttributes(t *testing.T, e *env, fc *fixedClock) {
	_, num := e.person("李十三", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browserFrom("127.0.0.1")
	action, vals := b.get(r.authURL().url).form(t)
	vals.Set("identifier", num)
	vals.Set("password", testPassword)
	c := *b.c // the login's own answer, not the redirects after it
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.PostForm(action, vals)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var set string
	for _, v := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "__Host-tb_device=") {
			set = v
		}
	}
	if resp.StatusCode != http.StatusSeeOther || set == "" {
		t.Fatalf("login answered %d without a device cookie: %v", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	for _, want := range []string{"Path=/", "Max-Age=15552000", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(set, want) {
			t.Errorf("device cookie %q lacks %s", set, want)
		}
	}
	if strings.Contains(set, "Domain") {
		t.Errorf("device cookie %q has a Domain", set)
	}
	// A failed login sets none; nor does a login from the known device while its cookie is
	// younger than half its lifetime (one HMAC per login: the check); after that it is renewed.
	for _, tc := range []struct {
		name     string
		password string
		advance  time.Duration
		want     bool
	}{
		{"failed login", "wrong", 0, false},
		{"known device", testPassword, 0, false},
		{"known device, 89 days on", testPassword, 89 * 24 * time.Hour, false},
		{"known device, 90 days on", testPassword, 24 * time.Hour, true},
	} {
		fc.Advance(tc.advance)
		action, vals = b.get(r.authURL(oauth2.SetAuthURLParam("prompt", "login")).url).form(t)
		vals.Set("identifier", num)
		vals.Set("password", tc.password)
		resp, err = c.PostForm(action, vals)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := false
		for _, v := range resp.Header.Values("Set-Cookie") {
			got = got || strings.HasPrefix(v, "__Host-tb_device=")
		}
		if got != tc.want {
			t.Errorf("%s: device cookie set %v, want %v", tc.name, got, tc.want)
		}
	}
}
