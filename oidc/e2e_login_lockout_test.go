package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage/storagetest"
)

// Password login failures: no user enumeration, per-account and per-IP lockout.

func testNoEnumeration(t *testing.T, e *env) {
	_, num := e.person("施六", "13600136000")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	wrong := b.login(b.get(r.authURL().url), num, "wrong password")
	unknown := b.login(b.get(r.authURL().url), residentID(t), testPassword)
	unknownPhone := b.login(b.get(r.authURL().url), "13999999999", testPassword)
	msg := "证件号码、手机号或密码不正确"
	for name, p := range map[string]page{"wrong password": wrong, "unknown ID number": unknown, "unknown phone": unknownPhone} {
		if p.status != wrong.status || !strings.Contains(p.body, msg) || !p.isLoginForm() {
			t.Errorf("%s: %d %s", name, p.status, p.body)
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

func testLockout(t *testing.T, e *env) {
	_, num := e.person("张七", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	for i := range tboidc.DefaultAccountLockThreshold {
		if p := b.login(b.get(r.authURL().url), num, "wrong password"); p.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, p.status)
		}
	}
	p := b.login(b.get(r.authURL().url), num, testPassword)
	if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "登录失败次数过多") {
		t.Fatalf("after %d failures the right password gave %d", tboidc.DefaultAccountLockThreshold, p.status)
	}
	// The same for an identifier nobody has: no enumeration through the lock either.
	ghost := residentID(t)
	for range tboidc.DefaultAccountLockThreshold {
		b.login(b.get(r.authURL().url), ghost, "x")
	}
	if p := b.login(b.get(r.authURL().url), ghost, "x"); p.status != http.StatusTooManyRequests {
		t.Errorf("unknown identifier not locked: %d", p.status)
	}
	// After the window the account opens again.
	e.clock.Advance(tboidc.DefaultAccountLockWindow + time.Second)
	defer e.clock.Advance(-tboidc.DefaultAccountLockWindow - time.Second)
	p = b.login(b.get(r.authURL().url), num, testPassword)
	if p.isLoginForm() {
		t.Errorf("still locked after the window: %d", p.status)
	}
}

func testLockoutAcrossIdentifiers(t *testing.T, e *env) {
	_, num := e.person("严九", "13700137001")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	for i := range tboidc.DefaultAccountLockThreshold {
		if p := b.login(b.get(r.authURL().url), num, "wrong password"); p.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, p.status)
		}
	}
	// The same person through the other identifier is locked too.
	p := b.login(b.get(r.authURL().url), "13700137001", testPassword)
	if p.status != http.StatusTooManyRequests {
		t.Fatalf("phone number after %d failures by ID number: %d", tboidc.DefaultAccountLockThreshold, p.status)
	}
	if !strings.Contains(e.logs.String(), "login refused: account locked") {
		t.Error("lockout not logged")
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
	if p := b.login(b.get(r.authURL().url), num, testPassword); p.status != http.StatusTooManyRequests {
		t.Fatalf("locked address answered %d", p.status)
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
