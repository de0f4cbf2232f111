package oidc_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/tongban/tongban/sm-crypto/smjose"
)

// Discovery (OIDC Discovery 1.0, RFC 8414) and the JWKS.

func testDiscovery(t *testing.T, e *env) {
	b := e.browser()
	p := b.get(e.issuer + "/.well-known/openid-configuration")
	var doc map[string]any
	if err := json.Unmarshal([]byte(p.body), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"issuer":                 e.issuer,
		"authorization_endpoint": e.issuer + "/authorize",
		"token_endpoint":         e.issuer + "/token",
		"end_session_endpoint":   e.issuer + "/logout",
		"introspection_endpoint": e.issuer + "/introspect",
		"revocation_endpoint":    e.issuer + "/revoke",
		"authorization_response_iss_parameter_supported": true,
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %v, want %v", k, doc[k], v)
		}
	}
	for k, v := range map[string][]string{
		"id_token_signing_alg_values_supported": {"RS256", "ES256", "SGD_SM3_SM2"},
		"code_challenge_methods_supported":      {"S256"},
		"response_types_supported":              {"code"},
	} {
		got, _ := json.Marshal(doc[k])
		exp, _ := json.Marshal(v)
		if string(got) != string(exp) {
			t.Errorf("%s = %s, want %s", k, got, exp)
		}
	}
	if p2 := b.get(e.issuer + "/.well-known/oauth-authorization-server"); p2.body != p.body {
		t.Error("RFC 8414 metadata differs from OIDC discovery")
	}

	// The JWKS: go-oidc (through NewProvider in newRP and the verifications) and a member-by-
	// member go-jose parse read the standard keys; smjose reads the SM2 key.
	jw := b.get(e.issuer + "/jwks")
	ks, err := smjose.ParseJWKS([]byte(jw.body))
	if err != nil {
		t.Fatal(err)
	}
	if len(ks.Standard.Keys) != 2 || len(ks.SM2) != 1 || len(ks.Skipped) != 0 {
		t.Fatalf("JWKS: %d standard, %d SM2, %d skipped keys", len(ks.Standard.Keys), len(ks.SM2), len(ks.Skipped))
	}
	if ks.SM2[0].KeyID == "" || ks.SM2[0].Use != "sig" {
		t.Errorf("SM2 JWK = %+v", ks.SM2[0])
	}
	var raw struct{ Keys []json.RawMessage }
	if err := json.Unmarshal([]byte(jw.body), &raw); err != nil {
		t.Fatal(err)
	}
	parsed := 0
	for _, m := range raw.Keys {
		var k jose.JSONWebKey
		if strings.Contains(string(m), `"SM2-P-256"`) {
			if !strings.Contains(string(m), `"alg":"SGD_SM3_SM2"`) {
				t.Errorf("SM2 member without alg: %s", m)
			}
			continue
		}
		if err := json.Unmarshal(m, &k); err != nil {
			t.Errorf("go-jose cannot parse %s: %v", m, err)
			continue
		}
		if k.KeyID == "" || k.Algorithm == "" || k.Use != "sig" || !k.IsPublic() {
			t.Errorf("standard JWK %s", m)
		}
		parsed++
	}
	if parsed != 2 {
		t.Errorf("go-jose parsed %d standard keys, want 2", parsed)
	}
	if !strings.HasPrefix(jw.header.Get("Content-Type"), "application/jwk-set+json") {
		t.Errorf("JWKS content type %q", jw.header.Get("Content-Type"))
	}
}
