package credentials

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/tongban/tongban/idnumber"
)

var (
	// plateRe: province abbreviation, issuing-office letter, then 5 (ordinary)
	// or 6 (new-energy) characters from 0-9 and A-Z, optionally one of the
	// special suffixes (GA 36-2018).
	plateRe = regexp.MustCompile(`^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][0-9A-Z]{4,6}[挂学警港澳]?$`)
	// genericNumberRe: numbers of social-security, medical-insurance,
	// health-code and transit-code licences.
	genericNumberRe = regexp.MustCompile(`^[0-9A-Z]{6,32}$`)
)

// MaskedHolderName returns the holder name for display without consent to
// see it in full (DESIGN §2): idnumber.MaskName for a natural person
// (e.g. 张*明); a legal person's registered name unchanged, because it is
// public in the enterprise credit register.
func (l *Licence) MaskedHolderName() string {
	if l.Kind.HolderType() == LegalPerson {
		return l.HolderName
	}
	return idnumber.MaskName(l.HolderName)
}

// MaskedHolder returns the holder number masked: idnumber.MaskResidentID
// (first 6 and last 4 characters kept) or idnumber.MaskCreditCode.
func (l *Licence) MaskedHolder() string {
	if l.Kind.HolderType() == LegalPerson {
		return idnumber.MaskCreditCode(l.Holder)
	}
	return idnumber.MaskResidentID(l.Holder)
}

// MaskedNumber returns the licence number masked for display: as
// MaskedHolder where the number is the holder number (resident-id,
// driving-licence, business-licence); a plate keeps its first two and last
// two characters (京A***45); any other number becomes "****" followed by
// its last four characters, hiding its length too (****4261).
func (l *Licence) MaskedNumber() string {
	switch l.Kind {
	case ResidentID, DrivingLicence:
		return idnumber.MaskResidentID(l.Number)
	case BusinessLicence:
		return idnumber.MaskCreditCode(l.Number)
	case VehicleLicence:
		return maskRunes(l.Number, 2, 2)
	default:
		return "****" + lastRunes(l.Number, 4)
	}
}

// lastRunes returns the last n runes of s (all of s if shorter).
func lastRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[len(r)-n:])
}

// maskRunes keeps the first head and last tail runes of s and replaces
// the others with '*'; a string too short to hide anything is all stars.
func maskRunes(s string, head, tail int) string {
	n := utf8.RuneCountInString(s)
	if n <= head+tail {
		return strings.Repeat("*", n)
	}
	var b strings.Builder
	i := 0
	for _, r := range s {
		if i < head || i >= n-tail {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
		i++
	}
	return b.String()
}
