package qr

import (
	"cmp"
	"crypto/ecdsa"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"time"

	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// MaxRememberedCodes bounds the cti values a VerifierSnapshot keeps. Codes live 60 s
// (pre-fetched ones up to PrefetchMaxValidity), so only a busy counter comes near it; the
// codes remembered for the shortest time are dropped first.
const MaxRememberedCodes = 100000

// VerifierSnapshot is the serialisable form of a VerifierState: what an offline verifier
// remembers between runs. Its JSON form (the field names are stable) is the state file of
// `wallet verify --state`; a snapshot of an older version of that file loads as it is.
//
// Keys are hex of the 65-byte SEC 1 form of SM2 public keys; kids are hex of
// smcrypto.KeyID (8 bytes).
type VerifierSnapshot struct {
	// TrustListSequence is the highest trust-list Sequence accepted: lists with a lower one
	// are refused (ErrTrustListRollback).
	TrustListSequence uint64 `json:"trust_list_sequence"`
	// TrustAnchors are the anchors pinned after the last accepted list. A record only: the
	// pinned set is recomputed from the installed anchors on every NewVerifierState.
	TrustAnchors []string `json:"trust_anchors,omitempty"`
	// SwitchedTrustAnchors are the anchors the state switched to: announced by a list signed
	// by a pinned anchor, then signing a later accepted list. They are pinned together with
	// the installed anchors.
	SwitchedTrustAnchors []string `json:"switched_trust_anchors,omitempty"`
	// NextTrustAnchors are the anchors the last accepted list announced, and NextAnnouncedBy
	// the kid of the anchor that signed that list: the announcement counts only while that
	// anchor is pinned.
	NextTrustAnchors []string `json:"next_trust_anchors,omitempty"`
	NextAnnouncedBy  string   `json:"next_announced_by,omitempty"`
	// RetiredTrustAnchors are the kids of anchors a switch dropped: never pinned again, even
	// when the installed anchors still hold them (ErrRetiredAnchor).
	RetiredTrustAnchors []string `json:"retired_trust_anchors,omitempty"`
	// SeenCTI maps the hex cti of every accepted code to the Unix time (seconds) until which
	// it is remembered (its exp plus the verifier's clock skew): the replay cache.
	SeenCTI map[string]int64 `json:"seen_cti,omitempty"`
}

// VerifierStateStore keeps a VerifierSnapshot between runs: a file (`wallet verify --state`),
// browser storage, a database row. Implementations need not be safe for concurrent use.
type VerifierStateStore interface {
	// Load returns the saved snapshot, or nil and no error when none has been saved yet.
	Load() (*VerifierSnapshot, error)
	// Save replaces the saved snapshot. It should do so atomically: a crash must leave the
	// previous snapshot or the new one, never a mix.
	Save(*VerifierSnapshot) error
}

// clone returns a deep copy of s.
func (s *VerifierSnapshot) clone() *VerifierSnapshot {
	c := *s
	c.TrustAnchors = slices.Clone(s.TrustAnchors)
	c.SwitchedTrustAnchors = slices.Clone(s.SwitchedTrustAnchors)
	c.NextTrustAnchors = slices.Clone(s.NextTrustAnchors)
	c.RetiredTrustAnchors = slices.Clone(s.RetiredTrustAnchors)
	c.SeenCTI = maps.Clone(s.SeenCTI)
	return &c
}

// forget drops the cti values remembered until before now, then the ones remembered for the
// shortest time beyond MaxRememberedCodes.
func (s *VerifierSnapshot) forget(now time.Time) {
	maps.DeleteFunc(s.SeenCTI, func(_ string, until int64) bool { return until < now.Unix() })
	if len(s.SeenCTI) <= MaxRememberedCodes {
		return
	}
	keys := slices.SortedFunc(maps.Keys(s.SeenCTI), func(a, b string) int {
		return cmp.Or(cmp.Compare(s.SeenCTI[a], s.SeenCTI[b]), cmp.Compare(a, b))
	})
	for _, k := range keys[:len(keys)-MaxRememberedCodes] {
		delete(s.SeenCTI, k)
	}
}

// parseKeys decodes hex SEC 1 public keys; errors wrap ErrBadVerifierState.
func parseKeys(hexKeys []string) ([]*ecdsa.PublicKey, error) {
	var out []*ecdsa.PublicKey
	for _, h := range hexKeys {
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("%w: trust anchor %q: %v", ErrBadVerifierState, h, err)
		}
		k, err := smcrypto.ParsePublicKey(b)
		if err != nil {
			return nil, fmt.Errorf("%w: trust anchor %q: %v", ErrBadVerifierState, h, err)
		}
		out = append(out, k)
	}
	return out, nil
}

// hexKeys encodes public keys as hex SEC 1.
func hexKeys(keys []*ecdsa.PublicKey) []string {
	var out []string
	for _, k := range keys {
		out = append(out, hex.EncodeToString(smcrypto.MarshalPublicKey(k)))
	}
	return out
}

// kidHex is the hex kid of a key.
func kidHex(k *ecdsa.PublicKey) string {
	id := smcrypto.KeyID(k)
	return hex.EncodeToString(id[:])
}
