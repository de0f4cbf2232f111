package oidc_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// testAccountLogin: the account page sends a browser without a session to the login page,
// and the login comes back to it (not to an app); a next that leaves the provider is ignored.
func testAccountLogin(t *testing.T, e *env) {
	_, id := e.person("张三", "")
	b := e.browser()
	p := b.get(e.issuer + "/account")
	if !p.isLogin() {
		t.Fatalf("account page without a session: want the login page, got %d %s", p.status, p.url)
	}
	p = b.login(p, id, testPassword)
	if p.status != http.StatusOK || p.url.Path != "/account" || !strings.Contains(p.body, "张三") {
		t.Fatalf("after login: want the account page with the name, got %d %s", p.status, p.url)
	}
	if strings.Contains(p.body, id) {
		t.Fatal("account page shows the full ID number")
	}
	// An open redirect through next is refused: the login continues at the account page.
	b2 := e.browser()
	p = b2.get(e.issuer + "/account/login?next=" + "https://evil.example/account")
	p = b2.login(p, id, testPassword)
	if p.url.Host != strings.TrimPrefix(e.issuer, "https://") || p.url.Path != "/account" {
		t.Fatalf("next to another host: want /account on the provider, got %s", p.url)
	}
	e.clock.Advance(10 * time.Minute) // no longer fresh, still logged in
	p = b2.get(e.issuer + "/account")
	if p.url.Path != "/account" || p.isLogin() {
		t.Fatalf("account page in a live session: got %d %s", p.status, p.url)
	}
}

// testAssets: the stylesheet and the shared script are served with their types; other names
// are 404.
func testAssets(t *testing.T, e *env) {
	b := e.browser()
	for path, ct := range map[string]string{"/assets/style.css": "text/css", "/assets/tongban.js": "text/javascript"} {
		p := b.get(e.issuer + path)
		if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), ct) || len(p.body) < 100 {
			t.Errorf("%s: %d %q (%d bytes)", path, p.status, p.header.Get("Content-Type"), len(p.body))
		}
	}
	if p := b.get(e.issuer + "/assets/nothing.js"); p.status != http.StatusNotFound {
		t.Errorf("unknown asset: %d", p.status)
	}
}
