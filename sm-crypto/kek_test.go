package smcrypto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// testKEKText is a fixed KEK: 16 bytes 00 01 … 0f.
const testKEKText = "tongban-kek-v1:AAECAwQFBgcICQoLDA0ODw=="

func TestParseKEK(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{name: "ok/canonical", in: testKEKText},
		{name: "ok/trailing newline", in: testKEKText + "\n"},
		{name: "ok/crlf and spaces", in: "  " + testKEKText + "\r\n"},
		{name: "fail/empty", in: "", wantErr: ErrMalformedKEK},
		{name: "fail/white space only", in: " \n", wantErr: ErrMalformedKEK},
		{name: "fail/missing prefix", in: "AAECAwQFBgcICQoLDA0ODw==", wantErr: ErrMalformedKEK},
		{name: "fail/other version", in: "tongban-kek-v2:AAECAwQFBgcICQoLDA0ODw==", wantErr: ErrMalformedKEK},
		{name: "fail/upper-case prefix", in: "TONGBAN-KEK-V1:AAECAwQFBgcICQoLDA0ODw==", wantErr: ErrMalformedKEK},
		{name: "fail/no padding", in: "tongban-kek-v1:AAECAwQFBgcICQoLDA0ODw", wantErr: ErrMalformedKEK},
		{name: "fail/url alphabet", in: "tongban-kek-v1:AAECAwQFBgcICQoLDA0OD_==", wantErr: ErrMalformedKEK},
		{name: "fail/garbage", in: "tongban-kek-v1:not base64!", wantErr: ErrMalformedKEK},
		{name: "fail/15 bytes", in: "tongban-kek-v1:AAECAwQFBgcICQoLDA0O", wantErr: ErrMalformedKEK},
		{name: "fail/32 bytes", in: "tongban-kek-v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", wantErr: ErrMalformedKEK},
		{name: "fail/inner space", in: "tongban-kek-v1: AAECAwQFBgcICQoLDA0ODw==", wantErr: ErrMalformedKEK},
		{name: "fail/hex key", in: "tongban-kek-v1:000102030405060708090a0b0c0d0e0f", wantErr: ErrMalformedKEK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKEK(tt.in)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("ParseKEK = %v, want %v", err, tt.wantErr)
			}
			if err == nil && k.Encode() != testKEKText {
				t.Fatalf("Encode = %q", k.Encode())
			}
		})
	}
}

func TestKEKID(t *testing.T) {
	k, err := ParseKEK(testKEKText)
	if err != nil {
		t.Fatal(err)
	}
	sum := SM3(mustHex(t, "000102030405060708090a0b0c0d0e0f"))
	if want := hex.EncodeToString(sum[:8]); k.ID() != want {
		t.Fatalf("ID = %s, want %s", k.ID(), want)
	}
	if len(k.ID()) != 16 {
		t.Fatalf("ID length %d", len(k.ID()))
	}
	for _, s := range []string{k.String(), fmt.Sprintf("%v", k), fmt.Sprintf("%#v", k), fmt.Sprint(k)} {
		if strings.Contains(s, "AAECAwQF") || strings.Contains(s, "0, 1, 2") {
			t.Fatalf("formatting leaks the key: %s", s)
		}
	}
}

func TestGenerateKEK(t *testing.T) {
	a, err := GenerateKEK(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GenerateKEK(nil)
	if a.ID() == b.ID() {
		t.Fatal("two random KEKs are equal")
	}
	back, err := ParseKEK(a.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if back.ID() != a.ID() {
		t.Fatal("Encode/ParseKEK changed the key")
	}
	if _, err := GenerateKEK(errReader{}); err == nil {
		t.Fatal("failing rand accepted")
	}
}

func TestWrapUnwrap(t *testing.T) {
	kek, _ := ParseKEK(testKEKText)
	other, _ := GenerateKEK(nil)
	dataKey := bytes.Repeat([]byte{0xab}, 16)
	aad := []byte("field-key/v1")
	wrapped, err := kek.Wrap(dataKey, aad)
	if err != nil {
		t.Fatal(err)
	}
	if len(wrapped) != len(dataKey)+WrapOverhead {
		t.Fatalf("len(wrapped) = %d", len(wrapped))
	}
	if wrapped[0] != 0x01 || hex.EncodeToString(wrapped[1:9]) != kek.ID() {
		t.Fatalf("header = %x, want 01 ‖ %s", wrapped[:9], kek.ID())
	}
	if id, err := WrappedKEKID(wrapped); err != nil || id != kek.ID() {
		t.Fatalf("WrappedKEKID = %q, %v", id, err)
	}
	tests := []struct {
		name    string
		kek     *KEK
		wrapped []byte
		aad     []byte
		wantErr error
	}{
		{name: "ok/round trip", kek: kek, wrapped: wrapped, aad: aad},
		{name: "fail/other KEK", kek: other, wrapped: wrapped, aad: aad, wantErr: ErrWrongKEK},
		{name: "fail/wrong aad", kek: kek, wrapped: wrapped, aad: []byte("field-key/v2"), wantErr: ErrDecrypt},
		{name: "fail/version byte", kek: kek, wrapped: flip(wrapped, 0), aad: aad, wantErr: ErrDecrypt},
		{name: "fail/KEK ID byte", kek: kek, wrapped: flip(wrapped, 5), aad: aad, wantErr: ErrWrongKEK},
		{name: "fail/nonce byte", kek: kek, wrapped: flip(wrapped, 9), aad: aad, wantErr: ErrDecrypt},
		{name: "fail/ciphertext byte", kek: kek, wrapped: flip(wrapped, 21), aad: aad, wantErr: ErrDecrypt},
		{name: "fail/tag byte", kek: kek, wrapped: flip(wrapped, len(wrapped)-1), aad: aad, wantErr: ErrDecrypt},
		{name: "fail/truncated", kek: kek, wrapped: wrapped[:len(wrapped)-1], aad: aad, wantErr: ErrDecrypt},
		{name: "fail/too short", kek: kek, wrapped: wrapped[:WrapOverhead-1], aad: aad, wantErr: ErrCiphertextTooShort},
		{name: "fail/empty", kek: kek, wrapped: nil, aad: aad, wantErr: ErrCiphertextTooShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.kek.Unwrap(tt.wrapped, tt.aad)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Unwrap = %v, want %v", err, tt.wantErr)
			}
			if err == nil && !bytes.Equal(got, dataKey) {
				t.Fatal("Unwrap returned a different key")
			}
		})
	}
	// The wrong-KEK message names both IDs so an operator can act on it.
	_, err = other.Unwrap(wrapped, aad)
	if !strings.Contains(err.Error(), kek.ID()) || !strings.Contains(err.Error(), other.ID()) {
		t.Fatalf("wrong-KEK error lacks the IDs: %v", err)
	}
	if _, err := WrappedKEKID(flip(wrapped, 0)); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("WrappedKEKID(bad version) = %v", err)
	}
	if _, err := WrappedKEKID(nil); !errors.Is(err, ErrCiphertextTooShort) {
		t.Fatalf("WrappedKEKID(nil) = %v", err)
	}
}

// A wrapped private key round-trips: the use DESIGN §3 names.
func TestWrapPrivateKey(t *testing.T) {
	kek, _ := GenerateKEK(nil)
	priv := newKey(t)
	p, _ := MarshalPrivateKeyPEM(priv)
	w, err := kek.Wrap(p, []byte("signing-key/idp"))
	if err != nil {
		t.Fatal(err)
	}
	back, err := kek.Unwrap(w, []byte("signing-key/idp"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParsePrivateKeyPEM(back)
	if err != nil || !got.Equal(priv) {
		t.Fatalf("unwrapped key differs: %v", err)
	}
}
