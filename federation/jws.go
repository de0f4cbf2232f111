package federation

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/emmansun/gmsm/sm2"
	"github.com/go-jose/go-jose/v4"

	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/sm-crypto/smjose"
)

// Signing algorithms. Statements are signed with AlgSM2 or AlgES256; AlgRS256 is accepted when
// checking.
const (
	AlgSM2   = string(smjose.AlgSM2) // "SGD_SM3_SM2": SM2 with SM3, GM/T 0125.1, raw r ‖ s
	AlgES256 = "ES256"               // ECDSA P-256 with SHA-256, RFC 7518 §3.4
	AlgRS256 = "RS256"               // RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3
)

// Signer signs federation JWTs (entity statements, trust marks, resolve responses) with one
// federation entity key. Safe for concurrent use.
type Signer struct {
	alg string
	kid string
	key crypto.Signer
	sk  jose.SigningKey
}

// NewSigner returns a Signer for key: an *sm2.PrivateKey signs with SGD_SM3_SM2, an
// *ecdsa.PrivateKey on P-256 with ES256. kid is the JWS header "kid" and the key's "kid" in
// JWKS; "" means smcrypto.KeyIDString for SM2 and the RFC 7638 SHA-256 thumbprint (base64url)
// for ES256. Errors: ErrUnsupportedAlg for any other key.
func NewSigner(key crypto.Signer, kid string) (*Signer, error) {
	switch k := key.(type) {
	case *sm2.PrivateKey:
		if kid == "" {
			kid = smcrypto.KeyIDString(&k.PublicKey)
		}
		return &Signer{alg: AlgSM2, kid: kid, key: k,
			sk: jose.SigningKey{Algorithm: smjose.AlgSM2, Key: smjose.NewSigner(k, kid)}}, nil
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w: ECDSA key not on P-256", ErrUnsupportedAlg)
		}
		if kid == "" {
			tp, err := (&jose.JSONWebKey{Key: &k.PublicKey}).Thumbprint(crypto.SHA256)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrUnsupportedAlg, err)
			}
			kid = base64.RawURLEncoding.EncodeToString(tp)
		}
		return &Signer{alg: AlgES256, kid: kid, key: k,
			sk: jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k, KeyID: kid}}}, nil
	}
	return nil, fmt.Errorf("%w: key type %T", ErrUnsupportedAlg, key)
}

// Algorithm returns AlgSM2 or AlgES256.
func (s *Signer) Algorithm() string { return s.alg }

// KeyID returns the kid.
func (s *Signer) KeyID() string { return s.kid }

// Public returns the public key (*ecdsa.PublicKey, on sm2.P256() for SM2).
func (s *Signer) Public() crypto.PublicKey { return s.key.Public() }

// KeySet returns the JWK Set (RFC 7517 §5) of the signers' public keys, each with its kid,
// alg and use "sig": the value of a jwks claim.
func KeySet(signers ...*Signer) *smjose.KeySet {
	ks := &smjose.KeySet{Standard: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}}
	for _, s := range signers {
		pub := s.key.Public().(*ecdsa.PublicKey)
		if s.alg == AlgSM2 {
			ks.SM2 = append(ks.SM2, smjose.JWK{Key: pub, KeyID: s.kid, Algorithm: AlgSM2, Use: "sig"})
			continue
		}
		ks.Standard.Keys = append(ks.Standard.Keys, jose.JSONWebKey{Key: pub, KeyID: s.kid, Algorithm: s.alg, Use: "sig"})
	}
	return ks
}

// ParseJWKS parses a JWK Set document (RFC 7517 §5) with standard and SM2 members. Errors:
// ErrMalformed when it is not a JWK Set or has no usable key.
func ParseJWKS(data []byte) (*smjose.KeySet, error) {
	ks, err := smjose.ParseJWKS(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(ks.Standard.Keys)+len(ks.SM2) == 0 {
		return nil, fmt.Errorf("%w: JWK Set has no usable key", ErrMalformed)
	}
	return ks, nil
}

// sign signs payload as a compact JWS with header typ and kid.
func (s *Signer) sign(typ string, payload []byte) (string, error) {
	js, err := jose.NewSigner(s.sk, (&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return "", fmt.Errorf("federation: signer: %w", err)
	}
	obj, err := js.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("federation: sign: %w", err)
	}
	return obj.CompactSerialize()
}

// SignJWT signs an arbitrary JSON claims set as a compact JWS with header typ (e.g.
// TypeResolveResponse, or "JWT" for a request object) and the signer's kid and alg.
func (s *Signer) SignJWT(typ string, claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("federation: claims: %w", err)
	}
	return s.sign(typ, payload)
}

// SignEntityStatement signs stmt as a JWT with typ "entity-statement+jwt" (§3) and returns
// the compact JWS. It sets stmt.Raw, stmt.Alg and stmt.KeyID. Errors: ErrMalformed from
// MarshalClaims; signing failures.
func SignEntityStatement(stmt *EntityStatement, signer *Signer) (string, error) {
	payload, err := stmt.MarshalClaims()
	if err != nil {
		return "", err
	}
	raw, err := signer.sign(TypeEntityStatement, payload)
	if err != nil {
		return "", err
	}
	stmt.Raw, stmt.Alg, stmt.KeyID = raw, signer.alg, signer.kid
	return raw, nil
}

// jwsHeader is the protected header members this package reads.
type jwsHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit"`
}

// maxJWTSize bounds a single JWT this package parses (the fetch bound is 1 MB too).
const maxJWTSize = 1 << 20

// parseHeader decodes the protected header of a compact JWS and checks typ and alg. It returns
// the header and the decoded payload (not yet verified).
func parseHeader(token, typ string) (jwsHeader, []byte, error) {
	var h jwsHeader
	if len(token) > maxJWTSize {
		return h, nil, fmt.Errorf("%w: JWT over 1 MB", ErrMalformed)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return h, nil, fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return h, nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	if err := json.Unmarshal(hb, &h); err != nil {
		return h, nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	if h.Crit != nil {
		return h, nil, fmt.Errorf("%w: header crit is not understood", ErrMalformed)
	}
	if h.Typ != typ {
		return h, nil, fmt.Errorf("%w: %w: typ %q, want %q", ErrMalformed, ErrWrongType, truncate(h.Typ), typ)
	}
	switch h.Alg {
	case AlgSM2, AlgES256, AlgRS256:
	default:
		return h, nil, fmt.Errorf("%w: %w: %q", ErrSignature, ErrUnsupportedAlg, truncate(h.Alg))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return h, nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	return h, payload, nil
}

// verifyJWS verifies the compact JWS token (header already checked) with keys: SM2 keys for
// SGD_SM3_SM2, standard keys for ES256 and RS256; candidates are keys with use "sig" or none,
// and the header's kid when it has one. Errors: ErrSignature.
func verifyJWS(token string, h jwsHeader, keys *smjose.KeySet) error {
	if keys == nil {
		return fmt.Errorf("%w: no keys", ErrSignature)
	}
	if h.Alg == AlgSM2 {
		if _, err := keys.VerifySM2(token); err != nil {
			return fmt.Errorf("%w: kid %q: %v", ErrSignature, truncate(h.Kid), err)
		}
		return nil
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	tried := 0
	for _, k := range keys.Standard.Keys {
		if (k.Use != "" && k.Use != "sig") || (h.Kid != "" && k.KeyID != h.Kid) {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != h.Alg {
			continue
		}
		tried++
		if _, err := jws.Verify(k.Key); err == nil {
			return nil
		}
	}
	if tried == 0 {
		return fmt.Errorf("%w: no %s key with kid %q", ErrSignature, h.Alg, truncate(h.Kid))
	}
	return fmt.Errorf("%w: %s kid %q", ErrSignature, h.Alg, truncate(h.Kid))
}

// ParseStatement parses a compact entity statement without verifying its signature: typ must
// be entity-statement+jwt, alg one of SGD_SM3_SM2, ES256, RS256, and the claims must pass
// ParseClaims. Use VerifyStatement (or Resolver) before trusting anything in it. Errors:
// ErrMalformed (ErrWrongType), ErrSignature (ErrUnsupportedAlg).
func ParseStatement(token string) (*EntityStatement, error) {
	h, payload, err := parseHeader(token, TypeEntityStatement)
	if err != nil {
		return nil, err
	}
	stmt, err := ParseClaims(payload)
	if err != nil {
		return nil, err
	}
	stmt.Raw, stmt.Alg, stmt.KeyID = token, h.Alg, h.Kid
	return stmt, nil
}

// VerifyStatement checks that stmt (from ParseStatement) is signed by one of keys; nil keys
// means stmt's own jwks (a self-signed entity configuration). Times are not checked. Errors:
// ErrSignature, ErrMalformed.
func VerifyStatement(stmt *EntityStatement, keys *smjose.KeySet) error {
	if keys == nil {
		keys = stmt.JWKS
	}
	return verifyJWS(stmt.Raw, jwsHeader{Alg: stmt.Alg, Kid: stmt.KeyID}, keys)
}

// errIs reports whether err is any of targets.
func errIs(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
