package oidc_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	tboidc "github.com/tongban/tongban/oidc"
)

// UserInfo, the claims parameter and pairwise subjects: what an app learns about a person.

func testUserinfo(t *testing.T, e *env) {
	person, num := e.person("赵六", "+86 139-0013-9000")
	r := e.newRP(tboidc.NewClient{Scopes: []string{"openid", "profile", "phone", "id_number"}})
	r.oauth.Scopes = []string{"openid", "profile", "phone", "id_number"}
	b := e.browser()
	a := r.authURL()
	tok, err := r.exchange(b.signIn(a, num), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	_, claims := r.verify(tok.Extra("id_token").(string), a.nonce)
	if claims["id_number"] != num || claims["id_number_type"] != "resident_id" || claims["phone_number"] != "+8613900139000" {
		t.Errorf("ID token claims %v", claims)
	}
	for _, method := range []string{"GET", "POST"} {
		var req *http.Request
		if method == "GET" {
			req, _ = http.NewRequest("GET", e.issuer+"/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		} else {
			req, _ = http.NewRequest("POST", e.issuer+"/userinfo", strings.NewReader(url.Values{"access_token": {tok.AccessToken}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := e.hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ui map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&ui)
		resp.Body.Close()
		if resp.StatusCode != 200 || ui["sub"] != person.ID || ui["name"] != "赵六" || ui["phone_number"] != "+8613900139000" || ui["id_number"] != num {
			t.Errorf("%s userinfo: %d %v", method, resp.StatusCode, ui)
		}
	}
	// go-oidc's UserInfo call works too.
	ui, err := r.provider.UserInfo(e.ctx, oauth2.StaticTokenSource(tok))
	if err != nil || ui.Subject != person.ID {
		t.Fatalf("go-oidc UserInfo: %v %+v", err, ui)
	}
	if status, out := e.userinfo("tb_at_forged.token"); status != 401 || out["error"] != "invalid_token" {
		t.Errorf("forged token: %d %v", status, out)
	}
}

func testClaimsParameter(t *testing.T, e *env) {
	_, num := e.person("孙七", "13700137000")
	r := e.newRP(tboidc.NewClient{Scopes: []string{"openid", "profile", "phone"}})
	r.oauth.Scopes = []string{"openid", "profile", "phone"}
	b := e.browser()
	a := r.authURL(oauth2.SetAuthURLParam("claims", `{"id_token":{"name":null,"id_number":null}}`))
	tok, err := r.exchange(b.signIn(a, num), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	_, claims := r.verify(tok.Extra("id_token").(string), a.nonce)
	if claims["name"] != "孙七" {
		t.Errorf("name missing: %v", claims)
	}
	if _, ok := claims["phone_number"]; ok {
		t.Error("phone_number in the ID token although the claims parameter did not ask for it")
	}
	if _, ok := claims["id_number"]; ok {
		t.Error("id_number released without its scope")
	}
	_, ui := e.userinfo(tok.AccessToken)
	if ui["phone_number"] != "+8613700137000" {
		t.Errorf("userinfo %v", ui)
	}
}

func testPairwise(t *testing.T, e *env) {
	person, num := e.person("严二", "")
	r1 := e.newRP(tboidc.NewClient{SubjectType: "pairwise"})
	r2 := e.newRP(tboidc.NewClient{SubjectType: "pairwise", SectorIdentifier: "other.example.gov.cn"})
	b := e.browser()
	subOf := func(r *rp) string {
		a := r.authURL()
		tok, err := r.exchange(b.signIn(a, num), a.verifier)
		if err != nil {
			t.Fatal(err)
		}
		idt, _ := r.verify(tok.Extra("id_token").(string), a.nonce)
		_, ui := e.userinfo(tok.AccessToken)
		if ui["sub"] != idt.Subject {
			t.Errorf("userinfo sub %v, ID token sub %s", ui["sub"], idt.Subject)
		}
		return idt.Subject
	}
	s1, s1again, s2 := subOf(r1), subOf(r1), subOf(r2)
	if s1 == person.ID || s2 == person.ID || s1 == s2 || s1 != s1again {
		t.Errorf("pairwise subjects %q %q %q for person %q", s1, s1again, s2, person.ID)
	}
}
