package pkcs11kek

import (
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// Wrapped-key layout (see KEK.Wrap).
const (
	// WrapVersion is the first byte of every blob this package writes; smcrypto.KEK writes
	// 0x01, so the two never mistake each other's blobs.
	WrapVersion = 0xB1
	// IDSize is the size of a KEK ID: 8 bytes, 16 hex characters.
	IDSize     = 8
	headerSize = 1 + IDSize
	checkSize  = 16 // check value at the start of the wrapped plaintext
	blockSize  = 16 // the plaintext is padded to a multiple of this
	// MaxKeySize bounds the keys Wrap accepts (a 4096-bit RSA PKCS#8 key is about 2.4 KB).
	MaxKeySize = 8192
)

// checkDomain separates the check value from any other SM3 use.
const checkDomain = "tongban kek/pkcs11 v1 check\x00"

// checkValue returns SM3(checkDomain ‖ header ‖ len(aad) (4 bytes, big-endian) ‖ aad ‖ key),
// first 16 bytes.
func checkValue(header, aad, key []byte) []byte {
	msg := make([]byte, 0, len(checkDomain)+len(header)+4+len(aad)+len(key))
	msg = append(msg, checkDomain...)
	msg = append(msg, header...)
	msg = binary.BigEndian.AppendUint32(msg, uint32(len(aad)))
	msg = append(msg, aad...)
	msg = append(msg, key...)
	sum := smcrypto.SM3(msg)
	return sum[:checkSize]
}

// innerPlaintext returns check ‖ key ‖ 0x80 ‖ 0x00…, padded (ISO/IEC 9797-1 method 2) to a
// multiple of 16 bytes: the secret the module wraps.
func innerPlaintext(header, aad, key []byte) []byte {
	n := checkSize + len(key) + 1
	n += (blockSize - n%blockSize) % blockSize
	p := make([]byte, 0, n)
	p = append(p, checkValue(header, aad, key)...)
	p = append(p, key...)
	p = append(p, 0x80)
	return p[:n]
}

// openInner checks and strips what innerPlaintext added. Errors wrap smcrypto.ErrDecrypt.
func openInner(header, aad, plain []byte) ([]byte, error) {
	if len(plain) < checkSize+blockSize || len(plain)%blockSize != 0 {
		return nil, fmt.Errorf("%w: unwrapped %d bytes, not a tongban wrapped key", smcrypto.ErrDecrypt, len(plain))
	}
	end := len(plain) - 1
	for end > checkSize && plain[end] == 0 {
		end--
	}
	if plain[end] != 0x80 {
		return nil, fmt.Errorf("%w: bad padding", smcrypto.ErrDecrypt)
	}
	key := plain[checkSize:end]
	if subtle.ConstantTimeCompare(plain[:checkSize], checkValue(header, aad, key)) != 1 {
		return nil, fmt.Errorf("%w: check value differs (wrong aad, or the blob was altered)", smcrypto.ErrDecrypt)
	}
	return key, nil
}

// WrappedID returns the hex KEK ID recorded in a blob written by KEK.Wrap, so an operator can
// tell which key a stored key needs. Errors: smcrypto.ErrCiphertextTooShort,
// smcrypto.ErrDecrypt (not this package's version byte).
func WrappedID(wrapped []byte) (string, error) {
	if len(wrapped) < headerSize+1 {
		return "", fmt.Errorf("%w: %d bytes", smcrypto.ErrCiphertextTooShort, len(wrapped))
	}
	if wrapped[0] != WrapVersion {
		return "", fmt.Errorf("%w: wrap version 0x%02x is not PKCS#11 (0x%02x)", smcrypto.ErrDecrypt, wrapped[0], WrapVersion)
	}
	return hex.EncodeToString(wrapped[1:headerSize]), nil
}

// keyID derives the KEK ID: the first 8 bytes of SM3 over the token label, the key label and
// the key's CKA_ID, each preceded by its length (4 bytes, big-endian).
func keyID(token, object string, id []byte) [IDSize]byte {
	msg := []byte("tongban kek/pkcs11 v1 id\x00")
	for _, f := range [][]byte{[]byte(token), []byte(object), id} {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(f)))
		msg = append(msg, f...)
	}
	sum := smcrypto.SM3(msg)
	var out [IDSize]byte
	copy(out[:], sum[:IDSize])
	return out
}
