package accounts_test

import (
	"strings"
	"testing"

	"github.com/tongban/tongban/accounts"
)

// FuzzNormalizeRecoveryCode: no panic; an accepted code is RecoveryCodeLen characters of the
// alphabet, normalising it again changes nothing, and its shown form "XXXXX-XXXXX" normalises
// to it.
func FuzzNormalizeRecoveryCode(f *testing.F) {
	for _, s := range []string{"ABCDE-23456", "abcde 23456", "", "ABCDE-2345O", "ＡＢＣＤＥ-23456", "ABCDE\u00a023456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		norm, ok := accounts.NormalizeRecoveryCode(s)
		if !ok {
			return
		}
		if len(norm) != accounts.RecoveryCodeLen || strings.Trim(norm, accounts.RecoveryCodeAlphabet) != "" {
			t.Fatalf("%q normalised to %q", s, norm)
		}
		if again, ok := accounts.NormalizeRecoveryCode(norm); !ok || again != norm {
			t.Fatalf("not idempotent: %q → %q", norm, again)
		}
		if shown, ok := accounts.NormalizeRecoveryCode(norm[:5] + "-" + norm[5:]); !ok || shown != norm {
			t.Fatalf("shown form of %q normalises to %q", norm, shown)
		}
	})
}
