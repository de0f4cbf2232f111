package main

import (
	"strings"
	"testing"
)

// TestUpstreamsCommands: `idp upstreams add|list|remove` store an upstream with its secret
// sealed (never printed), refuse bad fields and duplicates with exit 2, and are audited.
func TestUpstreamsCommands(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	const secret = "the-secret-province-a-gave"
	add := []string{"upstreams", "add", "--id", "province-a", "--issuer", "https://idp.a.gov.cn", "--client-id", "province-b",
		"--scopes", "profile,id_number", "--id-number-claim", "id_number", "--trusted-id-numbers", "--jit",
		"--acr", "urn:a:mfa=urn:tongban:acr:mfa", "--label-zh", "甲省", "--label-en", "Province A"}
	mustOK(t, idp(t, dir, secret, nil, add...), "upstreams add")
	if r := idp(t, dir, secret, nil, add...); r.Code != 2 || !strings.Contains(r.Stderr, "exists already") {
		t.Errorf("duplicate: exit %d, %s", r.Code, r.Stderr)
	}
	r := idp(t, dir, secret, nil, "upstreams", "add", "--id", "B_ad", "--issuer", "http://a.example", "--client-id", "x",
		"--jit", "--acr", "x=urn:unknown", "--label-zh", "甲", "--label-en", "A")
	if r.Code != 2 || !strings.Contains(r.Stderr, "id must be") || !strings.Contains(r.Stderr, "issuer must be") ||
		!strings.Contains(r.Stderr, "just-in-time") || !strings.Contains(r.Stderr, "acr mapping") {
		t.Errorf("bad fields: exit %d, %s", r.Code, r.Stderr)
	}
	r = idp(t, dir, "", nil, "upstreams", "list", "--json")
	mustOK(t, r, "upstreams list")
	ups := decode[[]upstreamJSON](t, r)
	if len(ups) != 1 || ups[0].ID != "province-a" || !ups[0].AllowJIT || ups[0].Scopes[0] != "openid" ||
		ups[0].ACRMap["urn:a:mfa"] != "urn:tongban:acr:mfa" || strings.Contains(r.Stdout, secret) {
		t.Errorf("list: %s", r.Stdout)
	}
	mustOK(t, idp(t, dir, "", nil, "upstreams", "remove", "province-a"), "upstreams remove")
	if r := idp(t, dir, "", nil, "upstreams", "remove", "province-a"); r.Code != 2 {
		t.Errorf("remove twice: exit %d", r.Code)
	}
	r = idp(t, dir, "", nil, "audit", "list", "--action", "upstream.")
	mustOK(t, r, "audit list")
	if !strings.Contains(r.Stdout, "upstream.add") || !strings.Contains(r.Stdout, "upstream.remove") || strings.Contains(r.Stdout, secret) {
		t.Errorf("audit: %s", r.Stdout)
	}
}
