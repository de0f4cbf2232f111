package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClientLifecycleCommands walks the app lifecycle on the shell: add with department and
// logo → suspend (reason required) → list --status → resume → rotate-secret → iat → retire,
// and a private_key_jwt app from a JWKS file.
func TestClientLifecycleCommands(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	r := idp(t, dir, "", nil, "clients", "add", "--id", "hukou", "--department", "gongan", "--logo-uri", "https://hk.example.gov.cn/logo.png",
		"--redirect-uri", "https://hk.example.gov.cn/cb", "--json")
	mustOK(t, r, "clients add")
	cl := decode[clientJSON](t, r)
	if cl.Status != "published" || cl.Department != "gongan" || cl.LogoURI == "" {
		t.Fatalf("clients add: %s", r.Stdout)
	}
	if r = idp(t, dir, "", nil, "clients", "suspend", "hukou"); r.Code != 2 || !strings.Contains(r.Stderr, `"reason" not set`) {
		t.Errorf("suspend without reason: %d %s", r.Code, r.Stderr)
	}
	mustOK(t, idp(t, dir, "", nil, "clients", "suspend", "hukou", "--reason", "安全检查"), "suspend")
	r = idp(t, dir, "", nil, "clients", "list", "--status", "suspended", "--department", "gongan")
	mustOK(t, r, "list")
	if !strings.Contains(r.Stdout, "hukou") || !strings.Contains(r.Stdout, "suspended") {
		t.Errorf("list: %s", r.Stdout)
	}
	if r = idp(t, dir, "", nil, "clients", "list", "--status", "published"); strings.Contains(r.Stdout, "hukou") {
		t.Errorf("list published shows a suspended app: %s", r.Stdout)
	}
	if r = idp(t, dir, "", nil, "clients", "approve", "hukou"); r.Code != 1 || !strings.Contains(r.Stderr, "does not allow") {
		t.Errorf("approve a suspended app without change: %d %s", r.Code, r.Stderr)
	}
	mustOK(t, idp(t, dir, "", nil, "clients", "resume", "hukou"), "resume")
	r = idp(t, dir, "", nil, "clients", "rotate-secret", "hukou", "--overlap", "1h", "--json")
	mustOK(t, r, "rotate-secret")
	if rot := decode[map[string]any](t, r); len(rot["client_secret"].(string)) < 40 {
		t.Errorf("rotate-secret: %s", r.Stdout)
	}
	if r = idp(t, dir, "", nil, "clients", "rotate-secret", "hukou", "--overlap", "800h"); r.Code != 2 {
		t.Errorf("overlap 800h: %d %s", r.Code, r.Stderr)
	}
	r = idp(t, dir, "", nil, "clients", "iat", "--department", "shebao", "--json")
	mustOK(t, r, "iat")
	if iat := decode[map[string]any](t, r); !strings.HasPrefix(iat["initial_access_token"].(string), "tb_iat_") {
		t.Errorf("iat: %s", r.Stdout)
	}
	for _, ttl := range []string{"0", "1ns", "30s", "721h"} {
		if r := idp(t, dir, "", nil, "clients", "iat", "--department", "shebao", "--ttl", ttl); r.Code != 2 || !strings.Contains(r.Stderr, "5m") {
			t.Errorf("iat --ttl %s: exit %d, stderr %q; want 2 naming the range", ttl, r.Code, r.Stderr)
		}
	}
	if r = idp(t, dir, "", nil, "clients", "iat", "--department", "Bad Dept"); r.Code != 2 {
		t.Errorf("iat bad department: %d %s", r.Code, r.Stderr)
	}
	if r = idp(t, dir, "", nil, "clients", "retire", "hukou", "--reason", strings.Repeat("停", 501)); r.Code != 2 {
		t.Errorf("retire with a 501-character reason: %d %s", r.Code, r.Stderr)
	}
	mustOK(t, idp(t, dir, "", nil, "clients", "retire", "hukou", "--reason", "业务已停办"), "retire")
	r = idp(t, dir, "", nil, "clients", "show", "hukou")
	mustOK(t, r, "show")
	if show := decode[clientJSON](t, r); show.Status != "retired" || show.ReviewNote != "业务已停办" {
		t.Errorf("show: %s", r.Stdout)
	}
	mustOK(t, idp(t, dir, "", nil, "clients", "add", "--id", "quiet", "--redirect-uri", "https://q.example.gov.cn/cb"), "clients add quiet")
	mustOK(t, idp(t, dir, "", nil, "clients", "retire", "quiet"), "retire without reason")
	if r = idp(t, dir, "", nil, "clients", "show", "nobody"); r.Code != 1 || !strings.Contains(r.Stderr, "no such client") {
		t.Errorf("show unknown: %d %s", r.Code, r.Stderr)
	}

	jwks := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(jwks, []byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1","alg":"ES256","use":"sig"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r = idp(t, dir, "", nil, "clients", "add", "--id", "svc", "--grant-types", "client_credentials", "--scopes", "",
		"--token-endpoint-auth-method", "private_key_jwt", "--jwks-file", jwks, "--json")
	mustOK(t, r, "clients add private_key_jwt")
	if svc := decode[clientJSON](t, r); svc.ClientSecret != "" || svc.TokenEndpointAuthMethod != "private_key_jwt" {
		t.Errorf("private_key_jwt app: %s", r.Stdout)
	}
	if r = idp(t, dir, "", nil, "clients", "add", "--id", "svc2", "--grant-types", "client_credentials", "--scopes", "",
		"--token-endpoint-auth-method", "private_key_jwt"); r.Code != 2 || !strings.Contains(r.Stderr, "JWK Set") {
		t.Errorf("private_key_jwt without keys: %d %s", r.Code, r.Stderr)
	}
}
