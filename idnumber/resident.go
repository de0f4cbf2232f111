package idnumber

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// ResidentIDLength is the length of a citizen identification number, GB 11643-1999.
const ResidentIDLength = 18

// chinaTime is China Standard Time (UTC+8, no daylight saving): birth dates are dates there.
var chinaTime = time.FixedZone("CST", 8*60*60)

// residentWeights are the ISO 7064 MOD 11-2 weights 2^(17-i) mod 11 of characters 1 to 17.
var residentWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// residentCheck maps the weighted sum mod 11 to the check character, (12 - sum) mod 11 with
// 10 written X.
const residentCheck = "10X98765432"

// ResidentIDCheckChar returns the check character (0-9 or X) of a citizen identification
// number whose first 17 characters are first17: ISO 7064 MOD 11-2 as GB 11643-1999 §5.2
// specifies. ErrLength or ErrCharacter when first17 is not 17 ASCII digits.
func ResidentIDCheckChar(first17 string) (byte, error) {
	if len(first17) != ResidentIDLength-1 {
		return 0, fmt.Errorf("%w: %d characters before the check character, want 17", ErrLength, utf8.RuneCountInString(first17))
	}
	sum := 0
	for i := range ResidentIDLength - 1 {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: character %d must be a digit", ErrCharacter, i+1)
		}
		sum += int(c-'0') * residentWeights[i]
	}
	return residentCheck[sum%11], nil
}

// ValidateResidentID reports whether s is a valid citizen identification number (the number
// on a resident identity card, GB 11643-1999) on today's date in China; see
// ValidateResidentIDAt.
func ValidateResidentID(s string) error {
	return ValidateResidentIDAt(s, time.Now())
}

// ValidateResidentIDAt reports whether s is a valid citizen identification number, judging
// "not in the future" at now. The rules, checked in this order, each with its own error:
//
//  1. ErrLength: 18 characters (15-digit first-generation numbers are not accepted).
//  2. ErrCharacter: 17 ASCII digits, then a digit or an uppercase X.
//  3. ErrRegion: characters 1-2 are a province-level code of GB/T 2260 (11-15, 21-23, 31-37,
//     41-46, 50-54, 61-65, 71) or 81, 82, 83 (residence permits for residents of Hong Kong,
//     Macao and Taiwan). The rest of the region code is not checked (see provinces). A
//     foreigner's permanent residence identity card number (2023 form) starts with 9 followed
//     by the province-level code of the issuing province, and is accepted likewise.
//  4. ErrBirthDate: characters 7-14 are a calendar date YYYYMMDD from 1900-01-01 to the date
//     of now in China (UTC+8).
//  5. ErrChecksum (a *ChecksumError): character 18 is the ISO 7064 MOD 11-2 check character of
//     the first 17.
//
// s must already be in canonical form; see NormalizeResidentID.
func ValidateResidentIDAt(s string, now time.Time) error {
	if err := checkLength(s); err != nil {
		return err
	}
	for i := range ResidentIDLength {
		c := s[i]
		if c >= '0' && c <= '9' || i == ResidentIDLength-1 && c == 'X' {
			continue
		}
		if i == ResidentIDLength-1 {
			return fmt.Errorf("%w: character 18 must be a digit or X", ErrCharacter)
		}
		return fmt.Errorf("%w: character %d must be a digit", ErrCharacter, i+1)
	}
	province := s[:2]
	if s[0] == '9' {
		province = s[1:3] // foreigner's permanent residence: 9, issuing province, nationality
	}
	if !provinces[province] {
		return fmt.Errorf("%w: %s is not a province-level code", ErrRegion, province)
	}
	if _, err := birthDate(s, now); err != nil {
		return err
	}
	want, _ := ResidentIDCheckChar(s[:17]) // 17 digits: checked above
	if s[17] != want {
		return &ChecksumError{Got: s[17], Want: want}
	}
	return nil
}

// checkLength returns ErrLength unless s has 18 characters, or ErrCharacter when it has 18
// characters but not all ASCII (full-width digits: see the Normalize functions).
func checkLength(s string) error {
	if len(s) == 18 {
		return nil
	}
	if n := utf8.RuneCountInString(s); n != 18 {
		return fmt.Errorf("%w: %d characters, want 18", ErrLength, n)
	}
	return fmt.Errorf("%w: characters must be ASCII", ErrCharacter)
}

// birthDate parses characters 7-14 of s (already 18 ASCII characters) and checks its range.
func birthDate(s string, now time.Time) (time.Time, error) {
	d := s[6:14]
	if !isDigits(d) {
		return time.Time{}, fmt.Errorf("%w: characters 7-14 must be digits", ErrBirthDate)
	}
	t, err := time.Parse("20060102", d)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: not a calendar date", ErrBirthDate)
	}
	if t.Year() < 1900 {
		return time.Time{}, fmt.Errorf("%w: before 1900", ErrBirthDate)
	}
	y, m, day := now.In(chinaTime).Date()
	if t.After(time.Date(y, m, day, 0, 0, 0, 0, time.UTC)) {
		return time.Time{}, fmt.Errorf("%w: in the future", ErrBirthDate)
	}
	return t, nil
}

// BirthDate returns the birth date of a valid citizen identification number as midnight UTC
// of that date (only the date is meaningful). It returns the error of ValidateResidentID
// when s is not valid.
func BirthDate(s string) (time.Time, error) {
	if err := ValidateResidentID(s); err != nil {
		return time.Time{}, err
	}
	return birthDate(s, time.Now())
}

// Sex is the sex recorded in a citizen identification number.
type Sex uint8

const (
	Female Sex = iota + 1 // even sequence code
	Male                  // odd sequence code
)

func (s Sex) String() string {
	switch s {
	case Female:
		return "female"
	case Male:
		return "male"
	}
	return "unknown"
}

// SexOf returns the sex a valid citizen identification number records: character 17, the
// last of the sequence code, is odd for men and even for women (GB 11643-1999 §4.4). It
// returns the error of ValidateResidentID when s is not valid.
func SexOf(s string) (Sex, error) {
	if err := ValidateResidentID(s); err != nil {
		return 0, err
	}
	if (s[16]-'0')%2 == 1 {
		return Male, nil
	}
	return Female, nil
}

// NormalizeResidentID returns s in the canonical form the Validate functions accept: spaces
// (ASCII and ideographic) removed, full-width digits and X turned into ASCII, and a lowercase
// x made uppercase. It does not validate.
func NormalizeResidentID(s string) string {
	return normalize(s)
}

// normalize removes spaces, folds full-width ASCII to ASCII and letters to uppercase.
func normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t' || r == '\u3000':
			continue
		case r >= '！' && r <= '～': // full-width forms of ASCII ! to ~
			r -= '！' - '!'
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
