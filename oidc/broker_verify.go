package oidc

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tongban/tongban/sm-crypto/smjose"
)

// Refusals of a brokered login (broker.go). Each has its own error page, audit reason and log
// line; nothing is linked or logged in after any of them.
var (
	// ErrUpstreamState: the callback's state is unknown, used before, or not the one this
	// browser was given (no flow cookie, or another one).
	ErrUpstreamState = errors.New("oidc: upstream login: unknown or replayed state")
	// ErrUpstreamAlg: the upstream ID token's alg is not SGD_SM3_SM2, ES256 or RS256 (none and
	// HS* are refused).
	ErrUpstreamAlg = errors.New("oidc: upstream ID token: algorithm not allowed")
	// ErrUpstreamSignature: the signature does not verify with the upstream's JWKS, or the
	// token is not a compact JWS.
	ErrUpstreamSignature = errors.New("oidc: upstream ID token: bad signature")
	// ErrUpstreamIssuer: iss (or the authorization response's iss, RFC 9207) is not the
	// upstream's issuer.
	ErrUpstreamIssuer = errors.New("oidc: upstream ID token: wrong issuer")
	// ErrUpstreamAudience: aud does not contain tongban's client ID at the upstream, or azp
	// names another client.
	ErrUpstreamAudience = errors.New("oidc: upstream ID token: wrong upstreamAudience")
	// ErrUpstreamNonce: nonce is not the one sent with this browser's request.
	ErrUpstreamNonce = errors.New("oidc: upstream ID token: wrong nonce")
	// ErrUpstreamExpired: exp has passed, or iat is in the future or too old (beyond one
	// minute of clock skew).
	ErrUpstreamExpired = errors.New("oidc: upstream ID token: expired or not yet valid")
	// ErrUpstreamIDNumber: the ID-number claim is not a valid resident ID number (GB 11643).
	ErrUpstreamIDNumber = errors.New("oidc: upstream ID token: invalid resident ID number")
	// ErrUpstreamRefused: the upstream answered with an OAuth error, or its token endpoint
	// refused the code.
	ErrUpstreamRefused = errors.New("oidc: upstream refused the login")
	// ErrUpstreamUnavailable: the upstream's discovery, JWKS or token endpoint did not answer.
	ErrUpstreamUnavailable = errors.New("oidc: upstream unavailable")
	// ErrUpstreamChain: the trust chain of a federation upstream (OpenID Federation 1.0) does
	// not resolve to a configured trust anchor, or its openid_provider metadata cannot be used.
	ErrUpstreamChain = errors.New("oidc: upstream: trust chain not resolved")
	// ErrUpstreamNoAccount: a trusted upstream asserted an ID number no local person has and
	// just-in-time creation is off.
	ErrUpstreamNoAccount = errors.New("oidc: upstream login: no local account")
)

// upstreamSkew is the clock skew allowed on an upstream ID token's exp and iat; an iat older
// than upstreamMaxAge is refused too.
const (
	upstreamSkew   = time.Minute
	upstreamMaxAge = 10 * time.Minute
)

// upstreamAlgs are the ID-token algorithms accepted from upstreams.
var upstreamAlgs = []string{AlgSM2, AlgES256, AlgRS256}

// upstreamKeys is an upstream's JWKS (SM2 and standard keys), fetched on first use and again
// when a token names an unknown kid (at most once a minute).
type upstreamKeys struct {
	url    string
	client *http.Client

	mu      sync.Mutex
	set     *smjose.KeySet
	fetched time.Time
}

func (k *upstreamKeys) fetch(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return err
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("jwks: %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	set, err := smjose.ParseJWKS(body)
	if err != nil {
		return err
	}
	k.set, k.fetched = set, time.Now()
	return nil
}

// verify checks raw's signature (alg one of upstreamAlgs) and returns its payload. Errors:
// ErrUpstreamAlg, ErrUpstreamSignature, ErrUpstreamUnavailable (JWKS unreadable).
func (k *upstreamKeys) verify(ctx context.Context, raw string) ([]byte, error) {
	alg, err := jwsAlg(raw)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.set == nil {
		if k.url == "" {
			return nil, fmt.Errorf("%w: no keys", ErrUpstreamUnavailable)
		}
		if err := k.fetch(ctx); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUpstreamUnavailable, err)
		}
	}
	payload, err := k.verifyWith(raw, alg)
	// Keys from a trust chain (url "") change only with the chain (federation_upstream.go).
	if errors.Is(err, smjose.ErrUnknownKey) && k.url != "" && time.Since(k.fetched) > time.Minute {
		if ferr := k.fetch(ctx); ferr != nil {
			return nil, fmt.Errorf("%w: %w", ErrUpstreamUnavailable, ferr)
		}
		payload, err = k.verifyWith(raw, alg)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUpstreamSignature, err)
	}
	return payload, nil
}

func (k *upstreamKeys) verifyWith(raw, alg string) ([]byte, error) {
	if alg == AlgSM2 {
		return k.set.VerifySM2(raw)
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return nil, err
	}
	kid := jws.Signatures[0].Header.KeyID
	for _, key := range k.set.Standard.Keys {
		if (kid != "" && key.KeyID != kid) || (key.Use != "" && key.Use != "sig") {
			continue
		}
		if key.Algorithm != "" && key.Algorithm != alg {
			continue
		}
		if payload, err := jws.Verify(key); err == nil {
			return payload, nil
		}
	}
	return nil, fmt.Errorf("%w: no key of the JWKS verifies (kid %q)", smjose.ErrUnknownKey, kid)
}

// jwsAlg reads the alg of a compact JWS's protected header; ErrUpstreamAlg when it is not one
// of upstreamAlgs, ErrUpstreamSignature when the token is not a compact JWS.
func jwsAlg(raw string) (string, error) {
	head, _, ok := strings.Cut(raw, ".")
	if !ok || strings.Count(raw, ".") != 2 {
		return "", fmt.Errorf("%w: not a compact JWS", ErrUpstreamSignature)
	}
	js, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", fmt.Errorf("%w: header: %w", ErrUpstreamSignature, err)
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(js, &h); err != nil {
		return "", fmt.Errorf("%w: header: %w", ErrUpstreamSignature, err)
	}
	if !slices.Contains(upstreamAlgs, h.Alg) {
		return "", fmt.Errorf("%w: %q", ErrUpstreamAlg, h.Alg)
	}
	return h.Alg, nil
}

// upstreamClaims are the claims of an upstream ID token tongban reads.
type upstreamClaims struct {
	Issuer   string           `json:"iss"`
	Subject  string           `json:"sub"`
	Audience upstreamAudience `json:"aud"`
	AZP      string           `json:"azp"`
	Nonce    string           `json:"nonce"`
	Expiry   int64            `json:"exp"`
	IssuedAt int64            `json:"iat"`
	ACR      string           `json:"acr"`
	AMR      []string         `json:"amr"`
	Name     string           `json:"name"`
	SID      string           `json:"sid"` // the upstream session, for its back-channel logout
	raw      map[string]json.RawMessage
}

// decodeUpstreamClaims parses payload once (a JSON object) into c.raw, then decodes each claim
// c reads from its raw value; names match exactly (not case-insensitively as encoding/json
// matches struct fields). Errors: not an object, or a claim of the wrong JSON type.
func decodeUpstreamClaims(payload []byte) (upstreamClaims, error) {
	var c upstreamClaims
	if err := json.Unmarshal(payload, &c.raw); err != nil {
		return c, err
	}
	for _, f := range []struct {
		name string
		dst  any
	}{{"iss", &c.Issuer}, {"sub", &c.Subject}, {"aud", &c.Audience}, {"azp", &c.AZP}, {"nonce", &c.Nonce},
		{"exp", &c.Expiry}, {"iat", &c.IssuedAt}, {"acr", &c.ACR}, {"amr", &c.AMR}, {"name", &c.Name}, {"sid", &c.SID}} {
		if v, ok := c.raw[f.name]; ok {
			if err := json.Unmarshal(v, f.dst); err != nil {
				return c, fmt.Errorf("claim %s: %w", f.name, err)
			}
		}
	}
	return c, nil
}

// stringClaim returns the claim name when it is a JSON string, else "".
func (c upstreamClaims) stringClaim(name string) string {
	var v string
	if raw, ok := c.raw[name]; ok && len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &v) == nil {
		return v
	}
	return ""
}

// upstreamAudience is aud: one string or an array of strings (RFC 7519 §4.1.3).
type upstreamAudience []string

func (a *upstreamAudience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = upstreamAudience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// checkUpstreamIDToken verifies raw, an ID token from the upstream with issuer iss for the
// client clientID, fully: alg, signature (keys), iss, aud, azp, nonce (constant time), exp and
// iat against now with upstreamSkew, and a non-empty sub. Each failure wraps its own sentinel
// (ErrUpstreamAlg … ErrUpstreamExpired).
func checkUpstreamIDToken(ctx context.Context, keys *upstreamKeys, raw, iss, clientID, nonce string, now time.Time) (upstreamClaims, error) {
	payload, err := keys.verify(ctx, raw)
	if err != nil {
		return upstreamClaims{}, err
	}
	c, err := decodeUpstreamClaims(payload)
	if err != nil {
		return c, fmt.Errorf("%w: claims: %w", ErrUpstreamSignature, err)
	}
	switch {
	case c.Issuer != iss:
		return c, fmt.Errorf("%w: %q", ErrUpstreamIssuer, c.Issuer)
	case !slices.Contains(c.Audience, clientID):
		return c, fmt.Errorf("%w: aud %q", ErrUpstreamAudience, []string(c.Audience))
	case c.AZP != "" && c.AZP != clientID, c.AZP == "" && len(c.Audience) > 1:
		return c, fmt.Errorf("%w: azp %q", ErrUpstreamAudience, c.AZP)
	case subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(nonce)) != 1 || nonce == "":
		return c, ErrUpstreamNonce
	case c.Expiry == 0 || !now.Before(time.Unix(c.Expiry, 0).Add(upstreamSkew)):
		return c, fmt.Errorf("%w: exp %d", ErrUpstreamExpired, c.Expiry)
	case c.IssuedAt == 0 || time.Unix(c.IssuedAt, 0).After(now.Add(upstreamSkew)) ||
		time.Unix(c.IssuedAt, 0).Before(now.Add(-upstreamMaxAge)):
		return c, fmt.Errorf("%w: iat %d", ErrUpstreamExpired, c.IssuedAt)
	case c.Subject == "" || len(c.Subject) > 255:
		return c, fmt.Errorf("%w: sub missing or too long", ErrUpstreamSignature)
	}
	return c, nil
}
