package smcrypto

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

var certNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func caTemplate(name string) *smx509.Certificate {
	return &smx509.Certificate{
		Subject:               pkix.Name{CommonName: name, Organization: []string{"tongban test"}, Country: []string{"CN"}},
		NotBefore:             certNow.Add(-time.Hour),
		NotAfter:              certNow.Add(365 * 24 * time.Hour),
		KeyUsage:              smx509.KeyUsageCertSign | smx509.KeyUsageCRLSign | smx509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
}

func leafTemplate(name string) *smx509.Certificate {
	return &smx509.Certificate{
		Subject:   pkix.Name{CommonName: name},
		NotBefore: certNow.Add(-time.Hour),
		NotAfter:  certNow.Add(24 * time.Hour),
		KeyUsage:  smx509.KeyUsageDigitalSignature,
	}
}

type testCA struct {
	key  *sm2.PrivateKey
	cert *smx509.Certificate
}

func newCA(t *testing.T, name string) testCA {
	t.Helper()
	key := newKey(t)
	der, err := CreateSelfSignedCertificate(nil, caTemplate(name), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{key: key, cert: cert}
}

func (ca testCA) issue(t *testing.T, tmpl *smx509.Certificate, pubKey *sm2.PrivateKey) *smx509.Certificate {
	t.Helper()
	der, err := CreateCertificate(nil, tmpl, ca.cert, &pubKey.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestCertificates(t *testing.T) {
	root := newCA(t, "tongban test root")
	otherRoot := newCA(t, "another root")

	interKey := newKey(t)
	inter := testCA{key: interKey, cert: root.issue(t, caTemplate("tongban issuing CA"), interKey)}
	leafKey := newKey(t)
	leaf := inter.issue(t, leafTemplate("qr-signer-1"), leafKey)
	direct := root.issue(t, leafTemplate("direct leaf"), leafKey)

	if leaf.SignatureAlgorithm != smx509.SM2WithSM3 {
		t.Fatalf("signature algorithm = %v", leaf.SignatureAlgorithm)
	}
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(&leafKey.PublicKey) {
		t.Fatal("leaf key differs")
	}
	if leaf.SerialNumber == nil || leaf.SerialNumber.Sign() <= 0 {
		t.Fatal("no positive serial number")
	}
	if err := leaf.CheckSignatureFrom(inter.cert); err != nil {
		t.Fatalf("CheckSignatureFrom = %v", err)
	}

	tests := []struct {
		name          string
		cert          *smx509.Certificate
		roots         []*smx509.Certificate
		intermediates []*smx509.Certificate
		now           time.Time
		wantErr       error
	}{
		{name: "ok/self-signed root", cert: root.cert, roots: []*smx509.Certificate{root.cert}, now: certNow},
		{name: "ok/CA-issued leaf", cert: direct, roots: []*smx509.Certificate{root.cert}, now: certNow},
		{name: "ok/via intermediate", cert: leaf, roots: []*smx509.Certificate{root.cert}, intermediates: []*smx509.Certificate{inter.cert}, now: certNow},
		{name: "ok/one of several roots", cert: direct, roots: []*smx509.Certificate{otherRoot.cert, root.cert}, now: certNow},
		{name: "fail/wrong issuer", cert: direct, roots: []*smx509.Certificate{otherRoot.cert}, now: certNow, wantErr: ErrCertificateInvalid},
		{name: "fail/missing intermediate", cert: leaf, roots: []*smx509.Certificate{root.cert}, now: certNow, wantErr: ErrCertificateInvalid},
		{name: "fail/no roots", cert: direct, now: certNow, wantErr: ErrCertificateInvalid},
		{name: "fail/expired", cert: direct, roots: []*smx509.Certificate{root.cert}, now: certNow.Add(48 * time.Hour), wantErr: ErrCertificateInvalid},
		{name: "fail/not yet valid", cert: direct, roots: []*smx509.Certificate{root.cert}, now: certNow.Add(-2 * time.Hour), wantErr: ErrCertificateInvalid},
		{name: "fail/leaf as issuer", cert: leaf, roots: []*smx509.Certificate{root.cert}, intermediates: []*smx509.Certificate{direct}, now: certNow, wantErr: ErrCertificateInvalid},
		{name: "fail/nil certificate", cert: nil, roots: []*smx509.Certificate{root.cert}, now: certNow, wantErr: ErrCertificateInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyCertificate(tt.cert, tt.roots, tt.intermediates, tt.now)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("VerifyCertificate = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// A leaf signed by a key other than its issuer's fails the chain.
func TestCertificateForgedIssuer(t *testing.T) {
	root := newCA(t, "root")
	impostorKey := newKey(t)
	// Same subject and key ID as root, different key.
	tmpl := caTemplate("root")
	fake := testCA{key: impostorKey}
	der, err := CreateSelfSignedCertificate(nil, tmpl, impostorKey)
	if err != nil {
		t.Fatal(err)
	}
	fake.cert, _ = ParseCertificate(der)
	leaf := fake.issue(t, leafTemplate("leaf"), newKey(t))
	if err := VerifyCertificate(leaf, []*smx509.Certificate{root.cert}, nil, certNow); !errors.Is(err, ErrCertificateInvalid) {
		t.Fatalf("VerifyCertificate(forged) = %v, want ErrCertificateInvalid", err)
	}
	// Mismatched parent key and private key is refused at creation.
	if _, err := CreateCertificate(nil, leafTemplate("x"), root.cert, &impostorKey.PublicKey, impostorKey); !errors.Is(err, ErrMalformedCertificate) {
		t.Fatalf("CreateCertificate(mismatched parent) = %v, want ErrMalformedCertificate", err)
	}
}

func TestCertificatePEMRoundTrip(t *testing.T) {
	root := newCA(t, "root")
	p := MarshalCertificatePEM(root.cert.Raw)
	back, err := ParseCertificatePEM(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Raw, root.cert.Raw) {
		t.Fatal("PEM round trip changed the certificate")
	}
	if _, err := ParseCertificatePEM([]byte("junk")); !errors.Is(err, ErrMalformedPEM) {
		t.Fatalf("ParseCertificatePEM(junk) = %v", err)
	}
	if _, err := ParseCertificatePEM(pemOf("CERTIFICATE", []byte{0x30, 0})); !errors.Is(err, ErrMalformedCertificate) {
		t.Fatalf("ParseCertificatePEM(bad DER) = %v", err)
	}
}

func TestCertificateErrors(t *testing.T) {
	p256 := newP256(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "p256"}, NotBefore: certNow, NotAfter: certNow.Add(time.Hour)}
	p256DER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &p256.PublicKey, p256)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseCertificate(p256DER); !errors.Is(err, ErrWrongCurve) {
		t.Fatalf("ParseCertificate(P-256) = %v, want ErrWrongCurve", err)
	}
	if _, err := ParseCertificate([]byte("garbage")); !errors.Is(err, ErrMalformedCertificate) {
		t.Fatalf("ParseCertificate(garbage) = %v", err)
	}
	if _, err := CreateSelfSignedCertificate(nil, nil, newKey(t)); !errors.Is(err, ErrMalformedCertificate) {
		t.Fatalf("CreateSelfSignedCertificate(nil template) = %v", err)
	}
	if _, err := CreateSelfSignedCertificate(nil, caTemplate("x"), &sm2.PrivateKey{PrivateKey: *p256}); !errors.Is(err, ErrWrongCurve) {
		t.Fatalf("CreateSelfSignedCertificate(P-256 key) = %v", err)
	}
	root := newCA(t, "root")
	if _, err := CreateCertificate(nil, leafTemplate("x"), root.cert, &p256.PublicKey, root.key); !errors.Is(err, ErrWrongCurve) {
		t.Fatalf("CreateCertificate(P-256 subject key) = %v", err)
	}
	neg := leafTemplate("neg")
	neg.SerialNumber = big.NewInt(-1)
	if _, err := CreateCertificate(nil, neg, root.cert, &root.key.PublicKey, root.key); !errors.Is(err, ErrMalformedCertificate) {
		t.Fatalf("CreateCertificate(negative serial) = %v", err)
	}
	// The template is not modified.
	tm := leafTemplate("keep")
	if _, err := CreateCertificate(nil, tm, root.cert, &root.key.PublicKey, root.key); err != nil {
		t.Fatal(err)
	}
	if tm.SignatureAlgorithm != smx509.UnknownSignatureAlgorithm || tm.SerialNumber != nil {
		t.Fatal("template was modified")
	}
}
