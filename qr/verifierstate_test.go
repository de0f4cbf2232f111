package qr

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/tongban/tongban/credentials"
)

// Keys of the verifier-state tests: the installed anchor (listKey), the anchor it announces,
// and a key nobody announced.
func oldAnchor(t testing.TB) *sm2.PrivateKey { return listKey(t) }
func newAnchor(t testing.TB) *sm2.PrivateKey { return mustKey(t, bytes.Repeat([]byte{0x51}, 32)) }
func stranger(t testing.TB) *sm2.PrivateKey  { return mustKey(t, bytes.Repeat([]byte{0x52}, 32)) }

func pub(k *sm2.PrivateKey) *ecdsa.PublicKey { return &k.PublicKey }

// switchedSnapshot is the state of a verifier that followed the rotation from oldAnchor to
// newAnchor at sequence 8.
func switchedSnapshot(t *testing.T) *VerifierSnapshot {
	return &VerifierSnapshot{
		TrustListSequence:    8,
		TrustAnchors:         hexKeys([]*ecdsa.PublicKey{pub(newAnchor(t))}),
		SwitchedTrustAnchors: hexKeys([]*ecdsa.PublicKey{pub(newAnchor(t))}),
		RetiredTrustAnchors:  []string{kidHex(pub(oldAnchor(t)))},
	}
}

func TestVerifierStateUpdateTrustList(t *testing.T) {
	old, nw := oldAnchor(t), newAnchor(t)
	oldKID, newKID := kidHex(pub(old)), kidHex(pub(nw))
	tests := []struct {
		name      string
		snap      func(t *testing.T) *VerifierSnapshot // nil: a first run
		installed []*ecdsa.PublicKey                   // nil: the old anchor
		now       time.Time                            // zero: goldenNow
		list      func(t *testing.T) []byte
		wantErr   error
		notErr    error // an error the failure must not be
		check     func(t *testing.T, st *VerifierState, snap *VerifierSnapshot)
	}{
		{
			name: "ok/first run records the sequence and the anchor",
			list: func(t *testing.T) []byte { return rotationList(t, old, 7) },
			check: func(t *testing.T, st *VerifierState, snap *VerifierSnapshot) {
				if snap.TrustListSequence != 7 || !slices.Equal(snap.TrustAnchors, hexKeys([]*ecdsa.PublicKey{pub(old)})) ||
					len(snap.NextTrustAnchors) != 0 || snap.NextAnnouncedBy != "" || !st.Changed() {
					t.Errorf("snapshot %+v, changed %v", snap, st.Changed())
				}
			},
		},
		{
			name: "ok/an announcement is remembered with its announcer",
			list: func(t *testing.T) []byte { return rotationList(t, old, 7, nw) },
			check: func(t *testing.T, st *VerifierState, snap *VerifierSnapshot) {
				if !slices.Equal(snap.NextTrustAnchors, hexKeys([]*ecdsa.PublicKey{pub(nw)})) || snap.NextAnnouncedBy != oldKID {
					t.Errorf("snapshot %+v", snap)
				}
				if n := st.NextAnchors(); len(n) != 1 || !n[0].Equal(pub(nw)) {
					t.Errorf("next anchors %v", n)
				}
			},
		},
		{
			name: "ok/a list by the announced anchor switches and retires the old one",
			snap: func(t *testing.T) *VerifierSnapshot {
				return &VerifierSnapshot{TrustListSequence: 7, NextTrustAnchors: hexKeys([]*ecdsa.PublicKey{pub(nw)}), NextAnnouncedBy: oldKID}
			},
			list: func(t *testing.T) []byte { return rotationList(t, nw, 8) },
			check: func(t *testing.T, st *VerifierState, snap *VerifierSnapshot) {
				want := hexKeys([]*ecdsa.PublicKey{pub(nw)})
				if snap.TrustListSequence != 8 || !slices.Equal(snap.TrustAnchors, want) || !slices.Equal(snap.SwitchedTrustAnchors, want) ||
					!slices.Equal(snap.RetiredTrustAnchors, []string{oldKID}) || len(snap.NextTrustAnchors) != 0 || snap.NextAnnouncedBy != "" {
					t.Errorf("snapshot %+v", snap)
				}
			},
		},
		{
			name: "ok/the anchor switched to stays pinned with the old anchor installed",
			snap: switchedSnapshot,
			list: func(t *testing.T) []byte { return rotationList(t, nw, 9) },
			check: func(t *testing.T, st *VerifierState, snap *VerifierSnapshot) {
				if a := st.Anchors(); len(a) != 1 || !a[0].Equal(pub(nw)) {
					t.Errorf("pinned %v, want the new anchor alone", a)
				}
			},
		},
		{
			name: "ok/a snapshot written before switched_trust_anchors keeps the anchor switched to",
			snap: func(t *testing.T) *VerifierSnapshot {
				s := switchedSnapshot(t)
				s.SwitchedTrustAnchors = nil
				return s
			},
			list: func(t *testing.T) []byte { return rotationList(t, nw, 9) },
			check: func(t *testing.T, st *VerifierState, snap *VerifierSnapshot) {
				if !slices.Equal(snap.SwitchedTrustAnchors, hexKeys([]*ecdsa.PublicKey{pub(nw)})) {
					t.Errorf("switched %v", snap.SwitchedTrustAnchors)
				}
			},
		},
		{
			name: "ok/the list already held changes nothing",
			snap: func(t *testing.T) *VerifierSnapshot {
				return &VerifierSnapshot{TrustListSequence: 7, TrustAnchors: hexKeys([]*ecdsa.PublicKey{pub(old)})}
			},
			list: func(t *testing.T) []byte { return rotationList(t, old, 7) },
			check: func(t *testing.T, st *VerifierState, snap *VerifierSnapshot) {
				if st.Changed() {
					t.Error("changed")
				}
			},
		},
		{
			name:    "fail/rollback below the recorded sequence",
			snap:    func(t *testing.T) *VerifierSnapshot { return &VerifierSnapshot{TrustListSequence: 8} },
			list:    func(t *testing.T) []byte { return rotationList(t, old, 7) },
			wantErr: ErrTrustListRollback,
		},
		{
			name: "fail/rollback by the announced anchor",
			snap: func(t *testing.T) *VerifierSnapshot {
				return &VerifierSnapshot{TrustListSequence: 8, NextTrustAnchors: hexKeys([]*ecdsa.PublicKey{pub(nw)}), NextAnnouncedBy: oldKID}
			},
			list:    func(t *testing.T) []byte { return rotationList(t, nw, 7) },
			wantErr: ErrTrustListRollback,
		},
		{
			name:    "fail/a list by a retired installed anchor",
			snap:    switchedSnapshot,
			list:    func(t *testing.T) []byte { return rotationList(t, old, 10) },
			wantErr: ErrRetiredAnchor,
		},
		{
			name:    "fail/a list by a key nobody announced",
			list:    func(t *testing.T) []byte { return rotationList(t, stranger(t), 8) },
			wantErr: ErrUntrustedTrustList,
			notErr:  ErrRetiredAnchor,
		},
		{
			name: "fail/an announcement by an anchor no longer pinned does not count",
			snap: func(t *testing.T) *VerifierSnapshot {
				return &VerifierSnapshot{NextTrustAnchors: hexKeys([]*ecdsa.PublicKey{pub(nw)}), NextAnnouncedBy: kidHex(pub(stranger(t)))}
			},
			list:    func(t *testing.T) []byte { return rotationList(t, nw, 8) },
			wantErr: ErrUntrustedTrustList,
		},
		{
			name: "fail/a retired anchor announced is not followed",
			snap: func(t *testing.T) *VerifierSnapshot {
				return &VerifierSnapshot{NextTrustAnchors: hexKeys([]*ecdsa.PublicKey{pub(nw)}), NextAnnouncedBy: oldKID, RetiredTrustAnchors: []string{newKID}}
			},
			list:    func(t *testing.T) []byte { return rotationList(t, nw, 8) },
			wantErr: ErrUntrustedTrustList,
		},
		{
			name: "fail/an anchor recorded but no longer installed is not pinned",
			snap: func(t *testing.T) *VerifierSnapshot {
				return &VerifierSnapshot{TrustListSequence: 7, TrustAnchors: hexKeys([]*ecdsa.PublicKey{pub(stranger(t))})}
			},
			list:    func(t *testing.T) []byte { return rotationList(t, stranger(t), 8) },
			wantErr: ErrUntrustedTrustList,
		},
		{
			name:    "fail/stale list",
			now:     goldenNow.Add(8 * 24 * time.Hour),
			list:    func(t *testing.T) []byte { return rotationList(t, old, 7) },
			wantErr: ErrStaleTrustList,
		},
		{
			name:    "fail/tampered list",
			list:    func(t *testing.T) []byte { b := rotationList(t, old, 7); b[len(b)-1] ^= 1; return b },
			wantErr: ErrTrustListSignature,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var snap *VerifierSnapshot
			if tc.snap != nil {
				snap = tc.snap(t)
			}
			installed := tc.installed
			if installed == nil {
				installed = []*ecdsa.PublicKey{pub(old)}
			}
			now := tc.now
			if now.IsZero() {
				now = goldenNow
			}
			st, err := NewVerifierState(snap, installed, fixedClock(now))
			if err != nil {
				t.Fatal(err)
			}
			before := st.Snapshot()
			list, err := st.UpdateTrustList(tc.list(t))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || (tc.notErr != nil && errors.Is(err, tc.notErr)) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				if st.Changed() || st.CurrentTrustList() != nil {
					t.Error("a refused list changed the state")
				}
				if after := st.Snapshot(); !equalSnapshots(before, after) {
					t.Errorf("a refused list changed the snapshot: %+v → %+v", before, after)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.CurrentTrustList() != list {
				t.Error("CurrentTrustList is not the list accepted")
			}
			tc.check(t, st, st.Snapshot())
		})
	}
}

func equalSnapshots(a, b *VerifierSnapshot) bool {
	return a.TrustListSequence == b.TrustListSequence && slices.Equal(a.TrustAnchors, b.TrustAnchors) &&
		slices.Equal(a.SwitchedTrustAnchors, b.SwitchedTrustAnchors) && slices.Equal(a.NextTrustAnchors, b.NextTrustAnchors) &&
		a.NextAnnouncedBy == b.NextAnnouncedBy && slices.Equal(a.RetiredTrustAnchors, b.RetiredTrustAnchors) &&
		len(a.SeenCTI) == len(b.SeenCTI)
}

// TestVerifierStateRotation follows a whole two-phase rotation across restarts, each run
// starting from the snapshot the previous one saved, with the old anchor installed throughout.
func TestVerifierStateRotation(t *testing.T) {
	old, nw := oldAnchor(t), newAnchor(t)
	store := &memStateStore{}
	installed := []*ecdsa.PublicKey{pub(old)}
	run := func(list []byte) error {
		t.Helper()
		st, err := LoadVerifierState(store, installed, fixedClock(goldenNow))
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.UpdateTrustList(list)
		if serr := st.Save(store); serr != nil {
			t.Fatal(serr)
		}
		return err
	}
	for i, step := range []struct {
		list    []byte
		wantErr error
	}{
		{rotationList(t, old, 7), nil},
		{rotationList(t, nw, 8), ErrUntrustedTrustList}, // not announced yet
		{rotationList(t, old, 8, nw), nil},              // prepare
		{rotationList(t, nw, 9), nil},                   // commit: the switch
		{rotationList(t, old, 10), ErrRetiredAnchor},
		{rotationList(t, nw, 8), ErrTrustListRollback},
		{rotationList(t, nw, 10), nil},
	} {
		if err := run(step.list); !errors.Is(err, step.wantErr) || (step.wantErr == nil && err != nil) {
			t.Fatalf("step %d: %v, want %v", i, err, step.wantErr)
		}
	}
	if store.saved.TrustListSequence != 10 || !slices.Equal(store.saved.RetiredTrustAnchors, []string{kidHex(pub(old))}) {
		t.Fatalf("final snapshot %+v", store.saved)
	}
}

func TestNewVerifierStateErrors(t *testing.T) {
	notAKey := hex.EncodeToString(append([]byte{4}, make([]byte, 64)...))
	for _, tc := range []struct {
		name string
		snap VerifierSnapshot
	}{
		{"fail/switched anchor not hex", VerifierSnapshot{SwitchedTrustAnchors: []string{"zz"}}},
		{"fail/next anchor not a key", VerifierSnapshot{NextTrustAnchors: []string{notAKey}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewVerifierState(&tc.snap, nil, nil); !errors.Is(err, ErrBadVerifierState) {
				t.Fatalf("err %v, want ErrBadVerifierState", err)
			}
		})
	}
}

// memStateStore is a VerifierStateStore in memory; err, when set, fails every call.
type memStateStore struct {
	saved *VerifierSnapshot
	saves int
	err   error
}

func (m *memStateStore) Load() (*VerifierSnapshot, error) {
	if m.err != nil {
		return nil, m.err
	}
	if m.saved == nil {
		return nil, nil
	}
	return m.saved.clone(), nil
}

func (m *memStateStore) Save(s *VerifierSnapshot) error {
	if m.err != nil {
		return m.err
	}
	m.saved, m.saves = s.clone(), m.saves+1
	return nil
}

// TestVerifierStateReplay: a code accepted once is refused as replayed, in the same run and
// after a restart from the saved snapshot, until it is forgotten after its until time.
func TestVerifierStateReplay(t *testing.T) {
	code, err := testMinter(t, goldenNow).Mint(ProfileMaskedIdentity, demoLicences(t)[credentials.ResidentID])
	if err != nil {
		t.Fatal(err)
	}
	store := &memStateStore{}
	verify := func(now time.Time) error {
		t.Helper()
		st, err := LoadVerifierState(store, pinned(t), fixedClock(now))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpdateTrustList(rotationList(t, oldAnchor(t), 7)); err != nil {
			t.Fatal(err)
		}
		_, err = (&Verifier{Trust: st, Replay: st, Now: fixedClock(now)}).Verify(code.Text)
		if serr := st.Save(store); serr != nil {
			t.Fatal(serr)
		}
		return err
	}
	for i, step := range []struct {
		now     time.Time
		wantErr error
	}{
		{goldenNow, nil},
		{goldenNow.Add(time.Second), ErrReplayed},
		{goldenNow.Add(2 * time.Minute), ErrExpired},
	} {
		if err := verify(step.now); !errors.Is(err, step.wantErr) || (step.wantErr == nil && err != nil) {
			t.Fatalf("step %d: %v, want %v", i, err, step.wantErr)
		}
	}
	if len(store.saved.SeenCTI) != 1 {
		t.Fatalf("saved cti: %v", store.saved.SeenCTI)
	}
	// Once the code has expired its cti is forgotten from the next snapshot on.
	later, err := LoadVerifierState(store, pinned(t), fixedClock(goldenNow.Add(2*time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	if seen := later.Snapshot().SeenCTI; len(seen) != 0 {
		t.Errorf("expired cti still remembered: %v", seen)
	}

	// Seen itself: forgets a cti once its until time has passed.
	now := goldenNow
	st, err := NewVerifierState(nil, nil, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	cti := [CTISize]byte{1}
	for i, step := range []struct {
		advance time.Duration
		want    bool
	}{{0, false}, {time.Minute, true}, {time.Minute + time.Second, false}} {
		now = goldenNow.Add(step.advance)
		if seen, err := st.Seen(cti, goldenNow.Add(time.Minute)); seen != step.want || err != nil {
			t.Fatalf("step %d: Seen = %v, %v; want %v", i, seen, err, step.want)
		}
	}
}

func TestVerifierStateSave(t *testing.T) {
	st, err := NewVerifierState(nil, pinned(t), fixedClock(goldenNow))
	if err != nil {
		t.Fatal(err)
	}
	store := &memStateStore{}
	if err := st.Save(store); err != nil || store.saves != 0 {
		t.Fatalf("unchanged state: %v, %d saves", err, store.saves)
	}
	if _, err := st.UpdateTrustList(rotationList(t, oldAnchor(t), 7)); err != nil {
		t.Fatal(err)
	}
	failing := &memStateStore{err: errors.New("disk full")}
	if err := st.Save(failing); !errors.Is(err, failing.err) || !st.Changed() {
		t.Fatalf("failed save: %v, changed %v", err, st.Changed())
	}
	if err := st.Save(store); err != nil || store.saves != 1 || st.Changed() {
		t.Fatalf("save: %v, %d saves, changed %v", err, store.saves, st.Changed())
	}
	if err := st.Save(store); err != nil || store.saves != 1 {
		t.Fatalf("second save of an unchanged state: %v, %d saves", err, store.saves)
	}
	if _, err := LoadVerifierState(failing, nil, nil); !errors.Is(err, failing.err) {
		t.Fatalf("load: %v", err)
	}
}

// TestVerifierSnapshotForget: Snapshot drops the codes remembered until before now, then the
// ones remembered for the shortest time beyond MaxRememberedCodes.
func TestVerifierSnapshotForget(t *testing.T) {
	now := goldenNow.Unix()
	seen := map[string]int64{"expired": now - 1, "now": now}
	for i := range MaxRememberedCodes + 1 {
		seen[hex.EncodeToString([]byte{byte(i >> 16), byte(i >> 8), byte(i)})] = now + 10 + int64(i)
	}
	st, err := NewVerifierState(&VerifierSnapshot{SeenCTI: seen}, nil, fixedClock(goldenNow))
	if err != nil {
		t.Fatal(err)
	}
	got := st.Snapshot().SeenCTI
	if len(got) != MaxRememberedCodes {
		t.Fatalf("%d codes remembered, want %d", len(got), MaxRememberedCodes)
	}
	for k, want := range map[string]bool{"expired": false, "now": false, "000000": false, "000001": true, "000002": true} {
		if _, ok := got[k]; ok != want {
			t.Errorf("%s remembered %v, want %v", k, ok, want)
		}
	}
	if len(seen) != MaxRememberedCodes+3 {
		t.Error("NewVerifierState did not copy the snapshot")
	}
}

// TestAnchorFingerprint: four groups of four hex digits of the kid.
func TestAnchorFingerprint(t *testing.T) {
	k := pub(oldAnchor(t))
	fp := AnchorFingerprint(k)
	if got := strings.ReplaceAll(fp, " ", ""); got != kidHex(k) || len(strings.Fields(fp)) != 4 {
		t.Fatalf("fingerprint %q of kid %s", fp, kidHex(k))
	}
}

// TestVerifierStateConcurrent: verifiers sharing one state accept a code exactly once, while
// the state is updated and snapshotted at the same time.
func TestVerifierStateConcurrent(t *testing.T) {
	code, err := testMinter(t, goldenNow).Mint(ProfileMaskedIdentity, demoLicences(t)[credentials.ResidentID])
	if err != nil {
		t.Fatal(err)
	}
	st, err := NewVerifierState(nil, pinned(t), fixedClock(goldenNow))
	if err != nil {
		t.Fatal(err)
	}
	list := rotationList(t, oldAnchor(t), 7)
	if _, err := st.UpdateTrustList(list); err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			if _, err := st.UpdateTrustList(list); err != nil {
				errs <- err
				return
			}
			_ = st.Snapshot()
			_, err := (&Verifier{Trust: st, Replay: st, Now: fixedClock(goldenNow)}).Verify(code.Text)
			errs <- err
		}()
	}
	accepted := 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			accepted++
		case !errors.Is(err, ErrReplayed):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if accepted != 1 {
		t.Errorf("%d verifications accepted the code, want 1", accepted)
	}
}
