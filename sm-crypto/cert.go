package smcrypto

import (
	"crypto/ecdsa"
	"encoding/pem"
	"fmt"
	"io"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// CreateSelfSignedCertificate returns the DER encoding of an X.509 v3
// certificate for priv's public key, issued and signed by priv itself with
// SM2-with-SM3 (OID 1.2.156.10197.1.501, GB/T 33560-2017; certificate
// profile GB/T 20518-2018) under DefaultUID.
//
// template supplies the subject, validity, key usage, basic constraints and
// extensions exactly as for smx509.CreateCertificate; it is copied, never
// modified. A nil SerialNumber gets a random positive 159-bit serial read
// from rand (RFC 5280 §4.1.2.2). A nil rand means crypto/rand.Reader.
//
// Errors: ErrMalformedKey, ErrWrongCurve, ErrMalformedCertificate (the
// template is rejected by smx509, e.g. negative serial or bad constraints).
func CreateSelfSignedCertificate(rand io.Reader, template *smx509.Certificate, priv *sm2.PrivateKey) ([]byte, error) {
	if err := checkPrivateKey(priv); err != nil {
		return nil, err
	}
	if template == nil {
		return nil, fmt.Errorf("%w: nil template", ErrMalformedCertificate)
	}
	tmpl := *template
	tmpl.SignatureAlgorithm = smx509.SM2WithSM3
	return createCertificate(rand, &tmpl, &tmpl, &priv.PublicKey, priv)
}

// CreateCertificate returns the DER encoding of an X.509 v3 certificate for
// pub, issued by parent and signed with parentPriv (SM2-with-SM3 under
// DefaultUID). parentPriv must be the key of parent's public key. The
// template rules are those of CreateSelfSignedCertificate; the issuer name
// and authority key identifier come from parent.
//
// Errors: ErrMalformedKey, ErrWrongCurve (pub, parentPriv or parent's key is
// not SM2), ErrMalformedCertificate (template rejected, parentPriv does not
// match parent).
func CreateCertificate(rand io.Reader, template, parent *smx509.Certificate, pub *ecdsa.PublicKey, parentPriv *sm2.PrivateKey) ([]byte, error) {
	if err := checkPublicKey(pub); err != nil {
		return nil, err
	}
	if err := checkPrivateKey(parentPriv); err != nil {
		return nil, err
	}
	if template == nil || parent == nil {
		return nil, fmt.Errorf("%w: nil template or parent", ErrMalformedCertificate)
	}
	if parent.PublicKey != nil && !sm2.IsSM2PublicKey(parent.PublicKey) {
		return nil, fmt.Errorf("%w: parent certificate key is %T", ErrWrongCurve, parent.PublicKey)
	}
	tmpl := *template
	tmpl.SignatureAlgorithm = smx509.SM2WithSM3
	return createCertificate(rand, &tmpl, parent, pub, parentPriv)
}

func createCertificate(rand io.Reader, tmpl, parent *smx509.Certificate, pub *ecdsa.PublicKey, priv *sm2.PrivateKey) ([]byte, error) {
	der, err := smx509.CreateCertificate(randOrDefault(rand), tmpl, parent, pub, priv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedCertificate, err)
	}
	return der, nil
}

// ParseCertificate parses one DER X.509 certificate whose subject public key
// is SM2. Errors: ErrMalformedCertificate (not a certificate, or data after
// it), ErrWrongCurve (the key is not SM2). The signature is not checked
// here; use VerifyCertificate.
func ParseCertificate(der []byte) (*smx509.Certificate, error) {
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedCertificate, err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: certificate key is %T", ErrWrongCurve, cert.PublicKey)
	}
	if err := checkPublicKey(pub); err != nil {
		return nil, err
	}
	return cert, nil
}

// ParseCertificatePEM parses exactly one "CERTIFICATE" PEM block (RFC 7468
// §5) with ParseCertificate. Errors: ErrMalformedPEM, then those of
// ParseCertificate.
func ParseCertificatePEM(data []byte) (*smx509.Certificate, error) {
	der, err := decodeOnePEM(data, pemCertificate)
	if err != nil {
		return nil, err
	}
	return ParseCertificate(der)
}

// MarshalCertificatePEM wraps a DER certificate in a "CERTIFICATE" PEM block.
func MarshalCertificatePEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: der})
}

// VerifyCertificate checks that cert chains to one of roots, possibly
// through intermediates, with every certificate valid at now (the zero time
// means time.Now()), every certificate key SM2 and every signature correct,
// CA and path-length constraints respected (RFC 5280 §6). Only the given
// roots are trusted, never the system pool. Extended key usage is not restricted
// (ExtKeyUsageAny); callers that need a usage check it on cert themselves.
// Host names are not checked.
//
// Errors: ErrWrongCurve (cert's key is not SM2), ErrCertificateInvalid
// wrapping smx509's reason (unknown authority, expired, not a CA …).
func VerifyCertificate(cert *smx509.Certificate, roots, intermediates []*smx509.Certificate, now time.Time) error {
	if cert == nil {
		return fmt.Errorf("%w: nil certificate", ErrCertificateInvalid)
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || checkPublicKey(pub) != nil {
		return fmt.Errorf("%w: certificate key is not SM2", ErrWrongCurve)
	}
	rootPool := smx509.NewCertPool()
	for _, c := range roots {
		if c != nil {
			rootPool.AddCert(c)
		}
	}
	interPool := smx509.NewCertPool()
	for _, c := range intermediates {
		if c != nil {
			interPool.AddCert(c)
		}
	}
	if now.IsZero() {
		now = time.Now()
	}
	chains, err := cert.Verify(smx509.VerifyOptions{
		Roots:         rootPool,
		Intermediates: interPool,
		CurrentTime:   now,
		KeyUsages:     []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny},
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCertificateInvalid, err)
	}
	for _, chain := range chains {
		if allSM2(chain) {
			return nil
		}
	}
	return fmt.Errorf("%w: every chain has a non-SM2 certificate", ErrCertificateInvalid)
}

func allSM2(chain []*smx509.Certificate) bool {
	for _, c := range chain {
		if !sm2.IsSM2PublicKey(c.PublicKey) {
			return false
		}
	}
	return true
}
