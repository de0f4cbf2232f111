package idnumber

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// allErrors are the sentinels every validation error must be one of.
var allErrors = []error{ErrLength, ErrCharacter, ErrRegion, ErrBirthDate, ErrChecksum, ErrOrgCode, ErrAuthority}

func isKnown(err error) bool {
	for _, e := range allErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func FuzzValidateResidentID(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "640102199003071233", "911840198807150015", "11010519491231002x",
		"", "110105491231002", "１１０１０５１９４９１２３１００２Ｘ", "99010519491231002X", "11010519490231002X", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateResidentIDAt(s, now)
		if err != nil {
			if !isKnown(err) {
				t.Fatalf("ValidateResidentIDAt(%q) = %v, not one of the sentinels", s, err)
			}
		} else {
			// A valid number is canonical, its check character recomputes, its parts parse.
			if NormalizeResidentID(s) != s {
				t.Errorf("valid %q is not canonical", s)
			}
			if c, _ := ResidentIDCheckChar(s[:17]); c != s[17] {
				t.Errorf("valid %q: check character %c", s, c)
			}
			if _, err := birthDate(s, now); err != nil {
				t.Errorf("valid %q: %v", s, err)
			}
		}
		n := NormalizeResidentID(s)
		if NormalizeResidentID(n) != n {
			t.Errorf("NormalizeResidentID is not idempotent on %q", s)
		}
		if utf8.ValidString(s) && utf8.RuneCountInString(MaskResidentID(s)) != utf8.RuneCountInString(s) {
			t.Errorf("MaskResidentID(%q) changed the length", s)
		}
	})
}

func FuzzValidateCreditCode(f *testing.F) {
	for _, s := range []string{"91110108551385082Q", "9144030071526726XG", "91110108551385082q", "", "91110108551385080Q",
		"Y1110108551385082Q", "９１１１０１０８５５１３８５０８２Ｑ", "\x00\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateCreditCode(s)
		if err != nil {
			if !isKnown(err) {
				t.Fatalf("ValidateCreditCode(%q) = %v, not one of the sentinels", s, err)
			}
			return
		}
		if NormalizeCreditCode(s) != s {
			t.Errorf("valid %q is not canonical", s)
		}
		if c, _ := CreditCodeCheckChar(s[:17]); c != s[17] {
			t.Errorf("valid %q: check character %c", s, c)
		}
	})
}

func FuzzMaskName(f *testing.F) {
	for _, s := range []string{"", "明", "张三", "张三明", "欧阳娜娜", "阿沛·阿旺晋美", "Li", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := MaskName(s)
		if !utf8.ValidString(s) {
			return
		}
		n := utf8.RuneCountInString(s)
		if utf8.RuneCountInString(m) != n {
			t.Errorf("MaskName(%q) = %q: %d characters, want %d", s, m, utf8.RuneCountInString(m), n)
		}
		if n >= 1 && m == s && s != "*" && !(n == 2 && []rune(s)[0] == '*') && !(n >= 3 && onlyStarsInside(s)) {
			t.Errorf("MaskName(%q) masked nothing", s)
		}
	})
}

func onlyStarsInside(s string) bool {
	r := []rune(s)
	for _, c := range r[1 : len(r)-1] {
		if c != '*' {
			return false
		}
	}
	return true
}
