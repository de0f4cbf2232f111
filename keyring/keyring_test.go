package keyring_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

func newKEK(t *testing.T) *smcrypto.KEK {
	t.Helper()
	kek, err := smcrypto.GenerateKEK(nil)
	if err != nil {
		t.Fatal(err)
	}
	return kek
}

func TestOpenReusesDataKeys(t *testing.T) {
	ctx := context.Background()
	store := storagetest.SQLite(t)
	kek := newKEK(t)

	k1, err := keyring.Open(ctx, store, kek)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := k1.SealField([]byte("110101199003071234"), "person/id_number")
	if err != nil {
		t.Fatal(err)
	}
	k2, err := keyring.Open(ctx, store, kek)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k2.OpenField(sealed, "person/id_number")
	if err != nil || string(got) != "110101199003071234" {
		t.Fatalf("OpenField after reopen = %q, %v", got, err)
	}
	if _, err := k2.OpenField(sealed, "person/phone"); !errors.Is(err, smcrypto.ErrDecrypt) {
		t.Fatalf("OpenField with another aad: err = %v, want ErrDecrypt", err)
	}
	if !bytes.Equal(k1.BlindIndex("x"), k2.BlindIndex("x")) || bytes.Equal(k1.BlindIndex("x"), k1.BlindIndex("y")) {
		t.Fatal("blind index not stable across opens or not distinct")
	}
	if !bytes.Equal(k1.ClientSecretHash("s"), k2.ClientSecretHash("s")) || len(k1.TokenKey()) != 32 {
		t.Fatal("client-secret hash not stable or token key wrong size")
	}
}

func TestOpenWrongKEK(t *testing.T) {
	ctx := context.Background()
	store := storagetest.SQLite(t)
	if _, err := keyring.Open(ctx, store, newKEK(t)); err != nil {
		t.Fatal(err)
	}
	_, err := keyring.Open(ctx, store, newKEK(t))
	if !errors.Is(err, smcrypto.ErrWrongKEK) {
		t.Fatalf("Open with another KEK: err = %v, want ErrWrongKEK", err)
	}
	if _, err := keyring.Open(ctx, store, nil); err == nil {
		t.Fatal("Open with nil KEK succeeded")
	}
}

func TestSigningKeysEnsureAndRotate(t *testing.T) {
	ctx := context.Background()
	store := storagetest.SQLite(t)
	k, err := keyring.Open(ctx, store, newKEK(t))
	if err != nil {
		t.Fatal(err)
	}
	algs := []string{keyring.AlgSM2, keyring.AlgES256, keyring.AlgRS256}
	if err := k.EnsureSigningKeys(ctx, storage.PurposeIDToken, algs...); err != nil {
		t.Fatal(err)
	}
	if err := k.EnsureSigningKeys(ctx, storage.PurposeIDToken, algs...); err != nil {
		t.Fatal(err)
	}
	pub, err := k.Published(ctx, storage.PurposeIDToken)
	if err != nil || len(pub) != 3 {
		t.Fatalf("Published = %d keys, %v; want 3 (ensure is idempotent)", len(pub), err)
	}
	sm, err := k.Active(ctx, storage.PurposeIDToken, keyring.AlgSM2)
	if err != nil {
		t.Fatal(err)
	}
	priv, ok := sm.Signer.(*sm2.PrivateKey)
	if !ok {
		t.Fatalf("SM2 signer is %T", sm.Signer)
	}
	if sm.ID != smcrypto.KeyIDString(&priv.PublicKey) {
		t.Fatalf("SM2 kid %q is not smcrypto.KeyIDString", sm.ID)
	}
	sig, err := smcrypto.Sign(nil, priv, []byte("m"))
	if err != nil || smcrypto.Verify(sm.Public.(*ecdsa.PublicKey), []byte("m"), sig) != nil {
		t.Fatal("unwrapped SM2 key does not sign and verify")
	}

	fresh, err := k.Rotate(ctx, storage.PurposeIDToken, keyring.AlgSM2, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	active, err := k.Active(ctx, storage.PurposeIDToken, keyring.AlgSM2)
	if err != nil || active.ID != fresh.ID || active.ID == sm.ID {
		t.Fatalf("after rotate Active = %q, want the new key %q", active.ID, fresh.ID)
	}
	pub, _ = k.Published(ctx, storage.PurposeIDToken)
	if len(pub) != 4 {
		t.Fatalf("after rotate Published = %d keys, want 4 (old SM2 key kept until expiry)", len(pub))
	}
	if _, err := k.Active(ctx, storage.PurposeQR, keyring.AlgSM2); !errors.Is(err, keyring.ErrNoKey) {
		t.Fatalf("Active for a purpose with no keys: err = %v, want ErrNoKey", err)
	}
	if err := k.EnsureSigningKeys(ctx, storage.PurposeQR, "HS256"); !errors.Is(err, keyring.ErrUnknownAlgorithm) {
		t.Fatalf("EnsureSigningKeys(HS256): err = %v, want ErrUnknownAlgorithm", err)
	}
}
