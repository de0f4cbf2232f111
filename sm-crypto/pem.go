package smcrypto

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/pem"
	"fmt"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// PEM block types.
const (
	pemPrivateKey  = "PRIVATE KEY"
	pemPublicKey   = "PUBLIC KEY"
	pemCertificate = "CERTIFICATE"
)

// MarshalPrivateKeyPEM returns priv as an unencrypted PKCS#8 (RFC 5208)
// "PRIVATE KEY" PEM block (RFC 7468 §10). The AlgorithmIdentifier is
// id-ecPublicKey with the named curve sm2p256v1 (1.2.156.10197.1.301,
// GB/T 33560-2017). Errors: ErrMalformedKey, ErrWrongCurve.
func MarshalPrivateKeyPEM(priv *sm2.PrivateKey) ([]byte, error) {
	if err := checkPrivateKey(priv); err != nil {
		return nil, err
	}
	der, err := smx509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
}

// ParsePrivateKeyPEM parses exactly one unencrypted PKCS#8 "PRIVATE KEY" PEM
// block holding an SM2 key. Surrounding whitespace is allowed; anything else
// after the block is not. The public key is recomputed from the scalar,
// which must lie in [1, n-2] (GB/T 32918.1-2016 §6.1).
//
// Errors: ErrMalformedPEM (no block, wrong type, PEM headers such as
// encrypted PEM, trailing data, DER that is not PKCS#8), ErrWrongCurve (a
// NIST P-256, RSA, Ed25519 or other non-SM2 key), ErrMalformedKey (scalar
// out of range).
func ParsePrivateKeyPEM(data []byte) (*sm2.PrivateKey, error) {
	der, err := decodeOnePEM(data, pemPrivateKey)
	if err != nil {
		return nil, err
	}
	key, err := smx509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: PKCS#8: %v", ErrMalformedPEM, err)
	}
	priv, ok := key.(*sm2.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: PKCS#8 key is %T", ErrWrongCurve, key)
	}
	if priv.D == nil || priv.D.Sign() <= 0 || priv.D.BitLen() > 256 {
		return nil, fmt.Errorf("%w: private scalar out of range", ErrMalformedKey)
	}
	// Recompute the public point so that a PKCS#8 publicKey field that does
	// not match d can never be used.
	fresh, err := sm2.NewPrivateKey(priv.D.FillBytes(make([]byte, 32)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedKey, err)
	}
	return fresh, nil
}

// MarshalPublicKeyPEM returns pub as a PKIX SubjectPublicKeyInfo (RFC 5280
// §4.1.2.7) "PUBLIC KEY" PEM block with algorithm id-ecPublicKey and named
// curve sm2p256v1. Errors: ErrMalformedKey, ErrWrongCurve.
func MarshalPublicKeyPEM(pub *ecdsa.PublicKey) ([]byte, error) {
	if err := checkPublicKey(pub); err != nil {
		return nil, err
	}
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublicKey, Bytes: der}), nil
}

// ParsePublicKeyPEM parses exactly one PKIX "PUBLIC KEY" PEM block holding an
// SM2 public key (algorithm id-ecPublicKey or id-sm2 with curve sm2p256v1).
// Errors: ErrMalformedPEM (no block, wrong type, headers, trailing data, DER
// that does not parse), ErrWrongCurve (any non-SM2 key, including P-256).
func ParsePublicKeyPEM(data []byte) (*ecdsa.PublicKey, error) {
	der, err := decodeOnePEM(data, pemPublicKey)
	if err != nil {
		return nil, err
	}
	key, err := smx509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: PKIX: %v", ErrMalformedPEM, err)
	}
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: PKIX key is %T", ErrWrongCurve, key)
	}
	if err := checkPublicKey(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// decodeOnePEM returns the body of the single PEM block of type typ in data.
func decodeOnePEM(data []byte, typ string) ([]byte, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrMalformedPEM)
	}
	if block.Type != typ {
		return nil, fmt.Errorf("%w: PEM block is %q, want %q", ErrMalformedPEM, block.Type, typ)
	}
	if len(block.Headers) != 0 {
		return nil, fmt.Errorf("%w: PEM headers are not supported (encrypted PEM?)", ErrMalformedPEM)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: data after the PEM block", ErrMalformedPEM)
	}
	return block.Bytes, nil
}
