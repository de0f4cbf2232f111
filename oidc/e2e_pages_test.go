package oidc_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	tboidc "github.com/tongban/tongban/oidc"
)

// The login, consent and logout pages themselves: headers, languages, CSRF, one use per form.

func testPages(t *testing.T, e *env) {
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	p := b.get(r.authURL().url)
	if !p.isLogin() || !strings.Contains(p.body, `lang="zh-CN"`) || !strings.Contains(p.body, "登录") {
		t.Fatalf("default login page is not Chinese: %s", p.body)
	}
	for k, v := range map[string]string{
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
	} {
		if got := p.header.Get(k); got != v {
			t.Errorf("%s = %q", k, got)
		}
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	// login_hint pre-fills the identifier when it looks like one.
	hint := residentID(t)
	if p := b.get(r.authURL(oauth2.SetAuthURLParam("login_hint", hint)).url); !strings.Contains(p.body, `value="`+hint+`"`) {
		t.Error("login_hint not pre-filled")
	}
	if p := b.get(r.authURL(oauth2.SetAuthURLParam("login_hint", `"><script>`)).url); strings.Contains(p.body, "<script>") {
		t.Error("login_hint injected markup")
	}
	// The English switch.
	if !strings.Contains(p.body, "ui_locales=en") {
		t.Error("no English switch")
	}
	en := b.get(r.authURL(oauth2.SetAuthURLParam("ui_locales", "en-GB zh")).url)
	if !strings.Contains(en.body, `lang="en"`) || !strings.Contains(en.body, "Sign in") {
		t.Errorf("ui_locales=en: %s", en.body)
	}
	// The switch carries on to the consent page.
	_, numEN := e.person("Lang", "")
	bEN := e.browser()
	zh := bEN.get(r.authURL().url)
	i := strings.Index(zh.body, `class="lang" href="`)
	href := html.UnescapeString(zh.body[i+len(`class="lang" href="`):])
	href = href[:strings.IndexByte(href, '"')]
	enPage := bEN.get(e.issuer + href)
	if !strings.Contains(enPage.body, "Sign in") {
		t.Fatalf("switch link %q: %s", href, enPage.body)
	}
	if c := bEN.login(enPage, numEN, testPassword); !c.isConsent() || !strings.Contains(c.body, "Allow access") {
		t.Errorf("consent page after an English login: %s", c.body)
	}
	// Cookies: __Host- prefix, Secure, HttpOnly, SameSite=Lax.
	resp, err := b.c.Get(r.authURL().url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, _ := url.Parse(e.issuer)
	found := false
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "__Host-tb_csrf" {
			found = true
		}
	}
	if !found {
		t.Error("no __Host-tb_csrf cookie")
	}
	_, num := e.person("杨九", "")
	p = b.get(r.authURL().url)
	action, vals := p.form(t)
	vals.Set("identifier", num)
	vals.Set("password", testPassword)
	req, _ := http.NewRequest("POST", action, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	noFollow := *b.c
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login POST answered %d, want 303", resp.StatusCode)
	}
	setCookie := strings.Join(resp.Header.Values("Set-Cookie"), "\n")
	for _, want := range []string{"__Host-tb_session=", "Secure", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(setCookie, want) {
			t.Errorf("session cookie lacks %s: %s", want, setCookie)
		}
	}
}

func testCSRF(t *testing.T, e *env) {
	_, num := e.person("孔八", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	p := b.get(r.authURL().url)
	action, vals := p.form(t)
	vals.Set("identifier", num)
	vals.Set("password", testPassword)
	for name, mutate := range map[string]func(url.Values) url.Values{
		"missing token": func(v url.Values) url.Values { w := clone(v); w.Del("csrf"); return w },
		"wrong token":   func(v url.Values) url.Values { w := clone(v); w.Set("csrf", "AAAA"+v.Get("csrf")[4:]); return w },
	} {
		got := b.post(action, mutate(vals))
		if got.status != http.StatusForbidden || !strings.Contains(got.body, "页面已过期") {
			t.Errorf("%s: %d", name, got.status)
		}
	}
	// Another browser (no CSRF cookie) posting this browser's form is refused.
	if got := e.browser().post(action, vals); got.status != http.StatusForbidden {
		t.Errorf("cross-browser post: %d", got.status)
	}
	if got := b.post(action, vals); got.isLoginForm() {
		t.Errorf("valid token refused: %d", got.status)
	}
}

func testFormReplay(t *testing.T, e *env) {
	_, num := e.person("魏二", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	p := b.login(b.get(a.url), num, testPassword)
	if !p.isConsent() {
		t.Fatalf("no consent page: %d", p.status)
	}
	action, vals := p.form(t)
	deny := clone(vals)
	deny.Set("decision", "deny")
	if q := b.post(action, deny).callback(t); q.Get("error") != "access_denied" {
		t.Fatalf("deny: %v", q)
	}
	allow := clone(vals)
	allow.Set("decision", "allow")
	if p2 := b.post(action, allow); p2.location != "" || p2.status != 400 || !strings.Contains(p2.body, "已过期") {
		t.Errorf("consent replayed: %d %q", p2.status, p2.location)
	}
	// A login form can be submitted once too.
	b2 := e.browser()
	lp := b2.get(r.authURL().url)
	action, vals = lp.form(t)
	vals.Set("identifier", num)
	vals.Set("password", testPassword)
	if p := b2.post(action, vals); p.isLoginForm() {
		t.Fatalf("login failed: %d", p.status)
	}
	if p := b2.post(action, vals); p.location != "" || p.status != 400 {
		t.Errorf("login form replayed: %d %q", p.status, p.location)
	}
	// After a failure the form shown again is usable (it carries a new token).
	b3 := e.browser()
	fp := b3.login(b3.get(r.authURL().url), num, "wrong password")
	if !fp.isLoginForm() {
		t.Fatalf("after wrong password: %d", fp.status)
	}
	if p := b3.login(fp, num, testPassword); p.isLoginForm() || p.location == "" && !p.isConsent() {
		t.Errorf("retry after a failure: %d %s", p.status, p.body)
	}
}
