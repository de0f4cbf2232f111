package oidc

import "testing"

func TestDeviceName(t *testing.T) {
	for _, tc := range []struct{ ua, want string }{
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome · Android"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari · iOS"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox · Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge · MacOS"},
		{"", ""},
		{"Go-http-client/1.1", ""},
	} {
		if got := deviceName(tc.ua); got != tc.want {
			t.Errorf("deviceName(%.40q) = %q, want %q", tc.ua, got, tc.want)
		}
	}
}

func TestMaskIP(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.45":            "203.0.113.*",
		" 10.1.2.3 ":              "10.1.2.*",
		"::ffff:198.51.100.7":     "198.51.100.*",
		"2001:db8:1:2::7":         "2001:db8:1::*",
		"2001:db8::1":             "2001:db8::*",
		"fe80::1":                 "fe80::*",
		"":                        "",
		"not an address":          "",
		"203.0.113.45:443":        "",
		"2001:db8:abcd:12:34::56": "2001:db8:abcd::*",
	} {
		if got := maskIP(in); got != want {
			t.Errorf("maskIP(%q) = %q, want %q", in, got, want)
		}
	}
}
