package qr

import (
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// VerifierState is an offline verifier's trust state between runs, the state machine of
// `wallet verify --state`: the highest trust-list sequence accepted (rollback protection),
// the cti of every code accepted until it expires (replay protection), and the trust anchors
// followed through a rotation (docs/formats/qr-payload.md §10.1) — announced next anchors,
// the anchors switched to, and the anchors retired by a switch.
//
// The installed anchors (the verifier's trust-anchor file) are authoritative: the pinned set
// is their keys plus the anchors the state switched to, without retired ones. An anchor the
// installed set held once and holds no more is not pinned. An announcement counts only while
// the anchor that announced it is pinned.
//
// Use it as both the TrustSource and the ReplayCache of a Verifier:
//
//	st, err := qr.LoadVerifierState(store, installed, nil)
//	if _, err := st.UpdateTrustList(listBytes); err != nil { … }
//	res, err := (&qr.Verifier{Trust: st, Replay: st}).Verify(text)
//	err = st.Save(store)
//
// It is safe for concurrent use.
type VerifierState struct {
	now       func() time.Time
	installed []*ecdsa.PublicKey
	trust     *TrustStore

	mu      sync.Mutex
	snap    *VerifierSnapshot
	changed bool
}

// NewVerifierState returns the state snap describes (nil: a verifier's first run) for a
// verifier with the installed trust anchors. now is the clock for trust-list freshness and
// for forgetting codes; nil means time.Now. A snapshot without switched_trust_anchors written
// after a switch (one pinned anchor, some retired) keeps the anchor it switched to.
//
// Errors wrap ErrBadVerifierState: a key in snap is not hex of an SM2 public key.
func NewVerifierState(snap *VerifierSnapshot, installed []*ecdsa.PublicKey, now func() time.Time) (*VerifierState, error) {
	if now == nil {
		now = time.Now
	}
	if snap == nil {
		snap = &VerifierSnapshot{}
	}
	snap = snap.clone()
	if snap.SeenCTI == nil {
		snap.SeenCTI = map[string]int64{}
	}
	// Written before switched_trust_anchors: after a switch it pinned exactly the anchor
	// switched to.
	if snap.SwitchedTrustAnchors == nil && len(snap.RetiredTrustAnchors) > 0 && len(snap.TrustAnchors) == 1 {
		snap.SwitchedTrustAnchors = slices.Clone(snap.TrustAnchors)
	}
	s := &VerifierState{now: now, installed: slices.Clone(installed), snap: snap}
	pinned, next, err := s.anchors()
	if err != nil {
		return nil, err
	}
	s.trust = NewTrustStore(pinned, now)
	s.trust.SetNextAnchors(next)
	s.trust.SetMinSequence(snap.TrustListSequence)
	return s, nil
}

// LoadVerifierState is NewVerifierState on the snapshot store.Load returns. Errors: the
// store's, wrapped; ErrBadVerifierState.
func LoadVerifierState(store VerifierStateStore, installed []*ecdsa.PublicKey, now func() time.Time) (*VerifierState, error) {
	snap, err := store.Load()
	if err != nil {
		return nil, fmt.Errorf("qr: load verifier state: %w", err)
	}
	return NewVerifierState(snap, installed, now)
}

// anchors returns the keys to pin and the announced next anchors (see VerifierState).
func (s *VerifierState) anchors() (pinned, next []*ecdsa.PublicKey, err error) {
	switched, err := parseKeys(s.snap.SwitchedTrustAnchors)
	if err != nil {
		return nil, nil, err
	}
	announced, err := parseKeys(s.snap.NextTrustAnchors)
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	for _, r := range s.snap.RetiredTrustAnchors {
		seen[r] = true
	}
	for _, k := range append(slices.Clone(s.installed), switched...) {
		if id := kidHex(k); !seen[id] {
			seen[id] = true
			pinned = append(pinned, k)
		}
	}
	by := s.snap.NextAnnouncedBy
	if by != "" && slices.ContainsFunc(pinned, func(k *ecdsa.PublicKey) bool { return kidHex(k) == by }) {
		for _, k := range announced {
			if !s.isRetired(kidHex(k)) {
				next = append(next, k)
			}
		}
	}
	return pinned, next, nil
}

func (s *VerifierState) isRetired(kid string) bool {
	return slices.Contains(s.snap.RetiredTrustAnchors, kid)
}

// UpdateTrustList verifies the signed trust list data (TrustStore.Update) against the pinned
// and announced anchors and makes it the current list. On success the state records the
// list's sequence and follows the anchors: a list signed by an announced anchor switches to
// it, and every anchor pinned before is retired for good.
//
// Errors: those of TrustStore.Update (ErrStaleTrustList, ErrTrustListRollback,
// ErrUntrustedTrustList, ErrBadTrustList, ErrTrustListSignature), and ErrRetiredAnchor (which
// wraps ErrUntrustedTrustList) when the list is signed by an installed anchor that a switch
// retired. On error the state is unchanged.
func (s *VerifierState) UpdateTrustList(data []byte) (*TrustList, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := s.trust.Anchors()
	list, err := s.trust.Update(data)
	if errors.Is(err, ErrUntrustedTrustList) {
		for _, a := range s.installed {
			if _, perr := ParseTrustList(data, []*ecdsa.PublicKey{a}); perr == nil && s.isRetired(kidHex(a)) {
				err = fmt.Errorf("%w: trust anchor %s was retired when this counter switched to the anchor it announced", ErrRetiredAnchor, AnchorFingerprint(a))
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if list.Sequence > s.snap.TrustListSequence {
		s.snap.TrustListSequence, s.changed = list.Sequence, true
	}
	s.follow(before, list.SignerKID)
	return list, nil
}

// follow records the trust store's anchors after it accepted a list signed by signer; before
// are its pinned anchors before. A switch (an anchor of before is no longer pinned) records
// the anchors switched to and retires every anchor of before that is no longer pinned.
func (s *VerifierState) follow(before []*ecdsa.PublicKey, signer [smcrypto.KeyIDSize]byte) {
	pinned, next := s.trust.Anchors(), s.trust.NextAnchors()
	kept := map[string]bool{}
	for _, k := range pinned {
		kept[kidHex(k)] = true
	}
	retired := slices.Clone(s.snap.RetiredTrustAnchors)
	switched := s.snap.SwitchedTrustAnchors
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
	st := s.snap
	if !slices.Equal(a, st.TrustAnchors) || !slices.Equal(n, st.NextTrustAnchors) || by != st.NextAnnouncedBy ||
		!slices.Equal(retired, st.RetiredTrustAnchors) || !slices.Equal(switched, st.SwitchedTrustAnchors) {
		st.TrustAnchors, st.NextTrustAnchors, st.NextAnnouncedBy = a, n, by
		st.RetiredTrustAnchors, st.SwitchedTrustAnchors = retired, switched
		s.changed = true
	}
}

// CurrentTrustList implements TrustSource: the list accepted by the last successful
// UpdateTrustList, or nil before it.
func (s *VerifierState) CurrentTrustList() *TrustList { return s.trust.CurrentTrustList() }

// Anchors returns the pinned trust-list keys: the installed anchors and the ones switched to,
// without retired ones.
func (s *VerifierState) Anchors() []*ecdsa.PublicKey { return s.trust.Anchors() }

// NextAnchors returns the announced anchors a later list may be signed by.
func (s *VerifierState) NextAnchors() []*ecdsa.PublicKey { return s.trust.NextAnchors() }

// Seen implements ReplayCache: it reports whether cti was accepted before and is still
// remembered, and otherwise remembers it until the given time. It never returns an error.
func (s *VerifierState) Seen(cti [CTISize]byte, until time.Time) (bool, error) {
	k := hex.EncodeToString(cti[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.snap.SeenCTI[k]; ok && s.now().Unix() <= u {
		return true, nil
	}
	s.snap.SeenCTI[k] = until.Unix()
	s.changed = true
	return false, nil
}

// Changed reports whether the state changed since NewVerifierState or the last Save: a
// higher sequence, other anchors, or a newly accepted code.
func (s *VerifierState) Changed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Snapshot forgets the codes remembered until before now (and the oldest beyond
// MaxRememberedCodes) and returns a copy of the state to persist.
func (s *VerifierState) Snapshot() *VerifierSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap.forget(s.now())
	return s.snap.clone()
}

// Save writes Snapshot to store when the state has Changed, and does nothing otherwise. When
// the store fails the state stays changed. Errors: the store's.
func (s *VerifierState) Save(store VerifierStateStore) error {
	s.mu.Lock()
	if !s.changed {
		s.mu.Unlock()
		return nil
	}
	s.snap.forget(s.now())
	snap := s.snap.clone()
	s.changed = false
	s.mu.Unlock()
	if err := store.Save(snap); err != nil {
		s.mu.Lock()
		s.changed = true
		s.mu.Unlock()
		return err
	}
	return nil
}
