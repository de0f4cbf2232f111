// Package base45 implements the Base45 encoding of RFC 9285.
//
// It is written here rather than imported because no base45 module is served
// by the module proxy this project builds from (DESIGN §8), and because the
// QR verifier needs a decoder stricter than most published ones: RFC 9285 §6
// says a decoder must reject characters outside the alphabet and triplets
// whose value exceeds 65535; this one also rejects a dangling single
// character (a length ≡ 1 mod 3) and a final pair whose value exceeds 255,
// so every accepted string is the canonical encoding of exactly one byte
// string and Encode(Decode(s)) == s.
package base45

import (
	"errors"
	"strconv"
)

// Alphabet is the 45-character alphabet of RFC 9285 §4: value i is
// Alphabet[i]. Every character is in the QR alphanumeric set
// (ISO/IEC 18004 §7.4.4), so Base45 text is encoded in alphanumeric mode.
const Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// Sentinel errors; Decode wraps one of them in a *CorruptInputError.
var (
	// ErrInvalidChar: a byte that is not in Alphabet (lowercase letters
	// included).
	ErrInvalidChar = errors.New("base45: invalid character")
	// ErrInvalidLength: len(s) ≡ 1 (mod 3), a dangling single character.
	ErrInvalidLength = errors.New("base45: dangling single character")
	// ErrOverflow: a triplet whose value c + 45d + 2025e exceeds 65535, or a
	// final pair whose value c + 45d exceeds 255 (RFC 9285 §4.2, §6).
	ErrOverflow = errors.New("base45: value out of range")
)

// CorruptInputError reports where Decode found a problem.
type CorruptInputError struct {
	Offset int   // byte offset in the input of the offending chunk or character
	Err    error // ErrInvalidChar, ErrInvalidLength or ErrOverflow
}

func (e *CorruptInputError) Error() string {
	return e.Err.Error() + " at offset " + strconv.Itoa(e.Offset)
}

func (e *CorruptInputError) Unwrap() error { return e.Err }

var decodeMap = func() (m [256]int8) {
	for i := range m {
		m[i] = -1
	}
	for i := 0; i < len(Alphabet); i++ {
		m[Alphabet[i]] = int8(i)
	}
	return m
}()

// EncodedLen returns the length of the Base45 encoding of n bytes:
// 3 characters per 2 bytes, 2 for a final odd byte.
func EncodedLen(n int) int { return n/2*3 + n%2*2 }

// DecodedLen returns the number of bytes Decode produces from n characters
// when n is a valid length (n mod 3 ≠ 1).
func DecodedLen(n int) int { return n/3*2 + n%3/2 }

// Encode returns the Base45 encoding of src (RFC 9285 §4): each pair of
// bytes [a, b] is n = 256a + b written as c + 45d + 45²e, emitted c d e;
// a final single byte is written as c + 45d, emitted c d.
func Encode(src []byte) string {
	dst := make([]byte, EncodedLen(len(src)))
	AppendEncode(dst[:0], src)
	return string(dst)
}

// AppendEncode appends the Base45 encoding of src to dst and returns the
// extended slice.
func AppendEncode(dst, src []byte) []byte {
	for len(src) >= 2 {
		n := int(src[0])<<8 | int(src[1])
		c, n := n%45, n/45
		d, e := n%45, n/45
		dst = append(dst, Alphabet[c], Alphabet[d], Alphabet[e])
		src = src[2:]
	}
	if len(src) == 1 {
		n := int(src[0])
		dst = append(dst, Alphabet[n%45], Alphabet[n/45])
	}
	return dst
}

// Decode returns the bytes encoded by s. It is strict: every character must
// be in Alphabet, len(s) mod 3 must not be 1, each 3-character chunk must
// encode at most 65535 and a final 2-character chunk at most 255. On
// failure it returns nil and a *CorruptInputError wrapping ErrInvalidChar,
// ErrInvalidLength or ErrOverflow.
func Decode(s string) ([]byte, error) {
	if len(s)%3 == 1 {
		return nil, &CorruptInputError{Offset: len(s) - 1, Err: ErrInvalidLength}
	}
	dst := make([]byte, 0, DecodedLen(len(s)))
	for i := 0; i < len(s); i += 3 {
		c, d := decodeMap[s[i]], decodeMap[s[i+1]]
		if c < 0 {
			return nil, &CorruptInputError{Offset: i, Err: ErrInvalidChar}
		}
		if d < 0 {
			return nil, &CorruptInputError{Offset: i + 1, Err: ErrInvalidChar}
		}
		if i+2 == len(s) {
			n := int(c) + 45*int(d)
			if n > 0xff {
				return nil, &CorruptInputError{Offset: i, Err: ErrOverflow}
			}
			dst = append(dst, byte(n))
			break
		}
		e := decodeMap[s[i+2]]
		if e < 0 {
			return nil, &CorruptInputError{Offset: i + 2, Err: ErrInvalidChar}
		}
		n := int(c) + 45*int(d) + 2025*int(e)
		if n > 0xffff {
			return nil, &CorruptInputError{Offset: i, Err: ErrOverflow}
		}
		dst = append(dst, byte(n>>8), byte(n))
	}
	return dst, nil
}
