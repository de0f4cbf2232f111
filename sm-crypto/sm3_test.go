package smcrypto

import (
	"bytes"
	"crypto/hmac"
	"encoding/hex"
	"strings"
	"testing"
)

// GB/T 32905-2016 Annex A.1 and A.2.
func TestSM3KnownAnswer(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"ok/abc (A.1)", "abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"},
		{"ok/abcd x16 (A.2)", strings.Repeat("abcd", 16), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum := SM3([]byte(tt.in))
			if got := hex.EncodeToString(sum[:]); got != tt.want {
				t.Fatalf("SM3 = %s, want %s", got, tt.want)
			}
			h := NewSM3()
			for i := range len(tt.in) {
				h.Write([]byte{tt.in[i]})
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != tt.want {
				t.Fatalf("NewSM3 streaming = %s, want %s", got, tt.want)
			}
		})
	}
}

// GM/T 0042-2015 Annex D.3 HMAC-SM3 vectors.
func TestHMACSM3KnownAnswer(t *testing.T) {
	seq := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i + 1)
		}
		return b
	}
	tests := []struct {
		name string
		key  []byte
		data []byte
		want string
	}{
		{"ok/D.3 vector 1", seq(32), []byte(strings.Repeat("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 2)),
			"ca05e144ed05d1857840d1f318a4a8669e559fc8391f414485bfdf7bb408963a"},
		{"ok/D.3 vector 2", seq(37), bytes.Repeat([]byte{0xcd}, 50),
			"220bf579ded555393f0159f66c99877822a3ecf610d1552154b41d44b94db3ae"},
		{"ok/D.3 vector 3", bytes.Repeat([]byte{0x0b}, 32), []byte("Hi There"),
			"c0ba18c68b90c88bc07de794bfc7d2c8d19ec31ed8773bc2b390c9604e0be11e"},
		{"ok/D.3 vector 4", []byte("Jefe"), []byte("what do ya want for nothing?"),
			"2e87f1d16862e6d964b50a5200bf2b10b764faa9680a296a2405f24bec39f882"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hex.EncodeToString(HMACSM3(tt.key, tt.data)); got != tt.want {
				t.Fatalf("HMACSM3 = %s, want %s", got, tt.want)
			}
			m := NewHMACSM3(tt.key)
			m.Write(tt.data)
			if got := hex.EncodeToString(m.Sum(nil)); got != tt.want {
				t.Fatalf("NewHMACSM3 = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestBlindIndex(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	a := BlindIndex(k1, []byte("11010519491231002X"))
	if len(a) != 32 {
		t.Fatalf("len = %d", len(a))
	}
	if !hmac.Equal(a, BlindIndex(k1, []byte("11010519491231002X"))) {
		t.Fatal("not deterministic")
	}
	if hmac.Equal(a, BlindIndex(k2, []byte("11010519491231002X"))) {
		t.Fatal("key not used")
	}
	if hmac.Equal(a, BlindIndex(k1, []byte("110105194912310021"))) {
		t.Fatal("value not used")
	}
}
