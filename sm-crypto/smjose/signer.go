package smjose

import (
	"crypto/ecdsa"
	"fmt"
	"io"

	"github.com/emmansun/gmsm/sm2"
	"github.com/go-jose/go-jose/v4"
	smcrypto "github.com/tongban/tongban/sm-crypto"
)

type signer struct {
	priv *sm2.PrivateKey
	kid  string
	rand io.Reader
}

// NewSigner returns a jose.OpaqueSigner that signs with priv using AlgSM2:
// smcrypto.Sign over the JWS signing input (RFC 7515 §5.1), giving the raw
// 64-byte r ‖ s signature. Use it as the Key of a jose.SigningKey whose
// Algorithm is AlgSM2.
//
// Public returns a *jose.JSONWebKey whose Key is priv's *ecdsa.PublicKey,
// KeyID kid, Algorithm AlgSM2 and Use "sig". go-jose only reads KeyID from
// it (the "kid" header). Do not set SignerOptions.EmbedJWK: go-jose cannot
// marshal an SM2 key and Sign returns its error.
//
// A nil or non-SM2 priv is not reported here; SignPayload then fails with
// smcrypto.ErrMalformedKey or smcrypto.ErrWrongCurve.
func NewSigner(priv *sm2.PrivateKey, kid string) jose.OpaqueSigner {
	return &signer{priv: priv, kid: kid}
}

func (s *signer) Public() *jose.JSONWebKey {
	var pub *ecdsa.PublicKey
	if s.priv != nil {
		pub = &s.priv.PublicKey
	}
	return &jose.JSONWebKey{Key: pub, KeyID: s.kid, Algorithm: string(AlgSM2), Use: "sig"}
}

func (s *signer) Algs() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{AlgSM2}
}

func (s *signer) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != AlgSM2 {
		return nil, fmt.Errorf("%w: asked for %q", ErrAlgorithm, alg)
	}
	return smcrypto.Sign(s.rand, s.priv, payload)
}
