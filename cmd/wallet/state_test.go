package main

import (
	"crypto/ecdsa"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	smcrypto "github.com/tongban/tongban/sm-crypto"
)

func testAnchor(t *testing.T) *ecdsa.PublicKey {
	t.Helper()
	k, err := smcrypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &k.PublicKey
}

func kidsOf(keys []*ecdsa.PublicKey) []string {
	var out []string
	for _, k := range keys {
		out = append(out, kidHex(k))
	}
	return out
}

// TestStateAnchors: the file's keys plus the anchors switched to, minus retired ones; an
// announcement counts only while its announcer is pinned.
func TestStateAnchors(t *testing.T) {
	a, b, c, next := testAnchor(t), testAnchor(t), testAnchor(t), testAnchor(t)
	st := &verifierState{
		TrustAnchors:         hexKeys([]*ecdsa.PublicKey{a, b, c}), // a record only
		SwitchedTrustAnchors: hexKeys([]*ecdsa.PublicKey{c}),
		NextTrustAnchors:     hexKeys([]*ecdsa.PublicKey{next}),
		NextAnnouncedBy:      kidHex(b),
		RetiredTrustAnchors:  []string{kidHex(a)},
	}
	pinned, nx, err := st.anchors([]*ecdsa.PublicKey{a})
	if err != nil {
		t.Fatal(err)
	}
	if got := kidsOf(pinned); len(got) != 1 || got[0] != kidHex(c) || len(nx) != 0 {
		t.Fatalf("file {a (retired)}: pinned %v, next %d; want c only, no next (b, the announcer, is gone)", got, len(nx))
	}
	pinned, nx, _ = st.anchors([]*ecdsa.PublicKey{b})
	if got := kidsOf(pinned); len(got) != 2 || got[0] != kidHex(b) || got[1] != kidHex(c) || len(nx) != 1 {
		t.Fatalf("file {b}: pinned %v, next %d; want b, c and the announced anchor", got, len(nx))
	}
}

// TestStateLegacySwitch: a state file written before switched_trust_anchors that followed a
// switch keeps the anchor it switched to.
func TestStateLegacySwitch(t *testing.T) {
	old, switched := testAnchor(t), testAnchor(t)
	path := filepath.Join(t.TempDir(), "state.json")
	b, _ := json.Marshal(map[string]any{
		"trust_list_sequence": 1, "trust_anchors": hexKeys([]*ecdsa.PublicKey{switched}),
		"retired_trust_anchors": []string{kidHex(old)},
	})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := loadState(path)
	if err != nil {
		t.Fatal(err)
	}
	pinned, _, err := st.anchors([]*ecdsa.PublicKey{old})
	if err != nil {
		t.Fatal(err)
	}
	if got := kidsOf(pinned); len(got) != 1 || got[0] != kidHex(switched) {
		t.Fatalf("pinned %v, want the anchor switched to", got)
	}
}
