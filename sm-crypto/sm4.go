package smcrypto

import (
	"crypto/cipher"
	"fmt"
	"io"

	"github.com/emmansun/gmsm/sm4"
)

// SM4-GCM sizes in bytes.
const (
	SM4KeySize   = 16 // GB/T 32907-2016 §5.1
	GCMNonceSize = 12 // NIST SP 800-38D §5.2.1.1, 96-bit IV
	GCMTagSize   = 16 // NIST SP 800-38D §5.2.1.2, 128-bit tag
	// SealOverhead is len(Seal output) − len(plaintext).
	SealOverhead = GCMNonceSize + GCMTagSize
)

// SM4GCM is SM4 (GB/T 32907-2016) in Galois/Counter Mode (NIST SP 800-38D;
// GB/T 36624-2018 = ISO/IEC 19772 mechanism 6; AEAD_SM4_GCM of RFC 8998),
// with a random 12-byte nonce per message and a 16-byte tag. It is safe for
// concurrent use.
//
// Random 96-bit nonces limit one key to 2^32 Seal calls (SP 800-38D §8.3);
// rotate data keys well before that.
type SM4GCM struct {
	aead cipher.AEAD
}

// NewSM4GCM returns SM4-GCM keyed with key, which must be 16 bytes
// (ErrKeySize).
func NewSM4GCM(key []byte) (*SM4GCM, error) {
	if len(key) != SM4KeySize {
		return nil, fmt.Errorf("%w: got %d bytes", ErrKeySize, len(key))
	}
	block, err := sm4.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeySize, err)
	}
	aead, err := cipher.NewGCMWithTagSize(block, GCMTagSize)
	if err != nil {
		return nil, fmt.Errorf("smcrypto: SM4-GCM: %w", err)
	}
	return &SM4GCM{aead: aead}, nil
}

// Seal encrypts and authenticates plaintext and authenticates aad (which is
// not included in the output). It returns nonce(12) ‖ ciphertext ‖ tag(16),
// len(plaintext)+28 bytes, reading the nonce from rand (nil means
// crypto/rand.Reader). Errors: a wrapped error from rand.
func (g *SM4GCM) Seal(rand io.Reader, plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, GCMNonceSize, GCMNonceSize+len(plaintext)+GCMTagSize)
	if _, err := io.ReadFull(randOrDefault(rand), out); err != nil {
		return nil, fmt.Errorf("smcrypto: SM4-GCM nonce: %w", err)
	}
	return g.aead.Seal(out, out[:GCMNonceSize], plaintext, aad), nil
}

// Open authenticates and decrypts sealed, the output of Seal, with the same
// aad. Errors: ErrCiphertextTooShort (fewer than 28 bytes), ErrDecrypt
// (wrong key, wrong aad, or any byte changed). No plaintext is returned on
// error.
func (g *SM4GCM) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < SealOverhead {
		return nil, fmt.Errorf("%w: %d bytes, need at least %d", ErrCiphertextTooShort, len(sealed), SealOverhead)
	}
	pt, err := g.aead.Open(nil, sealed[:GCMNonceSize], sealed[GCMNonceSize:], aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}
