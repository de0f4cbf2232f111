package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	tboidc "github.com/tongban/tongban/oidc"
)

// postNoFollow posts a form and returns the provider's own answer, without following a
// redirect even within the provider.
func (b *browser) postNoFollow(u string, form url.Values) page {
	b.t.Helper()
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	saved := b.c
	b.c = &c
	defer func() { b.c = saved }()
	return b.do(req)
}

// testConsentNotTransferable: a consent given on the consent page is bound to the person and
// login session that gave it. The resume URL an attacker captures after allowing their own
// request, opened by a victim (with an SSO session, or after logging in), must show the
// victim the consent page — never give the attacker's app a code for the victim.
func testConsentNotTransferable(t *testing.T, e *env) {
	_, attackerNum := e.person("敌一", "")
	_, victimNum := e.person("苦二", "")
	x := e.newRP(tboidc.NewClient{Scopes: []string{"openid", "profile", "id_number"}})
	other := e.newRP(tboidc.NewClient{})
	a := x.authURL(oauth2.SetAuthURLParam("scope", "openid profile id_number"), oauth2.SetAuthURLParam("prompt", "consent"))

	// The attacker logs in as themselves and allows; the 303 to /authorize/resume is captured.
	ab := e.browser()
	p := ab.login(ab.get(a.url), attackerNum, testPassword)
	if !p.isConsent() {
		t.Fatalf("attacker: no consent page: %d", p.status)
	}
	action, vals := p.form(t)
	vals.Set("decision", "allow")
	cp := ab.postNoFollow(action, vals)
	resume := cp.header.Get("Location")
	if cp.status != http.StatusSeeOther || !strings.Contains(resume, "/authorize/resume?authz=") {
		t.Fatalf("consent answer: %d %q", cp.status, resume)
	}
	resumeURL, err := cp.url.Parse(resume)
	if err != nil {
		t.Fatal(err)
	}
	noCode := func(who string, p page) {
		t.Helper()
		if p.location != "" {
			if q := p.callback(t); q.Get("code") != "" {
				t.Fatalf("%s: captured resume URL gave a code without consent: %v", who, q)
			}
			return
		}
		if !p.isConsent() && !p.isLogin() && p.status < 400 {
			t.Fatalf("%s: want the consent page or an error, got %d", who, p.status)
		}
	}

	// A victim with an SSO session opens it.
	vb := e.browser()
	vb.signIn(other.authURL(), victimNum)
	vp := vb.get(resumeURL.String())
	noCode("victim with session", vp)
	if !vp.isConsent() {
		t.Errorf("victim with session: want the consent page, got %d %q", vp.status, vp.location)
	}
	// A victim without a session logs in on the page it leads to.
	vb2 := e.browser()
	lp := vb2.get(resumeURL.String())
	if !lp.isLogin() {
		t.Fatalf("victim without session: want the login page, got %d %q", lp.status, lp.location)
	}
	vp2 := vb2.login(lp, victimNum, testPassword)
	noCode("victim after login", vp2)
	if !vp2.isConsent() {
		t.Errorf("victim after login: want the consent page, got %d %q", vp2.status, vp2.location)
	}
	// In the session that consented the resume URL still works.
	rp := ab.get(resumeURL.String())
	if q := rp.callback(t); q.Get("code") == "" {
		t.Fatalf("attacker's own resume URL in the consenting session: %v", q)
	}
}

// testHintOtherPersonLogsIn: id_token_hint names Alice, Bob logs in on the page: the answer
// is login_required (OIDC Core §3.1.2.1), not a code for Bob.
func testHintOtherPersonLogsIn(t *testing.T, e *env) {
	_, alice := e.person("艾丽", "")
	_, bob := e.person("鲍勃", "")
	r := e.newRP(tboidc.NewClient{})
	ab := e.browser()
	a := r.authURL()
	tok, err := r.exchange(ab.signIn(a, alice), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	bb := e.browser()
	a2 := r.authURL(oauth2.SetAuthURLParam("id_token_hint", tok.Extra("id_token").(string)))
	p := bb.get(a2.url)
	if !p.isLogin() {
		t.Fatalf("no login page: %d", p.status)
	}
	// The answer comes straight after the login: Bob is not asked (and his consent not
	// recorded) for a request that cannot give him a code. (fosite's prompt validation is a
	// second line that refuses the code itself.)
	p = bb.login(p, bob, testPassword)
	if p.isConsent() {
		t.Fatal("Bob was shown the consent page of a request whose id_token_hint names Alice")
	}
	q := p.callback(t)
	if q.Get("code") != "" || q.Get("error") != "login_required" || q.Get("state") != a2.state {
		t.Fatalf("id_token_hint of Alice, Bob logged in: %v", q)
	}
	// Alice herself with the same hint gets her code.
	a3 := r.authURL(oauth2.SetAuthURLParam("id_token_hint", tok.Extra("id_token").(string)))
	if q := ab.get(a3.url).callback(t); q.Get("code") == "" {
		t.Fatalf("id_token_hint of the session's person: %v", q)
	}
}

// forge keeps the signature of a real opaque token and replaces its random part, as someone
// with read access to the database (which holds signatures only) could.
func forge(t testing.TB, token string) string {
	t.Helper()
	body, sig, ok := strings.Cut(token, ".")
	if !ok || len(body) < 10 {
		t.Fatalf("token %q has no signature", token)
	}
	return body[:6] + strings.Repeat("A", 43) + "." + sig
}

// testForgedTokens: a code or refresh token carrying the signature of a real one but not its
// MAC uses nothing up and revokes nothing, at the token and revocation endpoints.
func testForgedTokens(t *testing.T, e *env) {
	_, num := e.person("伪三", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	code := b.signIn(a, num)
	status, out := e.postForm("/token", r.client.ID, r.secret, url.Values{"grant_type": {"authorization_code"},
		"code": {forge(t, code)}, "redirect_uri": {r.redirect}, "code_verifier": {a.verifier}})
	if status != 400 || out["error"] != "invalid_grant" {
		t.Errorf("forged code: %d %v", status, out)
	}
	tok, err := r.exchange(code, a.verifier)
	if err != nil {
		t.Fatalf("the real code after a forged one: %v", err)
	}
	refresh := func(rt string) (int, map[string]any) {
		return e.postForm("/token", r.client.ID, r.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	}
	if status, out := refresh(forge(t, tok.RefreshToken)); status != 400 || out["error"] != "invalid_grant" {
		t.Errorf("forged refresh token: %d %v", status, out)
	}
	status, out = refresh(tok.RefreshToken)
	if status != 200 {
		t.Fatalf("the real refresh token after a forged one: %d %v", status, out)
	}
	rt := out["refresh_token"].(string)
	// A rotated (inactive) token's signature made into a forged token is not taken for reuse.
	if status, _ := refresh(forge(t, tok.RefreshToken)); status != 400 {
		t.Errorf("forged rotated refresh token: %d", status)
	}
	if !active(e.introspect(r, rt)) {
		t.Fatal("a forged copy of the rotated refresh token revoked the family")
	}
	// Revocation by a public client needs no secret: a forged token must revoke nothing.
	pub := e.newRP(tboidc.NewClient{Public: true})
	pb := e.browser()
	ptok := pub.login(t, pb, num)
	for _, f := range []string{forge(t, ptok.RefreshToken), forge(t, ptok.AccessToken)} {
		if status, _ := e.postForm("/revoke", pub.client.ID, "", url.Values{"token": {f}}); status != 200 {
			t.Errorf("forged revocation: %d", status)
		}
	}
	if !active(e.introspect(r, ptok.RefreshToken)) || !active(e.introspect(r, ptok.AccessToken)) {
		t.Fatal("a forged token revoked a public client's grant")
	}
}

// testRefreshRefusedKeepsToken: a refresh request refused by the client or scope checks does
// not use the refresh token up.
func testRefreshRefusedKeepsToken(t *testing.T, e *env) {
	_, num := e.person("留四", "")
	r := e.newRP(tboidc.NewClient{Scopes: []string{"openid", "profile", "phone", "offline_access"}})
	other := e.newRP(tboidc.NewClient{})
	b := e.browser()
	tok := r.login(t, b, num)
	form := func(scope string) url.Values {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
		if scope != "" {
			f.Set("scope", scope)
		}
		return f
	}
	if status, out := e.postForm("/token", r.client.ID, r.secret, form("openid profile offline_access phone")); status != 400 || out["error"] != "invalid_scope" {
		t.Errorf("broader scope: %d %v", status, out)
	}
	if status, out := e.postForm("/token", other.client.ID, other.secret, form("")); status != 400 || out["error"] != "invalid_grant" {
		t.Errorf("another client's refresh token: %d %v", status, out)
	}
	status, out := e.postForm("/token", r.client.ID, r.secret, form("openid"))
	if status != 200 || out["refresh_token"] == nil {
		t.Fatalf("the refresh token after refused requests: %d %v", status, out)
	}
	if !active(e.introspect(r, out["refresh_token"].(string))) {
		t.Fatal("rotated refresh token inactive")
	}
}
