package oidc_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage/storagetest"
)

// Password login failures: no user enumeration, progressive delays per account for untrusted
// clients, per-address lockout (the owner's own device: e2e_lockout_attack_test.go).

func testNoEnumeration(t *testing.T, e *env) {
	_, num := e.person("施六", "13600136000")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	wrong := b.login(b.get(r.authURL().url), num, "wrong password")
	unknown := b.login(b.get(r.authURL().url), residentID(t), testPassword)
	unknownPhone := b.login(b.get(r.authURL().url), "13999999999", testPassword)
	// A mistyped check character: the form keeps it as typed, for the person to correct.
	typo := num[:17] + map[bool]string{true: "1", false: "2"}[num[17] != '1']
	mistyped := b.login(b.get(r.authURL().url), typo, testPassword)
	msg := "证件号码、手机号或密码不正确"
	for name, tc := range map[string]struct {
		p    page
		kept string
	}{"wrong password": {wrong, num}, "unknown ID number": {unknown, ""}, "unknown phone": {unknownPhone, "13999999999"}, "mistyped": {mistyped, typo}} {
		p := tc.p
		if p.status != wrong.status || !strings.Contains(p.body, msg) || !p.isLoginForm() {
			t.Errorf("%s: %d %s", name, p.status, p.body)
		}
		// The identifier stays in its field, for a registered one and for nobody's alike; the
		// password never comes back.
		_, v := p.form(t)
		if tc.kept != "" && v.Get("identifier") != tc.kept || v.Get("identifier") == "" || v.Get("password") != "" {
			t.Errorf("%s: the form shown again holds identifier %q, password %q", name, v.Get("identifier"), v.Get("password"))
		}
	}
	// The phone number logs in too.
	p := b.login(b.get(r.authURL().url), "+86 136 0013 6000", testPassword)
	if p.isConsent() {
		p = b.consent(p, "allow")
	}
	if p.callback(t).Get("code") == "" {
		t.Error("phone login failed")
	}
}

// testLockout: failures from a browser that never logged in to the account warn before a
// pause, then make each further attempt wait longer (429 with Retry-After), unknown
// identifiers exactly like registered ones; the wait ends and the right password logs in.
// The browser has an address of its own (browserFrom), so the shared suite's 127.0.0.1 is not
// charged with its refusals.
func testLockout(t *testing.T, e *env) {
	_, num := e.person("张七", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browserFrom("127.0.0.11")
	advance := rewindAfter(t, e)
	msgs, wait := pauseAccount(t, e, advance, r, b, num)
	want := []string{"", "", "还可尝试 2 次", "还可尝试 1 次", "请在 1 秒后再试", "请在 2 秒后再试"}
	if len(msgs) < len(want) {
		t.Fatalf("failure messages %q", msgs)
	}
	for i, w := range want {
		if !strings.HasPrefix(msgs[i], "证件号码、手机号或密码不正确。") || !strings.Contains(msgs[i], w) ||
			w == "" && msgs[i] != "证件号码、手机号或密码不正确。" {
			t.Errorf("failure %d: %q, want %q", i+1, msgs[i], w)
		}
	}
	p := b.login(b.get(r.authURL().url), num, testPassword)
	if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "登录失败次数过多") ||
		!strings.Contains(p.loginError(), strconv.Itoa(wait)+" 秒") || p.retryAfter(t) != wait {
		t.Fatalf("the right password during a %d s wait: %d %q Retry-After %q", wait, p.status, p.loginError(), p.header.Get("Retry-After"))
	}
	// English.
	p = b.login(b.get(r.authURL(oauth2.SetAuthURLParam("ui_locales", "en")).url), num, testPassword)
	if p.status != http.StatusTooManyRequests || !strings.Contains(p.loginError(), "try again in "+strconv.Itoa(wait)+" seconds.") {
		t.Errorf("English page: %d %q", p.status, p.loginError())
	}
	// The same for an identifier nobody has: no enumeration through the pause either.
	ghost, ghostWait := pauseAccount(t, e, advance, r, e.browserFrom("127.0.0.12"), residentID(t))
	if strings.Join(ghost, "|") != strings.Join(msgs, "|") || ghostWait != wait {
		t.Errorf("unknown identifier: %q, %d s; registered: %q, %d s", ghost, ghostWait, msgs, wait)
	}
	// A pause, not a wall: after the wait the right password logs in.
	advance(time.Duration(wait) * time.Second)
	p = b.login(b.get(r.authURL().url), num, testPassword)
	if p.isLoginForm() {
		t.Errorf("still refused after the wait: %d %q", p.status, p.loginError())
	}
}

func testLockoutAcrossIdentifiers(t *testing.T, e *env) {
	_, num := e.person("严九", "13700137001")
	r := e.newRP(tboidc.NewClient{})
	b := e.browserFrom("127.0.0.13")
	_, wait := pauseAccount(t, e, rewindAfter(t, e), r, b, num)
	// The same person through the other identifier is paused too.
	p := b.login(b.get(r.authURL().url), "13700137001", testPassword)
	if p.status != http.StatusTooManyRequests || p.retryAfter(t) != wait {
		t.Fatalf("phone number during a pause made by ID number: %d", p.status)
	}
	if !strings.Contains(e.logs.String(), `"level":"WARN","msg":"login lockout: account paused for untrusted clients","client_id":"`+r.client.ID+`","client_ip":"127.0.0.13"`) {
		t.Error("lockout not logged at WARN with client and address")
	}
}

// rewindAfter returns a function that advances the suite's clock and, when the test ends, moves
// it back: a clock ahead of real time would make fosite refuse the auth_time of later logins.
func rewindAfter(t *testing.T, e *env) func(time.Duration) {
	var moved time.Duration
	t.Cleanup(func() { e.clock.Advance(-moved) })
	return func(d time.Duration) {
		moved += d
		e.clock.Advance(d)
	}
}

// TestIPLockout: failures from one address, whatever the identifiers, lock that address.
func TestIPLockout(t *testing.T) {
	e := newEnv(t, storagetest.SQLite(t), envOptions{plain: true, mutate: func(c *tboidc.Config) { c.IPLockThreshold = 3 }})
	_, num := e.person("鲁三", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	for range 3 {
		if p := b.login(b.get(r.authURL().url), residentID(t), "wrong"); p.status != http.StatusUnauthorized {
			t.Fatalf("failure answered %d", p.status)
		}
	}
	if p := b.login(b.get(r.authURL().url), num, testPassword); p.status != http.StatusTooManyRequests ||
		!strings.Contains(p.loginError(), "您所在网络地址的登录失败次数过多") || p.retryAfter(t) != int(tboidc.DefaultIPLockWindow/time.Second) {
		t.Fatalf("locked address answered %d %q Retry-After %q", p.status, p.loginError(), p.header.Get("Retry-After"))
	}
	e.clock.Advance(tboidc.DefaultIPLockWindow)
	p := b.login(b.get(r.authURL().url), num, testPassword)
	if p.isLoginForm() {
		t.Fatalf("address still locked after the window: %d", p.status)
	}
	// Plain-http development issuer: cookies without Secure and without the __Host- prefix.
	u, _ := url.Parse(e.issuer)
	for _, c := range b.c.Jar.Cookies(u) {
		if strings.HasPrefix(c.Name, "__Host-") {
			t.Errorf("cookie %s on an http issuer", c.Name)
		}
	}
}
