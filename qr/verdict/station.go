package verdict

import (
	"crypto/ecdsa"
	"fmt"
	"sync"
	"time"

	"github.com/tongban/tongban/qr"
)

// Station is one counter's verifier: the trust state (qr.VerifierState: pinned and announced
// trust anchors, the highest trust-list sequence, the replay cache), the trust list and the
// status list it holds, and the clock. `wallet verify` makes one per run; the browser
// verifier keeps one for the life of the page and saves State's snapshot in IndexedDB.
// It is safe for concurrent use.
type Station struct {
	now   func() time.Time
	state *qr.VerifierState

	mu     sync.Mutex
	status *qr.StatusList
}

// NewStation returns a station trusting the installed anchors (the trust-anchor file,
// qr.ParseTrustAnchors) with the state snap describes (nil: a first run). now is the clock;
// nil means time.Now. It holds no trust list yet: Verify rejects every code as
// stale_trust_list until LoadTrustList succeeds. Errors wrap qr.ErrBadVerifierState.
func NewStation(anchors []*ecdsa.PublicKey, snap *qr.VerifierSnapshot, now func() time.Time) (*Station, error) {
	if now == nil {
		now = time.Now
	}
	st, err := qr.NewVerifierState(snap, anchors, now)
	if err != nil {
		return nil, err
	}
	return &Station{now: now, state: st}, nil
}

// State is the station's trust state: snapshot it (Snapshot, Save) to keep it between runs.
func (s *Station) State() *qr.VerifierState { return s.state }

// TrustList returns the trust list in use, or nil when none has been loaded.
func (s *Station) TrustList() *qr.TrustList { return s.state.CurrentTrustList() }

// StatusList returns the status list in use, or nil.
func (s *Station) StatusList() *qr.StatusList {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// LoadTrustList checks a signed trust list (qr.VerifierState.UpdateTrustList: pinned or
// announced anchor, signature, freshness, no rollback) and uses it from now on. On error the
// station keeps the list it held; the error is one of UpdateTrustList's.
func (s *Station) LoadTrustList(data []byte) (*qr.TrustList, error) {
	return s.state.UpdateTrustList(data)
}

// LoadStatusList checks a signed status list against the trust list in use
// (qr.ParseStatusList) and uses it for pre-fetched codes from now on. Its freshness is
// checked per code. Errors: qr.ErrStaleTrustList without a trust list, ParseStatusList's
// (ErrBadStatusList, ErrUntrustedStatusList, ErrStatusListSignature); on error the station
// keeps the status list it held.
func (s *Station) LoadStatusList(data []byte) (*qr.StatusList, error) {
	list := s.state.CurrentTrustList()
	if list == nil {
		return nil, fmt.Errorf("%w: no trust list to check the status list with", qr.ErrStaleTrustList)
	}
	sl, err := qr.ParseStatusList(data, list)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.status = sl
	s.mu.Unlock()
	return sl, nil
}

// Verify checks the code text (qr.Verifier.Verify, with the station's trust list, status list,
// clock and replay cache) and returns the verdict: Describe of a valid code, which the replay
// cache then remembers, or Rejected. Either carries the trust list's sequence when one is
// held.
func (s *Station) Verify(text string) *Verdict {
	v := qr.Verifier{Trust: s.state, Now: s.now, Replay: s.state}
	if sl := s.StatusList(); sl != nil {
		v.Status = sl
	}
	var seq uint64
	if l := s.state.CurrentTrustList(); l != nil {
		seq = l.Sequence
	}
	res, err := v.Verify(text)
	if err != nil {
		out := Rejected(err)
		out.TrustListSequence = seq
		return out
	}
	return Describe(res, seq)
}
