//go:build cgo

package pkcs11kek

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/miekg/pkcs11"

	"github.com/tongban/tongban/kek/pkcs11/softhsmtest"
	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// These tests run in the test binary whose TestMain (softhsm_test.go) sets SOFTHSM2_CONF and
// creates the token "tongban".

// inToken runs fn in a logged-in read-write session of the token "tongban".
func inToken(t *testing.T, fn func(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle)) {
	t.Helper()
	softhsmtest.Require(t)
	mod, err := loadModule(softhsmtest.ModulePath)
	if err != nil {
		t.Fatal(err)
	}
	defer mod.release()
	slot, err := mod.findSlot("tongban", "")
	if err != nil {
		t.Fatal(err)
	}
	sh, err := mod.ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	defer mod.ctx.CloseSession(sh)
	if err := mod.login(slot, sh, softhsmtest.PIN); err != nil {
		t.Fatal(err)
	}
	defer mod.logout(slot, sh)
	fn(mod.ctx, sh)
}

func freshLabel() string {
	var b [6]byte
	rand.Read(b[:])
	return "kek-" + hex.EncodeToString(b[:])
}

func TestOpenKeyCannotWrap(t *testing.T) {
	label := freshLabel()
	inToken(t, func(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle) {
		_, err := ctx.GenerateKey(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
			pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
			pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, true),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	k, err := Open(Config{URI: softhsmtest.URI("tongban", label)})
	if !errors.Is(err, ErrKeyCannotWrap) {
		if k != nil {
			k.Close()
		}
		t.Fatalf("Open: %v, want ErrKeyCannotWrap", err)
	}
}

// TestUnwrapSameIDOtherKey replaces the key by another with the same labels (so the same
// KEK ID): the module refuses the old blobs, reported as ErrWrongKEK and ErrDecrypt.
func TestUnwrapSameIDOtherKey(t *testing.T) {
	softhsmtest.Require(t)
	uri := softhsmtest.URI("tongban", freshLabel())
	if _, err := Generate(Config{URI: uri}, GenerateOptions{}); err != nil {
		t.Fatal(err)
	}
	k, err := Open(Config{URI: uri})
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := k.Wrap([]byte("a data key of 16"), []byte("data:x"))
	if err != nil {
		t.Fatal(err)
	}
	oldID := k.ID()
	k.Close()
	u, _ := ParseURI(uri)
	inToken(t, func(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle) {
		mod := &module{ctx: ctx}
		obj, err := mod.findKey(sh, u.Object, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := ctx.DestroyObject(sh, obj); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := Generate(Config{URI: uri}, GenerateOptions{}); err != nil {
		t.Fatal(err)
	}
	k2, err := Open(Config{URI: uri})
	if err != nil {
		t.Fatal(err)
	}
	defer k2.Close()
	if k2.ID() != oldID {
		t.Fatalf("ID %s, want %s (same labels)", k2.ID(), oldID)
	}
	got, err := k2.Unwrap(wrapped, []byte("data:x"))
	if !errors.Is(err, smcrypto.ErrWrongKEK) || !errors.Is(err, smcrypto.ErrDecrypt) || got != nil {
		t.Fatalf("Unwrap under the new key: %x, %v; want ErrWrongKEK and ErrDecrypt", got, err)
	}
}

func TestInnerPlaintext(t *testing.T) {
	header := []byte{WrapVersion, 1, 2, 3, 4, 5, 6, 7, 8}
	for _, n := range []int{1, 15, 16, 31, 32, 33} {
		key := make([]byte, n)
		rand.Read(key)
		p := innerPlaintext(header, []byte("aad"), key)
		if len(p)%blockSize != 0 {
			t.Fatalf("%d-byte key: plaintext %d bytes", n, len(p))
		}
		got, err := openInner(header, []byte("aad"), p)
		if err != nil || string(got) != string(key) {
			t.Fatalf("%d-byte key: %v", n, err)
		}
		p[len(p)-1] ^= 1
		if _, err := openInner(header, []byte("aad"), p); !errors.Is(err, smcrypto.ErrDecrypt) {
			t.Fatalf("%d-byte key, last byte flipped: %v", n, err)
		}
	}
}
