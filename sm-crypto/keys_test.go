package smcrypto

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// Key IDs of the GM/T 0003.5 example key (katPub), recorded in
// docs/crypto/sm-profile.md.
const (
	katKeyID       = "e6a4f9765fca89e8"
	katKeyIDString = "5qT5dl_Kieg"
)

func TestGenerateKey(t *testing.T) {
	priv, err := GenerateKey(nil)
	if err != nil {
		t.Fatalf("GenerateKey(nil) = %v", err)
	}
	if priv.Curve != sm2.P256() {
		t.Fatal("not on the SM2 curve")
	}
	if _, err := GenerateKey(errReader{}); err == nil {
		t.Fatal("GenerateKey(failing rand) succeeded")
	}
}

func TestKeyID(t *testing.T) {
	pub, err := ParsePublicKey(mustHex(t, katPub))
	if err != nil {
		t.Fatal(err)
	}
	id := KeyID(pub)
	sum := SM3(mustHex(t, katPub))
	if !bytes.Equal(id[:], sum[:8]) {
		t.Fatalf("KeyID = %x, want first 8 bytes of %x", id, sum)
	}
	if got := hex.EncodeToString(id[:]); got != katKeyID {
		t.Fatalf("KeyID = %s, want %s", got, katKeyID)
	}
	if got := KeyIDString(pub); got != katKeyIDString {
		t.Fatalf("KeyIDString = %s, want %s", got, katKeyIDString)
	}
	if KeyID(nil) != [8]byte{} || KeyIDString(nil) != "" {
		t.Fatal("KeyID(nil) should be zero")
	}
	if MarshalPublicKey(&newP256(t).PublicKey) != nil {
		t.Fatal("MarshalPublicKey(P-256) should be nil")
	}
}

func TestParsePublicKey(t *testing.T) {
	good := mustHex(t, katPub)
	p256 := newP256(t)
	p256SEC1 := make([]byte, 65)
	p256SEC1[0] = 4
	p256.X.FillBytes(p256SEC1[1:33])
	p256.Y.FillBytes(p256SEC1[33:])
	// x = 2^256 − 1 ≥ p: not a reduced field element.
	xTooBig := bytes.Clone(good)
	copy(xTooBig[1:33], bytes.Repeat([]byte{0xff}, 32))
	compressed := append([]byte{0x02 | good[64]&1}, good[1:33]...)
	tests := []struct {
		name    string
		in      []byte
		wantErr error
	}{
		{name: "ok/standard key", in: good},
		{name: "fail/empty", in: nil, wantErr: ErrMalformedKey},
		{name: "fail/64 bytes", in: good[1:], wantErr: ErrMalformedKey},
		{name: "fail/66 bytes", in: append(bytes.Clone(good), 0), wantErr: ErrMalformedKey},
		{name: "fail/compressed", in: compressed, wantErr: ErrMalformedKey},
		{name: "fail/prefix 0x06", in: append([]byte{6}, good[1:]...), wantErr: ErrMalformedKey},
		{name: "fail/P-256 point", in: p256SEC1, wantErr: ErrWrongCurve},
		{name: "fail/x all ff", in: xTooBig, wantErr: ErrWrongCurve},
		{name: "fail/zero point", in: append([]byte{4}, make([]byte, 64)...), wantErr: ErrWrongCurve},
		{name: "fail/flipped y", in: flip(good, 64), wantErr: ErrWrongCurve},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, err := ParsePublicKey(tt.in)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("ParsePublicKey = %v, want %v", err, tt.wantErr)
			}
			if err == nil && !bytes.Equal(MarshalPublicKey(pub), tt.in) {
				t.Fatal("round trip changed the key")
			}
		})
	}
}

func TestPEMRoundTrip(t *testing.T) {
	priv := newKey(t)
	privPEM, err := MarshalPrivateKeyPEM(priv)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(privPEM, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Fatalf("private PEM starts %q", privPEM[:30])
	}
	back, err := ParsePrivateKeyPEM(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(priv) {
		t.Fatal("private key changed in round trip")
	}
	pubPEM, err := MarshalPublicKeyPEM(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKeyPEM(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(&priv.PublicKey) {
		t.Fatal("public key changed in round trip")
	}
	// A key parsed from PEM signs, and the original public key verifies.
	sig, err := Sign(nil, back, []byte("m"))
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(pub, []byte("m"), sig); err != nil {
		t.Fatal(err)
	}
	// Surrounding white space is fine.
	if _, err := ParsePrivateKeyPEM(append(append([]byte("\n\n"), privPEM...), "\n \n"...)); err != nil {
		t.Fatalf("PEM with white space: %v", err)
	}
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestParsePrivateKeyPEMErrors(t *testing.T) {
	priv := newKey(t)
	good, _ := MarshalPrivateKeyPEM(priv)
	p256DER, err := x509.MarshalPKCS8PrivateKey(newP256(t))
	if err != nil {
		t.Fatal(err)
	}
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	edDER, _ := x509.MarshalPKCS8PrivateKey(edPriv)
	sec1DER, err := smx509.MarshalECPrivateKey(&priv.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	withHeaders := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}})
	tests := []struct {
		name    string
		in      []byte
		wantErr error
	}{
		{name: "ok/pkcs8", in: good},
		{name: "fail/empty", in: nil, wantErr: ErrMalformedPEM},
		{name: "fail/not PEM", in: []byte("hello"), wantErr: ErrMalformedPEM},
		{name: "fail/public key block", in: pemOf("PUBLIC KEY", []byte{1}), wantErr: ErrMalformedPEM},
		{name: "fail/SEC 1 EC PRIVATE KEY", in: pemOf("EC PRIVATE KEY", sec1DER), wantErr: ErrMalformedPEM},
		{name: "fail/SEC 1 body in PRIVATE KEY", in: pemOf("PRIVATE KEY", sec1DER), wantErr: ErrMalformedPEM},
		{name: "fail/encrypted headers", in: withHeaders, wantErr: ErrMalformedPEM},
		{name: "fail/garbage DER", in: pemOf("PRIVATE KEY", []byte{0x30, 0x03, 1, 2, 3}), wantErr: ErrMalformedPEM},
		{name: "fail/trailing block", in: append(bytes.Clone(good), good...), wantErr: ErrMalformedPEM},
		{name: "fail/trailing text", in: append(bytes.Clone(good), "x"...), wantErr: ErrMalformedPEM},
		{name: "fail/P-256 key", in: pemOf("PRIVATE KEY", p256DER), wantErr: ErrWrongCurve},
		{name: "fail/Ed25519 key", in: pemOf("PRIVATE KEY", edDER), wantErr: ErrWrongCurve},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePrivateKeyPEM(tt.in)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("ParsePrivateKeyPEM = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestParsePublicKeyPEMErrors(t *testing.T) {
	good, _ := MarshalPublicKeyPEM(&newKey(t).PublicKey)
	p256DER, err := x509.MarshalPKIXPublicKey(&newP256(t).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	edDER, _ := x509.MarshalPKIXPublicKey(edPub)
	tests := []struct {
		name    string
		in      []byte
		wantErr error
	}{
		{name: "ok/pkix", in: good},
		{name: "fail/empty", in: nil, wantErr: ErrMalformedPEM},
		{name: "fail/private key block", in: pemOf("PRIVATE KEY", []byte{1}), wantErr: ErrMalformedPEM},
		{name: "fail/garbage DER", in: pemOf("PUBLIC KEY", []byte("garbage")), wantErr: ErrMalformedPEM},
		{name: "fail/trailing text", in: append(bytes.Clone(good), "x"...), wantErr: ErrMalformedPEM},
		{name: "fail/P-256 key", in: pemOf("PUBLIC KEY", p256DER), wantErr: ErrWrongCurve},
		{name: "fail/Ed25519 key", in: pemOf("PUBLIC KEY", edDER), wantErr: ErrWrongCurve},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePublicKeyPEM(tt.in)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("ParsePublicKeyPEM = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestMarshalPEMErrors(t *testing.T) {
	p256 := newP256(t)
	if _, err := MarshalPrivateKeyPEM(nil); !errors.Is(err, ErrMalformedKey) {
		t.Fatalf("MarshalPrivateKeyPEM(nil) = %v", err)
	}
	if _, err := MarshalPrivateKeyPEM(&sm2.PrivateKey{PrivateKey: *p256}); !errors.Is(err, ErrWrongCurve) {
		t.Fatalf("MarshalPrivateKeyPEM(P-256) = %v", err)
	}
	if _, err := MarshalPublicKeyPEM(&p256.PublicKey); !errors.Is(err, ErrWrongCurve) {
		t.Fatalf("MarshalPublicKeyPEM(P-256) = %v", err)
	}
	if _, err := MarshalPublicKeyPEM(&ecdsa.PublicKey{}); !errors.Is(err, ErrMalformedKey) {
		t.Fatalf("MarshalPublicKeyPEM(empty) = %v", err)
	}
}

// TestPrivateKeyPEMRecomputesPublic: a PKCS#8 whose embedded public key
// does not match d still yields the key of d.
func TestPrivateKeyPEMRecomputesPublic(t *testing.T) {
	a, b := newKey(t), newKey(t)
	franken := &sm2.PrivateKey{PrivateKey: a.PrivateKey}
	franken.PublicKey = b.PublicKey
	der, err := smx509.MarshalPKCS8PrivateKey(franken)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParsePrivateKeyPEM(pemOf("PRIVATE KEY", der))
	if err != nil {
		t.Fatal(err)
	}
	if !got.PublicKey.Equal(&a.PublicKey) {
		t.Fatal("public key not recomputed from d")
	}
}

func TestErrorPrefix(t *testing.T) {
	for _, err := range []error{
		ErrWrongCurve, ErrMalformedKey, ErrMalformedPEM, ErrSignatureLength, ErrMalformedSignature,
		ErrSignatureRange, ErrInvalidSignature, ErrUIDLength, ErrMalformedCertificate,
		ErrCertificateInvalid, ErrPasswordMismatch, ErrUnknownHashFormat, ErrMalformedHash,
		ErrPasswordParams, ErrKeySize, ErrCiphertextTooShort, ErrDecrypt, ErrMalformedKEK, ErrWrongKEK,
	} {
		if !strings.HasPrefix(err.Error(), "smcrypto: ") {
			t.Errorf("%q lacks the smcrypto: prefix", err)
		}
	}
}
