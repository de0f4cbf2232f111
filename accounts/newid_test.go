package accounts_test

import (
	"testing"

	"github.com/tongban/tongban/accounts"
)

// TestNewIDNeverAFlag draws enough IDs that, were "-" allowed first, one would start with it
// with probability 1 − (63/64)^2000 > 0.999999999999; none may.
func TestNewIDNeverAFlag(t *testing.T) {
	seen := map[byte]bool{}
	for range 2000 {
		id := accounts.NewID()
		if len(id) != 22 || id[0] == '-' {
			t.Fatalf("ID %q", id)
		}
		seen[id[0]] = true
	}
	if !seen['_'] {
		t.Error("no ID started with '_' in 2000 draws: the first character is not spread over the alphabet")
	}
}
