package accounts_test

import (
	"testing"

	"github.com/tongban/tongban/accounts"
)

func TestNormalizeIdentifier(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		kind     accounts.IdentifierKind
	}{
		{"11010519491231002x", "11010519491231002X", accounts.IdentifierIDNumber},
		{"110105 19491231 002X", "11010519491231002X", accounts.IdentifierIDNumber},
		{"９１１１０１０８５５１３８５０８２Ｑ", "91110108551385082Q", accounts.IdentifierIDNumber},
		{"13800138000", "13800138000", accounts.IdentifierPhone},
		{"+86 138-0013-8000", "13800138000", accounts.IdentifierPhone},
		{"008613800138000", "13800138000", accounts.IdentifierPhone},
		{"8613800138000", "13800138000", accounts.IdentifierPhone},
		{"１３８００１３８０００", "13800138000", accounts.IdentifierPhone},
		{"＋８６\u3000１３８－００１３－８０００", "13800138000", accounts.IdentifierPhone},
		{"11010519491231002Y", "11010519491231002Y", accounts.IdentifierUnknown},
		{"23800138000", "23800138000", accounts.IdentifierUnknown},
		{"alice", "ALICE", accounts.IdentifierUnknown},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, kind := accounts.NormalizeIdentifier(tc.in)
			if got != tc.want || kind != tc.kind {
				t.Errorf("NormalizeIdentifier(%q) = %q, %d; want %q, %d", tc.in, got, kind, tc.want, tc.kind)
			}
		})
	}
}
