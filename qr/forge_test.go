package qr

import (
	"io"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/veraison/go-cose"

	"github.com/tongban/tongban/qr/internal/base45"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/sm-crypto/smcose"
)

// forge builds codes the Minter would refuse to make, for negative tests.
type forge struct {
	t   testing.TB
	key *sm2.PrivateKey
	// alg and kid go in the protected header; zero means SM2 and the key's ID.
	alg   cose.Algorithm
	kid   []byte
	extra cose.ProtectedHeader // more protected parameters
}

// algSigner signs with SM2 but reports any alg, to forge a wrong header.
type algSigner struct {
	*smcose.Signer
	alg cose.Algorithm
}

func (s algSigner) Algorithm() cose.Algorithm { return s.alg }

// cose returns a tagged COSE_Sign1 over payload.
func (f forge) cose(payload []byte) []byte {
	f.t.Helper()
	key := f.key
	if key == nil {
		key = codeKey(f.t)
	}
	signer, err := smcose.NewSigner(key)
	if err != nil {
		f.t.Fatal(err)
	}
	alg := f.alg
	if alg == 0 {
		alg = smcose.AlgorithmSM2
	}
	kid := f.kid
	if kid == nil {
		id := smcrypto.KeyID(&key.PublicKey)
		kid = id[:]
	}
	h := cose.Headers{Protected: cose.ProtectedHeader{cose.HeaderLabelAlgorithm: alg, cose.HeaderLabelKeyID: kid}}
	for k, v := range f.extra {
		h.Protected[k] = v
	}
	msg, err := cose.Sign1(&countingReader{}, algSigner{signer, alg}, h, payload, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return msg
}

// text returns the code text for payload.
func (f forge) text(payload []byte) string { return codeText(f.cose(payload)) }

func codeText(msg []byte) string { return Prefix + base45.Encode(msg) }

// claimsAt returns a claims map issued at iat, valid for d, with display.
func claimsAt(iat time.Time, d time.Duration, display any) map[int64]any {
	return map[int64]any{
		ClaimIat:     iat.Unix(),
		ClaimExp:     iat.Add(d).Unix(),
		ClaimCti:     []byte{1, 2, 3, 4, 5, 6, 7, 8},
		ClaimDisplay: display,
	}
}

func mustCBOR(t testing.TB, v any) []byte {
	t.Helper()
	b, err := encMode.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var _ io.Reader = (*countingReader)(nil)

func decodeBase45Body(text string) ([]byte, error) {
	return base45.Decode(text[len(Prefix):])
}
