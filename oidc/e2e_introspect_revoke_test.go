package oidc_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	tboidc "github.com/tongban/tongban/oidc"
)

// Token introspection (RFC 7662) and revocation (RFC 7009).

func testIntrospection(t *testing.T, e *env) {
	person, num := e.person("沈七", "")
	r := e.newRP(tboidc.NewClient{})
	pub := e.newRP(tboidc.NewClient{Public: true})
	b := e.browser()
	tok := r.login(t, b, num)
	in := e.introspect(r, tok.AccessToken)
	if !active(in) || in["sub"] != person.ID || in["client_id"] != r.client.ID || in["token_type"] != "Bearer" ||
		in["exp"].(float64) <= float64(time.Now().Unix()) || in["iss"] != e.issuer {
		t.Errorf("introspection %v", in)
	}
	if in := e.introspect(r, tok.RefreshToken); !active(in) || in["token_type"] != "refresh_token" {
		t.Errorf("refresh introspection %v", in)
	}
	for _, bad := range []string{"", "garbage", "tb_at_x.y", tok.AccessToken + "x"} {
		if bad == "" {
			continue
		}
		if active(e.introspect(r, bad)) {
			t.Errorf("%q is active", bad)
		}
	}
	status, out := e.postForm("/introspect", pub.client.ID, "", url.Values{"token": {tok.AccessToken}})
	if status != 401 || out["error"] != "invalid_client" {
		t.Errorf("public client introspection: %d %v", status, out)
	}
	status, _ = e.postForm("/introspect", "", "", url.Values{"token": {tok.AccessToken}})
	if status != 401 {
		t.Errorf("anonymous introspection: %d", status)
	}
}

func testRevocation(t *testing.T, e *env) {
	_, num := e.person("韩八", "")
	r := e.newRP(tboidc.NewClient{})
	other := e.newRP(tboidc.NewClient{})
	b := e.browser()
	tok := r.login(t, b, num)
	// Another client cannot revoke it (RFC 7009 §2.1); the answer is still 200.
	if status, _ := e.postForm("/revoke", other.client.ID, other.secret, url.Values{"token": {tok.RefreshToken}}); status != 200 {
		t.Errorf("foreign revoke: %d", status)
	}
	if !active(e.introspect(r, tok.AccessToken)) {
		t.Fatal("another client revoked the token")
	}
	if status, _ := e.postForm("/revoke", r.client.ID, r.secret, url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}); status != 200 {
		t.Fatalf("revoke: %d", status)
	}
	if active(e.introspect(r, tok.RefreshToken)) || active(e.introspect(r, tok.AccessToken)) {
		t.Error("revoking the refresh token left its grant active")
	}
	if status, _ := e.postForm("/revoke", r.client.ID, r.secret, url.Values{"token": {"unknown"}}); status != 200 {
		t.Errorf("unknown token: %d", status)
	}
	if status, _ := e.postForm("/revoke", r.client.ID, "wrong", url.Values{"token": {"unknown"}}); status != 401 {
		t.Errorf("bad client: %d", status)
	}
}

// testRevocationOfStaleTokens: a client whose front end still holds a token its back end has
// refreshed away can still log the person out — revoking the superseded refresh token, or the
// superseded access token, revokes the grant's current tokens. And a refresh token presented
// after a logout is refused without a theft alarm: a revoked grant is not a reuse.
func testRevocationOfStaleTokens(t *testing.T, e *env) {
	_, num := e.person("旧令", "")
	r := e.newRP(tboidc.NewClient{})
	refresh := func(rt string) (int, map[string]any) {
		return e.postForm("/token", r.client.ID, r.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	}
	for _, stale := range []string{"refresh_token", "access_token"} {
		tok := r.login(t, e.browser(), num)
		status, out := refresh(tok.RefreshToken)
		if status != 200 {
			t.Fatalf("refresh: %d %v", status, out)
		}
		old := map[string]string{"refresh_token": tok.RefreshToken, "access_token": tok.AccessToken}[stale]
		if status, _ := e.postForm("/revoke", r.client.ID, r.secret, url.Values{"token": {old}}); status != 200 {
			t.Fatalf("revoke the superseded %s: %d", stale, status)
		}
		if active(e.introspect(r, out["access_token"].(string))) || active(e.introspect(r, out["refresh_token"].(string))) {
			t.Errorf("revoking the superseded %s left the grant's current tokens active", stale)
		}
	}

	// After a logout the refresh token is refused as revoked: no reuse warning, no replay count.
	tok := r.login(t, e.browser(), num)
	if status, _ := e.postForm("/revoke", r.client.ID, r.secret, url.Values{"token": {tok.AccessToken}}); status != 200 {
		t.Fatalf("revoke: %d", status)
	}
	before := e.counter("tongban_idp_replays_total", "kind", "refresh_token")
	logsBefore := len(e.logs.String())
	if status, out := refresh(tok.RefreshToken); status != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("refresh after logout: %d %v", status, out)
	}
	if strings.Contains(e.logs.String()[logsBefore:], "refresh token reused") || e.counter("tongban_idp_replays_total", "kind", "refresh_token") != before {
		t.Error("a refresh after a logout was reported as a refresh-token reuse")
	}
}
