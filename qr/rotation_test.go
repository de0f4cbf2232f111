package qr

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"

	"github.com/tongban/tongban/credentials"
	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// rotationList is goldenList at seq, signed by key, announcing next.
func rotationList(t *testing.T, key *sm2.PrivateKey, seq uint64, next ...*sm2.PrivateKey) []byte {
	t.Helper()
	l := goldenList(t)
	l.Sequence = seq
	for _, n := range next {
		l.NextAnchors = append(l.NextAnchors, TrustAnchor{PublicKey: &n.PublicKey})
	}
	data, err := SignTrustList(l, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestNextAnchorsRoundTrip(t *testing.T) {
	next := mustKey(t, bytes.Repeat([]byte{0x51}, 32))
	data := rotationList(t, listKey(t), 7, next)
	l, err := ParseTrustList(data, pinned(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.NextAnchors) != 1 || !l.NextAnchors[0].PublicKey.Equal(&next.PublicKey) ||
		l.NextAnchors[0].KID != smcrypto.KeyID(&next.PublicKey) {
		t.Fatalf("next anchors %+v", l.NextAnchors)
	}
	if l.SignerKID != smcrypto.KeyID(&listKey(t).PublicKey) {
		t.Errorf("signer kid %x", l.SignerKID)
	}
	// A list without next anchors has no key 5 at all: the bytes of the
	// format before key 5 existed.
	env, _ := parseEnvelope(signList(t, goldenList(t)), trustEnvelopeMode, trustListMode, true)
	if env.msg.Payload[0] != 0xa4 {
		t.Errorf("list without next anchors: payload map header %#x, want 0xa4", env.msg.Payload[0])
	}

	// Invalid announcements are refused by SignTrustList (and so by the parser's rules).
	bad := goldenList(t)
	bad.NextAnchors = []TrustAnchor{{PublicKey: &next.PublicKey}, {PublicKey: &next.PublicKey}}
	if _, err := SignTrustList(bad, listKey(t), nil); !errors.Is(err, ErrBadTrustList) {
		t.Errorf("duplicate next anchor: %v", err)
	}
	bad.NextAnchors = []TrustAnchor{{KID: [8]byte{1}, PublicKey: &next.PublicKey}}
	if _, err := SignTrustList(bad, listKey(t), nil); !errors.Is(err, ErrBadTrustList) {
		t.Errorf("wrong next anchor kid: %v", err)
	}
	bad.NextAnchors = nil
	for i := range MaxNextAnchors + 1 {
		bad.NextAnchors = append(bad.NextAnchors, TrustAnchor{PublicKey: &mustKey(t, bytes.Repeat([]byte{byte(0x60 + i)}, 32)).PublicKey})
	}
	if _, err := SignTrustList(bad, listKey(t), nil); !errors.Is(err, ErrBadTrustList) {
		t.Errorf("too many next anchors: %v", err)
	}
}

func TestTrustStoreAnchorRotation(t *testing.T) {
	oldKey, newKey := listKey(t), mustKey(t, bytes.Repeat([]byte{0x51}, 32))
	stranger := mustKey(t, bytes.Repeat([]byte{0x52}, 32))
	s := NewTrustStore(pinned(t), fixedClock(goldenNow))

	// A list by a key nobody announced is refused, with advice.
	if _, err := s.Update(rotationList(t, newKey, 7)); !errors.Is(err, ErrUntrustedTrustList) ||
		!strings.Contains(err.Error(), "install the trust anchor") {
		t.Fatalf("unannounced anchor: %v", err)
	}
	// Phase 1: the pinned anchor announces the new one.
	if _, err := s.Update(rotationList(t, oldKey, 7, newKey)); err != nil {
		t.Fatal(err)
	}
	if n := s.NextAnchors(); len(n) != 1 || !n[0].Equal(&newKey.PublicKey) {
		t.Fatalf("next anchors %v", n)
	}
	// Still refused: a key that was not announced.
	if _, err := s.Update(rotationList(t, stranger, 8)); !errors.Is(err, ErrUntrustedTrustList) {
		t.Fatalf("unannounced anchor after an announcement: %v", err)
	}
	// A lower sequence by the new anchor is a rollback, and switches nothing.
	if _, err := s.Update(rotationList(t, newKey, 6)); !errors.Is(err, ErrTrustListRollback) {
		t.Fatalf("rollback by the next anchor: %v", err)
	}
	if a := s.Anchors(); len(a) != 1 || !a[0].Equal(&oldKey.PublicKey) {
		t.Fatal("a refused list switched the anchor")
	}
	// Phase 2: a list by the announced anchor is accepted and switches the pin.
	if _, err := s.Update(rotationList(t, newKey, 9)); err != nil {
		t.Fatal(err)
	}
	if a := s.Anchors(); len(a) != 1 || !a[0].Equal(&newKey.PublicKey) {
		t.Fatalf("anchors after the switch %v", a)
	}
	if len(s.NextAnchors()) != 0 {
		t.Error("next anchors kept after the switch")
	}
	// The old anchor is no longer accepted, whatever the sequence.
	for _, seq := range []uint64{8, 10} {
		if _, err := s.Update(rotationList(t, oldKey, seq)); !errors.Is(err, ErrUntrustedTrustList) {
			t.Errorf("old anchor, sequence %d, after the switch: %v", seq, err)
		}
	}
	// Rollback protection continues under the new anchor.
	if _, err := s.Update(rotationList(t, newKey, 8)); !errors.Is(err, ErrTrustListRollback) {
		t.Errorf("rollback after the switch: %v", err)
	}
	if _, err := s.Update(rotationList(t, newKey, 10)); err != nil || s.Sequence() != 10 {
		t.Errorf("newer list by the new anchor: %v, sequence %d", err, s.Sequence())
	}
	// Codes still verify against the switched store.
	c, err := testMinter(t, goldenNow).Mint(ProfileMaskedIdentity, demoLicences(t)[credentials.ResidentID])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&Verifier{Trust: s, Now: fixedClock(goldenNow)}).Verify(c.Text); err != nil {
		t.Errorf("code after the switch: %v", err)
	}
}

// A store restarted with persisted next anchors and minimum sequence
// switches as if it had never stopped; a later list by the pinned anchor
// without the announcement withdraws it.
func TestTrustStoreAnchorRotationRestartAndWithdraw(t *testing.T) {
	oldKey, newKey := listKey(t), mustKey(t, bytes.Repeat([]byte{0x51}, 32))
	s := NewTrustStore(pinned(t), fixedClock(goldenNow))
	if _, err := s.Update(rotationList(t, oldKey, 7, newKey)); err != nil {
		t.Fatal(err)
	}
	r := NewTrustStore(s.Anchors(), fixedClock(goldenNow))
	r.SetNextAnchors(s.NextAnchors())
	r.SetMinSequence(s.Sequence())
	if _, err := r.Update(rotationList(t, newKey, 6)); !errors.Is(err, ErrTrustListRollback) {
		t.Errorf("restarted: lower sequence by the new anchor: %v", err)
	}
	if _, err := r.Update(rotationList(t, newKey, 8)); err != nil {
		t.Errorf("restarted: switch: %v", err)
	}

	// Withdrawn: the pinned anchor's next list announces nothing.
	if _, err := s.Update(rotationList(t, oldKey, 8)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(rotationList(t, newKey, 9)); !errors.Is(err, ErrUntrustedTrustList) {
		t.Errorf("withdrawn anchor: %v", err)
	}
}
