package smcrypto

import "errors"

// Sentinel errors. Every error returned by this package wraps one of these
// (test with errors.Is) and adds detail for logs; the only exception is a
// failure of a caller-supplied rand, which is returned wrapped as it is.
var (
	// ErrWrongCurve: the key is not an SM2 key on sm2.P256() — a NIST P-256,
	// RSA or Ed25519 key where SM2 was expected, or coordinates that are not a
	// point on the SM2 curve.
	ErrWrongCurve = errors.New("smcrypto: not an SM2 key (wrong curve, key type or point not on the SM2 curve)")
	// ErrMalformedKey: a key encoding has the wrong length or prefix, a key
	// value is nil, or a private scalar is outside [1, n-2].
	ErrMalformedKey = errors.New("smcrypto: malformed key")
	// ErrMalformedPEM: no PEM block, the wrong block type, PEM headers
	// (encrypted PEM), trailing data, or a DER body that does not parse.
	ErrMalformedPEM = errors.New("smcrypto: malformed PEM")

	// ErrSignatureLength: a raw signature is not exactly 64 bytes.
	ErrSignatureLength = errors.New("smcrypto: SM2 signature must be 64 bytes (r || s)")
	// ErrMalformedSignature: a DER signature is not a strict DER
	// SEQUENCE { INTEGER r, INTEGER s }.
	ErrMalformedSignature = errors.New("smcrypto: malformed DER SM2 signature")
	// ErrSignatureRange: r or s is zero, negative, or not less than the
	// curve order n (GB/T 32918.2-2016 §7.1 B1, B2).
	ErrSignatureRange = errors.New("smcrypto: SM2 signature r or s out of range [1, n-1]")
	// ErrInvalidSignature: the signature is well formed but does not verify
	// for this key, message and user ID.
	ErrInvalidSignature = errors.New("smcrypto: invalid SM2 signature")
	// ErrUIDLength: an explicit SM2 user ID is empty or longer than 8191 bytes
	// (ENTL_A is a 16-bit bit length, GB/T 32918.2-2016 §5.5).
	ErrUIDLength = errors.New("smcrypto: SM2 user ID must be 1 to 8191 bytes")

	// ErrMalformedCertificate: DER or PEM that is not an X.509 certificate.
	ErrMalformedCertificate = errors.New("smcrypto: malformed certificate")
	// ErrCertificateInvalid: the certificate does not chain to a given root
	// at the given time (expired, wrong issuer, bad signature, not a CA).
	ErrCertificateInvalid = errors.New("smcrypto: certificate verification failed")

	// ErrPasswordMismatch: the password does not match the stored hash.
	ErrPasswordMismatch = errors.New("smcrypto: password does not match")
	// ErrUnknownHashFormat: the stored hash names an algorithm other than
	// pbkdf2-sm3.
	ErrUnknownHashFormat = errors.New("smcrypto: unknown password hash format")
	// ErrMalformedHash: a $pbkdf2-sm3$ string that does not parse or whose
	// parameters are outside the accepted bounds.
	ErrMalformedHash = errors.New("smcrypto: malformed password hash")
	// ErrPasswordParams: PasswordParams outside the accepted bounds.
	ErrPasswordParams = errors.New("smcrypto: invalid password hash parameters")

	// ErrKeySize: an SM4 key is not 16 bytes.
	ErrKeySize = errors.New("smcrypto: SM4 key must be 16 bytes")
	// ErrCiphertextTooShort: sealed or wrapped data is shorter than its
	// fixed overhead.
	ErrCiphertextTooShort = errors.New("smcrypto: ciphertext too short")
	// ErrDecrypt: authentication failed — wrong key, wrong AAD, or the data
	// was modified.
	ErrDecrypt = errors.New("smcrypto: decryption failed (wrong key, wrong AAD or tampered data)")

	// ErrMalformedKEK: a KEK text is empty, lacks the tongban-kek-v1: prefix,
	// is not strict base64, or does not hold exactly 16 bytes.
	ErrMalformedKEK = errors.New("smcrypto: malformed key-encryption key")
	// ErrWrongKEK: a wrapped key names a different KEK ID than the KEK used to
	// unwrap it.
	ErrWrongKEK = errors.New("smcrypto: wrapped key was made with a different key-encryption key")
)
