package idnumber

import (
	"errors"
	"testing"
	"time"
)

// now is the tests' clock: 2025-06-15 00:30 in China, still 2025-06-14 in UTC.
var now = time.Date(2025, 6, 15, 0, 30, 0, 0, chinaTime)

// iso7064 is an independent implementation of ISO 7064 MOD 11-2 (the pure system's recursive
// form), to cross-check ResidentIDCheckChar.
func iso7064(first17 string) byte {
	p := 0
	for i := 0; i < len(first17); i++ {
		p = (p + int(first17[i]-'0')) * 2 % 11
	}
	c := (12 - p) % 11
	if c == 10 {
		return 'X'
	}
	return byte('0' + c)
}

// residentID returns region ‖ birth ‖ seq ‖ its check character.
func residentID(t testing.TB, region, birth, seq string) string {
	t.Helper()
	first17 := region + birth + seq
	c, err := ResidentIDCheckChar(first17)
	if err != nil {
		t.Fatalf("ResidentIDCheckChar(%q): %v", first17, err)
	}
	if want := iso7064(first17); c != want {
		t.Fatalf("ResidentIDCheckChar(%q) = %c, ISO 7064 recursion gives %c", first17, c, want)
	}
	return first17 + string(c)
}

// withCheck replaces the check character of a valid number.
func withCheck(s string, c byte) string { return s[:17] + string(c) }

func TestValidateResidentID(t *testing.T) {
	for _, tc := range []struct {
		name    string
		s       string
		wantErr error
	}{
		// Literal numbers; the first is the example of GB 11643-1999 itself.
		{"ok/GB 11643 example, check X", "11010519491231002X", nil},
		{"ok/literal, Yinchuan 1990", "640102199003071233", nil},
		{"ok/literal, Hong Kong residence permit", "810000199408230021", nil},
		{"ok/literal, foreigner's permanent residence (9, Beijing, nationality 840)", "911840198807150015", nil},
		{"ok/generated, every province", "", nil}, // expanded below
		{"ok/born today in China, yesterday in UTC", residentID(t, "310101", "20250615", "001"), nil},
		{"ok/born 1900-01-01", residentID(t, "110101", "19000101", "001"), nil},
		{"ok/born on 29 February of a leap year", residentID(t, "440305", "20000229", "002"), nil},
		{"ok/check character 0", findCheck(t, '0'), nil},

		{"fail/empty", "", ErrLength},
		{"fail/17 characters", "11010519491231002", ErrLength},
		{"fail/19 characters", "11010519491231002X0", ErrLength},
		{"fail/15-digit first generation", "110105491231002", ErrLength},
		{"fail/full-width digits", "１１０１０５１９４９１２３１００２Ｘ", ErrCharacter},
		{"fail/lowercase x", "11010519491231002x", ErrCharacter},
		{"fail/X not last", "1101051949123100X2", ErrCharacter},
		{"fail/letter", "11010519A91231002X", ErrCharacter},
		{"fail/space", "110105 9491231002X", ErrCharacter},
		{"fail/six Chinese characters (18 bytes)", "张三明张三明", ErrCharacter},
		{"fail/province 00", residentID(t, "000101", "19491231", "002"), ErrRegion},
		{"fail/province 16", residentID(t, "160101", "19491231", "002"), ErrRegion},
		{"fail/province 66", residentID(t, "660101", "19491231", "002"), ErrRegion},
		{"fail/province 99", residentID(t, "990101", "19491231", "002"), ErrRegion},
		{"fail/foreigner with unknown province", residentID(t, "999156", "19880715", "001"), ErrRegion},
		{"fail/30 February", residentID(t, "110101", "19900230", "001"), ErrBirthDate},
		{"fail/29 February 1900 (not a leap year)", residentID(t, "110101", "19000229", "001"), ErrBirthDate},
		{"fail/month 13", residentID(t, "110101", "19901301", "001"), ErrBirthDate},
		{"fail/day 00", residentID(t, "110101", "19900100", "001"), ErrBirthDate},
		{"fail/1899", residentID(t, "110101", "18991231", "001"), ErrBirthDate},
		{"fail/tomorrow in China", residentID(t, "110101", "20250616", "001"), ErrBirthDate},
		{"fail/next century", residentID(t, "110101", "21000101", "001"), ErrBirthDate},
		{"fail/wrong check digit", withCheck("11010519491231002X", '1'), ErrChecksum},
		{"fail/X for a digit", withCheck("640102199003071233", 'X'), ErrChecksum},
		{"fail/two digits swapped", "11010519491231020X", ErrChecksum},
		{"fail/one digit changed", "11010519491231003X", ErrChecksum},
	} {
		if tc.name == "ok/generated, every province" {
			for p := range provinces {
				s := residentID(t, p+"0102", "19900307", "123")
				t.Run("ok/generated, province "+p, func(t *testing.T) {
					if err := ValidateResidentIDAt(s, now); err != nil {
						t.Errorf("ValidateResidentIDAt(%q) = %v", s, err)
					}
				})
			}
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateResidentIDAt(tc.s, now)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("ValidateResidentIDAt(%q) = %v, want %v", tc.s, err, tc.wantErr)
			}
		})
	}
}

// findCheck returns a generated valid number whose check character is c.
func findCheck(t *testing.T, c byte) string {
	t.Helper()
	for seq := 100; seq < 1000; seq++ {
		s := residentID(t, "110101", "19800101", itoa3(seq))
		if s[17] == c {
			return s
		}
	}
	t.Fatalf("no number with check character %c", c)
	return ""
}

func itoa3(n int) string {
	return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
}

func TestResidentIDCheckChar(t *testing.T) {
	// Every sum mod 11 maps to its check character; cross-checked with the ISO 7064 recursion.
	seen := map[byte]bool{}
	for seq := 0; seq < 1000; seq++ {
		first17 := "44030519851017" + itoa3(seq)
		c, err := ResidentIDCheckChar(first17)
		if err != nil {
			t.Fatal(err)
		}
		if want := iso7064(first17); c != want {
			t.Fatalf("ResidentIDCheckChar(%q) = %c, want %c", first17, c, want)
		}
		seen[c] = true
	}
	if len(seen) != 11 {
		t.Errorf("check characters seen: %d, want all 11", len(seen))
	}
	for _, tc := range []struct {
		name    string
		first17 string
		wantErr error
	}{
		{"fail/16 characters", "1101051949123100", ErrLength},
		{"fail/18 characters", "11010519491231002X", ErrLength},
		{"fail/letter", "1101051949123100A", ErrCharacter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ResidentIDCheckChar(tc.first17); !errors.Is(err, tc.wantErr) {
				t.Errorf("ResidentIDCheckChar(%q) error = %v, want %v", tc.first17, err, tc.wantErr)
			}
		})
	}
}

func TestChecksumError(t *testing.T) {
	err := ValidateResidentIDAt("110105194912310021", now)
	var ce *ChecksumError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a *ChecksumError", err)
	}
	if ce.Got != '1' || ce.Want != 'X' {
		t.Errorf("ChecksumError{Got: %c, Want: %c}, want 1 and X", ce.Got, ce.Want)
	}
	if got, want := err.Error(), "idnumber: check character is 1, want X"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if errors.Is(err, ErrOrgCode) {
		t.Error("resident ID checksum error is ErrOrgCode")
	}
}

// TestMessagesKeepTheNumberOut: error messages never carry the number (personal data).
func TestMessagesKeepTheNumberOut(t *testing.T) {
	for _, s := range []string{
		"11010519491231002", "11010519A91231002X", residentID(t, "990101", "19491231", "002"),
		residentID(t, "110101", "19900230", "001"), residentID(t, "110101", "20990101", "001"), "110105194912310021",
	} {
		err := ValidateResidentIDAt(s, now)
		if err == nil {
			t.Fatalf("%q valid", s)
		}
		for _, part := range []string{s, s[6:14], s[:6]} {
			if len(part) >= 6 && contains(err.Error(), part) {
				t.Errorf("message %q contains %q", err, part)
			}
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestBirthDateAndSex(t *testing.T) {
	for _, tc := range []struct {
		name     string
		s        string
		wantDate time.Time
		wantSex  Sex
		wantErr  error
	}{
		{"ok/GB 11643 example", "11010519491231002X", time.Date(1949, 12, 31, 0, 0, 0, 0, time.UTC), Female, nil},
		{"ok/odd sequence", "640102199003071233", time.Date(1990, 3, 7, 0, 0, 0, 0, time.UTC), Male, nil},
		{"fail/invalid number", "110105194912310021", time.Time{}, 0, ErrChecksum},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := BirthDate(tc.s)
			if !errors.Is(err, tc.wantErr) || err == nil && !d.Equal(tc.wantDate) {
				t.Errorf("BirthDate(%q) = %v, %v; want %v, %v", tc.s, d, err, tc.wantDate, tc.wantErr)
			}
			sex, err := SexOf(tc.s)
			if !errors.Is(err, tc.wantErr) || sex != tc.wantSex {
				t.Errorf("SexOf(%q) = %v, %v; want %v, %v", tc.s, sex, err, tc.wantSex, tc.wantErr)
			}
		})
	}
	if Male.String() != "male" || Female.String() != "female" || Sex(0).String() != "unknown" {
		t.Error("Sex.String")
	}
}

func TestNormalizeResidentID(t *testing.T) {
	for in, want := range map[string]string{
		"11010519491231002x":     "11010519491231002X",
		" 110105 19491231 002X ": "11010519491231002X",
		"１１０１０５１９４９１２３１００２ｘ":       "11010519491231002X",
		"110105\u300019491231002Ｘ": "11010519491231002X",
		"11010519491231002X":       "11010519491231002X",
		"":                         "",
	} {
		if got := NormalizeResidentID(in); got != want {
			t.Errorf("NormalizeResidentID(%q) = %q, want %q", in, got, want)
		}
		if err := ValidateResidentIDAt(NormalizeResidentID(in), now); in != "" && err != nil {
			t.Errorf("normalized %q: %v", in, err)
		}
	}
}
