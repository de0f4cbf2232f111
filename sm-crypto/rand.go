package smcrypto

import (
	"crypto/rand"
	"io"
)

// randOrDefault returns r, or crypto/rand.Reader when r is nil.
func randOrDefault(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}
