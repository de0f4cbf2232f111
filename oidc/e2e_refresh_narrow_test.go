package oidc_test

import (
	"net/url"
	"strings"
	"testing"

	tboidc "github.com/tongban/tongban/oidc"
)

// testRefreshNarrowScope: a refresh asking for a narrower scope (RFC 6749 §6) gets an access
// token of that scope only — token response, introspection and UserInfo agree — while the
// rotated refresh token keeps the original grant, so a later refresh without scope gets the
// full scope back.
func testRefreshNarrowScope(t *testing.T, e *env) {
	_, num := e.person("窄六", "")
	r := e.newRP(tboidc.NewClient{})
	rs := e.newRP(tboidc.NewClient{}) // a resource server that introspects
	b := e.browser()
	a := r.authURL()
	tok1, err := r.exchange(b.signIn(a, num), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	const full = "openid profile offline_access"
	if got, _ := tok1.Extra("scope").(string); got != full {
		t.Fatalf("code exchange scope %q, want %q", got, full)
	}
	refresh := func(rt, scope string) map[string]any {
		t.Helper()
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
		if scope != "" {
			f.Set("scope", scope)
		}
		status, out := e.postForm("/token", r.client.ID, r.secret, f)
		if status != 200 {
			t.Fatalf("refresh (scope %q): %d %v", scope, status, out)
		}
		return out
	}

	tok2 := refresh(tok1.RefreshToken, "openid")
	at2, rt2 := tok2["access_token"].(string), tok2["refresh_token"].(string)
	if tok2["scope"] != "openid" {
		t.Errorf("narrowed refresh: response scope %q, want %q", tok2["scope"], "openid")
	}
	if rt2 == "" {
		t.Fatal("narrowed refresh: no refresh token")
	}
	if in := e.introspect(rs, at2); !active(in) || in["scope"] != "openid" {
		t.Errorf("narrowed access token introspection: %v", in)
	}
	if in := e.introspect(rs, rt2); !active(in) || in["scope"] != full {
		t.Errorf("rotated refresh token introspection: %v, want scope %q", in, full)
	}
	if status, ui := e.userinfo(at2); status != 200 || ui["sub"] == nil || ui["name"] != nil {
		t.Errorf("userinfo with the narrowed access token: %d %v", status, ui)
	}
	if idt, _ := tok2["id_token"].(string); idt == "" {
		t.Error("narrowed refresh with openid: no ID token")
	} else if _, claims := r.verify(idt, ""); claims["name"] != nil {
		t.Errorf("narrowed ID token carries name: %v", claims)
	}

	// A later refresh without scope gets the original grant back.
	tok3 := refresh(rt2, "")
	at3 := tok3["access_token"].(string)
	if tok3["scope"] != full {
		t.Errorf("refresh without scope after a narrowed one: scope %q, want %q", tok3["scope"], full)
	}
	if in := e.introspect(rs, at3); !active(in) || in["scope"] != full {
		t.Errorf("full access token introspection: %v", in)
	}
	if status, ui := e.userinfo(at3); status != 200 || ui["name"] != "窄六" {
		t.Errorf("userinfo with the full access token: %d %v", status, ui)
	}

	// Narrowing to a scope without openid: no ID token, and UserInfo refuses the access token.
	tok4 := refresh(tok3["refresh_token"].(string), "profile offline_access")
	if tok4["scope"] != "profile offline_access" || tok4["id_token"] != nil {
		t.Errorf("refresh narrowed to profile offline_access: %v", tok4)
	}
	if status, _ := e.userinfo(tok4["access_token"].(string)); status != 403 {
		t.Errorf("userinfo without openid: %d, want 403", status)
	}
	// Still a subset check: a scope never granted is refused.
	f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok4["refresh_token"].(string)}, "scope": {"openid phone"}}
	if status, out := e.postForm("/token", r.client.ID, r.secret, f); status != 400 || out["error"] != "invalid_scope" {
		t.Errorf("broader scope: %d %v", status, out)
	}
}

// testRefreshReuseLoggedOnce: one reuse of a rotated refresh token logs one warning, even when
// the family's newest token is presented afterwards (it is inactive too, and used to be logged
// as a second reuse with the same request_id).
func testRefreshReuseLoggedOnce(t *testing.T, e *env) {
	_, num := e.person("复用七", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	tok1 := r.login(t, b, num)
	refresh := func(rt string) (int, map[string]any) {
		return e.postForm("/token", r.client.ID, r.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	}
	status, tok2 := refresh(tok1.RefreshToken)
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, tok2)
	}
	count := func() int { return strings.Count(e.logs.String(), `"msg":"refresh token reused; revoking its family"`) }
	before := count()
	// An attacker reuses the rotated token; the family is revoked.
	if status, out := refresh(tok1.RefreshToken); status != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("reuse: %d %v", status, out)
	}
	// The legitimate client then presents its newest (now revoked) token: refused, but the
	// same reuse, not another one.
	if status, out := refresh(tok2["refresh_token"].(string)); status != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("newest refresh token after reuse: %d %v", status, out)
	}
	if n := count() - before; n != 1 {
		t.Errorf("one reuse logged %d times:\n%s", n, e.logs.String())
	}
}
