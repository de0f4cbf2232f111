package smcrypto

import (
	"crypto/ecdsa"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// PublicKeySize is the length of an SM2 public key in SEC 1 uncompressed
// form: 0x04 ‖ X ‖ Y, 1 + 32 + 32 bytes.
const PublicKeySize = 65

// KeyIDSize is the length of a KeyID in bytes.
const KeyIDSize = 8

// GenerateKey returns a new SM2 key pair on the recommended curve of
// GB/T 32918.5-2017, with the private scalar d uniformly random in [1, n-2]
// as GB/T 32918.1-2016 §6.1 requires. A nil rand means crypto/rand.Reader
// (gmsm's own sm2.GenerateKey panics on nil). Errors from rand are returned
// wrapped.
func GenerateKey(rand io.Reader) (*sm2.PrivateKey, error) {
	priv, err := sm2.GenerateKey(randOrDefault(rand))
	if err != nil {
		return nil, fmt.Errorf("smcrypto: generate SM2 key: %w", err)
	}
	return priv, nil
}

// MarshalPublicKey returns pub in SEC 1 §2.3.3 uncompressed form,
// 0x04 ‖ X ‖ Y, 65 bytes, X and Y big-endian and 32 bytes each (the
// point-to-octet-string conversion of GB/T 32918.1-2016 §4.2 with
// PC = 04). It returns nil when pub is nil, not on sm2.P256(), or not a
// point on the curve.
func MarshalPublicKey(pub *ecdsa.PublicKey) []byte {
	if checkPublicKey(pub) != nil {
		return nil
	}
	return marshalPoint(pub.X, pub.Y)
}

func marshalPoint(x, y *big.Int) []byte {
	b := make([]byte, PublicKeySize)
	b[0] = 0x04
	x.FillBytes(b[1:33])
	y.FillBytes(b[33:65])
	return b
}

// ParsePublicKey parses a 65-byte SEC 1 uncompressed SM2 public key
// (0x04 ‖ X ‖ Y). Compressed and hybrid forms are not accepted.
// It returns ErrMalformedKey for any other length or a first byte other
// than 0x04, and ErrWrongCurve when (X, Y) is not a point of the SM2 curve
// or a coordinate is not reduced modulo p — which is what a NIST P-256 key
// looks like here.
func ParsePublicKey(b []byte) (*ecdsa.PublicKey, error) {
	if len(b) != PublicKeySize {
		return nil, fmt.Errorf("%w: SEC 1 public key is %d bytes, want %d", ErrMalformedKey, len(b), PublicKeySize)
	}
	if b[0] != 0x04 {
		return nil, fmt.Errorf("%w: SEC 1 public key starts with 0x%02x, want 0x04 (uncompressed)", ErrMalformedKey, b[0])
	}
	pub, err := sm2.NewPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWrongCurve, err)
	}
	return pub, nil
}

// KeyID returns the first 8 bytes of SM3(MarshalPublicKey(pub)), the 65-byte
// SEC 1 uncompressed key. It is the kid of COSE signatures and trust-list
// entries. For an invalid pub (nil, wrong curve) it returns the zero array.
func KeyID(pub *ecdsa.PublicKey) [KeyIDSize]byte {
	var id [KeyIDSize]byte
	b := MarshalPublicKey(pub)
	if b == nil {
		return id
	}
	sum := sm3.Sum(b)
	copy(id[:], sum[:KeyIDSize])
	return id
}

// KeyIDString returns KeyID(pub) as base64url without padding (RFC 4648 §5),
// 11 characters. It is the JOSE kid of SM2 keys. For an invalid pub it
// returns the empty string.
func KeyIDString(pub *ecdsa.PublicKey) string {
	if MarshalPublicKey(pub) == nil {
		return ""
	}
	id := KeyID(pub)
	return base64.RawURLEncoding.EncodeToString(id[:])
}

// checkPublicKey reports ErrMalformedKey for a nil key or nil coordinates,
// and ErrWrongCurve for a key that is not a valid point of sm2.P256().
func checkPublicKey(pub *ecdsa.PublicKey) error {
	if pub == nil || pub.X == nil || pub.Y == nil {
		return fmt.Errorf("%w: nil public key", ErrMalformedKey)
	}
	if pub.Curve != sm2.P256() {
		return fmt.Errorf("%w: public key curve is %s", ErrWrongCurve, curveName(pub))
	}
	if pub.X.Sign() < 0 || pub.Y.Sign() < 0 || pub.X.BitLen() > 256 || pub.Y.BitLen() > 256 {
		return fmt.Errorf("%w: coordinate out of range", ErrWrongCurve)
	}
	if _, err := sm2.NewPublicKey(marshalPoint(pub.X, pub.Y)); err != nil {
		return fmt.Errorf("%w: %v", ErrWrongCurve, err)
	}
	return nil
}

// checkPrivateKey reports ErrMalformedKey for a nil key or scalar, and
// ErrWrongCurve for a key that is not on sm2.P256().
func checkPrivateKey(priv *sm2.PrivateKey) error {
	if priv == nil || priv.D == nil {
		return fmt.Errorf("%w: nil private key", ErrMalformedKey)
	}
	if err := checkPublicKey(&priv.PublicKey); err != nil {
		return err
	}
	n := sm2.P256().Params().N
	if priv.D.Sign() <= 0 || priv.D.Cmp(new(big.Int).Sub(n, big.NewInt(1))) >= 0 {
		return fmt.Errorf("%w: private scalar outside [1, n-2]", ErrMalformedKey)
	}
	return nil
}

func curveName(pub *ecdsa.PublicKey) string {
	if pub.Curve == nil {
		return "nil"
	}
	if p := pub.Curve.Params(); p != nil && p.Name != "" {
		return p.Name
	}
	return "unknown"
}
