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
	// TrustAnchors are the pinned trust-list keys (hex SEC 1, 65 bytes) after the last accepted
	// list: the --trust-anchor file's keys, or the announced key the state switched to. They
	// are pinned together with the keys of the --trust-anchor file, except retired ones.
	TrustAnchors []string `json:"trust_anchors,omitempty"`
	// NextTrustAnchors are the keys the last accepted list announced (hex SEC 1).
	NextTrustAnchors []string `json:"next_trust_anchors,omitempty"`
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

// anchors returns the keys to pin: the state's anchors and the file's, without retired ones
// and duplicates; and the announced next anchors.
func (s *verifierState) anchors(file []*ecdsa.PublicKey) (pinned, next []*ecdsa.PublicKey, err error) {
	if s == nil {
		return file, nil, nil
	}
	stateKeys, err := parseKeys(s.TrustAnchors)
	if err != nil {
		return nil, nil, err
	}
	if next, err = parseKeys(s.NextTrustAnchors); err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	for _, r := range s.RetiredTrustAnchors {
		seen[r] = true
	}
	for _, k := range append(stateKeys, file...) {
		if id := kidHex(k); !seen[id] {
			seen[id] = true
			pinned = append(pinned, k)
		}
	}
	return pinned, next, nil
}

// followAnchors records the store's anchors after an accepted list: those dropped from the
// pinned set (a switch to an announced anchor) are retired.
func (s *verifierState) followAnchors(before, pinned, next []*ecdsa.PublicKey) {
	kept := map[string]bool{}
	for _, k := range pinned {
		kept[kidHex(k)] = true
	}
	retired := slices.Clone(s.RetiredTrustAnchors)
	for _, k := range before {
		if id := kidHex(k); !kept[id] && !slices.Contains(retired, id) {
			retired = append(retired, id)
		}
	}
	a, n := hexKeys(pinned), hexKeys(next)
	if !slices.Equal(a, s.TrustAnchors) || !slices.Equal(n, s.NextTrustAnchors) || !slices.Equal(retired, s.RetiredTrustAnchors) {
		s.TrustAnchors, s.NextTrustAnchors, s.RetiredTrustAnchors, s.changed = a, n, retired, true
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
