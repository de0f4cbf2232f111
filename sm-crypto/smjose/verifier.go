package smjose

import (
	"crypto/ecdsa"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// verifier is the OpaqueVerifier returned by NewVerifier. It is stateless
// and safe for concurrent use.
type verifier struct {
	pub *ecdsa.PublicKey
}

// NewVerifier returns a jose.OpaqueVerifier that accepts only AlgSM2 and
// checks the raw 64-byte r ‖ s signature with smcrypto.Verify. Pass it to
// (*jose.JSONWebSignature).Verify. VerifyPayload returns nil or an error
// wrapping ErrAlgorithm or one of smcrypto's Verify errors; go-jose's
// Verify reports any of them as jose.ErrCryptoFailure (use VerifyCompact or
// KeySet.VerifySM2 to keep the reason). Safe for concurrent use.
func NewVerifier(pub *ecdsa.PublicKey) jose.OpaqueVerifier {
	return verifier{pub: pub}
}

func (v verifier) VerifyPayload(payload, signature []byte, alg jose.SignatureAlgorithm) error {
	if alg != AlgSM2 {
		return fmt.Errorf("%w: got %q", ErrAlgorithm, alg)
	}
	return smcrypto.Verify(v.pub, payload, signature)
}

// recorder is a one-use verifier that keeps the reason of its failure,
// which go-jose replaces with jose.ErrCryptoFailure.
type recorder struct {
	verifier
	err error
}

func (r *recorder) VerifyPayload(payload, signature []byte, alg jose.SignatureAlgorithm) error {
	r.err = r.verifier.VerifyPayload(payload, signature, alg)
	return r.err
}

// VerifyCompact verifies a compact JWS (RFC 7515 §7.1) signed with AlgSM2
// by any of keys and returns its payload. The header's kid is not used: each
// key is tried in order. Claims (iss, aud, exp …) are not checked; that is
// the caller's job.
//
// Errors: ErrMalformedJWS, ErrAlgorithm (alg is not SGD_SM3_SM2, including
// "none"), ErrUnknownKey (no keys), ErrInvalidSignature wrapping the
// smcrypto reason of the last key tried.
func VerifyCompact(token string, keys ...*ecdsa.PublicKey) ([]byte, error) {
	jws, err := parseCompact(token)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, ErrUnknownKey
	}
	return verifyWith(jws, keys)
}

// parseCompact parses token allowing only AlgSM2.
func parseCompact(token string) (*jose.JSONWebSignature, error) {
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{AlgSM2})
	if err != nil {
		var unexpected *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &unexpected) {
			return nil, fmt.Errorf("%w: got %q", ErrAlgorithm, unexpected.Got)
		}
		return nil, fmt.Errorf("%w: %v", ErrMalformedJWS, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: %d signatures", ErrMalformedJWS, len(jws.Signatures))
	}
	return jws, nil
}

func verifyWith(jws *jose.JSONWebSignature, keys []*ecdsa.PublicKey) ([]byte, error) {
	var last error
	for _, pub := range keys {
		r := &recorder{verifier: verifier{pub: pub}}
		payload, err := jws.Verify(r)
		if err == nil {
			return payload, nil
		}
		last = r.err
		if last == nil {
			last = err
		}
	}
	return nil, fmt.Errorf("%w: %w", ErrInvalidSignature, last)
}
