package smcrypto

import (
	"crypto/hmac"
	"hash"

	"github.com/emmansun/gmsm/sm3"
)

// SM3Size is the length of an SM3 digest in bytes.
const SM3Size = sm3.Size

// SM3 returns the SM3 digest of data (GB/T 32905-2016), 32 bytes.
func SM3(data []byte) [SM3Size]byte {
	return sm3.Sum(data)
}

// NewSM3 returns a new SM3 hash.Hash (GB/T 32905-2016): 32-byte output,
// 64-byte block. The state implements encoding.BinaryMarshaler.
func NewSM3() hash.Hash {
	return sm3.New()
}

// HMACSM3 returns HMAC-SM3(key, data) as specified by RFC 2104 (GB/T
// 15852.2-2012 MAC algorithm 2) with SM3 as the hash: 32 bytes. Any key
// length is accepted; keys longer than 64 bytes are first hashed, and keys
// should be at least 32 random bytes. To compare two MACs use hmac.Equal.
func HMACSM3(key, data []byte) []byte {
	m := hmac.New(sm3.New, key)
	m.Write(data)
	return m.Sum(nil)
}

// NewHMACSM3 returns an HMAC-SM3 hash.Hash keyed with key (RFC 2104),
// 32-byte output.
func NewHMACSM3(key []byte) hash.Hash {
	return hmac.New(sm3.New, key)
}

// BlindIndex returns HMAC-SM3(key, value), 32 bytes: a deterministic search
// token for equality lookups of an encrypted field (DESIGN §2). key must be
// its own random key of at least 32 bytes, never the field-encryption key;
// value should be normalised first (e.g. upper-case the check character of a
// resident ID number) so equal values give equal indexes.
func BlindIndex(key, value []byte) []byte {
	return HMACSM3(key, value)
}
