package httpkit

import (
	"crypto/rand"
	"encoding/base64"
)

// RandomString returns n bytes from crypto/rand in base64url without padding (RFC 4648 §5):
// ⌈4n/3⌉ characters, 22 for 16 bytes, 43 for 32. It is the encoding of the random values both
// servers put in cookies, parameters (state, nonce) and client secrets. It panics if the
// system's random source fails, which crypto/rand does not let happen on supported
// platforms (since Go 1.24 rand.Read crashes the program instead).
func RandomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("httpkit: crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
