package httpkit_test

import (
	"encoding/base64"
	"testing"

	"github.com/tongban/tongban/internal/httpkit"
)

func TestRandomString(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n, len int
	}{
		{"ok/zero", 0, 0},
		{"ok/one-byte", 1, 2},
		{"ok/state-16-bytes", 16, 22},
		{"ok/secret-32-bytes", 32, 43},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := httpkit.RandomString(tc.n)
			if len(s) != tc.len {
				t.Fatalf("RandomString(%d) has %d characters, want %d", tc.n, len(s), tc.len)
			}
			b, err := base64.RawURLEncoding.Strict().DecodeString(s)
			if err != nil || len(b) != tc.n {
				t.Fatalf("RandomString(%d) = %q: not base64url of %d bytes (%v)", tc.n, s, tc.n, err)
			}
		})
	}
	seen := map[string]bool{}
	for range 1000 {
		s := httpkit.RandomString(16)
		if seen[s] {
			t.Fatalf("RandomString(16) repeated %q", s)
		}
		seen[s] = true
	}
}
