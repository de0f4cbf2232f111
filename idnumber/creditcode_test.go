package idnumber

import (
	"errors"
	"strings"
	"testing"
)

// creditCode returns prefix (authority, type, region: 8 characters) ‖ body (8) ‖ the
// organisation code check character ‖ the code check character.
func creditCode(t testing.TB, prefix, body string) string {
	t.Helper()
	o, err := OrganisationCodeCheckChar(body)
	if err != nil {
		t.Fatalf("OrganisationCodeCheckChar(%q): %v", body, err)
	}
	first17 := prefix + body + string(o)
	c, err := CreditCodeCheckChar(first17)
	if err != nil {
		t.Fatalf("CreditCodeCheckChar(%q): %v", first17, err)
	}
	return first17 + string(c)
}

// creditWithCheck replaces the check character of s and keeps the rest.
func creditWithCheck(s string, c byte) string { return s[:17] + string(c) }

// fixCheck recomputes the final check character of s, so that only an earlier rule can fail.
func fixCheck(t testing.TB, s string) string {
	t.Helper()
	c, err := CreditCodeCheckChar(s[:17])
	if err != nil {
		t.Fatal(err)
	}
	return s[:17] + string(c)
}

func TestValidateCreditCode(t *testing.T) {
	for _, tc := range []struct {
		name    string
		s       string
		wantErr error
	}{
		// Published codes of two companies (public registration data).
		{"ok/literal, enterprise in Beijing", "91110108551385082Q", nil},
		{"ok/literal, enterprise in Shenzhen, organisation check X", "9144030071526726XG", nil},
		{"ok/generated, body with letters (MA…)", creditCode(t, "91640100", "MA76BQ2K"), nil},
		{"ok/generated, individual business", creditCode(t, "92640104", "L1234567"), nil},
		{"ok/generated, state organ, national", creditCode(t, "11100000", "00001312"), nil},
		{"ok/generated, social organisation", creditCode(t, "51640000", "50800197"), nil},
		{"ok/generated, village collective", creditCode(t, "N2640122", "MF0A1B2C"), nil},
		{"ok/generated, other authority", creditCode(t, "Y1310000", "12345678"), nil},
		{"ok/generated, trade union", creditCode(t, "81640100", "87654321"), nil},
		{"ok/generated, military", creditCode(t, "A1110000", "0000001A"), nil},

		{"fail/empty", "", ErrLength},
		{"fail/17 characters", "91110108551385082", ErrLength},
		{"fail/19 characters", "91110108551385082Q0", ErrLength},
		{"fail/lowercase", "91110108551385082q", ErrCharacter},
		{"fail/I", "9111010855138508IQ", ErrCharacter},
		{"fail/O", "91110108O51385082Q", ErrCharacter},
		{"fail/S", "91110108S51385082Q", ErrCharacter},
		{"fail/V", "91110108V51385082Q", ErrCharacter},
		{"fail/Z", "91110108Z51385082Q", ErrCharacter},
		{"fail/full-width", "９１１１０１０８５５１３８５０８２Ｑ", ErrCharacter},
		{"fail/unknown authority 0", fixCheck(t, "01110108551385082Q"), ErrAuthority},
		{"fail/unknown authority B", fixCheck(t, "B1110108551385082Q"), ErrAuthority},
		{"fail/type 4 under market regulation", fixCheck(t, "94110108551385082Q"), ErrAuthority},
		{"fail/type 2 under other authority", fixCheck(t, "Y2110108551385082Q"), ErrAuthority},
		{"fail/letter in region", fixCheck(t, "9111A108551385082Q"), ErrRegion},
		{"fail/unknown province 99", fixCheck(t, "91990108551385082Q"), ErrRegion},
		{"fail/10 but not 100000", fixCheck(t, "91100108551385082Q"), ErrRegion},
		{"fail/wrong check character", creditWithCheck("91110108551385082Q", 'R'), ErrChecksum},
		{"fail/one character changed", "91110108551385083Q", ErrChecksum},
		{"fail/organisation check character wrong", fixCheck(t, "91110108551385080Q"), ErrOrgCode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateCreditCode(tc.s)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("ValidateCreditCode(%q) = %v, want %v", tc.s, err, tc.wantErr)
			}
		})
	}
}

func TestCreditCodeErrors(t *testing.T) {
	err := ValidateCreditCode(creditWithCheck("91110108551385082Q", 'R'))
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.Got != 'R' || ce.Want != 'Q' {
		t.Errorf("error %v, want a *ChecksumError R/Q", err)
	}
	if got, want := err.Error(), "idnumber: check character is R, want Q"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	err = ValidateCreditCode(fixCheck(t, "91110108551385080Q"))
	if !errors.As(err, &ce) || ce.Got != '0' || ce.Want != '2' {
		t.Errorf("error %v, want a *ChecksumError 0/2", err)
	}
	if got, want := err.Error(), "idnumber: organisation code check character is 0, want 2"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if errors.Is(err, ErrChecksum) {
		t.Error("organisation code error is ErrChecksum")
	}
}

func TestCreditCodeCheckChar(t *testing.T) {
	// The weights are 3^i mod 31.
	w := 1
	for i, got := range creditWeights {
		if got != w {
			t.Errorf("weight %d = %d, want %d", i, got, w)
		}
		w = w * 3 % 31
	}
	// A check character of value 0 (sum ≡ 0 mod 31) is '0', not an out-of-range 31.
	for _, tc := range []struct {
		name    string
		first17 string
		want    byte
		wantErr error
	}{
		{"ok/all zero", "00000000000000000", '0', nil},
		{"ok/Beijing enterprise", "91110108551385082", 'Q', nil},
		{"fail/16 characters", "9111010855138508", 0, ErrLength},
		{"fail/I", "9111010855138508I", 0, ErrCharacter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CreditCodeCheckChar(tc.first17)
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Errorf("CreditCodeCheckChar(%q) = %q, %v; want %q, %v", tc.first17, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestOrganisationCodeCheckChar(t *testing.T) {
	for _, tc := range []struct {
		name    string
		body    string
		want    byte
		wantErr error
	}{
		{"ok/digit", "55138508", '2', nil},
		{"ok/X (C9 = 10)", "71526726", 'X', nil},
		{"ok/0 (C9 = 11)", "00000000", '0', nil},
		{"ok/letters are worth 10-35", "A0000000", '3', nil}, // 10×3 = 30, 30 mod 11 = 8, 11-8 = 3
		{"fail/7 characters", "5513850", 0, ErrLength},
		{"fail/lowercase", "a0000000", 0, ErrCharacter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := OrganisationCodeCheckChar(tc.body)
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Errorf("OrganisationCodeCheckChar(%q) = %q, %v; want %q, %v", tc.body, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestNormalizeCreditCode(t *testing.T) {
	for in, want := range map[string]string{
		"91110108551385082q":      "91110108551385082Q",
		" 9111 0108 5513 8508 2Q": "91110108551385082Q",
		"９１１１０１０８５５１３８５０８２ｑ": "91110108551385082Q",
	} {
		got := NormalizeCreditCode(in)
		if got != want {
			t.Errorf("NormalizeCreditCode(%q) = %q, want %q", in, got, want)
		}
		if err := ValidateCreditCode(got); err != nil {
			t.Errorf("normalized %q: %v", in, err)
		}
	}
	if strings.ContainsAny(NormalizeCreditCode("abc xyz"), "abc xyz") {
		t.Error("NormalizeCreditCode left lowercase or spaces")
	}
}
