package main

import (
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/tongban/tongban/qr"
	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// maxSeen bounds the codes a state file remembers; codes live 60 s, so only a busy counter
// comes near it, and the oldest are dropped first.
const maxSeen = 100000

// verifierState is what `wallet verify --state FILE` remembers between runs: the highest
// trust-list sequence number accepted (rollback protection), the trust anchors it follows
// through a rotation (docs/formats/qr-payload.md §10.1) and the cti of every code accepted
// until it expires (replay protection). JSON, mode 0600.
type verifierState struct {
	TrustListSequence uint64 `json:"trust_list_sequence"`
	// TrustAnchors are the trust-list keys (hex SEC 1, 65 bytes) pinned for the last accepted
	// list. A record only: the pinned set is recomputed on every run (anchors).
	TrustAnchors []string `json:"trust_anchors,omitempty"`
	// SwitchedTrustAnchors are the anchors (hex SEC 1) the state switched to: announced by a
	// list signed by a pinned anchor, then signing a later accepted list. They are pinned
	// together with the keys of the --trust-anchor file.
	SwitchedTrustAnchors []string `json:"switched_trust_anchors,omitempty"`
	// NextTrustAnchors are the keys the last accepted list announced (hex SEC 1), and
	// NextAnnouncedBy the kid (hex) of the anchor that signed that list: the announcement
	// counts only while that anchor is pinned.
	NextTrustAnchors []string `json:"next_trust_anchors,omitempty"`
	NextAnnouncedBy  string   `json:"next_announced_by,omitempty"`
	// RetiredTrustAnchors are the kids (hex) of anchors dropped by a switch: never pinned
	// again, even when the --trust-anchor file still holds them.
	RetiredTrustAnchors []string         `json:"retired_trust_anchors,omitempty"`
	SeenCTI             map[string]int64 `json:"seen_cti,omitempty"` // hex cti → Unix time until which it is remembered

	changed bool
}

// loadState reads the state file; "" means no state (nil), a missing file an empty state.
func loadState(path string) (*verifierState, error) {
	if path == "" {
		return nil, nil
	}
	st := &verifierState{SeenCTI: map[string]int64{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	} else if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("%s: not a verifier state file: %v", path, err)
	}
	if st.SeenCTI == nil {
		st.SeenCTI = map[string]int64{}
	}
	// A state file written before switched_trust_anchors: after a switch it pinned exactly the
	// anchor switched to (more keys would mix in --trust-anchor files and are not carried over).
	if st.SwitchedTrustAnchors == nil && len(st.RetiredTrustAnchors) > 0 && len(st.TrustAnchors) == 1 {
		st.SwitchedTrustAnchors = slices.Clone(st.TrustAnchors)
	}
	return st, nil
}

// parseKeys decodes hex SEC 1 public keys.
func parseKeys(hexKeys []string) ([]*ecdsa.PublicKey, error) {
	var out []*ecdsa.PublicKey
	for _, h := range hexKeys {
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("trust anchor %q: %v", h, err)
		}
		k, err := smcrypto.ParsePublicKey(b)
		if err != nil {
			return nil, fmt.Errorf("trust anchor %q: %v", h, err)
		}
		out = append(out, k)
	}
	return out, nil
}

func hexKeys(keys []*ecdsa.PublicKey) []string {
	var out []string
	for _, k := range keys {
		out = append(out, hex.EncodeToString(smcrypto.MarshalPublicKey(k)))
	}
	return out
}

func kidHex(k *ecdsa.PublicKey) string {
	id := smcrypto.KeyID(k)
	return hex.EncodeToString(id[:])
}

// anchors returns the keys to pin and the announced next anchors. The --trust-anchor file is
// authoritative: the pinned set is its keys plus the anchors the state switched to, without
// retired ones and duplicates. An anchor the file held once and holds no more is not pinned.
// The announced next anchors count only while the anchor that announced them is pinned.
func (s *verifierState) anchors(file []*ecdsa.PublicKey) (pinned, next []*ecdsa.PublicKey, err error) {
	if s == nil {
		return file, nil, nil
	}
	switched, err := parseKeys(s.SwitchedTrustAnchors)
	if err != nil {
		return nil, nil, err
	}
	announced, err := parseKeys(s.NextTrustAnchors)
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	for _, r := range s.RetiredTrustAnchors {
		seen[r] = true
	}
	for _, k := range append(slices.Clone(file), switched...) {
		if id := kidHex(k); !seen[id] {
			seen[id] = true
			pinned = append(pinned, k)
		}
	}
	if s.NextAnnouncedBy != "" && slices.ContainsFunc(pinned, func(k *ecdsa.PublicKey) bool { return kidHex(k) == s.NextAnnouncedBy }) {
		for _, k := range announced {
			if !slices.Contains(s.RetiredTrustAnchors, kidHex(k)) {
				next = append(next, k)
			}
		}
	}
	return pinned, next, nil
}

// isRetired reports whether the anchor with this kid was retired by a switch.
func (s *verifierState) isRetired(kid [smcrypto.KeyIDSize]byte) bool {
	return s != nil && slices.Contains(s.RetiredTrustAnchors, hex.EncodeToString(kid[:]))
}

// followAnchors records the store's anchors after accepting a list signed by signer: pinned
// and next are the store's anchors after it, before those given to it. A switch (pinned is
// no longer before) records the anchor switched to and retires every anchor of before.
func (s *verifierState) followAnchors(before, pinned, next []*ecdsa.PublicKey, signer [smcrypto.KeyIDSize]byte) {
	kept := map[string]bool{}
	for _, k := range pinned {
		kept[kidHex(k)] = true
	}
	retired := slices.Clone(s.RetiredTrustAnchors)
	switched := s.SwitchedTrustAnchors
	for _, k := range before {
		if id := kidHex(k); !kept[id] {
			switched = hexKeys(pinned)
			if !slices.Contains(retired, id) {
				retired = append(retired, id)
			}
		}
	}
	a, n, by := hexKeys(pinned), hexKeys(next), ""
	if len(n) > 0 {
		by = hex.EncodeToString(signer[:])
	}
	if !slices.Equal(a, s.TrustAnchors) || !slices.Equal(n, s.NextTrustAnchors) || by != s.NextAnnouncedBy ||
		!slices.Equal(retired, s.RetiredTrustAnchors) || !slices.Equal(switched, s.SwitchedTrustAnchors) {
		s.TrustAnchors, s.NextTrustAnchors, s.NextAnnouncedBy, s.changed = a, n, by, true
		s.RetiredTrustAnchors, s.SwitchedTrustAnchors = retired, switched
	}
}

// Seen implements qr.ReplayCache.
func (s *verifierState) Seen(cti [qr.CTISize]byte, until time.Time) (bool, error) {
	k := hex.EncodeToString(cti[:])
	if _, ok := s.SeenCTI[k]; ok {
		return true, nil
	}
	s.SeenCTI[k] = until.Unix()
	s.changed = true
	return false, nil
}

// save drops expired entries and writes the file atomically.
func (s *verifierState) save(path string, now time.Time) error {
	for k, until := range s.SeenCTI {
		if until < now.Unix() {
			delete(s.SeenCTI, k)
		}
	}
	for len(s.SeenCTI) > maxSeen {
		var oldest string
		for k, u := range s.SeenCTI {
			if oldest == "" || u < s.SeenCTI[oldest] {
				oldest = k
			}
		}
		delete(s.SeenCTI, oldest)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'), 0o600)
}
