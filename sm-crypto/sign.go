package smcrypto

import (
	"crypto/ecdsa"
	"fmt"
	"io"
	"math/big"

	"github.com/emmansun/gmsm/sm2"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// DefaultUID is the SM2 user ID used when no other is agreed: the 16 ASCII
// bytes "1234567812345678" (0x31…0x38 twice), ENTL_A = 0x0080, as fixed by
// GB/T 35276-2017 clause 10 (identical to GM/T 0009-2012 clause 10). Every
// tongban signature uses it (docs/crypto/sm-profile.md).
const DefaultUID = "1234567812345678"

// SignatureSize is the length of a raw SM2 signature r ‖ s.
const SignatureSize = 64

// maxUIDLen is the longest user ID whose bit length fits ENTL_A (16 bits).
const maxUIDLen = 0x1fff

var defaultUID = []byte(DefaultUID)

// Sign signs msg with SM2 as specified in GB/T 32918.2-2016 §6.1, hashing
// Z_A ‖ msg with SM3, where Z_A (§5.5) uses DefaultUID. msg is the message,
// not a digest. It returns r ‖ s, 64 bytes, each big-endian and left-padded
// to 32 bytes — the JOSE and COSE encoding.
//
// The per-signature nonce is hedged (gmsm: HMAC-SM3 DRBG over d, the digest
// and 32 bytes from rand), so a weak rand does not leak the key. A nil rand
// means crypto/rand.Reader; the same rand stream gives the same signature
// with the same gmsm version, but signatures are not otherwise reproducible.
//
// Errors: ErrMalformedKey, ErrWrongCurve, or a wrapped error from rand.
func Sign(rand io.Reader, priv *sm2.PrivateKey, msg []byte) ([]byte, error) {
	return signRaw(rand, priv, defaultUID, msg)
}

// SignWithUID is Sign with an explicit SM2 user ID for Z_A; uid must be 1 to
// 8191 bytes (ErrUIDLength) because ENTL_A is its 16-bit bit length
// (GB/T 32918.2-2016 §5.5).
func SignWithUID(rand io.Reader, priv *sm2.PrivateKey, uid, msg []byte) ([]byte, error) {
	if err := checkUID(uid); err != nil {
		return nil, err
	}
	return signRaw(rand, priv, uid, msg)
}

// SignASN1 is Sign returning the DER encoding SEQUENCE { r INTEGER,
// s INTEGER } used by X.509 and CMS (SM2Signature, GB/T 35276-2017 clause 7), at most
// 72 bytes.
func SignASN1(rand io.Reader, priv *sm2.PrivateKey, msg []byte) ([]byte, error) {
	return signDER(rand, priv, defaultUID, msg)
}

// SignASN1WithUID is SignASN1 with an explicit user ID (see SignWithUID).
func SignASN1WithUID(rand io.Reader, priv *sm2.PrivateKey, uid, msg []byte) ([]byte, error) {
	if err := checkUID(uid); err != nil {
		return nil, err
	}
	return signDER(rand, priv, uid, msg)
}

// Verify checks a raw r ‖ s SM2 signature of msg by pub with DefaultUID,
// as specified in GB/T 32918.2-2016 §7.1. msg is the message, not a digest.
//
// It returns nil, or: ErrMalformedKey (nil key), ErrWrongCurve (pub not on
// the SM2 curve), ErrSignatureLength (sig not 64 bytes), ErrSignatureRange
// (r or s zero or ≥ n, §7.1 B1–B2), ErrInvalidSignature (anything else,
// including r + s ≡ 0 mod n, §7.1 B5). There is no low-S rule: (r, n−s) is
// not a valid signature of the same message (see docs/crypto/sm-profile.md).
func Verify(pub *ecdsa.PublicKey, msg, sig []byte) error {
	return verifyRaw(pub, defaultUID, msg, sig)
}

// VerifyWithUID is Verify with an explicit user ID; uid must be 1 to 8191
// bytes (ErrUIDLength). A signature made under another user ID fails with
// ErrInvalidSignature.
func VerifyWithUID(pub *ecdsa.PublicKey, uid, msg, sig []byte) error {
	if err := checkUID(uid); err != nil {
		return err
	}
	return verifyRaw(pub, uid, msg, sig)
}

// VerifyASN1 is Verify for a DER SEQUENCE { r INTEGER, s INTEGER }
// signature. A signature that is not strict DER with nothing after it fails
// with ErrMalformedSignature; the other errors are those of Verify.
func VerifyASN1(pub *ecdsa.PublicKey, msg, sig []byte) error {
	return verifyDER(pub, defaultUID, msg, sig)
}

// VerifyASN1WithUID is VerifyASN1 with an explicit user ID.
func VerifyASN1WithUID(pub *ecdsa.PublicKey, uid, msg, sig []byte) error {
	if err := checkUID(uid); err != nil {
		return err
	}
	return verifyDER(pub, uid, msg, sig)
}

func checkUID(uid []byte) error {
	if len(uid) == 0 || len(uid) > maxUIDLen {
		return fmt.Errorf("%w: got %d bytes", ErrUIDLength, len(uid))
	}
	return nil
}

func signRaw(rand io.Reader, priv *sm2.PrivateKey, uid, msg []byte) ([]byte, error) {
	der, err := signDER(rand, priv, uid, msg)
	if err != nil {
		return nil, err
	}
	r, s, err := parseDER(der)
	if err != nil {
		return nil, fmt.Errorf("smcrypto: sign: gmsm returned bad DER: %w", err)
	}
	return rawFromInts(r, s), nil
}

func signDER(rand io.Reader, priv *sm2.PrivateKey, uid, msg []byte) ([]byte, error) {
	if err := checkPrivateKey(priv); err != nil {
		return nil, err
	}
	// Hash Z_A ‖ msg here rather than with gmsm's SM2SignerOption, which
	// refuses an empty msg.
	digest, err := sm2.CalculateSM2Hash(&priv.PublicKey, msg, uid)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWrongCurve, err)
	}
	der, err := sm2.SignASN1(randOrDefault(rand), priv, digest, nil)
	if err != nil {
		return nil, fmt.Errorf("smcrypto: sign: %w", err)
	}
	return der, nil
}

func verifyRaw(pub *ecdsa.PublicKey, uid, msg, sig []byte) error {
	if err := checkPublicKey(pub); err != nil {
		return err
	}
	r, s, err := intsFromRaw(sig)
	if err != nil {
		return err
	}
	return verifyInts(pub, uid, msg, r, s)
}

func verifyDER(pub *ecdsa.PublicKey, uid, msg, sig []byte) error {
	if err := checkPublicKey(pub); err != nil {
		return err
	}
	r, s, err := parseDER(sig)
	if err != nil {
		return err
	}
	return verifyInts(pub, uid, msg, r, s)
}

// verifyInts checks the range of r and s, then verifies. digest = SM3(Z_A ‖ msg).
func verifyInts(pub *ecdsa.PublicKey, uid, msg []byte, r, s *big.Int) error {
	if err := checkRange(r, s); err != nil {
		return err
	}
	digest, err := sm2.CalculateSM2Hash(pub, msg, uid)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrWrongCurve, err)
	}
	return verifyDigest(pub, digest, r, s)
}

// verifyDigest verifies r, s (already range-checked) over e = digest.
func verifyDigest(pub *ecdsa.PublicKey, digest []byte, r, s *big.Int) error {
	der, err := encodeDER(r, s)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidSignature, err)
	}
	if !sm2.VerifyASN1(pub, digest, der) {
		return ErrInvalidSignature
	}
	return nil
}

var curveN = sm2.P256().Params().N

func checkRange(r, s *big.Int) error {
	if r.Sign() <= 0 || r.Cmp(curveN) >= 0 {
		return fmt.Errorf("%w: r", ErrSignatureRange)
	}
	if s.Sign() <= 0 || s.Cmp(curveN) >= 0 {
		return fmt.Errorf("%w: s", ErrSignatureRange)
	}
	return nil
}

func intsFromRaw(sig []byte) (r, s *big.Int, err error) {
	if len(sig) != SignatureSize {
		return nil, nil, fmt.Errorf("%w: got %d bytes", ErrSignatureLength, len(sig))
	}
	return new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]), nil
}

func rawFromInts(r, s *big.Int) []byte {
	out := make([]byte, SignatureSize)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out
}

// parseDER parses a strict DER SEQUENCE { INTEGER, INTEGER } with nothing
// after it. Range is checked by the caller.
func parseDER(sig []byte) (r, s *big.Int, err error) {
	r, s = new(big.Int), new(big.Int)
	var inner cryptobyte.String
	in := cryptobyte.String(sig)
	if !in.ReadASN1(&inner, asn1.SEQUENCE) || !in.Empty() ||
		!inner.ReadASN1Integer(r) || !inner.ReadASN1Integer(s) || !inner.Empty() {
		return nil, nil, ErrMalformedSignature
	}
	// A value wider than 32 bytes can never be in range; reject it here so
	// callers never handle huge integers.
	if r.BitLen() > 256 || s.BitLen() > 256 {
		return nil, nil, fmt.Errorf("%w: integer wider than 256 bits", ErrSignatureRange)
	}
	return r, s, nil
}

func encodeDER(r, s *big.Int) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(r)
		b.AddASN1BigInt(s)
	})
	return b.Bytes()
}

// RawToASN1 converts a 64-byte r ‖ s signature to DER. Errors:
// ErrSignatureLength, ErrSignatureRange.
func RawToASN1(sig []byte) ([]byte, error) {
	r, s, err := intsFromRaw(sig)
	if err != nil {
		return nil, err
	}
	if err := checkRange(r, s); err != nil {
		return nil, err
	}
	return encodeDER(r, s)
}

// ASN1ToRaw converts a DER signature to 64-byte r ‖ s. Errors:
// ErrMalformedSignature, ErrSignatureRange.
func ASN1ToRaw(sig []byte) ([]byte, error) {
	r, s, err := parseDER(sig)
	if err != nil {
		return nil, err
	}
	if err := checkRange(r, s); err != nil {
		return nil, err
	}
	return rawFromInts(r, s), nil
}
