package smjose

import (
	"errors"

	"github.com/go-jose/go-jose/v4"
)

// AlgSM2 is the JWS "alg" for SM2 with SM3 (the GM/T 0125.1-2022 digital
// signature identifier). Pass it in the list of allowed algorithms of
// jose.ParseSignedCompact.
const AlgSM2 jose.SignatureAlgorithm = "SGD_SM3_SM2"

// CurveSM2 is the JWK "crv" of an SM2 public key.
const CurveSM2 = "SM2-P-256"

var (
	// ErrMalformedJWK: a JWK that is not JSON, lacks x or y, has x or y that
	// are not 32-byte base64url, or contains private key material.
	ErrMalformedJWK = errors.New("smjose: malformed JWK")
	// ErrNotSM2JWK: a JWK whose kty is not "EC", whose crv is not
	// "SM2-P-256", or whose alg is present and not "SGD_SM3_SM2".
	ErrNotSM2JWK = errors.New("smjose: not an SM2 JWK")
	// ErrMalformedJWKS: a JWK Set that is not a JSON object with a "keys"
	// array.
	ErrMalformedJWKS = errors.New("smjose: malformed JWK Set")
	// ErrMalformedJWS: a token that is not a compact JWS go-jose can parse.
	ErrMalformedJWS = errors.New("smjose: malformed JWS")
	// ErrAlgorithm: the JWS alg is not SGD_SM3_SM2, or a signer or verifier
	// was asked for another alg.
	ErrAlgorithm = errors.New("smjose: JWS alg is not SGD_SM3_SM2")
	// ErrUnknownKey: no SM2 key in the set has the token's kid (or the set
	// has no SM2 signing keys at all).
	ErrUnknownKey = errors.New("smjose: no SM2 key for this kid")
	// ErrInvalidSignature: no candidate key verifies the token. The error
	// also wraps the smcrypto reason (smcrypto.ErrInvalidSignature,
	// smcrypto.ErrSignatureLength, smcrypto.ErrSignatureRange).
	ErrInvalidSignature = errors.New("smjose: JWS signature does not verify")
)
