package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRotateAnchor rotates the trust anchor in two phases while a counter with --state keeps
// verifying, and shows what a counter without state and with only the old anchor sees.
func TestRotateAnchor(t *testing.T) {
	dir := setup(t)
	list := "var/trust-list.cose"
	code := func() string {
		return strings.TrimSpace(run(t, dir, "", nil, "code", "--holder", holder, "--kind", "resident-id").Stdout)
	}
	verify := func(extra ...string) result {
		return run(t, dir, "", nil, append([]string{"verify", "--trust-list", list}, extra...)...)
	}
	state := func() verifierState {
		b, err := os.ReadFile(filepath.Join(dir, "state.json"))
		if err != nil {
			t.Fatal(err)
		}
		var st verifierState
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	copyFile := func(src, dst string) {
		b, err := os.ReadFile(filepath.Join(dir, src))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, dst), b, 0o644)
	}
	// The counters keep the anchor they installed first.
	copyFile("var/trust-anchor.pem", "old-anchor.pem")

	verify("--trust-anchor", "old-anchor.pem", "--state", "state.json", code()).Want(t, 0, "VALID")
	st0 := state()
	if len(st0.TrustAnchors) != 1 || len(st0.NextTrustAnchors) != 0 {
		t.Fatalf("state before the rotation: %+v", st0)
	}
	run(t, dir, "", nil, "trust-list", "rotate-anchor", "commit").Want(t, 1, "no trust-anchor rotation is prepared")

	// Phase 1: the list, still signed by the old anchor, announces the next one.
	r := run(t, dir, "", nil, "trust-list", "rotate-anchor", "prepare")
	r.Want(t, 0, "prepared the next trust anchor", "commit")
	run(t, dir, "", nil, "trust-list", "rotate-anchor", "prepare").Want(t, 1, "already prepared")
	run(t, dir, "", nil, "trust-list", "export", list).Want(t, 0, "announces next trust anchor", "signed by trust anchor")
	run(t, dir, "", nil, "trust-list", "show", list, "--trust-anchor", "old-anchor.pem").Want(t, 0, "ACCEPTABLE", "next trust anchor")
	verify("--trust-anchor", "old-anchor.pem", "--state", "state.json", code()).Want(t, 0, "VALID")
	st := state()
	if len(st.NextTrustAnchors) != 1 || len(st.TrustAnchors) != 1 {
		t.Fatalf("state did not learn the next anchor: %+v", st)
	}
	// A counter installed now gets both anchors and accepts lists on both sides of the commit.
	copyFile("var/trust-anchor.pem", "prepared-bundle.pem")
	copyFile(list, "prepared.cose")

	// Phase 2: commit (before the suggested wait only with --force).
	run(t, dir, "", nil, "trust-list", "rotate-anchor", "commit").Want(t, 2, "--force")
	run(t, dir, "", nil, "trust-list", "rotate-anchor", "commit", "--force").Want(t, 0, "now signed by", "retired")
	run(t, dir, "", nil, "trust-list", "export", list).Want(t, 0, "wrote trust anchor")
	if b, _ := os.ReadFile(filepath.Join(dir, "var/trust-anchor.pem")); strings.Count(string(b), "BEGIN PUBLIC KEY") != 1 {
		t.Fatalf("anchor bundle after commit:\n%s", b)
	}
	r = run(t, dir, "", nil, "keys", "list", "--json")
	r.Want(t, 0)
	var keys []keyRecordJSON
	if err := json.Unmarshal([]byte(r.Stdout), &keys); err != nil {
		t.Fatal(err)
	}
	retired := 0
	for _, k := range keys {
		if k.Purpose == "trust_list" && k.RetiredAt != nil {
			retired++
		}
	}
	if retired != 1 {
		t.Fatalf("keys list: %s", r.Stdout)
	}

	// The counter with state follows the switch, still with the old anchor file.
	verify("--trust-anchor", "old-anchor.pem", "--state", "state.json", code()).Want(t, 0, "VALID")
	st = state()
	if len(st.TrustAnchors) != 1 || len(st.NextTrustAnchors) != 0 || len(st.RetiredTrustAnchors) != 1 ||
		st.TrustAnchors[0] == st0.TrustAnchors[0] || !strings.HasPrefix(st0.TrustAnchors[0], "04") {
		t.Fatalf("state after the switch: %+v", st)
	}
	verify("--trust-anchor", "old-anchor.pem", "--state", "state.json", code()).Want(t, 0, "VALID")
	// After the switch a list by the old anchor is refused, even with the old anchor file.
	run(t, dir, "", nil, "verify", "--trust-list", "prepared.cose", "--trust-anchor", "old-anchor.pem", "--state", "state.json", code()).
		Want(t, 1, "untrusted_trust_list")
	verify("--trust-anchor", "prepared-bundle.pem", code()).Want(t, 0, "VALID")
	verify("--trust-anchor", "var/trust-anchor.pem", code()).Want(t, 0, "VALID")

	// A counter without state that pinned only the old anchor is told to install the new one.
	verify("--trust-anchor", "old-anchor.pem", code()).
		Want(t, 1, "untrusted_trust_list", "install the new trust-anchor.pem", "fingerprint")
}
