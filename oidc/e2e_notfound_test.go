package oidc_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tongban/tongban/storage/storagetest"
)

// TestNotFoundPage: a path no route serves gets the provider's own 404 page (notfound.go) — the
// layout, the 长辈模式 switch, the language switch and a way on to the account page — or JSON
// below the JSON endpoints and for a client that asks for JSON; 405 and the handlers' own 404
// answers stay as they were.
func TestNotFoundPage(t *testing.T) {
	e := newEnv(t, storagetest.SQLite(t), envOptions{})
	b := e.browser()
	page404 := func(t *testing.T, p page, lang, heading string) {
		t.Helper()
		if p.status != http.StatusNotFound || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
			t.Fatalf("status %d, Content-Type %q", p.status, p.header.Get("Content-Type"))
		}
		for _, want := range []string{`<html lang="` + lang + `"`, heading, `<form method="post" action="/prefs/elder" class="elder-switch">`,
			`href="/account?ui_locales=` + lang + `"`, `href="/assets/citizen.css"`, `class="speak"`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("404 page lacks %q:\n%s", want, p.body)
			}
		}
		if strings.Contains(p.body, "404 page not found") {
			t.Errorf("Go's plain 404 text in the page:\n%s", p.body)
		}
		for k, v := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"} {
			if got := p.header.Get(k); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
		if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("CSP %q", csp)
		}
	}
	json404 := func(t *testing.T, p page) {
		t.Helper()
		var body map[string]string
		if p.status != http.StatusNotFound || !strings.HasPrefix(p.header.Get("Content-Type"), "application/json") ||
			json.Unmarshal([]byte(p.body), &body) != nil || body["error"] != "not_found" || body["error_description"] == "" {
			t.Errorf("want 404 JSON not_found, got %d %q %s", p.status, p.header.Get("Content-Type"), p.body)
		}
	}

	t.Run("ok/page-zh", func(t *testing.T) {
		p := b.get(e.issuer + "/nosuchpage")
		page404(t, p, "zh-CN", "页面不存在")
		if !strings.Contains(p.body, `href="/nosuchpage?ui_locales=en"`) {
			t.Errorf("no English switch back to the same address:\n%s", p.body)
		}
		// The way on: the account page, which asks a person who is not logged in to log in.
		if acc := b.get(e.issuer + "/account?ui_locales=zh-CN"); !acc.isLogin() {
			t.Errorf("the 404 page's way on is not the login page: %d %s", acc.status, acc.url)
		}
	})
	t.Run("ok/page-en-deep-path", func(t *testing.T) {
		p := b.get(e.issuer + "/no/such/page?ui_locales=en&x=1")
		page404(t, p, "en", "Page not found")
		if !strings.Contains(p.body, `href="/no/such/page?ui_locales=zh-CN&amp;x=1"`) {
			t.Errorf("no Chinese switch back to the same address:\n%s", p.body)
		}
	})
	t.Run("ok/page-post", func(t *testing.T) {
		page404(t, b.post(e.issuer+"/nosuchpage", nil), "zh-CN", "页面不存在")
	})
	t.Run("ok/page-elder", func(t *testing.T) {
		eb := e.browser()
		p := eb.switchElder(true, "/nosuchpage?ui_locales=en")
		page404(t, p, "en", "Page not found")
		if !eb.elderCookie() || !strings.Contains(p.body, `<html lang="en" class="elder">`) || !strings.Contains(p.body, `aria-pressed="true"`) {
			t.Errorf("404 page after the switch is not in elder mode:\n%.800s", p.body)
		}
	})
	t.Run("ok/json-below-endpoints", func(t *testing.T) {
		for _, path := range []string{"/register/a/b", "/.well-known/nothing", "/token/x", "/userinfo/x", "/scan/nothing", "/login/passkey/x"} {
			json404(t, b.get(e.issuer+path))
		}
	})
	t.Run("ok/json-accepted", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, e.issuer+"/nosuchpage", nil)
		req.Header.Set("Accept", "application/json")
		json404(t, b.do(req))
		req.Header.Set("Accept", "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8")
		page404(t, b.do(req), "zh-CN", "页面不存在")
	})
	t.Run("ok/405-unchanged", func(t *testing.T) {
		for _, c := range []struct{ method, path, allow string }{
			{http.MethodGet, "/token", "POST"}, {http.MethodDelete, "/token", "POST"}, {http.MethodPut, "/account", "GET"},
		} {
			req, _ := http.NewRequest(c.method, e.issuer+c.path, nil)
			p := b.do(req)
			if p.status != http.StatusMethodNotAllowed || !strings.Contains(p.header.Get("Allow"), c.allow) {
				t.Errorf("%s %s: %d, Allow %q", c.method, c.path, p.status, p.header.Get("Allow"))
			}
		}
	})
	t.Run("ok/handler-404-unchanged", func(t *testing.T) {
		// A route's own 404: the asset handler's plain answer, not the page.
		p := b.get(e.issuer + "/assets/nothing.js")
		if p.status != http.StatusNotFound || strings.Contains(p.body, "页面不存在") {
			t.Errorf("unknown asset: %d\n%s", p.status, p.body)
		}
	})
}
