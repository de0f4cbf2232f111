package oidc

import (
	"strings"
	"testing"
)

func TestNormalizeUserCode(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"ok/as shown", "BCDF-GHJK", "BCDFGHJK", true},
		{"ok/lower case, no dash", "bcdfghjk", "BCDFGHJK", true},
		{"ok/spaces and several dashes", " bcdf - ghjk ", "BCDFGHJK", true},
		{"ok/full-width letters and dash (Chinese input method)", "ＢＣＤＦ－ｇｈｊｋ", "BCDFGHJK", true},
		{"ok/ideographic space", "BCDF\u3000GHJK", "BCDFGHJK", true},
		{"fail/vowel", "BCDF-GHJA", "", false},
		{"fail/digit", "BCDF-GHJ1", "", false},
		{"fail/seven letters", "BCDF-GHJ", "", false},
		{"fail/nine letters", "BCDF-GHJKL", "", false},
		{"fail/empty", "", "", false},
		{"fail/other script", "BCDF-GHJ码", "", false},
		{"fail/long input", strings.Repeat("B", 1000), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := normalizeUserCode(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("normalizeUserCode(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestNewUserCode: codes have the RFC 8628 §6.1 shape, and every character of the alphabet is
// about equally frequent (no modulo bias).
func TestNewUserCode(t *testing.T) {
	counts := map[rune]int{}
	const n = 5000
	seen := map[string]bool{}
	for range n {
		c := newUserCode()
		if norm, ok := normalizeUserCode(formatUserCode(c)); !ok || norm != c {
			t.Fatalf("code %q does not normalise to itself", c)
		}
		seen[c] = true
		for _, r := range c {
			counts[r]++
		}
	}
	if len(seen) < n-1 {
		t.Errorf("%d distinct codes of %d", len(seen), n)
	}
	want := float64(n*userCodeLen) / 20
	for _, r := range userCodeAlphabet {
		if got := float64(counts[r]); got < want*0.85 || got > want*1.15 {
			t.Errorf("%c appears %v times, want about %v", r, got, want)
		}
	}
}

func TestDeviceKindOf(t *testing.T) {
	for _, tc := range []struct{ ua, want string }{
		{"Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) TV Safari/537.36", deviceKindTV},
		{"Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36", deviceKindTV},
		{"Mozilla/5.0 (Linux; Android 9; BRAVIA 4K GB) AppleWebKit/537.36", deviceKindTV},
		{"tongban-kiosk/2.1 (自助终端; Linux)", deviceKindKiosk},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)", deviceKindPhone},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64)", deviceKindComputer},
		{"Go-http-client/1.1", deviceKindOther},
		{"", deviceKindOther},
	} {
		if got := deviceKindOf(tc.ua); got != tc.want {
			t.Errorf("deviceKindOf(%q) = %q, want %q", tc.ua, got, tc.want)
		}
	}
}
