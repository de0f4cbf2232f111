package sm3otp_test

import (
	"testing"

	"github.com/tongban/tongban/sm-crypto/sm3otp"
)

// FuzzCompute: no panic on any key, factors and length; a password is exactly digits long,
// all digits, and the same inputs give the same password.
func FuzzCompute(f *testing.F) {
	f.Add([]byte("1234567890abcdef"), uint64(1), uint32(2), []byte("5678"), 6, true, true)
	f.Add([]byte{}, uint64(0), uint32(0), []byte(nil), 11, false, false)
	f.Fuzz(func(t *testing.T, key []byte, tf uint64, c uint32, q []byte, digits int, useT, useC bool) {
		fs := sm3otp.Factors{Q: q}
		if useT {
			fs.T = &tf
		}
		if useC {
			fs.C = &c
		}
		p, err := sm3otp.Compute(key, fs, digits)
		if err != nil {
			return
		}
		if len(p) != digits {
			t.Fatalf("password %q for %d digits", p, digits)
		}
		for _, r := range p {
			if r < '0' || r > '9' {
				t.Fatalf("password %q", p)
			}
		}
		if p2, _ := sm3otp.Compute(key, fs, digits); p2 != p {
			t.Fatalf("not deterministic: %q then %q", p, p2)
		}
	})
}
