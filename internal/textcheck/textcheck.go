// Package textcheck checks text that people are shown as a name — a person's, a company's, an
// app's — for what would let it pretend to be something else or break the page around it:
// control and format characters (text-direction overrides such as U+202E, zero-width
// characters), line and paragraph separators, filler characters that draw nothing, and stacks
// of combining marks that draw over the lines around them.
package textcheck

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Errors of Name, wrapped with the detail.
var (
	// ErrBlank: nothing but spaces (of any kind).
	ErrBlank = errors.New("blank")
	// ErrTooLong: more characters than allowed.
	ErrTooLong = errors.New("too long")
	// ErrNotUTF8: not valid UTF-8.
	ErrNotUTF8 = errors.New("not UTF-8")
	// ErrInvisible: control, format, separator or filler characters, or a stack of more than
	// MaxCombining combining marks.
	ErrInvisible = errors.New("control or invisible characters")
)

// MaxCombining is how many combining marks may follow one character (enough for any script in
// use in China; Zalgo-style stacks draw over neighbouring lines).
const MaxCombining = 3

// fillers draw nothing but are not spaces or format characters (Hangul fillers, braille blank).
var fillers = map[rune]bool{0x115F: true, 0x1160: true, 0x3164: true, 0xFFA0: true, 0x2800: true}

// Invisible reports whether r is a control, format (Cf), line or paragraph separator (Zl, Zp),
// or filler character.
func Invisible(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || fillers[r]
}

// Name trims s of spaces (unicode.IsSpace: also U+00A0 and U+3000) and checks it as a name of
// at most max characters (runes). It returns the trimmed name, or an error wrapping ErrBlank,
// ErrTooLong, ErrNotUTF8 or ErrInvisible that says what is wrong in English.
func Name(s string, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", ErrNotUTF8
	}
	s = strings.TrimFunc(s, unicode.IsSpace)
	switch {
	case s == "":
		return "", ErrBlank
	case strings.ContainsFunc(s, Invisible):
		return "", fmt.Errorf("%w (such as text-direction overrides or zero-width characters)", ErrInvisible)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", fmt.Errorf("%w: %d characters, at most %d", ErrTooLong, n, max)
	}
	marks := 0
	for _, r := range s {
		if unicode.In(r, unicode.Mn, unicode.Me) {
			if marks++; marks > MaxCombining {
				return "", fmt.Errorf("%w: more than %d combining marks on one character", ErrInvisible, MaxCombining)
			}
		} else {
			marks = 0
		}
	}
	return s, nil
}
