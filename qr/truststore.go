package qr

import (
	"bytes"
	"crypto/ecdsa"
	"fmt"
	"sync"
	"time"
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
type TrustStore struct {
	pinned []*ecdsa.PublicKey
	now    func() time.Time

	mu      sync.RWMutex
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

// Update verifies data with ParseTrustList and makes it the current list.
// It returns the current list and nil; ParseTrustList's errors;
// ErrStaleTrustList when the list's ExpiresAt has passed; or
// ErrTrustListRollback when its Sequence is lower than the current one's,
// or equal with different bytes. Loading the same bytes again is a no-op.
// On error the current list is unchanged.
func (s *TrustStore) Update(data []byte) (*TrustList, error) {
	list, err := ParseTrustList(data, s.pinned)
	if err != nil {
		return nil, err
	}
	if s.now().After(list.ExpiresAt) {
		return nil, fmt.Errorf("%w: list %d expired at %s", ErrStaleTrustList, list.Sequence, list.ExpiresAt.UTC().Format(time.RFC3339))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
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
