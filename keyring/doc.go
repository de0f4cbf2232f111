// Package keyring holds tongban's keys: the data keys (SM4 field encryption, blind index,
// opaque-token HMAC, client-secret HMAC) and the signing keys of the identity provider (ID
// tokens: SM2, ES256, RS256) and of the wallet (QR codes and trust lists: SM2).
//
// Every private key and data key is stored in storage.Keys wrapped by the operator's
// key-encryption key (a KeyWrapper: smcrypto.KEK, SM4-GCM with a key from a file or the
// environment, or a key inside a cryptographic module through package kek/pkcs11), which never
// touches the database. Data keys
// are created on first start; a wrong key-encryption key fails Open with smcrypto.ErrWrongKEK.
// Signing keys are created by EnsureSigningKeys and rotated by Rotate; retired keys stay
// published until ExpiresAt so that tokens and codes they signed keep verifying.
package keyring
