package oidc_test

import (
	"net/url"
	"strings"
	"testing"

	tboidc "github.com/tongban/tongban/oidc"
)

// Token endpoint errors (RFC 6749 §5.2) and forged codes and refresh tokens.

func testTokenEndpointErrors(t *testing.T, e *env) {
	r := e.newRP(tboidc.NewClient{})
	for _, tc := range []struct {
		name      string
		form      url.Values
		status    int
		errorCode string
	}{
		{"fail/password-grant", url.Values{"grant_type": {"password"}, "username": {"a"}, "password": {"b"}}, 400, "unsupported_grant_type"},
		{"fail/implicit", url.Values{"grant_type": {"implicit"}}, 400, "unsupported_grant_type"},
		{"fail/unknown-code", url.Values{"grant_type": {"authorization_code"}, "code": {"tb_ac_x.y"}, "code_verifier": {strings.Repeat("a", 43)}, "redirect_uri": {r.redirect}}, 400, "invalid_grant"},
		{"fail/unknown-refresh", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"tb_rt_x.y"}}, 400, "invalid_grant"},
		{"fail/duplicate-grant-type", url.Values{"grant_type": {"client_credentials", "authorization_code"}}, 400, "invalid_request"},
		{"fail/body-too-large", url.Values{"grant_type": {"client_credentials"}, "pad": {strings.Repeat("a", 70<<10)}}, 413, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := e.postForm("/token", r.client.ID, r.secret, tc.form)
			if status != tc.status || out["error"] != tc.errorCode {
				t.Errorf("%d %v", status, out)
			}
		})
	}
	t.Run("fail/public-client-credentials", func(t *testing.T) {
		pub := e.newRP(tboidc.NewClient{Public: true})
		status, out := e.postForm("/token", pub.client.ID, "", url.Values{"grant_type": {"client_credentials"}})
		if status != 400 || out["error"] != "unauthorized_client" {
			t.Errorf("%d %v", status, out)
		}
	})
	t.Run("fail/no-client-enumeration", func(t *testing.T) {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"tb_rt_x.y"}}
		s1, unknown := e.postForm("/token", "no-such-client", "secret-xyz", clone(form))
		s2, badSecret := e.postForm("/token", r.client.ID, "secret-xyz", clone(form))
		s3, noSecret := e.postForm("/token", r.client.ID, "", clone(form))
		s4, unknownNoSecret := e.postForm("/token", "no-such-client", "", clone(form))
		if s1 != 401 || s1 != s2 || s1 != s3 || s1 != s4 || unknown["error"] != "invalid_client" ||
			unknown["error_description"] != badSecret["error_description"] ||
			unknown["error_description"] != noSecret["error_description"] ||
			unknown["error_description"] != unknownNoSecret["error_description"] {
			t.Errorf("unknown client %d %v, bad secret %d %v, no secret %d %v, unknown without secret %d %v",
				s1, unknown, s2, badSecret, s3, noSecret, s4, unknownNoSecret)
		}
	})
	// The implicit and hybrid response types are refused at the authorization endpoint.
	_, challenge := pkcePair()
	q := url.Values{"client_id": {r.client.ID}, "response_type": {"id_token token"}, "scope": {"openid"},
		"redirect_uri": {r.redirect}, "state": {"state-12345"}, "nonce": {"nonce-12345"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	p := e.browser().get(e.issuer + "/authorize?" + q.Encode())
	if cb, _ := url.Parse(p.location); p.location == "" || cb.Query().Get("error") != "unsupported_response_type" {
		t.Errorf("implicit: %d %q", p.status, p.location)
	}
}

// forge keeps the signature of a real opaque token and replaces its random part, as someone
// with read access to the database (which holds signatures only) could; a sealed access token
// (stored nowhere) gets one character changed.
func forge(t testing.TB, token string) string {
	t.Helper()
	body, sig, ok := strings.Cut(token, ".")
	if !ok && strings.HasPrefix(token, "tb_at_") && len(token) > 40 {
		// A sealed access token: one changed character in the sealed bytes.
		i, c := len(token)/2, byte('A')
		if token[i] == c {
			c = 'B'
		}
		return token[:i] + string(c) + token[i+1:]
	}
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
