package oidc

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"

	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	"github.com/tongban/tongban/sm-crypto/smjose"
	"github.com/tongban/tongban/storage"
)

// ClientAssertionType is the client_assertion_type of private_key_jwt (RFC 7523 §2.2).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Limits of client assertions.
const (
	// maxAssertionLifetime: an assertion's exp may be at most this far ahead of the server's
	// clock, so each jti is remembered for at most this long.
	maxAssertionLifetime = 5 * time.Minute
	// assertionSkew tolerates clocks of apps a little ahead of ours for iat and nbf.
	assertionSkew = 30 * time.Second
	// maxAssertion bounds the assertion's size.
	maxAssertion = 8 << 10
	// nsClientAssertion is the storage.Nonces namespace of used jti values.
	nsClientAssertion = "client_assertion"
)

// ClientAssertionSigningAlgs are the JWS algorithms accepted for private_key_jwt, as advertised
// in discovery (token_endpoint_auth_signing_alg_values_supported).
var ClientAssertionSigningAlgs = []string{AlgSM2, AlgES256}

// assertionClaims are the claims of a client assertion (RFC 7523 §3).
type assertionClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud json.RawMessage `json:"aud"`
	Exp *json.Number    `json:"exp"`
	Nbf *json.Number    `json:"nbf"`
	Iat *json.Number    `json:"iat"`
	Jti string          `json:"jti"`
}

// errAssertion is the internal cause of every refused assertion; the public description is
// clientAuthFailed or a hint that gives nothing away about other clients.
var errAssertion = errors.New("oidc: client assertion refused")

// verifyClientAssertion authenticates a private_key_jwt client (RFC 7523 §2.2 and §3, OIDC Core
// §9): client_assertion_type is ClientAssertionType; the assertion is a compact JWS signed with
// SGD_SM3_SM2 or ES256 by one of the client's registered keys (kid selects the key when
// present); iss and sub are the client_id (and equal the client_id parameter when one is
// sent); aud is, or contains, the issuer or this endpoint's URL; exp is in the future and at
// most 5 minutes ahead; nbf and iat, when present, are not in the future (30 s skew); jti is
// present and single-use until exp (storage.Nonces, across replicas).
func (s *Server) verifyClientAssertion(ctx context.Context, r *http.Request, form url.Values) (*fositeadapter.Client, error) {
	fail := func(format string, a ...any) error {
		return fosite.ErrInvalidClient.WithHint(clientAuthFailed).WithWrap(fmt.Errorf("%w: "+format, append([]any{errAssertion}, a...)...))
	}
	if form.Get("client_assertion_type") != ClientAssertionType {
		return nil, fosite.ErrInvalidClient.WithHintf("client_assertion_type must be %s.", ClientAssertionType)
	}
	assertion := form.Get("client_assertion")
	if assertion == "" || len(assertion) > maxAssertion {
		return nil, fosite.ErrInvalidClient.WithHint("client_assertion is missing or too large.")
	}
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return nil, fail("not a compact JWS")
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &header) != nil {
		return nil, fail("malformed header")
	}
	// Unverified: only to find the client whose keys verify the signature.
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fail("malformed payload")
	}
	var unverified assertionClaims
	if err := json.Unmarshal(pb, &unverified); err != nil {
		return nil, fail("malformed claims")
	}
	id := unverified.Sub
	if fid := form.Get("client_id"); fid != "" && fid != id {
		return nil, fail("client_id does not match sub")
	}
	if id == "" {
		return nil, fail("no sub")
	}
	c, err := s.clients.Get(ctx, id)
	if err != nil {
		if errors.Is(err, fositeadapter.ErrClientNotFound) {
			return nil, fosite.ErrInvalidClient.WithHint(clientAuthFailed).WithWrap(err)
		}
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	// A federation app whose metadata expired with its trust chain is resolved again
	// (federation_register.go).
	if c, err = s.refreshFederationClient(ctx, c); err != nil {
		if errors.Is(err, ErrFederationChain) || errors.Is(err, ErrFederationMetadata) {
			return nil, errFederationClientRefused.WithWrap(err)
		}
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	if c.Registration.TokenEndpointAuthMethod != AuthPrivateKeyJWT || len(c.Registration.JWKS) == 0 {
		return nil, fail("client %q is not registered for private_key_jwt", id)
	}
	keys, err := parseClientJWKS(c.Registration.JWKS)
	if err != nil {
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	var payload []byte
	switch header.Alg {
	case AlgSM2:
		payload, err = keys.set.VerifySM2(assertion)
	case AlgES256:
		payload, err = verifyES256(assertion, header.Kid, keys.set)
	default:
		return nil, fail("alg %q (accepted: %s)", header.Alg, strings.Join(ClientAssertionSigningAlgs, ", "))
	}
	if err != nil {
		return nil, fail("signature: %v", err)
	}
	var cl assertionClaims
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&cl); err != nil {
		return nil, fail("claims: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(cl.Iss), []byte(id)) != 1 || cl.Sub != id {
		return nil, fail("iss and sub must both be the client_id")
	}
	if !s.assertionAudienceOK(cl.Aud, r) {
		return nil, fail("aud names neither the issuer nor this endpoint")
	}
	now := s.now()
	exp, ok := numericDate(cl.Exp)
	switch {
	case !ok:
		return nil, fail("no exp")
	case !now.Before(exp):
		return nil, fail("expired")
	case exp.After(now.Add(maxAssertionLifetime + assertionSkew)):
		return nil, fail("exp more than %s ahead", maxAssertionLifetime)
	}
	for _, v := range []*json.Number{cl.Nbf, cl.Iat} {
		if t, ok := numericDate(v); ok && t.After(now.Add(assertionSkew)) {
			return nil, fail("nbf or iat in the future")
		}
	}
	if cl.Jti == "" || len(cl.Jti) > 256 || strings.IndexFunc(cl.Jti, unicode.IsControl) >= 0 {
		return nil, fail("jti missing, longer than 256 bytes or with control characters")
	}
	if err := s.store.UseNonce(ctx, nsClientAssertion, id+":"+cl.Jti, exp); err != nil {
		if errors.Is(err, storage.ErrAlreadyUsed) {
			s.log.WarnContext(ctx, "client assertion replayed", "client_id", id)
			return nil, fosite.ErrInvalidClient.WithHint("The client assertion was already used (jti).").WithWrap(err)
		}
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	return c, nil
}

// verifyES256 verifies an ES256 compact JWS with the P-256 keys of set (the one whose kid is
// kid, when kid is set) and returns its payload.
func verifyES256(token, kid string, set *smjose.KeySet) ([]byte, error) {
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, err
	}
	for _, k := range set.Standard.Keys {
		if kid != "" && k.KeyID != kid {
			continue
		}
		if p, err := jws.Verify(k.Key); err == nil {
			return p, nil
		}
	}
	return nil, errors.New("no registered ES256 key verifies it")
}

// assertionAudienceOK reports whether aud (a string or an array) contains the issuer or the URL
// of the endpoint r was sent to.
func (s *Server) assertionAudienceOK(aud json.RawMessage, r *http.Request) bool {
	accepted := []string{s.issuer, s.issuer + "/", s.url(pathToken), s.url(pathIntrospect), s.url(pathRevoke)}
	if r != nil && r.URL != nil {
		accepted = append(accepted, s.issuerOrigin()+r.URL.Path)
	}
	return audienceContains(aud, accepted...)
}

// audienceContains reports whether aud (a JSON string or array) contains one of want.
func audienceContains(aud json.RawMessage, want ...string) bool {
	var list []string
	var one string
	if json.Unmarshal(aud, &one) == nil {
		list = []string{one}
	} else if json.Unmarshal(aud, &list) != nil {
		return false
	}
	for _, a := range list {
		if slices.Contains(want, a) {
			return true
		}
	}
	return false
}

// issuerOrigin is the issuer's scheme and host.
func (s *Server) issuerOrigin() string { return strings.TrimSuffix(s.issuer, s.path) }

// numericDate reads a JWT NumericDate (seconds since the epoch, RFC 7519 §2).
func numericDate(n *json.Number) (time.Time, bool) {
	if n == nil {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || f <= 0 || f > 1e11 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}
