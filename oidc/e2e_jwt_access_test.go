package oidc_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/sm-crypto/smjose"
)

// verifyAccessJWT verifies a JWT access token against the provider's /jwks as a resource
// server would (offline): go-jose for ES256 and RS256, smjose for SGD_SM3_SM2. It checks the
// header (alg, kid, typ at+jwt) and returns the claims.
func verifyAccessJWT(t *testing.T, e *env, token, alg string) map[string]any {
	t.Helper()
	ks, err := smjose.ParseJWKS([]byte(e.browser().get(e.issuer + "/jwks").body))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256, smjose.AlgSM2})
	if err != nil {
		t.Fatalf("access token is not a JWS: %v", err)
	}
	h := jws.Signatures[0].Header
	if h.Algorithm != alg || h.KeyID == "" || h.ExtraHeaders[jose.HeaderType] != "at+jwt" {
		t.Fatalf("header alg=%q kid=%q typ=%v, want alg %s, a kid and typ at+jwt", h.Algorithm, h.KeyID, h.ExtraHeaders[jose.HeaderType], alg)
	}
	var payload []byte
	if alg == tboidc.AlgSM2 {
		payload, err = ks.VerifySM2(token)
	} else {
		keys := ks.Standard.Key(h.KeyID)
		if len(keys) != 1 || keys[0].Algorithm != alg {
			t.Fatalf("JWKS has no %s key %q", alg, h.KeyID)
		}
		payload, err = jws.Verify(keys[0].Key)
	}
	if err != nil {
		t.Fatalf("verify against /jwks: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	now := float64(time.Now().Unix())
	for _, k := range []string{"iss", "exp", "aud", "sub", "client_id", "iat", "jti"} {
		if claims[k] == nil {
			t.Errorf("claim %s missing: %v", k, claims)
		}
	}
	if claims["iss"] != e.issuer || claims["exp"].(float64) <= now || claims["iat"].(float64) > now+5 {
		t.Errorf("claims %v", claims)
	}
	return claims
}

// testJWTAccessTokens: a client registered with access_token_format jwt gets RFC 9068 access
// tokens signed with its ID-token algorithm, verifiable offline with the JWKS; userinfo and
// introspection accept them, revocation makes them inactive, refresh issues JWTs again, the
// client credentials grant too; a default client still gets opaque tokens.
func testJWTAccessTokens(t *testing.T, e *env) {
	person, num := e.person("贺十", "")
	for _, alg := range []string{tboidc.AlgSM2, tboidc.AlgES256, tboidc.AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			r := e.newRP(tboidc.NewClient{IDTokenAlg: alg, AccessTokenFormat: tboidc.AccessTokenJWT})
			b := e.browser()
			a := r.authURL()
			tok, err := r.exchange(b.signIn(a, num), a.verifier)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(tok.AccessToken, "tb_at_") || !strings.HasPrefix(tok.RefreshToken, "tb_rt_") {
				t.Fatalf("access %q refresh %q: want a JWT and an opaque refresh token", tok.AccessToken, tok.RefreshToken)
			}
			c := verifyAccessJWT(t, e, tok.AccessToken, alg)
			if c["sub"] != person.ID || c["client_id"] != r.client.ID || c["aud"] != e.issuer+"/userinfo" ||
				c["auth_time"] == nil || c["acr"] != tboidc.ACRPassword || c["amr"] == nil {
				t.Errorf("claims %v", c)
			}
			if sc := strings.Fields(c["scope"].(string)); !slices.Contains(sc, "openid") || !slices.Contains(sc, "profile") {
				t.Errorf("scope %v", c["scope"])
			}
			if status, ui := e.userinfo(tok.AccessToken); status != 200 || ui["sub"] != person.ID {
				t.Errorf("userinfo: %d %v", status, ui)
			}
			if in := e.introspect(r, tok.AccessToken); !active(in) || in["sub"] != person.ID || in["client_id"] != r.client.ID || in["token_type"] != "Bearer" {
				t.Errorf("introspection %v", in)
			}
			// A JWT access token (same keys as ID tokens) is no id_token_hint.
			hinted := r.authURL(oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", tok.AccessToken))
			if got := b.get(hinted.url).callback(t); got.Get("code") != "" || got.Get("error") != "invalid_request" {
				t.Errorf("access token as id_token_hint: %v", got)
			}
			// A token with a valid signature part but another payload is refused.
			parts := strings.Split(tok.AccessToken, ".")
			forged := parts[0] + "." + parts[1] + "AA." + parts[2]
			if active(e.introspect(r, forged)) {
				t.Error("tampered JWT is active")
			}
			// Refresh gives a new JWT access token.
			status, out := e.postForm("/token", r.client.ID, r.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
			if status != 200 {
				t.Fatalf("refresh: %d %v", status, out)
			}
			at2, _ := out["access_token"].(string)
			verifyAccessJWT(t, e, at2, alg)
			// Revoking the access token (RFC 7009) makes introspection and userinfo refuse it.
			if status, _ := e.postForm("/revoke", r.client.ID, r.secret, url.Values{"token": {at2}, "token_type_hint": {"access_token"}}); status != 200 {
				t.Fatalf("revoke: %d", status)
			}
			if in := e.introspect(r, at2); active(in) {
				t.Errorf("revoked JWT introspection %v", in)
			}
			if status, _ := e.userinfo(at2); status != 401 {
				t.Errorf("userinfo with a revoked JWT: %d", status)
			}
		})
	}
	t.Run("client-credentials", func(t *testing.T) {
		svc := e.newRP(tboidc.NewClient{GrantTypes: []string{"client_credentials"}, Scopes: []string{"profile"},
			IDTokenAlg: tboidc.AlgES256, AccessTokenFormat: tboidc.AccessTokenJWT, Audience: []string{"https://api.example.gov.cn"}})
		cc := clientcredentials.Config{ClientID: svc.client.ID, ClientSecret: svc.secret, TokenURL: e.issuer + "/token", Scopes: []string{"profile"}}
		tok, err := cc.Token(context.WithValue(e.ctx, oauth2.HTTPClient, e.hs.Client()))
		if err != nil {
			t.Fatal(err)
		}
		c := verifyAccessJWT(t, e, tok.AccessToken, tboidc.AlgES256)
		if c["sub"] != svc.client.ID || c["client_id"] != svc.client.ID || c["aud"] != "https://api.example.gov.cn" ||
			c["scope"] != "profile" || c["auth_time"] != nil || c["acr"] != nil {
			t.Errorf("claims %v", c)
		}
		if in := e.introspect(svc, tok.AccessToken); !active(in) {
			t.Errorf("introspection %v", in)
		}
	})
	t.Run("opaque-default", func(t *testing.T) {
		r := e.newRP(tboidc.NewClient{})
		if r.client.AccessTokenFormat != tboidc.AccessTokenOpaque {
			t.Errorf("default format %q", r.client.AccessTokenFormat)
		}
		b := e.browser()
		a := r.authURL()
		tok, err := r.exchange(b.signIn(a, num), a.verifier)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tok.AccessToken, "tb_at_") {
			t.Errorf("opaque client got %q", tok.AccessToken)
		}
	})
	t.Run("invalid-format", func(t *testing.T) {
		_, _, err := tboidc.CreateClient(t.Context(), e.store, e.kr, tboidc.NewClient{ID: "bad-format", RedirectURIs: []string{"https://a.example/cb"}, AccessTokenFormat: "paseto"})
		if err == nil || !strings.Contains(err.Error(), "access token format") {
			t.Errorf("err = %v", err)
		}
	})
}
