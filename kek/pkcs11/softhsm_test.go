//go:build cgo

package pkcs11kek_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tongban/tongban/kek/pkcs11"
	"github.com/tongban/tongban/kek/pkcs11/softhsmtest"
	"github.com/tongban/tongban/keyring"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// Tokens of the package's SoftHSM2 (TestMain): every test makes keys with fresh labels in
// them, so that -count=N runs never meet an earlier run's key.
const (
	tokenMain  = "tongban"
	tokenOther = "other"
	tokenPIN   = "wrongpin" // never logged into with the right PIN
)

var setupErr error

func TestMain(m *testing.M) {
	if softhsmtest.Available() == "" {
		dir, err := os.MkdirTemp("", "softhsm")
		if err == nil {
			defer os.RemoveAll(dir)
			var conf string
			conf, setupErr = softhsmtest.Setup(dir, tokenMain, tokenOther, tokenPIN)
			os.Setenv("SOFTHSM2_CONF", conf)
		} else {
			setupErr = err
		}
	}
	code := m.Run()
	os.Exit(code)
}

func need(t *testing.T) {
	t.Helper()
	softhsmtest.Require(t)
	if setupErr != nil {
		t.Fatal(setupErr)
	}
}

// newKey generates a fresh AES-256 key in token and returns its URI (with mechanism mech, ""
// for the default).
func newKey(t *testing.T, token, mech string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	uri := softhsmtest.URI(token, "kek-"+hex.EncodeToString(b[:]))
	if mech != "" {
		uri += "&x-mechanism=" + mech
	}
	if _, err := pkcs11kek.Generate(pkcs11kek.Config{URI: uri}, pkcs11kek.GenerateOptions{}); err != nil {
		t.Fatal(err)
	}
	return uri
}

func open(t *testing.T, uri string) *pkcs11kek.KEK {
	t.Helper()
	k, err := pkcs11kek.Open(pkcs11kek.Config{URI: uri})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

func TestWrapUnwrap(t *testing.T) {
	need(t)
	for _, mech := range []string{"aes-key-wrap-pad", "aes-key-wrap"} {
		t.Run(mech, func(t *testing.T) {
			k := open(t, newKey(t, tokenMain, mech))
			if len(k.ID()) != 16 || k.Mechanism().String() != mech {
				t.Fatalf("ID %q, mechanism %s", k.ID(), k.Mechanism())
			}
			for _, size := range []int{1, 15, 16, 17, 32, 121, 1218, pkcs11kek.MaxKeySize} {
				key := make([]byte, size)
				rand.Read(key)
				aad := []byte("data:sm4-field")
				wrapped, err := k.Wrap(key, aad)
				if err != nil {
					t.Fatalf("Wrap %d bytes: %v", size, err)
				}
				if wrapped[0] != pkcs11kek.WrapVersion || bytes.Contains(wrapped, key) && size > 4 {
					t.Fatalf("Wrap %d bytes: bad header or key in clear", size)
				}
				if id, err := pkcs11kek.WrappedID(wrapped); err != nil || id != k.ID() {
					t.Fatalf("WrappedID = %q, %v; want %s", id, err, k.ID())
				}
				got, err := k.Unwrap(wrapped, aad)
				if err != nil || !bytes.Equal(got, key) {
					t.Fatalf("Unwrap %d bytes: %v", size, err)
				}
			}
			for _, size := range []int{0, pkcs11kek.MaxKeySize + 1} {
				if _, err := k.Wrap(make([]byte, size), nil); err == nil {
					t.Fatalf("Wrap %d bytes: no error", size)
				}
			}
		})
	}
}

func TestUnwrapFailures(t *testing.T) {
	need(t)
	uri := newKey(t, tokenMain, "")
	k := open(t, uri)
	key := []byte("0123456789abcdef0123456789abcdef")
	aad := []byte("data:hmac-sm3-index")
	wrapped, err := k.Wrap(key, aad)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(wrapped)
		b[i] ^= 0x01
		return b
	}
	fileKEK, _ := smcrypto.GenerateKEK(nil)
	fromFile, _ := fileKEK.Wrap(key, aad)
	other := open(t, newKey(t, tokenOther, ""))
	for _, tc := range []struct {
		name    string
		k       *pkcs11kek.KEK
		wrapped []byte
		aad     string
		wantErr error
	}{
		{"fail/other aad", k, wrapped, "data:hmac-sm3-token", smcrypto.ErrDecrypt},
		{"fail/empty aad", k, wrapped, "", smcrypto.ErrDecrypt},
		{"fail/version byte", k, flip(0), string(aad), smcrypto.ErrDecrypt},
		{"fail/KEK ID byte", k, flip(5), string(aad), smcrypto.ErrWrongKEK},
		{"fail/first wrapped byte", k, flip(9), string(aad), smcrypto.ErrDecrypt},
		{"fail/last byte", k, flip(len(wrapped) - 1), string(aad), smcrypto.ErrDecrypt},
		{"fail/truncated", k, wrapped[:len(wrapped)-8], string(aad), smcrypto.ErrDecrypt},
		{"fail/too short", k, wrapped[:12], string(aad), smcrypto.ErrCiphertextTooShort},
		{"fail/another token's KEK", other, wrapped, string(aad), smcrypto.ErrWrongKEK},
		{"fail/a file KEK's blob", k, fromFile, string(aad), smcrypto.ErrWrongKEK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.k.Unwrap(tc.wrapped, []byte(tc.aad))
			if !errors.Is(err, tc.wantErr) || got != nil {
				t.Fatalf("Unwrap = %x, %v; want %v", got, err, tc.wantErr)
			}
		})
	}
	// And the file KEK refuses the PKCS#11 blob.
	if _, err := fileKEK.Unwrap(wrapped, aad); err == nil {
		t.Fatal("a file KEK unwrapped a PKCS#11 blob")
	}
}

func TestOpenErrors(t *testing.T) {
	need(t)
	uri := newKey(t, tokenMain, "")
	object := strings.TrimPrefix(strings.Split(strings.Split(uri, ";")[1], "?")[0], "object=")
	notLib := filepath.Join(t.TempDir(), "not-a-module.so")
	os.WriteFile(notLib, []byte("not an ELF file"), 0o600)
	pinFile := filepath.Join(t.TempDir(), "pin")
	os.WriteFile(pinFile, []byte(softhsmtest.PIN+"\n"), 0o600)
	emptyPIN := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(emptyPIN, nil, 0o600)
	base := "?module-path=" + softhsmtest.ModulePath
	for _, tc := range []struct {
		name    string
		cfg     pkcs11kek.Config
		wantErr error
		wantMsg string
	}{
		{"ok/pin-source file", pkcs11kek.Config{URI: "pkcs11:token=tongban;object=" + object + base + "&pin-source=file:" + pinFile}, nil, ""},
		{"ok/PIN from the caller", pkcs11kek.Config{URI: "pkcs11:token=tongban;object=" + object + base, PIN: softhsmtest.PIN}, nil, ""},
		{"fail/malformed URI", pkcs11kek.Config{URI: "pkcs11:token=tongban"}, pkcs11kek.ErrMalformedURI, ""},
		{"fail/no PIN", pkcs11kek.Config{URI: "pkcs11:token=tongban;object=" + object + base}, pkcs11kek.ErrNoPIN, ""},
		{"fail/empty pin-source file", pkcs11kek.Config{URI: "pkcs11:token=tongban;object=" + object + base + "&pin-source=" + emptyPIN}, pkcs11kek.ErrNoPIN, ""},
		{"fail/missing pin-source file", pkcs11kek.Config{URI: "pkcs11:token=tongban;object=" + object + base + "&pin-source=/nonexistent/pin"}, os.ErrNotExist, ""},
		{"fail/module path missing", pkcs11kek.Config{URI: "pkcs11:token=tongban;object=k?module-path=/nonexistent/lib.so&pin-value=1"}, pkcs11kek.ErrModule, "/nonexistent/lib.so"},
		{"fail/module not a library", pkcs11kek.Config{URI: "pkcs11:token=tongban;object=k?module-path=" + notLib + "&pin-value=1"}, pkcs11kek.ErrModule, notLib},
		{"fail/token missing", pkcs11kek.Config{URI: softhsmtest.URI("nosuchtoken", object)}, pkcs11kek.ErrTokenNotFound, `"tongban"`},
		{"fail/wrong PIN", pkcs11kek.Config{URI: "pkcs11:token=" + tokenPIN + ";object=k" + base + "&pin-value=0000"}, pkcs11kek.ErrWrongPIN, ""},
		{"fail/key missing", pkcs11kek.Config{URI: softhsmtest.URI(tokenMain, "no-such-key")}, pkcs11kek.ErrKeyNotFound, "no-such-key"},
		{"fail/key with another id", pkcs11kek.Config{URI: "pkcs11:token=tongban;object=" + object + ";id=%01" + base + "&pin-value=" + softhsmtest.PIN}, pkcs11kek.ErrKeyNotFound, ""},
		{"fail/mechanism unsupported", pkcs11kek.Config{URI: softhsmtest.URI(tokenMain, object) + "&x-mechanism=0x8000a100"}, pkcs11kek.ErrMechanismUnsupported, "0x8000a100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := pkcs11kek.Open(tc.cfg)
			if k != nil {
				k.Close()
			}
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("Open: %v, want %v", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("Open: %v; want the message to name %s", err, tc.wantMsg)
			}
			if err != nil && (strings.Contains(err.Error(), "0000") || strings.Contains(err.Error(), softhsmtest.PIN)) {
				t.Fatalf("error shows a PIN: %v", err)
			}
		})
	}
}

func TestGenerate(t *testing.T) {
	need(t)
	uri := newKey(t, tokenMain, "")
	if _, err := pkcs11kek.Generate(pkcs11kek.Config{URI: uri}, pkcs11kek.GenerateOptions{}); !errors.Is(err, pkcs11kek.ErrKeyExists) {
		t.Fatalf("Generate again: %v, want ErrKeyExists", err)
	}
	// The ID Generate reports is the one Open finds, and it survives a reopen.
	uri2 := softhsmtest.URI(tokenMain, "gen-"+fmt.Sprint(os.Getpid())+"-"+hex.EncodeToString(randBytes(4))) + "&x-mechanism=aes-key-wrap"
	id, err := pkcs11kek.Generate(pkcs11kek.Config{URI: uri2}, pkcs11kek.GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	k := open(t, uri2)
	if k.ID() != id {
		t.Fatalf("Open ID %s, Generate said %s", k.ID(), id)
	}
	k.Close()
	if _, err := k.Wrap([]byte("x"), nil); !errors.Is(err, pkcs11kek.ErrClosed) {
		t.Fatalf("Wrap after Close: %v, want ErrClosed", err)
	}
	if k2 := open(t, uri2); k2.ID() != id {
		t.Fatalf("ID after reopen %s, want %s", k2.ID(), id)
	}
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestConcurrent(t *testing.T) {
	need(t)
	k := open(t, newKey(t, tokenMain, ""))
	k2 := open(t, newKey(t, tokenMain, "")) // a second KEK, same token and module
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kk := k
			if i%2 == 1 {
				kk = k2
			}
			for j := range 20 {
				key := randBytes(32)
				aad := []byte(fmt.Sprintf("id-%d-%d", i, j))
				w, err := kk.Wrap(key, aad)
				if err == nil {
					var got []byte
					got, err = kk.Unwrap(w, aad)
					if err == nil && !bytes.Equal(got, key) {
						err = errors.New("round trip changed the key")
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Closing one KEK leaves the other logged in and working.
	k.Close()
	if _, err := k2.Wrap([]byte("still works"), nil); err != nil {
		t.Fatalf("second KEK after the first closed: %v", err)
	}
}

// TestKeyring opens a keyring on SQLite with the PKCS#11 KEK, creates its data keys and a
// signing key, and reads them back through a new KEK session.
func TestKeyring(t *testing.T) {
	need(t)
	ctx := t.Context()
	uri := newKey(t, tokenMain, "")
	store := storagetest.SQLite(t)
	k1 := open(t, uri)
	kr1, err := keyring.Open(ctx, store, k1)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := kr1.SealField([]byte("110101199003071234"), "person/id_number")
	if err != nil {
		t.Fatal(err)
	}
	if err := kr1.EnsureSigningKeys(ctx, storage.PurposeIDToken, keyring.AlgSM2, keyring.AlgRS256); err != nil {
		t.Fatal(err)
	}
	recs, err := store.ListKeys(ctx, storage.PurposeData)
	if err != nil || len(recs) != 4 {
		t.Fatalf("data keys: %d, %v", len(recs), err)
	}
	for _, r := range recs {
		if id, err := pkcs11kek.WrappedID(r.Sealed); err != nil || id != k1.ID() {
			t.Fatalf("data key %s wrapped by %q (%v), want %s", r.ID, id, err, k1.ID())
		}
	}
	k1.Close()

	k2 := open(t, uri)
	kr2, err := keyring.Open(ctx, store, k2)
	if err != nil {
		t.Fatal(err)
	}
	got, err := kr2.OpenField(sealed, "person/id_number")
	if err != nil || string(got) != "110101199003071234" {
		t.Fatalf("OpenField after reopen = %q, %v", got, err)
	}
	if _, err := kr2.Active(ctx, storage.PurposeIDToken, keyring.AlgRS256); err != nil {
		t.Fatalf("signing key after reopen: %v", err)
	}

	// Another KEK (other token) is refused with ErrWrongKEK.
	if _, err := keyring.Open(ctx, store, open(t, newKey(t, tokenOther, ""))); !errors.Is(err, smcrypto.ErrWrongKEK) {
		t.Fatalf("keyring.Open with another token's KEK: %v, want ErrWrongKEK", err)
	}
	// A file KEK does not know version 0xB1: smcrypto.ErrDecrypt (cmd/internal/app names
	// the KEK the store needs).
	fileKEK, _ := smcrypto.GenerateKEK(nil)
	if _, err := keyring.Open(ctx, store, fileKEK); !errors.Is(err, smcrypto.ErrDecrypt) {
		t.Fatalf("keyring.Open with a file KEK: %v, want ErrDecrypt", err)
	}
}
