package wallet

import (
	"crypto/ecdsa"
	"errors"
	"testing"
	"time"

	"github.com/tongban/tongban/qr"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

func TestAnchorRotation(t *testing.T) {
	f := newFixture(t, ServiceConfig{})
	ctx := ctxT(t)
	if _, _, err := f.svc.CommitAnchorRotation(ctx); !errors.Is(err, ErrNoAnchorRotation) {
		t.Fatalf("commit without prepare: %v", err)
	}
	anchors, err := f.svc.TrustAnchors(ctx)
	mustNoErr(t, err)
	if len(anchors) != 1 {
		t.Fatalf("%d anchors", len(anchors))
	}
	oldKID := smcrypto.KeyID(anchors[0])
	store := qr.NewTrustStore(anchors, f.clk.Now)
	a, l1, err := f.svc.TrustList(ctx)
	mustNoErr(t, err)
	if l1.SignerKID != oldKID {
		t.Fatalf("built list: SignerKID %x, want the anchor's %x", l1.SignerKID, oldKID)
	}
	if _, err := store.Update(a); err != nil || len(l1.NextAnchors) != 0 {
		t.Fatalf("before: %v, %d next anchors", err, len(l1.NextAnchors))
	}

	// Prepare: still signed by the old anchor, announcing the new one.
	st, err := f.svc.PrepareAnchorRotation(ctx)
	mustNoErr(t, err)
	if len(st.Next) != 1 {
		t.Fatalf("prepared: %+v", st)
	}
	if _, err := f.svc.PrepareAnchorRotation(ctx); !errors.Is(err, ErrAnchorRotationPending) {
		t.Fatalf("second prepare: %v", err)
	}
	f.clk.Add(2 * time.Second) // the keyring stamps keys with the wall clock
	b, l2, err := f.svc.TrustList(ctx)
	mustNoErr(t, err)
	if l2.Sequence <= l1.Sequence || len(l2.NextAnchors) != 1 || !l2.NextAnchors[0].PublicKey.Equal(st.Next[0].Public) {
		t.Fatalf("prepared list: sequence %d (was %d), next %+v", l2.Sequence, l1.Sequence, l2.NextAnchors)
	}
	if got, _ := f.svc.TrustAnchors(ctx); len(got) != 2 {
		t.Fatalf("anchor bundle while prepared: %d keys, want 2", len(got))
	}
	if _, err := store.Update(b); err != nil {
		t.Fatal(err)
	}
	if l, err := qr.ParseTrustList(b, anchors); err != nil || l.SignerKID != oldKID {
		t.Fatalf("prepared list not signed by the old anchor: %v", err)
	}

	// Commit: signed by the new anchor; the old one is retired, its record kept.
	after, retired, err := f.svc.CommitAnchorRotation(ctx)
	mustNoErr(t, err)
	if retired.ID != smcrypto.KeyIDString(anchors[0]) || after.Current.ID != st.Next[0].ID || len(after.Next) != 0 {
		t.Fatalf("commit: retired %s, now %s", retired.ID, after.Current.ID)
	}
	f.clk.Add(2 * time.Second)
	c, l3, err := f.svc.TrustList(ctx)
	mustNoErr(t, err)
	if l2.SignerKID != oldKID || l3.SignerKID != smcrypto.KeyID(st.Next[0].Public.(*ecdsa.PublicKey)) {
		t.Fatalf("SignerKID: prepared %x, committed %x; want %x then the new anchor's", l2.SignerKID, l3.SignerKID, oldKID)
	}
	if l3.Sequence <= l2.Sequence || len(l3.NextAnchors) != 0 {
		t.Fatalf("committed list: sequence %d (was %d)", l3.Sequence, l2.Sequence)
	}
	if _, err := store.Update(c); err != nil {
		t.Fatalf("store did not follow the rotation: %v", err)
	}
	if got, _ := f.svc.TrustAnchors(ctx); len(got) != 1 || smcrypto.KeyID(got[0]) == oldKID {
		t.Fatal("anchor bundle after commit is not the new key alone")
	}
	if _, err := qr.ParseTrustList(c, anchors); !errors.Is(err, qr.ErrUntrustedTrustList) {
		t.Fatalf("old anchor alone accepts the new list: %v", err)
	}
	recs, err := f.kr.List(ctx, storage.PurposeTrustList)
	mustNoErr(t, err)
	if len(recs) != 2 {
		t.Fatalf("%d trust-list key records, want 2 (the retired one kept)", len(recs))
	}
}
