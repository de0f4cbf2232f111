package oidc_test

import (
	"testing"

	tboidc "github.com/tongban/tongban/oidc"
)

// Single sign-on: one login serves several apps.

func testSSO(t *testing.T, e *env) {
	_, num := e.person("周八", "")
	r1 := e.newRP(tboidc.NewClient{IDTokenAlg: tboidc.AlgSM2})
	r2 := e.newRP(tboidc.NewClient{IDTokenAlg: tboidc.AlgES256})
	b := e.browser()
	tok1 := r1.login(t, b, num)
	// The second app: no login form, only its consent page.
	a2 := r2.authURL()
	p := b.get(a2.url)
	if p.isLogin() {
		t.Fatal("second app asked for the password again")
	}
	if !p.isConsent() {
		t.Fatalf("want the consent page, got %d %s", p.status, p.location)
	}
	code := b.consent(p, "allow").callback(t).Get("code")
	tok2, err := r2.exchange(code, a2.verifier)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := NewSM2Verifier(e.ctx, e.issuer, r1.client.ID, e.hs.Client())
	id1, err := v.Verify(e.ctx, tok1.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	id2, _ := r2.verify(tok2.Extra("id_token").(string), a2.nonce)
	if id1.Subject != id2.Subject {
		t.Error("different subjects across apps")
	}
	var c1, c2 map[string]any
	_ = id1.Claims(&c1)
	_ = id2.Claims(&c2)
	if c1["auth_time"] != c2["auth_time"] {
		t.Errorf("auth_time %v vs %v: the second app did not reuse the session", c1["auth_time"], c2["auth_time"])
	}
	// Consent is remembered: a third visit goes straight back with a code.
	a3 := r2.authURL()
	if q := b.get(a3.url).callback(t); q.Get("code") == "" {
		t.Fatalf("third visit: %v", q)
	}
}
