// Package smcrypto is tongban's national-crypto layer: SM2 signatures and
// keys (GB/T 32918), SM3 hashing, HMAC-SM3 and PBKDF2-HMAC-SM3 (GB/T 32905),
// SM4-GCM (GB/T 32907 with NIST SP 800-38D GCM) and key-encryption-key
// envelopes for keys at rest.
//
// It is a thin layer over github.com/emmansun/gmsm v0.44.1, except for
// VerifyingKey, whose curve arithmetic is tongban's own (internal/sm2verify:
// verification only, variable time, public values only). Types are gmsm's
// and the standard library's: private keys are *sm2.PrivateKey, public keys
// are *ecdsa.PublicKey whose Curve is sm2.P256(), certificates are
// *smx509.Certificate.
//
// The profile every other package follows — user ID, signature encodings,
// key formats, key IDs, password hash format, envelope layouts, with the
// source clause of each choice and the test vectors — is written down in
// docs/crypto/sm-profile.md.
//
// Errors: every function returns nil or an error wrapping one of the Err*
// sentinels in errors.go (test with errors.Is), or, only where a rand is
// read, that reader's error wrapped. No function panics on any input,
// including nil keys and malformed encodings.
//
// Randomness: every io.Reader parameter named rand may be nil, which means
// crypto/rand.Reader.
package smcrypto
