package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tongban/tongban/qr"
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
	state := func() qr.VerifierSnapshot {
		b, err := os.ReadFile(filepath.Join(dir, "state.json"))
		if err != nil {
			t.Fatal(err)
		}
		var st qr.VerifierSnapshot
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
	// export names the anchor that signs the list: the only one before the rotation, the
	// current one while it is prepared, the new one after the commit.
	signedBy := func() exportJSON {
		t.Helper()
		r := run(t, dir, "", nil, "trust-list", "export", list)
		r.Want(t, 0)
		var e exportJSON
		if err := json.Unmarshal([]byte(run(t, dir, "", nil, "trust-list", "export", "--json", list).Stdout), &e); err != nil {
			t.Fatal(err)
		}
		if e.SignedBy == "" || !strings.Contains(r.Stdout, "signed by trust anchor "+e.SignedBy+"\n") {
			t.Fatalf("export does not name the signing anchor: %+v\n%s", e, r.Stdout)
		}
		return e
	}
	e0 := signedBy()
	if len(e0.Fingerprint) != 1 || e0.SignedBy != e0.Fingerprint[0] {
		t.Fatalf("export before the rotation: %+v", e0)
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
	if e := signedBy(); e.SignedBy != e0.SignedBy || len(e.NextAnchors) != 1 {
		t.Fatalf("export while prepared: %+v", e)
	}
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
	r = run(t, dir, "", nil, "trust-list", "rotate-anchor", "commit")
	r.Want(t, 1, "--force")
	if strings.Contains(r.Stderr, "wallet help") {
		t.Fatalf("an early commit is not a usage error:\n%s", r.Stderr)
	}
	run(t, dir, "", nil, "trust-list", "rotate-anchor", "commit", "--force").Want(t, 0, "now signed by", "retired")
	run(t, dir, "", nil, "trust-list", "export", list).Want(t, 0, "wrote trust anchor")
	if e := signedBy(); e.SignedBy == e0.SignedBy || len(e.Fingerprint) != 1 || e.SignedBy != e.Fingerprint[0] {
		t.Fatalf("export after the commit: %+v (before: %s)", e, e0.SignedBy)
	}
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
		Want(t, 1, "untrusted_trust_list", "signed by a retired trust anchor", "was retired")
	verify("--trust-anchor", "prepared-bundle.pem", code()).Want(t, 0, "VALID")
	verify("--trust-anchor", "var/trust-anchor.pem", code()).Want(t, 0, "VALID")

	// A counter without state that pinned only the old anchor is told to install the new one.
	verify("--trust-anchor", "old-anchor.pem", code()).
		Want(t, 1, "untrusted_trust_list", "install the new trust-anchor.pem", "fingerprint")
}

// TestStateDropsUninstalledAnchor: the --trust-anchor file is authoritative. A counter that
// once verified with another deployment's anchor (d2) and then with its own (d1) again, and
// back, does not keep trusting an anchor its installed file no longer holds.
func TestStateDropsUninstalledAnchor(t *testing.T) {
	d1, d2 := setup(t), setup(t)
	list := "var/trust-list.cose"
	code := func(dir string) string {
		return strings.TrimSpace(run(t, dir, "", nil, "code", "--holder", holder, "--kind", "resident-id").Stdout)
	}
	copyFile := func(src, dst string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(dst, b, 0o644)
	}
	counter := t.TempDir()
	copyFile(filepath.Join(d1, "var/trust-anchor.pem"), filepath.Join(counter, "d1-anchor.pem"))
	copyFile(filepath.Join(d2, "var/trust-anchor.pem"), filepath.Join(counter, "d2-anchor.pem"))
	copyFile(filepath.Join(d1, list), filepath.Join(counter, "d1.cose"))
	copyFile(filepath.Join(d2, list), filepath.Join(counter, "d2.cose"))
	verify := func(listFile, anchor, code string) result {
		return run(t, counter, "", nil, "verify", "--trust-list", listFile, "--trust-anchor", anchor, "--state", "st.json", code)
	}
	verify("d1.cose", "d1-anchor.pem", code(d1)).Want(t, 0, "VALID")
	verify("d2.cose", "d2-anchor.pem", code(d2)).Want(t, 0, "VALID")

	// A newer d1 list (higher sequence than d2's) is not trusted under d2's anchor file.
	run(t, d1, "", nil, "keys", "rotate").Want(t, 0)
	run(t, d1, "", nil, "trust-list", "export", list).Want(t, 0)
	copyFile(filepath.Join(d1, list), filepath.Join(counter, "d1-new.cose"))
	c1 := code(d1)
	run(t, counter, "", nil, "verify", "--trust-list", "d1-new.cose", "--trust-anchor", "d2-anchor.pem", c1).Want(t, 1, "untrusted_trust_list")
	verify("d1-new.cose", "d2-anchor.pem", c1).Want(t, 1, "untrusted_trust_list")
	// Reinstalling d1's anchor makes it trusted again, and d2's is then dropped.
	verify("d1-new.cose", "d1-anchor.pem", c1).Want(t, 0, "VALID")
	b, _ := os.ReadFile(filepath.Join(counter, "st.json"))
	var st qr.VerifierSnapshot
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.TrustAnchors) != 1 || len(st.SwitchedTrustAnchors) != 0 || len(st.RetiredTrustAnchors) != 0 {
		t.Fatalf("state: %s", b)
	}
}

// TestTrustListShowZone: every time trust-list show prints is in Beijing time, like its
// issued and fresh-until lines.
func TestTrustListShowZone(t *testing.T) {
	dir := setup(t)
	r := run(t, dir, "", nil, "trust-list", "show", "var/trust-list.cose")
	r.Want(t, 0, "usable")
	for _, line := range strings.Split(r.Stdout, "\n") {
		for _, label := range []string{"issued", "fresh until", "usable"} {
			if strings.HasPrefix(strings.TrimSpace(line), label) && (!strings.Contains(line, "+08:00") || strings.Contains(line, "Z")) {
				t.Errorf("%q: not in +08:00", line)
			}
		}
		if strings.Contains(line, "usable") && strings.Count(line, "+08:00") != 2 {
			t.Errorf("%q: want both ends in +08:00", line)
		}
	}
}
