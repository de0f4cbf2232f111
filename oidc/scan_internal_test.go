package oidc

import (
	"errors"
	"testing"
	"time"
)

func TestDescribeBrowser(t *testing.T) {
	for _, tc := range []struct{ ua, ip, want string }{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			"203.0.113.77", "Chrome · Windows · 203.0.113.*"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
			"2001:db8:1234:5678::1", "Safari · MacOS · 2001:db8:1234::*"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "::ffff:198.51.100.9", "Firefox · Linux · 198.51.100.*"},
		{"", "not an address", "?"},
		{"curl/8.5.0", "", "?"},
		{"curl/8.5.0", "10.1.2.3", "? · 10.1.2.*"},
	} {
		if got := describeBrowser(tc.ua, tc.ip); got != tc.want {
			t.Errorf("describeBrowser(%.30q, %q) = %q, want %q", tc.ua, tc.ip, got, tc.want)
		}
	}
}

func TestScanAMR(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"pwd"}, []string{"pwd", "mca"}},
		{[]string{"pwd", "otp"}, []string{"pwd", "otp", "mca"}},
		{[]string{"pwd", "mca"}, []string{"pwd", "mca"}},
		{nil, []string{"mca"}},
	} {
		got := scanAMR(tc.in)
		if len(got) != len(tc.want) {
			t.Fatalf("scanAMR(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("scanAMR(%v) = %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}

// TestScanCode: a code made now parses back to its ID until it expires; any changed byte, any
// other length and another key's code are refused, each with its own error.
func TestScanCode(t *testing.T) {
	s := newTestServer(t)
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	id := []byte("0123456789abcdef")
	code := s.scanCode(id, now.Add(scanLifetime))
	got, err := s.parseScanCode(code)
	if err != nil || got != b64.EncodeToString(id) {
		t.Fatalf("parseScanCode = %q, %v", got, err)
	}
	raw, _ := b64.DecodeString(code)
	for i := range raw {
		forged := append([]byte(nil), raw...)
		forged[i] ^= 0x80
		if _, err := s.parseScanCode(b64.EncodeToString(forged)); !errors.Is(err, errScanForged) {
			t.Fatalf("byte %d changed: %v, want errScanForged", i, err)
		}
	}
	for _, c := range []string{"", code[:len(code)-1], code + "A", "!" + code[1:]} {
		if _, err := s.parseScanCode(c); !errors.Is(err, errScanMalformed) {
			t.Fatalf("parseScanCode(%q): %v, want errScanMalformed", c, err)
		}
	}
	now = now.Add(scanLifetime - time.Second)
	if _, err := s.parseScanCode(code); err != nil {
		t.Fatalf("one second before expiry: %v", err)
	}
	now = now.Add(time.Second)
	if _, err := s.parseScanCode(code); !errors.Is(err, errScanExpired) {
		t.Fatalf("at expiry: %v, want errScanExpired", err)
	}
	other := newTestServer(t)
	other.now = s.now
	if _, err := other.parseScanCode(s.scanCode(id, now.Add(time.Minute))); !errors.Is(err, errScanForged) {
		t.Fatalf("another provider's code: %v, want errScanForged", err)
	}
}

// newTestServer is a Server with only what codes need: a keyring of its own (its own token
// key) and a clock.
func newTestServer(t *testing.T) *Server {
	return &Server{kr: testKeyring(t), now: time.Now}
}
