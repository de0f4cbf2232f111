package accounts

import (
	"strings"

	"github.com/tongban/tongban/idnumber"
)

// IdentifierKind says what a login identifier is.
type IdentifierKind int

const (
	// IdentifierUnknown: neither an ID number nor a mobile number. A login with it fails like
	// one with an unregistered identifier (and is throttled the same way).
	IdentifierUnknown IdentifierKind = iota
	// IdentifierIDNumber: a valid resident ID number (GB 11643-1999) or unified social credit
	// code (GB 32100-2015).
	IdentifierIDNumber
	// IdentifierPhone: a mainland China mobile number.
	IdentifierPhone
)

// NormalizeIdentifier returns the canonical form of a login identifier and its kind: an ID
// number or credit code in upper case (full-width characters folded), or an 11-digit mobile
// number without prefix; spaces, tabs and hyphens are dropped. The canonical form is what the
// blind indexes are computed over (Person.IDNumberIndex, Person.PhoneIndex). Anything else is
// returned in upper case with IdentifierUnknown.
func NormalizeIdentifier(s string) (string, IdentifierKind) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if n := idnumber.NormalizeResidentID(s); idnumber.ValidateResidentID(n) == nil {
		return n, IdentifierIDNumber
	}
	if n := idnumber.NormalizeCreditCode(s); idnumber.ValidateCreditCode(n) == nil {
		return n, IdentifierIDNumber
	}
	up := strings.ToUpper(s)
	if p, ok := normalizePhone(s); ok {
		return p, IdentifierPhone
	}
	return up, IdentifierUnknown
}

// normalizePhone accepts a mainland mobile number with an optional +86 / 0086 / 86 prefix and
// returns its 11 digits. Full-width digits, plus and hyphen (as Chinese input methods type
// them) are folded to ASCII; the ideographic space is dropped like a space.
func normalizePhone(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '\u3000' || r == '－':
			return -1
		case r >= '０' && r <= '９':
			return r - '０' + '0'
		case r == '＋':
			return '+'
		}
		return r
	}, s)
	for _, p := range []string{"+86", "0086"} {
		s = strings.TrimPrefix(s, p)
	}
	if len(s) == 13 && strings.HasPrefix(s, "86") {
		s = s[2:]
	}
	if len(s) != 11 || s[0] != '1' {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	return s, true
}
