// Package qrtest holds helpers for tests of code verifiers: altering a code's bytes in a
// chosen place, which a test outside package qr cannot do without a Base45 codec.
package qrtest

import (
	"fmt"

	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/qr/internal/base45"
)

// FlipSignatureBit returns the code text with the lowest bit of one byte of its SM2 signature
// flipped: the byte fromEnd bytes before the end of the COSE_Sign1 (0 is the last byte of s,
// 63 the first of r; GB/T 32918.2 r ‖ s, RFC 9052 §4.2). The result is still a well-formed
// code, so a verifier rejects it as qr.ErrBadSignature. It panics when text is not an LZ1
// code or fromEnd is not in 0…63.
func FlipSignatureBit(text string, fromEnd int) string {
	if len(text) < len(qr.Prefix) || text[:len(qr.Prefix)] != qr.Prefix || fromEnd < 0 || fromEnd > 63 {
		panic(fmt.Sprintf("qrtest: FlipSignatureBit(%.10q…, %d)", text, fromEnd))
	}
	raw, err := base45.Decode(text[len(qr.Prefix):])
	if err != nil {
		panic("qrtest: " + err.Error())
	}
	raw[len(raw)-1-fromEnd] ^= 1
	return qr.Prefix + base45.Encode(raw)
}
