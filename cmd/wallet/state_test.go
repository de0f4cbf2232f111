package main

import (
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/wallet"
)

// TestVerifyStateFileFormat: state files written by `wallet verify --state` before the state
// machine moved to qr.VerifierState load and mean what they meant: the sequence (rollback),
// the seen codes (replay), and a switch recorded before switched_trust_anchors existed. A file
// that is rewritten keeps the same JSON names.
func TestVerifyStateFileFormat(t *testing.T) {
	dir := setup(t)
	list := "var/trust-list.cose"
	code := strings.TrimSpace(run(t, dir, "", nil, "code", "--holder", holder, "--kind", "resident-id").Stdout)
	r := run(t, dir, "", nil, "verify", "--trust-list", list, "--json", code)
	r.Want(t, 0)
	var v verifyJSON
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatal(err)
	}
	exp, err := time.Parse(time.RFC3339, v.ExpiresAt)
	if err != nil || v.CTI == "" || v.TrustListSequence == 0 {
		t.Fatalf("verify --json: %s", r.Stdout)
	}
	pemBytes, err := os.ReadFile(filepath.Join(dir, "var/trust-anchor.pem"))
	if err != nil {
		t.Fatal(err)
	}
	anchors, err := wallet.ParseTrustAnchors(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	anchor := hex.EncodeToString(smcrypto.MarshalPublicKey(anchors[0]))
	// An anchor of another deployment, retired by an earlier switch.
	retiredKey, err := smcrypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	retiredPEM, err := wallet.MarshalTrustAnchors([]*ecdsa.PublicKey{&retiredKey.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "retired-anchor.pem"), retiredPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	retiredKID := smcrypto.KeyID(&retiredKey.PublicKey)

	// The files as the earlier `wallet verify --state` wrote them (json.MarshalIndent).
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("seen.json", fmt.Sprintf(`{
  "trust_list_sequence": %d,
  "trust_anchors": [
    "%s"
  ],
  "seen_cti": {
    "%s": %d
  }
}
`, v.TrustListSequence, anchor, v.CTI, exp.Add(30*time.Second).Unix()))
	write("newer.json", fmt.Sprintf(`{
  "trust_list_sequence": %d,
  "trust_anchors": [
    "%s"
  ]
}
`, v.TrustListSequence+1, anchor))
	write("switched.json", fmt.Sprintf(`{
  "trust_list_sequence": %d,
  "trust_anchors": [
    "%s"
  ],
  "retired_trust_anchors": [
    "%x"
  ]
}
`, v.TrustListSequence-1, anchor, retiredKID[:]))

	verify := func(state, anchorFile string) result {
		return run(t, dir, "", nil, "verify", "--trust-list", list, "--trust-anchor", anchorFile, "--state", state, code)
	}
	verify("seen.json", "var/trust-anchor.pem").Want(t, 1, "replayed")
	verify("newer.json", "var/trust-anchor.pem").Want(t, 1, "trust_list_rolled_back")
	// Only the retired anchor is installed: the anchor switched to is still pinned.
	verify("switched.json", "retired-anchor.pem").Want(t, 0, "VALID")

	b, err := os.ReadFile(filepath.Join(dir, "switched.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rewritten map[string]json.RawMessage
	if err := json.Unmarshal(b, &rewritten); err != nil {
		t.Fatal(err)
	}
	var names []string
	for k := range rewritten {
		names = append(names, k)
	}
	slices.Sort(names)
	if want := []string{"retired_trust_anchors", "seen_cti", "switched_trust_anchors", "trust_anchors", "trust_list_sequence"}; !slices.Equal(names, want) {
		t.Errorf("rewritten state file has %v, want %v:\n%s", names, want, b)
	}
	if st, err := os.Stat(filepath.Join(dir, "switched.json")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("rewritten state file: %v, %v", st.Mode(), err)
	}
	verify("switched.json", "retired-anchor.pem").Want(t, 1, "replayed")
}
