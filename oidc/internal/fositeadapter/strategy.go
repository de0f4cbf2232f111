package fositeadapter

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"

	"github.com/tongban/tongban/sm-crypto"
)

// Opaque token prefixes. A token is prefix ‖ base64url(32 random bytes) ‖ "." ‖ signature, where
// signature = base64url(HMAC-SM3(token key, prefix ‖ base64url(random))). Only the signature is
// stored (storage.TokenRecord.Signature), so a copy of the database yields no usable token.
// fosite reads storage before it validates a token, so the token endpoint and the revocation
// endpoint check the MAC themselves first (oidc's Server.handleToken and Server.handleRevoke,
// with AuthenticCode, AuthenticRefreshToken and TokenStrategy.AuthenticAccessToken): there a
// forged token is refused before any database read. Introspection and userinfo read the
// record first (read only) and fosite's validation refuses the forged token after.
const (
	prefixCode    = "tb_ac_"
	prefixAccess  = "tb_at_"
	prefixRefresh = "tb_rt_"
)

// hmacStrategy is tongban's oauth2.CoreStrategy: HMAC-SM3 opaque tokens, expiry checked
// against the clock given to NewTokenStrategy (oidc's Config.Now). fosite's HMACSHAStrategy is not used because its hmac.HMACStrategy
// serialises every token generation on one mutex and checks expiry against the wall clock.
type hmacStrategy struct {
	key  []byte
	now  func() time.Time
	pool sync.Pool // of hash.Hash (HMAC-SM3 keyed with key)
}

var _ oauth2.CoreStrategy = (*hmacStrategy)(nil)

func newHMACStrategy(key []byte, now func() time.Time) *hmacStrategy {
	h := &hmacStrategy{key: key, now: now}
	h.pool.New = func() any { return smcrypto.NewHMACSM3(h.key) }
	return h
}

var b64 = base64.RawURLEncoding

// mac returns base64url(HMAC-SM3(key, prefix ‖ body)).
func (h *hmacStrategy) mac(prefix, body string) string {
	m := h.pool.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(prefix))
	m.Write([]byte(body))
	var sum [32]byte
	out := m.Sum(sum[:0])
	h.pool.Put(m)
	return b64.EncodeToString(out)
}

func (h *hmacStrategy) generate(prefix string) (token, signature string, err error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", "", err
	}
	body := b64.EncodeToString(raw[:])
	sig := h.mac(prefix, body)
	return prefix + body + "." + sig, sig, nil
}

// signature returns the signature part of a token, or "" when the token does not have the
// expected shape (a lookup of "" finds nothing).
func signature(prefix, token string) string {
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok {
		return ""
	}
	_, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return ""
	}
	return sig
}

// validate checks the token's MAC and, when exp is set, that it has not passed.
func (h *hmacStrategy) validate(prefix, token string, exp time.Time, what string) error {
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok {
		return fosite.ErrInvalidTokenFormat
	}
	body, sig, ok := strings.Cut(rest, ".")
	if !ok || body == "" || sig == "" {
		return fosite.ErrInvalidTokenFormat
	}
	if !hmac.Equal([]byte(h.mac(prefix, body)), []byte(sig)) {
		return fosite.ErrTokenSignatureMismatch
	}
	if !exp.IsZero() && !h.now().Before(exp) {
		return fosite.ErrTokenExpired.WithHintf("The %s expired.", what)
	}
	return nil
}

func (h *hmacStrategy) AccessTokenSignature(_ context.Context, token string) string {
	return signature(prefixAccess, token)
}

func (h *hmacStrategy) GenerateAccessToken(context.Context, fosite.Requester) (string, string, error) {
	return h.generate(prefixAccess)
}

func (h *hmacStrategy) ValidateAccessToken(_ context.Context, r fosite.Requester, token string) error {
	return h.validate(prefixAccess, token, r.GetSession().GetExpiresAt(fosite.AccessToken), "access token")
}

func (h *hmacStrategy) RefreshTokenSignature(_ context.Context, token string) string {
	return signature(prefixRefresh, token)
}

func (h *hmacStrategy) GenerateRefreshToken(context.Context, fosite.Requester) (string, string, error) {
	return h.generate(prefixRefresh)
}

func (h *hmacStrategy) ValidateRefreshToken(_ context.Context, r fosite.Requester, token string) error {
	return h.validate(prefixRefresh, token, r.GetSession().GetExpiresAt(fosite.RefreshToken), "refresh token")
}

func (h *hmacStrategy) AuthorizeCodeSignature(_ context.Context, token string) string {
	return signature(prefixCode, token)
}

func (h *hmacStrategy) GenerateAuthorizeCode(context.Context, fosite.Requester) (string, string, error) {
	return h.generate(prefixCode)
}

func (h *hmacStrategy) ValidateAuthorizeCode(_ context.Context, r fosite.Requester, token string) error {
	return h.validate(prefixCode, token, r.GetSession().GetExpiresAt(fosite.AuthorizeCode), "authorization code")
}

// AuthenticCode reports whether code is an authorization code this server made: its HMAC
// verifies (expiry not checked). It reads no token record.
func (h *hmacStrategy) AuthenticCode(code string) bool {
	return h.validate(prefixCode, code, time.Time{}, "") == nil
}

// AuthenticRefreshToken reports whether token is a refresh token this server made: its HMAC
// verifies (expiry not checked). It reads no token record.
func (h *hmacStrategy) AuthenticRefreshToken(token string) bool {
	return h.validate(prefixRefresh, token, time.Time{}, "") == nil
}
