package smcose_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/sm-crypto/smcose"
)

func fixedKey(t *testing.T, b byte) *sm2.PrivateKey {
	t.Helper()
	priv, err := sm2.NewPrivateKey(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func sign1(t *testing.T, priv *sm2.PrivateKey, payload []byte) []byte {
	t.Helper()
	signer, err := smcose.NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	kid := smcrypto.KeyID(&priv.PublicKey)
	hdr := cose.Headers{Protected: cose.ProtectedHeader{
		cose.HeaderLabelAlgorithm: smcose.AlgorithmSM2,
		cose.HeaderLabelKeyID:     kid[:],
	}}
	msg, err := cose.Sign1(rand.Reader, signer, hdr, payload, nil)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func TestAlgorithmEncoding(t *testing.T) {
	b, err := cbor.Marshal(int64(smcose.AlgorithmSM2))
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0x3a, 0x00, 0x01, 0x01, 0xf4}; !bytes.Equal(b, want) {
		t.Errorf("alg encodes as %x, want %x", b, want)
	}
	if smcose.AlgorithmSM2 >= -65536 {
		t.Errorf("AlgorithmSM2 = %d is not in the private-use range", smcose.AlgorithmSM2)
	}
}

func TestSignVerify(t *testing.T) {
	priv := fixedKey(t, 0x11)
	msg := sign1(t, priv, []byte("payload"))
	if !bytes.HasPrefix(msg, []byte{0xd2, 0x84}) {
		t.Errorf("not a tagged COSE_Sign1: %x", msg[:2])
	}
	verifier, err := smcose.NewVerifier(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}

	var m cose.Sign1Message
	if err := m.UnmarshalCBOR(msg); err != nil {
		t.Fatal(err)
	}
	if len(m.Signature) != smcrypto.SignatureSize {
		t.Errorf("signature is %d bytes, want 64", len(m.Signature))
	}
	if err := m.Verify(nil, verifier); err != nil {
		t.Fatalf("Verify: %v", err)
	}

	// The signature is SM2 over the whole Sig_structure (RFC 9052 §4.4).
	sigStructure, err := cbor.Marshal([]any{"Signature1", []byte(m.Headers.RawProtected[1:]), []byte{}, m.Payload})
	if err != nil {
		t.Fatal(err)
	}
	if err := smcrypto.Verify(&priv.PublicKey, sigStructure, m.Signature); err != nil {
		t.Errorf("signature is not SM2 over the Sig_structure: %v", err)
	}
}

func TestVerifyFailures(t *testing.T) {
	priv := fixedKey(t, 0x11)
	other := fixedKey(t, 0x22)
	good := sign1(t, priv, []byte("payload"))
	parse := func(b []byte) *cose.Sign1Message {
		var m cose.Sign1Message
		if err := m.UnmarshalCBOR(b); err != nil {
			t.Fatal(err)
		}
		return &m
	}
	tests := []struct {
		name   string
		mutate func(m *cose.Sign1Message)
		key    *ecdsa.PublicKey
		want   error
	}{
		{"fail/payload", func(m *cose.Sign1Message) { m.Payload = []byte("payloae") }, &priv.PublicKey, smcrypto.ErrInvalidSignature},
		{"fail/signature-bit", func(m *cose.Sign1Message) { m.Signature[63] ^= 1 }, &priv.PublicKey, smcrypto.ErrInvalidSignature},
		{"fail/signature-short", func(m *cose.Sign1Message) { m.Signature = m.Signature[:63] }, &priv.PublicKey, smcrypto.ErrSignatureLength},
		{"fail/other-key", func(*cose.Sign1Message) {}, &other.PublicKey, smcrypto.ErrInvalidSignature},
	}
	for _, tt := range tests {
		for name, newVerifier := range verifiers {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				m := parse(good)
				tt.mutate(m)
				v, err := newVerifier(tt.key)
				if err != nil {
					t.Fatal(err)
				}
				err = m.Verify(nil, v)
				if !errors.Is(err, cose.ErrVerification) || !errors.Is(err, tt.want) {
					t.Errorf("Verify = %v, want cose.ErrVerification and %v", err, tt.want)
				}
				if err := parse(good).Verify(nil, v); (tt.key == &priv.PublicKey) != (err == nil) {
					t.Errorf("Verify(unchanged) = %v", err)
				}
			})
		}
	}
}

// verifiers are the two constructors, which must give the same results.
var verifiers = map[string]func(*ecdsa.PublicKey) (*smcose.Verifier, error){
	"NewVerifier":         smcose.NewVerifier,
	"NewPreparedVerifier": smcose.NewPreparedVerifier,
}

func TestAlgorithmMismatch(t *testing.T) {
	priv := fixedKey(t, 0x11)
	msg := sign1(t, priv, []byte("payload"))
	var m cose.Sign1Message
	if err := m.UnmarshalCBOR(msg); err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	v, err := cose.NewVerifier(cose.AlgorithmES256, &ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(nil, v); !errors.Is(err, cose.ErrAlgorithmMismatch) {
		t.Errorf("ES256 verifier on an SM2 message: %v, want ErrAlgorithmMismatch", err)
	}
}

func TestNewRejectsBadKeys(t *testing.T) {
	if _, err := smcose.NewSigner(nil); !errors.Is(err, smcose.ErrNilKey) {
		t.Errorf("NewSigner(nil) = %v", err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, newVerifier := range verifiers {
		if _, err := newVerifier(nil); !errors.Is(err, smcose.ErrNilKey) {
			t.Errorf("%s(nil) = %v", name, err)
		}
		if _, err := newVerifier(&ec.PublicKey); !errors.Is(err, smcrypto.ErrWrongCurve) {
			t.Errorf("%s(P-256) = %v, want ErrWrongCurve", name, err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	priv, err := sm2.NewPrivateKey(bytes.Repeat([]byte{0x11}, 32))
	if err != nil {
		b.Fatal(err)
	}
	signer, _ := smcose.NewSigner(priv)
	content := bytes.Repeat([]byte{0xa5}, 180)
	sig, err := signer.Sign(nil, content)
	if err != nil {
		b.Fatal(err)
	}
	v, _ := smcose.NewVerifier(&priv.PublicKey)
	for b.Loop() {
		if err := v.Verify(content, sig); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	priv, err := sm2.NewPrivateKey(bytes.Repeat([]byte{0x11}, 32))
	if err != nil {
		b.Fatal(err)
	}
	signer, _ := smcose.NewSigner(priv)
	content := bytes.Repeat([]byte{0xa5}, 180)
	for b.Loop() {
		if _, err := signer.Sign(nil, content); err != nil {
			b.Fatal(err)
		}
	}
}
