package smcose

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"

	"github.com/emmansun/gmsm/sm2"
	"github.com/veraison/go-cose"

	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// AlgorithmSM2 is the COSE alg value for SM2 signatures with SM3
// (GB/T 32918.2-2016, user ID smcrypto.DefaultUID, signature r ‖ s).
//
// It lies in the IANA "COSE Algorithms" private-use range (values less than
// -65536, RFC 9053 §10 / RFC 8152 §16.4) because no SM2 value is registered.
// It is -65536 − 501: 501 is the last arc of 1.2.156.10197.1.501, the
// GM/T 0006-2012 object identifier of "SM2 signature with SM3", which keeps
// the value recognisable and clear of the first private-use values other
// experiments pick. It encodes in CBOR as 0x3a 0x00 0x01 0x01 0xf4
// (5 bytes, like every value in the range below -65536).
const AlgorithmSM2 cose.Algorithm = -66037

// ErrNilKey is returned by NewSigner and NewVerifier for a nil key.
var ErrNilKey = errors.New("smcose: nil key")

// Signer is a cose.Signer for AlgorithmSM2.
type Signer struct {
	key *sm2.PrivateKey
}

// NewSigner returns a cose.Signer that signs with priv. It returns
// ErrNilKey for a nil key, or the smcrypto error (ErrMalformedKey,
// ErrWrongCurve) for a key that is not an SM2 key.
func NewSigner(priv *sm2.PrivateKey) (*Signer, error) {
	if priv == nil {
		return nil, ErrNilKey
	}
	if smcrypto.MarshalPublicKey(&priv.PublicKey) == nil {
		return nil, fmt.Errorf("smcose: %w", smcrypto.ErrWrongCurve)
	}
	return &Signer{key: priv}, nil
}

// Algorithm returns AlgorithmSM2.
func (s *Signer) Algorithm() cose.Algorithm { return AlgorithmSM2 }

// Sign returns the SM2 signature r ‖ s (64 bytes) of content, the full
// ToBeSigned bytes, using smcrypto.Sign. rand feeds the hedged nonce; nil
// means crypto/rand.Reader. With gmsm v0.44.1 the same rand stream gives the
// same signature.
func (s *Signer) Sign(rand io.Reader, content []byte) ([]byte, error) {
	sig, err := smcrypto.Sign(rand, s.key, content)
	if err != nil {
		return nil, fmt.Errorf("smcose: %w", err)
	}
	return sig, nil
}

// Public returns the signer's public key.
func (s *Signer) Public() *ecdsa.PublicKey { return &s.key.PublicKey }

// Verifier is a cose.Verifier for AlgorithmSM2.
type Verifier struct {
	key      *ecdsa.PublicKey
	prepared *smcrypto.VerifyingKey // nil: each Verify is smcrypto.Verify
}

// NewVerifier returns a cose.Verifier for pub. It returns ErrNilKey for a
// nil key, or smcrypto.ErrWrongCurve (wrapped) when pub is not a point of
// the SM2 curve.
func NewVerifier(pub *ecdsa.PublicKey) (*Verifier, error) {
	if pub == nil {
		return nil, ErrNilKey
	}
	if smcrypto.MarshalPublicKey(pub) == nil {
		return nil, fmt.Errorf("smcose: %w", smcrypto.ErrWrongCurve)
	}
	return &Verifier{key: pub}, nil
}

// NewPreparedVerifier is NewVerifier for a key that will check many
// signatures — a trust-list key at a counter: it verifies through an
// smcrypto.VerifyingKey, which builds an 86 KiB table on the first
// verification and then verifies several times faster (docs/design/
// sm2-verify-tables.md). Same errors as NewVerifier; the results of Verify
// are the same for every input.
func NewPreparedVerifier(pub *ecdsa.PublicKey) (*Verifier, error) {
	v, err := NewVerifier(pub)
	if err != nil {
		return nil, err
	}
	if v.prepared, err = smcrypto.NewVerifyingKey(pub); err != nil {
		return nil, fmt.Errorf("smcose: %w", err)
	}
	return v, nil
}

// Algorithm returns AlgorithmSM2.
func (v *Verifier) Algorithm() cose.Algorithm { return AlgorithmSM2 }

// Verify checks signature (r ‖ s, 64 bytes) over content, the full
// ToBeSigned bytes. It returns nil or an error wrapping both
// cose.ErrVerification and the smcrypto cause (ErrSignatureLength,
// ErrSignatureRange, ErrInvalidSignature).
func (v *Verifier) Verify(content, signature []byte) error {
	var err error
	if v.prepared != nil {
		err = v.prepared.Verify(content, signature)
	} else {
		err = smcrypto.Verify(v.key, content, signature)
	}
	if err != nil {
		return fmt.Errorf("smcose: %w: %w", cose.ErrVerification, err)
	}
	return nil
}

// Public returns the verifier's public key.
func (v *Verifier) Public() *ecdsa.PublicKey { return v.key }

var (
	_ cose.Signer   = (*Signer)(nil)
	_ cose.Verifier = (*Verifier)(nil)
)
