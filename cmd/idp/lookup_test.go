package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tongban/tongban/cmd/internal/clitest"
)

// TestClientsAddPurpose: a client with a licence scope is registered only with --purpose
// (exit 2, the problem named, nothing stored otherwise); the purpose comes back in clients
// list.
func TestClientsAddPurpose(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir)
	args := []string{"clients", "add", "--id", "juzhuzheng", "--name", "居住证办理",
		"--redirect-uri", "https://jzz.example.gov.cn/callback", "--scopes", "openid profile licence:resident-id", "--json"}

	r := idp(t, dir, "", nil, args...)
	if r.Code != 2 || !strings.Contains(r.Stderr, "needs a purpose") {
		t.Fatalf("licence scope without --purpose: exit %d, stderr %s", r.Code, r.Stderr)
	}
	r = idp(t, dir, "", nil, append(args, "--purpose", strings.Repeat("长", 201))...)
	if r.Code != 2 || !strings.Contains(r.Stderr, "at most 200") {
		t.Fatalf("--purpose of 201 characters: exit %d, stderr %s", r.Code, r.Stderr)
	}
	r = idp(t, dir, "", nil, "clients", "list", "--json")
	mustOK(t, r, "clients list")
	if got := decode[[]clientJSON](t, r); len(got) != 0 {
		t.Fatalf("a refused client was stored: %s", r.Stdout)
	}

	r = idp(t, dir, "", nil, append(args, "--purpose", "办理居住证时核验您的身份", "--purpose-en", "To check your identity for your residence permit")...)
	mustOK(t, r, "clients add with --purpose")
	c := decode[clientJSON](t, r)
	if c.Purpose != "办理居住证时核验您的身份" || c.PurposeEn != "To check your identity for your residence permit" || strings.Join(c.Scopes, " ") != "openid profile licence:resident-id" {
		t.Errorf("clients add: %s", r.Stdout)
	}
	r = idp(t, dir, "", nil, "clients", "list", "--json")
	mustOK(t, r, "clients list")
	if got := decode[[]clientJSON](t, r); len(got) != 1 || got[0].Purpose != c.Purpose {
		t.Errorf("clients list: %s", r.Stdout)
	}
}

// TestLookupGuide runs the ```sh examples of docs/developers/licence-lookup.md (registering a
// department app with a licence scope and a purpose, and the refusal without one) in a fresh
// directory, by the conventions of TestOperatorGuide.
func TestLookupGuide(t *testing.T) {
	dir := t.TempDir()
	initVar(t, dir) // the operator's provider, already set up
	env := append(testEnv(), "PATH="+filepath.Dir(idpBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	if n := clitest.RunDocExamples(t, "../../docs/developers/licence-lookup.md", dir, env, ""); n != 2 {
		t.Errorf("ran %d commands of docs/developers/licence-lookup.md, want 2", n)
	}
	r := idp(t, dir, "", nil, "clients", "list", "--json")
	mustOK(t, r, "clients list")
	if got := decode[[]clientJSON](t, r); len(got) != 1 || got[0].ClientID != "juzhuzheng" || got[0].Purpose == "" {
		t.Errorf("after the guide: %s", r.Stdout)
	}
}
