package keyring

import smcrypto "github.com/tongban/tongban/sm-crypto"

// KeyWrapper is a key-encryption key: it wraps the keyring's data keys and private keys before
// they are stored and unwraps them when they are read. The key itself stays with the wrapper
// (in process memory for *smcrypto.KEK, inside a cryptographic module for kek/pkcs11); the
// keyring sees only wrapped bytes.
//
// Implementations must be safe for concurrent use and must keep this contract:
//
//   - ID returns a name of the key that is safe to log and stable across restarts: the same
//     key gives the same ID, another key another ID. *smcrypto.KEK returns 16 lower-case hex
//     characters; other wrappers should do the same.
//   - Wrap(key, aad) returns an opaque blob that records the wrapper's ID and that only
//     Unwrap(blob, aad), with the same aad, turns back into key. key is a secret of 1 to 8192
//     bytes (a 16- or 32-byte data key, a PKCS#8 private key); aad is the record ID the blob is
//     stored under ("data:sm4-field", a kid) and is not secret. Errors: the wrapper cannot
//     work (a random source, a cryptographic module that fails).
//   - Unwrap(wrapped, aad) returns the key given to Wrap. It returns an error wrapping
//     smcrypto.ErrWrongKEK when the blob was wrapped by another key (its recorded ID differs
//     from ID), and another error — typically wrapping smcrypto.ErrDecrypt — when aad differs
//     from the one given to Wrap or any byte of the blob was changed. A wrapper that cannot
//     tell a wrong key from an altered blob (a module that only says "cannot unwrap") wraps
//     both. It never returns key bytes together with an error.
//
// *smcrypto.KEK satisfies KeyWrapper.
type KeyWrapper interface {
	ID() string
	Wrap(key, aad []byte) ([]byte, error)
	Unwrap(wrapped, aad []byte) ([]byte, error)
}

var _ KeyWrapper = (*smcrypto.KEK)(nil)
