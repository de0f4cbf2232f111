package smcrypto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/emmansun/gmsm/sm4"
)

// GB/T 32907-2016 Annex A, examples 1 and 2: key = plaintext =
// 0123456789abcdeffedcba9876543210.
func TestSM4KnownAnswer(t *testing.T) {
	key := mustHex(t, "0123456789abcdeffedcba9876543210")
	block, err := sm4.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	buf := bytes.Clone(key)
	block.Encrypt(buf, buf)
	if got := hex.EncodeToString(buf); got != "681edf34d206965e86b3e94f536e4246" {
		t.Fatalf("SM4 example 1 = %s", got)
	}
	block.Decrypt(buf, buf)
	if !bytes.Equal(buf, key) {
		t.Fatal("SM4 decrypt did not invert")
	}
	if testing.Short() {
		t.Skip("example 2 (1,000,000 encryptions) skipped in -short mode")
	}
	buf = bytes.Clone(key)
	for range 1_000_000 {
		block.Encrypt(buf, buf)
	}
	if got := hex.EncodeToString(buf); got != "595298c7c6fd271f0402f804c33d3f66" {
		t.Fatalf("SM4 example 2 = %s", got)
	}
}

// nonceReader yields a fixed nonce once.
func nonceReader(t *testing.T, hexNonce string) *bytes.Reader {
	return bytes.NewReader(mustHex(t, hexNonce))
}

// RFC 8998 Annex A.1 SM4-GCM test vector, through Seal's nonce ‖ ct ‖ tag
// layout.
func TestSM4GCMKnownAnswer(t *testing.T) {
	key := mustHex(t, "0123456789abcdeffedcba9876543210")
	nonce := "00001234567800000000abcd"
	aad := mustHex(t, "feedfacedeadbeeffeedfacedeadbeefabaddad2")
	pt := mustHex(t, "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccddddddddddddddddeeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa")
	want := nonce +
		"17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d" +
		"83de3541e4c2b58177e065a9bf7b62ec"
	g, err := NewSM4GCM(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := g.Seal(nonceReader(t, nonce), pt, aad)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(sealed); got != want {
		t.Fatalf("Seal =\n%s\nwant\n%s", got, want)
	}
	opened, err := g.Open(sealed, aad)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(opened, pt) {
		t.Fatal("Open did not return the plaintext")
	}
}

func TestSM4GCM(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 16)
	g, err := NewSM4GCM(key)
	if err != nil {
		t.Fatal(err)
	}
	aad := []byte("person/42/id_number")
	sealed, err := g.Seal(nil, []byte("11010519491231002X"), aad)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != 18+SealOverhead {
		t.Fatalf("len(sealed) = %d", len(sealed))
	}
	other, _ := NewSM4GCM(bytes.Repeat([]byte{8}, 16))
	tests := []struct {
		name    string
		g       *SM4GCM
		sealed  []byte
		aad     []byte
		wantErr error
	}{
		{name: "ok/round trip", g: g, sealed: sealed, aad: aad},
		{name: "fail/wrong key", g: other, sealed: sealed, aad: aad, wantErr: ErrDecrypt},
		{name: "fail/wrong aad", g: g, sealed: sealed, aad: []byte("person/43/id_number"), wantErr: ErrDecrypt},
		{name: "fail/nil aad", g: g, sealed: sealed, aad: nil, wantErr: ErrDecrypt},
		{name: "fail/flipped nonce", g: g, sealed: flip(sealed, 0), aad: aad, wantErr: ErrDecrypt},
		{name: "fail/flipped ciphertext", g: g, sealed: flip(sealed, 12), aad: aad, wantErr: ErrDecrypt},
		{name: "fail/flipped tag", g: g, sealed: flip(sealed, len(sealed)-1), aad: aad, wantErr: ErrDecrypt},
		{name: "fail/truncated", g: g, sealed: sealed[:len(sealed)-1], aad: aad, wantErr: ErrDecrypt},
		{name: "fail/27 bytes", g: g, sealed: sealed[:27], aad: aad, wantErr: ErrCiphertextTooShort},
		{name: "fail/empty", g: g, sealed: nil, aad: aad, wantErr: ErrCiphertextTooShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt, err := tt.g.Open(tt.sealed, tt.aad)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Open = %v, want %v", err, tt.wantErr)
			}
			if err != nil && pt != nil {
				t.Fatal("plaintext returned with an error")
			}
		})
	}
	// Empty plaintext still authenticates.
	e, err := g.Seal(nil, nil, aad)
	if err != nil || len(e) != SealOverhead {
		t.Fatalf("Seal(empty) = %d bytes, %v", len(e), err)
	}
	if pt, err := g.Open(e, aad); err != nil || len(pt) != 0 {
		t.Fatalf("Open(empty) = %q, %v", pt, err)
	}
	// Nonces differ.
	s2, _ := g.Seal(nil, []byte("11010519491231002X"), aad)
	if bytes.Equal(s2[:12], sealed[:12]) {
		t.Fatal("nonce repeated")
	}
	if _, err := g.Seal(errReader{}, []byte("x"), nil); err == nil {
		t.Fatal("Seal with failing rand succeeded")
	}
}

func TestNewSM4GCMKeySize(t *testing.T) {
	for _, n := range []int{0, 15, 17, 24, 32} {
		if _, err := NewSM4GCM(make([]byte, n)); !errors.Is(err, ErrKeySize) {
			t.Errorf("NewSM4GCM(%d bytes) = %v, want ErrKeySize", n, err)
		}
	}
}
