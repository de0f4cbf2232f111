package oidc_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	tboidc "github.com/tongban/tongban/oidc"
)

// RP-initiated logout.

func testLogout(t *testing.T, e *env) {
	_, num := e.person("吴九", "")
	r1 := e.newRP(tboidc.NewClient{})
	r2 := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r1.authURL()
	tok, err := r1.exchange(b.signIn(a, num), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	a2 := r2.authURL()
	if _, err := r2.exchange(b.signIn(a2, num), a2.verifier); err != nil {
		t.Fatal(err)
	}
	q := url.Values{
		"id_token_hint":            {tok.Extra("id_token").(string)},
		"post_logout_redirect_uri": {r1.client.PostLogoutRedirectURIs[0]},
		"state":                    {"bye-state"},
	}
	p := b.get(e.issuer + "/logout?" + q.Encode())
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, r1.client.PostLogoutRedirectURIs[0]+"?") {
		t.Fatalf("logout: %d %q", p.status, p.location)
	}
	if got := p.callback(t).Get("state"); got != "bye-state" {
		t.Errorf("state %q", got)
	}
	// The session is gone for every app.
	for _, r := range []*rp{r1, r2} {
		a := r.authURL(oauth2.SetAuthURLParam("prompt", "none"))
		if got := b.get(a.url).callback(t).Get("error"); got != "login_required" {
			t.Errorf("%s after logout: %q", r.client.ID, got)
		}
		if !b.get(r.authURL().url).isLogin() {
			t.Errorf("%s after logout: no login page", r.client.ID)
		}
	}
	// An unregistered post_logout_redirect_uri is never followed.
	q.Set("post_logout_redirect_uri", "https://evil.example/")
	if p := b.get(e.issuer + "/logout?" + q.Encode()); p.location != "" || p.status != 400 {
		t.Errorf("bad post-logout URI: %d %q", p.status, p.location)
	}
}

func testLogoutConfirmation(t *testing.T, e *env) {
	_, num := e.person("郑十", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	b.signIn(a, num)
	p := b.get(e.issuer + "/logout")
	if !strings.Contains(p.body, `name="confirm"`) {
		t.Fatalf("no confirmation page: %s", p.body)
	}
	// Without the CSRF token the confirmation does nothing.
	action, vals := p.form(t)
	forged := url.Values{"confirm": {"1"}}
	if p2 := b.post(action, forged); !strings.Contains(p2.body, `name="confirm"`) {
		t.Fatal("logout without CSRF token was accepted")
	}
	p3 := b.post(action, vals)
	if p3.status != 200 || !strings.Contains(p3.body, "已安全退出") {
		t.Fatalf("after confirmation: %d %s", p3.status, p3.body)
	}
	if !b.get(r.authURL().url).isLogin() {
		t.Error("still logged in")
	}
}

func testLogoutClientID(t *testing.T, e *env) {
	_, num := e.person("陶三", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	b.signIn(r.authURL(), num)
	// OIDC RP-Initiated Logout 1.0 §2: client_id instead of id_token_hint, so no ID token
	// (personal claims) travels in a URL. The person confirms, then goes back to the app.
	q := url.Values{"client_id": {r.client.ID}, "post_logout_redirect_uri": {r.client.PostLogoutRedirectURIs[0]}, "state": {"bye-1"}}
	p := b.get(e.issuer + "/logout?" + q.Encode())
	if !strings.Contains(p.body, `name="confirm"`) {
		t.Fatalf("no confirmation page: %d %q", p.status, p.location)
	}
	action, vals := p.form(t)
	p2 := b.post(action, vals)
	if p2.status != http.StatusSeeOther || !strings.HasPrefix(p2.location, r.client.PostLogoutRedirectURIs[0]+"?") ||
		p2.callback(t).Get("state") != "bye-1" {
		t.Fatalf("after confirmation: %d %q", p2.status, p2.location)
	}
	if !b.get(r.authURL().url).isLogin() {
		t.Error("still logged in")
	}
	// Without a session: straight back to the app.
	if p := b.get(e.issuer + "/logout?" + q.Encode()); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, r.client.PostLogoutRedirectURIs[0]) {
		t.Errorf("no session: %d %q", p.status, p.location)
	}
	// The URI must be registered for that very client.
	other := e.newRP(tboidc.NewClient{})
	for _, uri := range []string{"https://evil.example/", other.client.PostLogoutRedirectURIs[0]} {
		q.Set("post_logout_redirect_uri", uri)
		if p := b.get(e.issuer + "/logout?" + q.Encode()); p.location != "" || p.status != 400 {
			t.Errorf("%s: %d %q", uri, p.status, p.location)
		}
	}
}

// testLogoutHint: an app that sends logout_hint with the session's sid (the sid claim of its ID
// token) and its client_id ends the session at once, without the confirmation page and
// without putting its ID token in a URL. Any other value, or no client_id, is asked to
// confirm.
func testLogoutHint(t *testing.T, e *env) {
	_, num := e.person("韩四", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	sid := r.loginSID(t, b, num)
	// Another person's session in another browser, and its sid.
	_, num2 := e.person("韩五", "")
	b2 := e.browser()
	sid2 := r.loginSID(t, b2, num2)
	back := r.client.PostLogoutRedirectURIs[0]
	changed := sid[:len(sid)-1] + map[bool]string{true: "B", false: "A"}[sid[len(sid)-1] == 'A'] // never the sid itself
	for name, q := range map[string]url.Values{
		"another session's sid": {"client_id": {r.client.ID}, "logout_hint": {sid2}, "post_logout_redirect_uri": {back}},
		"sid changed":           {"client_id": {r.client.ID}, "logout_hint": {changed}, "post_logout_redirect_uri": {back}},
		"no client_id":          {"logout_hint": {sid}},
		"unknown client_id":     {"client_id": {"no-such-app"}, "logout_hint": {sid}},
	} {
		if p := b.get(e.issuer + "/logout?" + q.Encode()); !strings.Contains(p.body, `name="confirm"`) {
			t.Errorf("%s: no confirmation page: %d %q", name, p.status, p.location)
		}
	}
	if !b.get(r.authURL(oauth2.SetAuthURLParam("prompt", "none")).url).callback(t).Has("code") {
		t.Fatal("the refused hints ended the session")
	}
	q := url.Values{"client_id": {r.client.ID}, "logout_hint": {sid}, "post_logout_redirect_uri": {back}, "state": {"bye-2"}}
	p := b.get(e.issuer + "/logout?" + q.Encode())
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, back+"?") || p.callback(t).Get("state") != "bye-2" {
		t.Fatalf("logout with the sid: %d %q", p.status, p.location)
	}
	if got := b.get(r.authURL(oauth2.SetAuthURLParam("prompt", "none")).url).callback(t).Get("error"); got != "login_required" {
		t.Errorf("after logout with the sid: %q", got)
	}
	// The other browser's session is untouched.
	if !b2.get(r.authURL(oauth2.SetAuthURLParam("prompt", "none")).url).callback(t).Has("code") {
		t.Error("the other session ended too")
	}
}

// testLogoutCrossSitePost: a form on another site that POSTs to /logout comes without the
// SameSite=Lax login cookie. The provider must not say 已退出 then (the session is alive):
// it asks to confirm on its own page, whose POST carries the cookie.
func testLogoutCrossSitePost(t *testing.T, e *env) {
	r := e.newRP(tboidc.NewClient{})
	form := url.Values{"client_id": {r.client.ID}, "post_logout_redirect_uri": {r.client.PostLogoutRedirectURIs[0]}}
	req, err := http.NewRequest(http.MethodPost, e.issuer+"/logout", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://elsewhere.example")
	resp, err := e.hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := new(strings.Builder)
	if _, err := io.Copy(body, resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(body.String(), `name="confirm"`) || strings.Contains(body.String(), "已安全退出") {
		t.Fatalf("cross-site POST without the login cookie: %d\n%s", resp.StatusCode, body)
	}
	// The same request from the provider's own site, or a GET, with no session: logged out.
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Body = io.NopCloser(strings.NewReader(form.Encode()))
	req.Header.Del("Origin")
	noRedirect := &http.Client{Transport: e.hs.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp2, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin POST without a session: %d, want 303 back to the app", resp2.StatusCode)
	}
}

// loginSID logs the person with ID number num in to r in browser b and returns the sid claim
// of the ID token.
func (r *rp) loginSID(t *testing.T, b *browser, num string) string {
	t.Helper()
	a := r.authURL()
	tok, err := r.exchange(b.signIn(a, num), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	_, claims := r.verify(tok.Extra("id_token").(string), a.nonce)
	sid, _ := claims["sid"].(string)
	if sid == "" {
		t.Fatalf("no sid claim: %v", claims)
	}
	return sid
}
