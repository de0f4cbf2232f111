package oidc_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	tboidc "github.com/tongban/tongban/oidc"
)

// reheader returns token with its JWS header replaced by hdr (payload and signature kept).
func reheader(t *testing.T, token string, hdr map[string]any) string {
	t.Helper()
	b, err := json.Marshal(hdr)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(token, ".")
	return base64.RawURLEncoding.EncodeToString(b) + "." + parts[1] + "." + parts[2]
}

// testJWTAccessTokenAttacks tries to misuse JWT access tokens: algorithm confusion (another
// published alg under the same kid, alg none, HS256 keyed with the public JWKS), a JWT
// access token as refresh token or id_token_hint at logout, an expired JWT, another client's
// revocation, and the revocation of the refresh token that issued it. All are refused; a
// confidential client may introspect another client's JWT (by design) and sees whose it is.
func testJWTAccessTokenAttacks(t *testing.T, e *env) {
	_, num := e.person("钱十一", "")
	rs := e.newRP(tboidc.NewClient{IDTokenAlg: tboidc.AlgRS256, AccessTokenFormat: tboidc.AccessTokenJWT})
	sm := e.newRP(tboidc.NewClient{IDTokenAlg: tboidc.AlgSM2, AccessTokenFormat: tboidc.AccessTokenJWT})
	b := e.browser()
	a := rs.authURL()
	tok, err := rs.exchange(b.signIn(a, num), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	at := tok.AccessToken
	if status, _ := e.userinfo(at); status != 200 {
		t.Fatalf("userinfo with the genuine JWT: %d", status)
	}
	hb, _ := base64.RawURLEncoding.DecodeString(strings.Split(at, ".")[0])
	var hdr map[string]any
	if err := json.Unmarshal(hb, &hdr); err != nil {
		t.Fatal(err)
	}
	kid := hdr["kid"]
	parts := strings.Split(at, ".")
	hs := func(key []byte) string {
		h, _ := json.Marshal(map[string]any{"alg": "HS256", "kid": kid, "typ": "at+jwt"})
		si := base64.RawURLEncoding.EncodeToString(h) + "." + parts[1]
		m := hmac.New(sha256.New, key)
		m.Write([]byte(si))
		return si + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	jwks := []byte(e.browser().get(e.issuer + "/jwks").body)
	forged := map[string]string{
		"alg ES256 same kid":   reheader(t, at, map[string]any{"alg": tboidc.AlgES256, "kid": kid, "typ": "at+jwt"}),
		"alg SM2 same kid":     reheader(t, at, map[string]any{"alg": tboidc.AlgSM2, "kid": kid, "typ": "at+jwt"}),
		"alg none":             strings.TrimSuffix(reheader(t, at, map[string]any{"alg": "none", "typ": "at+jwt"}), parts[2]),
		"alg none keeping sig": reheader(t, at, map[string]any{"alg": "none", "kid": kid, "typ": "at+jwt"}),
		"HS256 keyed by jwks":  hs(jwks),
		"typ JWT":              reheader(t, at, map[string]any{"alg": tboidc.AlgRS256, "kid": kid, "typ": "JWT"}),
	}
	for name, f := range forged {
		if status, _ := e.userinfo(f); status != 401 {
			t.Errorf("%s: userinfo %d", name, status)
		}
		if active(e.introspect(rs, f)) {
			t.Errorf("%s: active", name)
		}
	}
	// Another JWT client's token at userinfo is fine (it is that client's token); its alg is
	// its own.
	tok2 := sm.login(t, b, num)
	verifyAccessJWT(t, e, tok2.AccessToken, tboidc.AlgSM2)

	// A JWT access token is not a refresh token, nor an id_token_hint at logout.
	if status, out := e.postForm("/token", rs.client.ID, rs.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {at}}); status != 400 || out["error"] != "invalid_grant" {
		t.Errorf("JWT access token as refresh token: %d %v", status, out)
	}
	if p := e.browser().get(e.issuer + "/logout?id_token_hint=" + url.QueryEscape(at)); p.status != 400 {
		t.Errorf("JWT access token as id_token_hint at logout: %d", p.status)
	}

	// Client sm may introspect rs's JWT (a resource server checks others' tokens) and sees
	// whose it is; it may not revoke it.
	if in := e.introspect(sm, at); !active(in) || in["client_id"] != rs.client.ID {
		t.Errorf("cross-client introspection %v", in)
	}
	e.postForm("/revoke", sm.client.ID, sm.secret, url.Values{"token": {at}, "token_type_hint": {"access_token"}})
	if status, _ := e.userinfo(at); status != 200 {
		t.Errorf("another client revoked the JWT: userinfo %d", status)
	}

	// Revoking the refresh token revokes the JWT access tokens of its family.
	if status, _ := e.postForm("/revoke", sm.client.ID, sm.secret, url.Values{"token": {tok2.RefreshToken}}); status != 200 {
		t.Fatalf("revoke refresh: %d", status)
	}
	if status, _ := e.userinfo(tok2.AccessToken); status != 401 {
		t.Errorf("userinfo with the JWT of a revoked refresh family: %d", status)
	}
	if in := e.introspect(sm, tok2.AccessToken); active(in) {
		t.Errorf("JWT of a revoked family active: %v", in)
	}

	// Expired: userinfo refuses it, introspection says inactive.
	e.clock.Advance(tboidc.DefaultAccessTokenLifetime + time.Minute)
	defer e.clock.Advance(-tboidc.DefaultAccessTokenLifetime - time.Minute)
	if status, _ := e.userinfo(at); status != 401 {
		t.Errorf("expired JWT at userinfo: %d", status)
	}
	if in := e.introspect(rs, at); active(in) {
		t.Errorf("expired JWT active: %v", in)
	}
}
