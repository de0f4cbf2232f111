package oidc_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	tboidc "github.com/tongban/tongban/oidc"
)

// What makes the provider ask for a login again: prompt, max_age, acr_values (TOTP step-up)
// and id_token_hint.

func testPromptLogin(t *testing.T, e *env) {
	_, num := e.person("钱一", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	b.signIn(a, num)
	a2 := r.authURL(oauth2.SetAuthURLParam("prompt", "login"))
	p := b.get(a2.url)
	if !p.isLogin() {
		t.Fatal("prompt=login did not ask for the password")
	}
	p = b.login(p, num, testPassword)
	code := p.callback(t).Get("code")
	if _, err := r.exchange(code, a2.verifier); err != nil {
		t.Fatal(err)
	}
}

func testPromptNone(t *testing.T, e *env) {
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL(oauth2.SetAuthURLParam("prompt", "none"))
	q := b.get(a.url).callback(t)
	if q.Get("error") != "login_required" || q.Get("state") != a.state || q.Get("iss") != e.issuer {
		t.Fatalf("prompt=none without session: %v", q)
	}
	// With a session but without consent: consent_required.
	_, num := e.person("何四", "")
	b.signIn(e.newRP(tboidc.NewClient{}).authURL(), num)
	if got := b.get(r.authURL(oauth2.SetAuthURLParam("prompt", "none")).url).callback(t).Get("error"); got != "consent_required" {
		t.Errorf("prompt=none without consent: %q", got)
	}
	// id_token_hint naming someone else: login_required.
	other, num2 := e.person("吕五", "")
	_ = other
	b2 := e.browser()
	tok := r.login(t, b2, num2)
	b.signIn(r.authURL(), num)
	a3 := r.authURL(oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", tok.Extra("id_token").(string)))
	if got := b.get(a3.url).callback(t).Get("error"); got != "login_required" {
		t.Errorf("id_token_hint of another person: %q", got)
	}
	// …and naming the session's person: a code.
	a4 := r.authURL(oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", tok.Extra("id_token").(string)))
	if got := b2.get(a4.url).callback(t); got.Get("code") == "" {
		t.Errorf("id_token_hint of the session's person: %v", got)
	}
}

func testMaxAge(t *testing.T, e *env) {
	_, num := e.person("陈三", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	tok1, err := r.exchange(b.signIn(a, num), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	_, c1 := r.verify(tok1.Extra("id_token").(string), a.nonce)
	time.Sleep(1100 * time.Millisecond)
	a2 := r.authURL(oauth2.SetAuthURLParam("max_age", "1"))
	p := b.get(a2.url)
	if !p.isLogin() {
		t.Fatal("max_age=1 did not force a login")
	}
	tok2, err := r.exchange(b.login(p, num, testPassword).callback(t).Get("code"), a2.verifier)
	if err != nil {
		t.Fatal(err)
	}
	_, c2 := r.verify(tok2.Extra("id_token").(string), a2.nonce)
	if c2["auth_time"].(float64) <= c1["auth_time"].(float64) {
		t.Errorf("auth_time did not advance: %v → %v", c1["auth_time"], c2["auth_time"])
	}
	// A generous max_age is satisfied by the session.
	a3 := r.authURL(oauth2.SetAuthURLParam("max_age", "3600"))
	if b.get(a3.url).callback(t).Get("code") == "" {
		t.Error("max_age=3600 forced a login")
	}
}

func testStepUp(t *testing.T, e *env) {
	person, num := e.person("褚四", "")
	uri, err := e.accounts.EnrollTOTP(context.Background(), person.ID)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(uri)
	secret := u.Query().Get("secret")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	b.signIn(r.authURL(), num) // password only
	a := r.authURL(oauth2.SetAuthURLParam("acr_values", tboidc.ACRMultiFactor))
	p := b.get(a.url)
	if !p.isLogin() || !strings.Contains(p.body, `name="otp"`) {
		t.Fatal("acr_values=mfa did not ask for a one-time code")
	}
	// A wrong code fails like a wrong password.
	if p2 := b.login(p, num, testPassword, "otp", "000000"); !p2.isLoginForm() {
		t.Fatal("wrong TOTP code accepted")
	}
	p = b.get(a.url)
	otpCode, _ := totp.GenerateCode(secret, e.clock.Now())
	q := b.login(p, num, testPassword, "otp", otpCode).callback(t)
	tok, err := r.exchange(q.Get("code"), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	_, claims := r.verify(tok.Extra("id_token").(string), a.nonce)
	if claims["acr"] != tboidc.ACRMultiFactor || len(claims["amr"].([]any)) != 2 {
		t.Errorf("acr %v amr %v", claims["acr"], claims["amr"])
	}
	// The session now satisfies mfa silently.
	a2 := r.authURL(oauth2.SetAuthURLParam("acr_values", tboidc.ACRMultiFactor), oauth2.SetAuthURLParam("prompt", "none"))
	if b.get(a2.url).callback(t).Get("code") == "" {
		t.Error("mfa session not reused")
	}
	// A person without TOTP and an essential mfa request: unmet_authentication_requirements.
	_, num2 := e.person("卫五", "")
	b2 := e.browser()
	a3 := r.authURL(oauth2.SetAuthURLParam("claims", `{"id_token":{"acr":{"essential":true,"values":["`+tboidc.ACRMultiFactor+`"]}}}`))
	p3 := b2.login(b2.get(a3.url), num2, testPassword)
	if p3.isConsent() {
		p3 = b2.consent(p3, "allow")
	}
	if got := p3.callback(t).Get("error"); got != "unmet_authentication_requirements" {
		t.Errorf("essential acr unmet: %q", got)
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
