package qr

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/sm-crypto/smcose"
)

// envelope is a COSE_Sign1 whose structure has been checked but whose
// signature has not.
type envelope struct {
	msg    cose.Sign1Message
	alg    cose.Algorithm // 0 when alg is not an integer
	kid    [smcrypto.KeyIDSize]byte
	hasTyp bool
	typ    string
}

var errNotTagged = errors.New("not a tagged COSE_Sign1 (want tag 18 and an array of 4)")

// parseEnvelope checks that raw is exactly one strict tagged COSE_Sign1
// (RFC 9052 §4.2): well-formed under mode's caps, protected header holding
// alg, a kid of 8 bytes and — only when allowTyp — typ; empty unprotected
// header; a byte-string payload that is itself strict CBOR under inner. It
// does not check alg's value nor the signature.
func parseEnvelope(raw []byte, outer, inner cbor.DecMode, allowTyp bool) (*envelope, error) {
	if len(raw) < 2 || raw[0] != 0xd2 || raw[1] != 0x84 {
		return nil, errNotTagged
	}
	if err := outer.Wellformed(raw); err != nil {
		return nil, err
	}
	var e envelope
	if err := e.msg.UnmarshalCBOR(raw); err != nil {
		return nil, err
	}
	if !bytes.Equal(e.msg.Headers.RawUnprotected, []byte{0xa0}) {
		return nil, errors.New("unprotected header must be an empty map")
	}
	h := e.msg.Headers.Protected
	want := 2
	if v, ok := h[cose.HeaderLabelType]; ok && allowTyp {
		s, isText := v.(string)
		if !isText {
			return nil, errors.New("typ must be text")
		}
		e.hasTyp, e.typ = true, s
		want++
	}
	if len(h) != want {
		return nil, fmt.Errorf("protected header has %d parameters, want alg and kid only", len(h))
	}
	a, ok := h[cose.HeaderLabelAlgorithm]
	if !ok {
		return nil, errors.New("protected header has no alg")
	}
	if alg, isAlg := a.(cose.Algorithm); isAlg {
		e.alg = alg
	}
	kid, ok := h[cose.HeaderLabelKeyID].([]byte)
	if !ok || len(kid) != smcrypto.KeyIDSize {
		return nil, fmt.Errorf("protected header kid must be %d bytes", smcrypto.KeyIDSize)
	}
	copy(e.kid[:], kid)
	if len(e.msg.Payload) == 0 {
		return nil, errors.New("empty payload")
	}
	// Duplicate keys, indefinite lengths and caps anywhere in the payload.
	var v any
	if err := inner.Unmarshal(e.msg.Payload, &v); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	return &e, nil
}

// verify checks the SM2 signature over the Sig_structure with no external
// AAD (RFC 9052 §4.4) through go-cose and smcose.
func (e *envelope) verify(v *smcose.Verifier) error {
	return e.msg.Verify(nil, v)
}

// sign1 returns a tagged COSE_Sign1 over payload with protected header
// {alg: AlgorithmSM2, kid} (and typ when non-empty).
func sign1(signer *smcose.Signer, kid [smcrypto.KeyIDSize]byte, typ string, payload []byte, rand io.Reader) ([]byte, error) {
	h := cose.Headers{Protected: cose.ProtectedHeader{
		cose.HeaderLabelAlgorithm: smcose.AlgorithmSM2,
		cose.HeaderLabelKeyID:     kid[:],
	}}
	if typ != "" {
		h.Protected[cose.HeaderLabelType] = typ
	}
	return cose.Sign1(rand, signer, h, payload, nil)
}
