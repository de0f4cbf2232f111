package qr

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// TrustSource gives a Verifier the trust list to use for one verification.
// *TrustList (a fixed list) and *TrustStore (the latest accepted list)
// implement it. CurrentTrustList may return nil when no list is held.
type TrustSource interface {
	CurrentTrustList() *TrustList
}

// TrustStore holds the newest trust list a verifier has accepted and
// refuses rollbacks. It is safe for concurrent use. Create it with
// NewTrustStore.
//
// It follows anchor rotation (docs/formats/qr-payload.md §10.1): when it
// accepts a list signed by a pinned anchor, it remembers the list's
// NextAnchors (replacing those remembered before); it then accepts a list
// signed by one of them, and that anchor becomes the only pinned one. From
// then on lists signed by the previous anchors are refused
// (ErrUntrustedTrustList), whatever their sequence number. Sequence
// numbers must keep rising across the switch. A verifier that restarts
// persists Anchors and NextAnchors and restores them with NewTrustStore and
// SetNextAnchors.
type TrustStore struct {
	now func() time.Time

	mu      sync.RWMutex
	pinned  []*ecdsa.PublicKey
	next    []*ecdsa.PublicKey
	current *TrustList
	raw     []byte
	min     uint64
}

// NewTrustStore returns an empty store that accepts lists signed by one of
// pinned (the trust-list keys shipped with the verifier). now is the clock
// for freshness; nil means time.Now.
func NewTrustStore(pinned []*ecdsa.PublicKey, now func() time.Time) *TrustStore {
	if now == nil {
		now = time.Now
	}
	return &TrustStore{pinned: append([]*ecdsa.PublicKey(nil), pinned...), now: now}
}

// SetNextAnchors sets the announced next anchors, as persisted from
// NextAnchors before a restart: lists signed by one of them are accepted
// (and switch the pinned anchor) as if the store had accepted the list
// announcing them.
func (s *TrustStore) SetNextAnchors(next []*ecdsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = append([]*ecdsa.PublicKey(nil), next...)
}

// Anchors returns the pinned trust-list keys: those given to
// NewTrustStore, or the announced anchor the store switched to.
func (s *TrustStore) Anchors() []*ecdsa.PublicKey {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*ecdsa.PublicKey(nil), s.pinned...)
}

// NextAnchors returns the announced anchors the store would switch to.
func (s *TrustStore) NextAnchors() []*ecdsa.PublicKey {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*ecdsa.PublicKey(nil), s.next...)
}

func keyIn(kid [smcrypto.KeyIDSize]byte, keys []*ecdsa.PublicKey) *ecdsa.PublicKey {
	for _, k := range keys {
		if smcrypto.KeyID(k) == kid {
			return k
		}
	}
	return nil
}

// Update verifies data with ParseTrustList and makes it the current list.
// It returns the current list and nil; ParseTrustList's errors;
// ErrStaleTrustList when the list's ExpiresAt has passed; or
// ErrTrustListRollback when its Sequence is lower than the current one's,
// or equal with different bytes. Loading the same bytes again is a no-op.
// A list signed by an announced next anchor is accepted under the same
// rules and switches the pinned anchor to it; a list signed by any other
// key is ErrUntrustedTrustList. On error the current list (and the anchors)
// are unchanged.
func (s *TrustStore) Update(data []byte) (*TrustList, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list, err := ParseTrustList(data, append(slices.Clone(s.pinned), s.next...))
	if err != nil {
		if errors.Is(err, ErrUntrustedTrustList) {
			return nil, fmt.Errorf("%w (neither pinned nor announced as a next anchor by a list signed by the pinned one: install the trust anchor the wallet operator publishes now, after checking its fingerprint)", err)
		}
		return nil, err
	}
	if s.now().After(list.ExpiresAt) {
		return nil, fmt.Errorf("%w: list %d expired at %s", ErrStaleTrustList, list.Sequence, list.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if list.Sequence < s.min {
		return nil, fmt.Errorf("%w: sequence %d is lower than the recorded %d", ErrTrustListRollback, list.Sequence, s.min)
	}
	if cur := s.current; cur != nil {
		switch {
		case list.Sequence < cur.Sequence:
			return nil, fmt.Errorf("%w: sequence %d is lower than the held %d", ErrTrustListRollback, list.Sequence, cur.Sequence)
		case list.Sequence == cur.Sequence && !bytes.Equal(data, s.raw):
			return nil, fmt.Errorf("%w: sequence %d already held with different content", ErrTrustListRollback, list.Sequence)
		case list.Sequence == cur.Sequence:
			return cur, nil
		}
	}
	if keyIn(list.SignerKID, s.pinned) == nil {
		// Signed by an announced next anchor: it becomes the pinned one.
		s.pinned = []*ecdsa.PublicKey{keyIn(list.SignerKID, s.next)}
	}
	s.next = s.next[:0:0]
	for _, a := range list.NextAnchors {
		if keyIn(a.KID, s.pinned) == nil {
			s.next = append(s.next, a.PublicKey)
		}
	}
	s.current, s.raw = list, bytes.Clone(data)
	return list, nil
}

// CurrentTrustList returns the current list, or nil before the first
// successful Update.
func (s *TrustStore) CurrentTrustList() *TrustList {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.current
}

// Sequence returns the current list's Sequence, or 0 when none is held.
// A verifier persists it to refuse rollbacks across restarts; see
// SetMinSequence.
func (s *TrustStore) Sequence() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.current == nil {
		return 0
	}
	return s.current.Sequence
}

// SetMinSequence makes Update refuse (ErrTrustListRollback) any list whose
// Sequence is below n, even when the store holds no list — for a verifier
// that restarts with the last Sequence it persisted.
func (s *TrustStore) SetMinSequence(n uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.min = n
}
