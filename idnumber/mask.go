package idnumber

import (
	"strings"
	"unicode/utf8"
)

// MaskResidentID returns s with all but its first 6 and last 4 characters replaced by '*',
// the form shown to users and stored beside the sealed number (DESIGN §2):
// "640102199003071237" → "640102********1237". The region code stays visible, the birth
// date and sequence code do not. A string of 10 characters or fewer is masked entirely.
// It works on characters (runes), not bytes, and does not validate.
func MaskResidentID(s string) string {
	return maskMiddle(s, 6, 4)
}

// MaskCreditCode masks a unified social credit code like MaskResidentID: first 6 and last 4
// characters shown, "91110108551385082Q" → "911101********082Q".
func MaskCreditCode(s string) string {
	return maskMiddle(s, 6, 4)
}

// MaskName masks a person's name for display (DESIGN §2), by characters (runes):
// one character → "*"; two → "*" and the last ("张三" → "*三"); three or more → the first,
// one "*" for each middle character, and the last ("张三明" → "张*明",
// "欧阳娜娜" → "欧**娜"). The empty name stays empty.
func MaskName(name string) string {
	r := []rune(name)
	switch n := len(r); n {
	case 0:
		return ""
	case 1:
		return "*"
	case 2:
		return "*" + string(r[1])
	default:
		return string(r[0]) + strings.Repeat("*", n-2) + string(r[n-1])
	}
}

// maskMiddle keeps the first head and last tail runes of s and stars the rest; all of s when
// it is not longer than head+tail.
func maskMiddle(s string, head, tail int) string {
	n := utf8.RuneCountInString(s)
	if n <= head+tail {
		return strings.Repeat("*", n)
	}
	r := []rune(s)
	return string(r[:head]) + strings.Repeat("*", n-head-tail) + string(r[n-tail:])
}
