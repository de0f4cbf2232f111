package oidc_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
)

// The authorization code flow as a relying party sees it: confidential and public clients,
// ID token claims and signatures, loopback redirect ports.

func testCodeFlow(t *testing.T, e *env) {
	for _, alg := range []string{tboidc.AlgES256, tboidc.AlgRS256, tboidc.AlgSM2} {
		t.Run(alg, func(t *testing.T) {
			e.t = t
			person, _ := e.person("张三", "")
			r := e.newRP(tboidc.NewClient{IDTokenAlg: alg})
			b := e.browser()
			a := r.authURL()
			code := b.signIn(a, mustIdentifier(t, e, person))
			var v *oidc.IDTokenVerifier
			if alg == tboidc.AlgSM2 {
				var err error
				if v, err = NewSM2Verifier(e.ctx, e.issuer, r.client.ID, e.hs.Client()); err != nil {
					t.Fatal(err)
				}
			} else {
				v = r.provider.Verifier(&oidc.Config{ClientID: r.client.ID})
			}
			ctx := context.WithValue(e.ctx, oauth2.HTTPClient, e.hs.Client())
			idt, tok, err := FinishLogin(ctx, &r.oauth, v, alg, code, a.verifier, a.nonce)
			if err != nil {
				t.Fatal(err)
			}
			if tok.RefreshToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
				t.Fatalf("token = %+v", tok)
			}
			raw := tok.Extra("id_token").(string)
			if alg == tboidc.AlgSM2 {
				// go-oidc's own verifier refuses it: it does not know the algorithm.
				if _, err := r.provider.Verifier(&oidc.Config{ClientID: r.client.ID}).Verify(e.ctx, raw); err == nil {
					t.Fatal("go-oidc accepted an SM2 token with its standard verifier")
				}
				// A flipped signature byte fails.
				bad := raw[:len(raw)-3] + flip(raw[len(raw)-3:])
				if _, err := v.Verify(e.ctx, bad); err == nil {
					t.Fatal("tampered SM2 token verified")
				}
			}
			var claims map[string]any
			_ = idt.Claims(&claims)
			hdr := jwsHeader(t, raw)
			if hdr["alg"] != alg || hdr["kid"] == "" {
				t.Errorf("header %v", hdr)
			}
			if idt.Subject != person.ID || claims["name"] != "张三" || claims["acr"] != tboidc.ACRPassword {
				t.Errorf("claims %v", claims)
			}
			if _, ok := claims["phone_number"]; ok {
				t.Error("phone_number released without the phone scope")
			}
			if amr, _ := claims["amr"].([]any); len(amr) != 1 || amr[0] != "pwd" {
				t.Errorf("amr %v", claims["amr"])
			}
			if at, _ := claims["auth_time"].(float64); time.Since(time.Unix(int64(at), 0)) > time.Minute {
				t.Errorf("auth_time %v", claims["auth_time"])
			}
			status, ui := e.userinfo(tok.AccessToken)
			if status != 200 || ui["sub"] != person.ID || ui["name"] != "张三" {
				t.Errorf("userinfo %d %v", status, ui)
			}
		})
	}
	e.t = t
}

// mustIdentifier returns the login identifier of a person: its ID number.
func mustIdentifier(t testing.TB, e *env, p storage.Person) string {
	t.Helper()
	num, err := e.accounts.IDNumber(p)
	if err != nil {
		t.Fatal(err)
	}
	return num
}

func jwsHeader(t testing.TB, raw string) map[string]any {
	t.Helper()
	h, _, _ := strings.Cut(raw, ".")
	js, err := base64URLDecode(h)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// flip changes the first base64url character of s.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func testPublicClient(t *testing.T, e *env) {
	person, num := e.person("李四", "")
	r := e.newRP(tboidc.NewClient{Public: true, IDTokenAlg: tboidc.AlgES256})
	if r.secret != "" {
		t.Fatal("public client got a secret")
	}
	b := e.browser()
	a := r.authURL()
	tok, err := r.exchange(b.signIn(a, num), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	idt, _ := r.verify(tok.Extra("id_token").(string), a.nonce)
	if idt.Subject != person.ID {
		t.Fatalf("sub %q", idt.Subject)
	}
}

func testLoopbackPort(t *testing.T, e *env) {
	_, num := e.person("蒋六", "")
	r := e.newRP(tboidc.NewClient{Public: true})
	// RFC 8252 §7.3: a native app listens on an ephemeral port.
	r.oauth.RedirectURL = strings.Replace(r.redirect, ":4", ":5", 1)
	b := e.browser()
	a := r.authURL()
	p := b.get(a.url)
	p = b.login(p, num, testPassword)
	if p.isConsent() {
		p = b.consent(p, "allow")
	}
	if !strings.HasPrefix(p.location, r.oauth.RedirectURL) {
		t.Fatalf("redirected to %q, want %q", p.location, r.oauth.RedirectURL)
	}
	if _, err := r.exchange(p.callback(t).Get("code"), a.verifier); err != nil {
		t.Fatal(err)
	}
	// A different path is not the same URI.
	r.oauth.RedirectURL = r.redirect + "x"
	if p := b.get(r.authURL().url); p.location != "" || p.status != 400 {
		t.Errorf("other path: %d %q", p.status, p.location)
	}
}
