package oidc_test

import (
	"context"
	"net/url"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	tboidc "github.com/tongban/tongban/oidc"
)

// The client credentials grant (service-to-service).

func testClientCredentials(t *testing.T, e *env) {
	svc := e.newRP(tboidc.NewClient{GrantTypes: []string{"client_credentials"}, Scopes: []string{"profile"}})
	rs := e.newRP(tboidc.NewClient{})
	cc := clientcredentials.Config{ClientID: svc.client.ID, ClientSecret: svc.secret, TokenURL: e.issuer + "/token", Scopes: []string{"profile"}}
	ctx := context.WithValue(e.ctx, oauth2.HTTPClient, e.hs.Client())
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" || tok.Extra("id_token") != nil {
		t.Errorf("client credentials issued %+v", tok)
	}
	in := e.introspect(rs, tok.AccessToken)
	if !active(in) || in["client_id"] != svc.client.ID || in["sub"] != nil || in["scope"] != "profile" {
		t.Errorf("introspection %v", in)
	}
	if status, out := e.userinfo(tok.AccessToken); status != 403 || out["error"] != "insufficient_scope" {
		t.Errorf("userinfo with a client token: %d %v", status, out)
	}
	// client_secret_post works as well, a wrong secret does not.
	status, out := e.postForm("/token", "", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {svc.client.ID}, "client_secret": {svc.secret}})
	if status != 200 {
		t.Errorf("client_secret_post: %d %v", status, out)
	}
	status, out = e.postForm("/token", svc.client.ID, "wrong", url.Values{"grant_type": {"client_credentials"}})
	if status != 401 || out["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %v", status, out)
	}
	// An auth-code client may not use client_credentials.
	status, out = e.postForm("/token", rs.client.ID, rs.secret, url.Values{"grant_type": {"client_credentials"}})
	if status < 400 || out["error"] == nil {
		t.Errorf("client_credentials for a code client: %d %v", status, out)
	}
}
