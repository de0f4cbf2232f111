package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm2"
	josev3 "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite/token/jwt"

	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	"github.com/tongban/tongban/sm-crypto/smjose"
	"github.com/tongban/tongban/storage"
)

// ID-token signing algorithms (JWS "alg", RFC 7518 §3.1 and GM/T 0125.1).
const (
	AlgSM2   = "SGD_SM3_SM2" // SM2 with SM3, raw r ‖ s signature (DESIGN §3)
	AlgES256 = "ES256"       // ECDSA P-256 with SHA-256
	AlgRS256 = "RS256"       // RSASSA-PKCS1-v1_5 with SHA-256 (OIDC Core §15.1 mandatory)
)

// SigningAlgorithms lists the ID-token signing algorithms in the order discovery publishes them.
var SigningAlgorithms = []string{AlgRS256, AlgES256, AlgSM2}

var joseAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, smjose.AlgSM2}

var (
	errUnknownKID = errors.New("oidc: no published ID-token key with this kid and alg")
	errBadJWS     = errors.New("oidc: malformed ID token")
)

// idTokenSigner is tongban's implementation of fosite's token/jwt.Signer. fosite's
// DefaultSigner signs with one RSA or ECDSA key through go-jose v3; tongban needs one key per
// algorithm, chosen per client when the token is made, and SM2, which go-jose supports only
// through an OpaqueSigner (DESIGN §8). So:
//
//   - Generate reads the algorithm from header.Get("alg") (fosite's Headers.ToMap drops
//     "alg") and signs with the keyring's active ID-token key for it, putting its kid in the
//     JWS header; SGD_SM3_SM2 goes through smjose.NewSigner, never through go-jose's ECDSA path.
//   - Decode and Validate accept any published ID-token key (so an id_token_hint signed before
//     a rotation still verifies) and report an expired token as a jwt.ValidationError with
//     ValidationErrorExpired, as fosite's validator expects.
//
// go-jose signers are built once per key and cached.
type idTokenSigner struct {
	kr  *keyring.Keyring
	now func() time.Time

	mu      sync.Mutex
	signers map[string]jose.Signer // by kid
	jwks    cachedJWKS
}

type cachedJWKS struct {
	kids string
	body []byte
}

var _ jwt.Signer = (*idTokenSigner)(nil)

func newIDTokenSigner(kr *keyring.Keyring, now func() time.Time) *idTokenSigner {
	return &idTokenSigner{kr: kr, now: now, signers: map[string]jose.Signer{}}
}

// joseSigner returns the cached go-jose signer of key for JWS type typ ("JWT" for ID
// tokens, "at+jwt" for JWT access tokens).
func (s *idTokenSigner) joseSigner(key keyring.SigningKey, typ string) (jose.Signer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cacheKey := key.ID + "\x00" + typ
	if js, ok := s.signers[cacheKey]; ok {
		return js, nil
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ))
	var sk jose.SigningKey
	switch key.Algorithm {
	case AlgSM2:
		priv, ok := key.Signer.(*sm2.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("oidc: key %s: SM2 key has type %T", key.ID, key.Signer)
		}
		sk = jose.SigningKey{Algorithm: smjose.AlgSM2, Key: smjose.NewSigner(priv, key.ID)}
	case AlgES256, AlgRS256:
		sk = jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Algorithm),
			Key: jose.JSONWebKey{Key: key.Signer, KeyID: key.ID, Algorithm: key.Algorithm}}
	default:
		return nil, fmt.Errorf("%w: %q", ErrInvalidAlgorithm, key.Algorithm)
	}
	js, err := jose.NewSigner(sk, opts)
	if err != nil {
		return nil, fmt.Errorf("oidc: key %s: %w", key.ID, err)
	}
	s.signers[cacheKey] = js
	return js, nil
}

// Generate implements jwt.Signer: it signs claims with the active key for header.Get("alg")
// (RS256 when unset), with JWS typ header.Get("typ") ("JWT" when unset), and returns the
// compact JWS and its signature part.
func (s *idTokenSigner) Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	alg, typ := AlgRS256, "JWT"
	if header != nil {
		if a, ok := header.Get("alg").(string); ok && a != "" {
			alg = a
		}
		if t, ok := header.Get("typ").(string); ok && t != "" {
			typ = t
		}
	}
	key, err := s.kr.Active(ctx, storage.PurposeIDToken, alg)
	if err != nil {
		return "", "", err
	}
	js, err := s.joseSigner(key, typ)
	if err != nil {
		return "", "", err
	}
	payload, err := json.Marshal(map[string]any(claims))
	if err != nil {
		return "", "", err
	}
	obj, err := js.Sign(payload)
	if err != nil {
		return "", "", err
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		return "", "", err
	}
	return tok, tok[strings.LastIndexByte(tok, '.')+1:], nil
}

// Verify checks the JWS signature against the published key named by its kid and returns the
// payload and header (fositeadapter.Signer: JWT access tokens are verified with it too).
func (s *idTokenSigner) Verify(ctx context.Context, token string) ([]byte, jose.Header, error) {
	jws, err := jose.ParseSignedCompact(token, joseAlgs)
	if err != nil {
		return nil, jose.Header{}, fmt.Errorf("%w: %w", errBadJWS, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, jose.Header{}, errBadJWS
	}
	h := jws.Signatures[0].Header
	keys, err := s.kr.Published(ctx, storage.PurposeIDToken)
	if err != nil {
		return nil, h, err
	}
	for _, k := range keys {
		if k.ID != h.KeyID || k.Algorithm != h.Algorithm {
			continue
		}
		var vk any = k.Public
		if k.Algorithm == AlgSM2 {
			pub, ok := k.Public.(*ecdsa.PublicKey)
			if !ok {
				return nil, h, errUnknownKID
			}
			vk = smjose.NewVerifier(pub)
		}
		payload, err := jws.Verify(vk)
		if err != nil {
			return nil, h, err
		}
		return payload, h, nil
	}
	return nil, h, errUnknownKID
}

// Decode implements jwt.Signer: it verifies an ID token issued by this server (any published
// key; a JWT access token, typ at+jwt, is refused) and returns its header and claims. An expired token is returned with a
// *jwt.ValidationError whose Errors has ValidationErrorExpired.
func (s *idTokenSigner) Decode(ctx context.Context, token string) (*jwt.Token, error) {
	payload, h, err := s.Verify(ctx, token)
	if err != nil {
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorSignatureInvalid, Inner: err}
	}
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ == fositeadapter.TypAccessTokenJWT {
		// A JWT access token (same keys) is not an ID token: no id_token_hint from it.
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorMalformed, Inner: errors.New("oidc: a JWT access token is not an ID token")}
	}
	claims := jwt.MapClaims{}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorMalformed, Inner: err}
	}
	t := &jwt.Token{
		Header: map[string]any{"alg": h.Algorithm, "kid": h.KeyID},
		Claims: claims,
		Method: josev3.SignatureAlgorithm(h.Algorithm),
	}
	if exp, ok := numericClaim(claims["exp"]); !ok || !s.now().Before(time.Unix(exp, 0)) {
		return t, &jwt.ValidationError{Errors: jwt.ValidationErrorExpired, Inner: errors.New("oidc: ID token expired")}
	}
	return t, nil
}

// Validate implements jwt.Signer: Decode, then the signature part.
func (s *idTokenSigner) Validate(ctx context.Context, token string) (string, error) {
	if _, err := s.Decode(ctx, token); err != nil {
		return "", err
	}
	return s.GetSignature(ctx, token)
}

// Hash implements jwt.Signer with SHA-256 (used by fosite only by its own JWT access token
// strategy, which tongban does not use: see fositeadapter.TokenStrategy).
func (s *idTokenSigner) Hash(_ context.Context, in []byte) ([]byte, error) {
	h := sha256.Sum256(in)
	return h[:], nil
}

// GetSignature implements jwt.Signer: the third part of a compact JWS.
func (s *idTokenSigner) GetSignature(_ context.Context, token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errBadJWS
	}
	return parts[2], nil
}

// GetSigningMethodLength implements jwt.Signer (SHA-256 size).
func (s *idTokenSigner) GetSigningMethodLength(context.Context) int { return sha256.Size }

// halfHash is the at_hash / c_hash of token for alg (OIDC Core §3.1.3.6): base64url of the
// left half of the hash named by the alg — SHA-256 for ES256 and RS256, SM3 for SGD_SM3_SM2
// (DESIGN §3). fosite's IDTokenHandleHelper.ComputeHash would use SHA-256 for SM2.
func halfHash(alg, token string) string {
	if alg == AlgSM2 {
		return smjose.HalfHashSM3([]byte(token))
	}
	h := sha256.Sum256([]byte(token))
	return b64.EncodeToString(h[:16])
}

// JWKS returns the JSON Web Key Set (RFC 7517 §5) of every published ID-token key: standard
// keys first ({"kty":"RSA"|"EC",…,"kid","alg","use":"sig"}), then SM2 keys as
// {"kty":"EC","crv":"SM2-P-256","x","y","kid","alg":"SGD_SM3_SM2","use":"sig"}. go-oidc skips
// the SM2 members by their alg; smjose.ParseJWKS reads all of them. The document is cached
// until the set of keys changes.
func (s *idTokenSigner) JWKS(ctx context.Context) ([]byte, error) {
	keys, err := s.kr.Published(ctx, storage.PurposeIDToken)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k.ID)
		b.WriteByte(',')
	}
	kids := b.String()
	s.mu.Lock()
	c := s.jwks
	s.mu.Unlock()
	if c.kids == kids && c.body != nil {
		return c.body, nil
	}
	var std []jose.JSONWebKey
	var sm []smjose.JWK
	for _, k := range keys {
		switch pub := k.Public.(type) {
		case *ecdsa.PublicKey:
			if k.Algorithm == AlgSM2 {
				sm = append(sm, smjose.JWK{Key: pub, KeyID: k.ID, Algorithm: AlgSM2, Use: "sig"})
				continue
			}
			std = append(std, jose.JSONWebKey{Key: pub, KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig"})
		case *rsa.PublicKey:
			std = append(std, jose.JSONWebKey{Key: pub, KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig"})
		default:
			return nil, fmt.Errorf("oidc: key %s: public key type %T", k.ID, k.Public)
		}
	}
	body, err := smjose.MarshalJWKS(std, sm)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.jwks = cachedJWKS{kids: kids, body: body}
	s.mu.Unlock()
	return body, nil
}

// numericClaim reads a NumericDate claim decoded by jwt.MapClaims (int64 or float64).
func numericClaim(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case float64:
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}
