package smcrypto

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// KEKPrefix starts the text form of a KEK.
const KEKPrefix = "tongban-kek-v1:"

// Wrapped-key layout (see Wrap).
const (
	wrapVersion    = 0x01
	wrapHeaderSize = 1 + KeyIDSize // version ‖ KEK ID
	// WrapOverhead is len(Wrap output) − len(dataKey): 1 + 8 + 12 + 16 bytes.
	WrapOverhead = wrapHeaderSize + SealOverhead
)

// KEK is a key-encryption key: a 16-byte SM4 key that wraps data keys and
// private keys at rest with SM4-GCM. It comes from the operator (a file or
// an environment variable), never from the database (DESIGN §3). A KEK is
// immutable and safe for concurrent use.
type KEK struct {
	key  [SM4KeySize]byte
	id   [KeyIDSize]byte
	aead *SM4GCM
}

// GenerateKEK returns a new random KEK (nil rand means crypto/rand.Reader).
func GenerateKEK(rand io.Reader) (*KEK, error) {
	var key [SM4KeySize]byte
	if _, err := io.ReadFull(randOrDefault(rand), key[:]); err != nil {
		return nil, fmt.Errorf("smcrypto: generate KEK: %w", err)
	}
	return newKEK(key)
}

func newKEK(key [SM4KeySize]byte) (*KEK, error) {
	aead, err := NewSM4GCM(key[:])
	if err != nil {
		return nil, err
	}
	k := &KEK{key: key, aead: aead}
	sum := SM3(key[:])
	copy(k.id[:], sum[:KeyIDSize])
	return k, nil
}

// ParseKEK parses the text form written by Encode:
//
//	tongban-kek-v1:<standard base64 with padding of the 16 key bytes>
//
// 39 characters in all. Leading and trailing white space (the newline at the
// end of a file) is ignored; nothing else is. An operator can make one with
//
//	printf 'tongban-kek-v1:%s\n' "$(openssl rand -base64 16)"
//
// Errors, each wrapping ErrMalformedKEK with the reason: empty input,
// missing or different prefix (another version), not strict base64, not
// exactly 16 bytes.
func ParseKEK(text string) (*KEK, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, fmt.Errorf("%w: empty", ErrMalformedKEK)
	}
	body, ok := strings.CutPrefix(text, KEKPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: does not start with %q", ErrMalformedKEK, KEKPrefix)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("%w: not standard base64: %v", ErrMalformedKEK, err)
	}
	if len(raw) != SM4KeySize {
		return nil, fmt.Errorf("%w: key is %d bytes, want %d", ErrMalformedKEK, len(raw), SM4KeySize)
	}
	var key [SM4KeySize]byte
	copy(key[:], raw)
	return newKEK(key)
}

// Encode returns the text form of k (see ParseKEK), without a newline. It
// is the secret itself: write it only to the operator's key file.
func (k *KEK) Encode() string {
	return KEKPrefix + base64.StdEncoding.EncodeToString(k.key[:])
}

// ID returns the first 8 bytes of SM3(key) in lower-case hex, 16
// characters: a name for the KEK that is safe to log and is recorded in
// every wrapped key.
func (k *KEK) ID() string {
	return hex.EncodeToString(k.id[:])
}

// String returns "KEK " + ID(), never the key.
func (k *KEK) String() string {
	return "KEK " + k.ID()
}

// GoString is String, so that %#v does not print the key either.
func (k *KEK) GoString() string {
	return k.String()
}

// Wrap encrypts dataKey (any secret: an SM4 data key, a PKCS#8 private key)
// under k and binds aad, which the caller must give again to Unwrap — use
// it to tie the wrapped key to its purpose and owner, e.g. "field-key/v3".
// The output is
//
//	0x01 ‖ KEK ID (8) ‖ nonce (12) ‖ SM4-GCM ciphertext ‖ tag (16)
//
// len(dataKey)+37 bytes. The GCM additional data is the 9-byte header
// 0x01 ‖ KEK ID followed by aad, so the header cannot be changed either.
// Errors: a wrapped error from crypto/rand.
func (k *KEK) Wrap(dataKey, aad []byte) ([]byte, error) {
	header := k.header()
	sealed, err := k.aead.Seal(nil, dataKey, gcmAAD(header, aad))
	if err != nil {
		return nil, err
	}
	return append(header, sealed...), nil
}

// Unwrap reverses Wrap. Errors: ErrCiphertextTooShort (fewer than 37
// bytes), ErrWrongKEK (the blob names another KEK — typically an old KEK
// after rotation; the message carries both IDs), ErrDecrypt (unknown
// version byte, wrong aad, or any byte of the blob changed).
func (k *KEK) Unwrap(wrapped, aad []byte) ([]byte, error) {
	if len(wrapped) < WrapOverhead {
		return nil, fmt.Errorf("%w: %d bytes, need at least %d", ErrCiphertextTooShort, len(wrapped), WrapOverhead)
	}
	header := wrapped[:wrapHeaderSize]
	if header[0] != wrapVersion {
		return nil, fmt.Errorf("%w: unknown wrap version 0x%02x", ErrDecrypt, header[0])
	}
	if subtle.ConstantTimeCompare(header[1:], k.id[:]) != 1 {
		return nil, fmt.Errorf("%w: wrapped under KEK %x, this is KEK %s", ErrWrongKEK, header[1:], k.ID())
	}
	return k.aead.Open(wrapped[wrapHeaderSize:], gcmAAD(header, aad))
}

// WrappedKEKID returns the hex KEK ID recorded in a wrapped blob, so an
// operator can tell which KEK a stored key needs. Errors:
// ErrCiphertextTooShort, ErrDecrypt (unknown version).
func WrappedKEKID(wrapped []byte) (string, error) {
	if len(wrapped) < WrapOverhead {
		return "", fmt.Errorf("%w: %d bytes, need at least %d", ErrCiphertextTooShort, len(wrapped), WrapOverhead)
	}
	if wrapped[0] != wrapVersion {
		return "", fmt.Errorf("%w: unknown wrap version 0x%02x", ErrDecrypt, wrapped[0])
	}
	return hex.EncodeToString(wrapped[1:wrapHeaderSize]), nil
}

func (k *KEK) header() []byte {
	h := make([]byte, wrapHeaderSize, WrapOverhead)
	h[0] = wrapVersion
	copy(h[1:], k.id[:])
	return h
}

func gcmAAD(header, aad []byte) []byte {
	return bytes.Join([][]byte{header, aad}, nil)
}
