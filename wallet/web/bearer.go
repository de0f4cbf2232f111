package web

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// principal is the person behind a bearer access token.
type principal struct {
	sub      string
	clientID string
	index    []byte   // HolderIndex of their ID number
	scopes   []string // granted scopes (lookup API only, lookup.go)
}

// maxCachedTokens bounds the bearer-token cache.
const maxCachedTokens = 10000

// tokenCache remembers recent introspection and userinfo answers, keyed by SM3 of the token
// (the token itself is never kept).
type tokenCache struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]tokenEntry
}

type tokenEntry struct {
	p     principal
	until time.Time
}

func newTokenCache(ttl time.Duration, now func() time.Time) *tokenCache {
	return &tokenCache{ttl: ttl, now: now, m: map[string]tokenEntry{}}
}

func tokenKey(tok string) string {
	sum := smcrypto.SM3([]byte(tok))
	return hex.EncodeToString(sum[:])
}

func (c *tokenCache) get(key string) (principal, bool) {
	if c.ttl < 0 {
		return principal{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || !c.now().Before(e.until) {
		delete(c.m, key)
		return principal{}, false
	}
	return e.p, true
}

func (c *tokenCache) put(key string, p principal, exp time.Time) {
	if c.ttl < 0 {
		return
	}
	until := c.now().Add(c.ttl)
	if !exp.IsZero() && exp.Before(until) {
		until = exp
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedTokens {
		now := c.now()
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxCachedTokens {
			clear(c.m)
		}
	}
	c.m[key] = tokenEntry{p: p, until: until}
}

// authError is a refused bearer token: RFC 6750 §3.1 error code and status.
type authError struct {
	status int
	code   string
	desc   string
}

// authenticate checks the request's bearer access token (RFC 6750 Authorization header
// only): introspection (RFC 7662) by the wallet's client says it is an active access token
// meant for the wallet (apiAllowed: issued to one of Config.APIClients, or with
// Config.APIAudience in its aud; checked first) and granted the id_number scope; userinfo
// gives the ID number.
// Answers are cached for TokenCacheTTL, never past the token's exp. With neither APIClients
// nor APIAudience configured every token is refused, without asking the provider.
func (s *Server) authenticate(ctx context.Context, r *http.Request) (*principal, *authError) {
	auth := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(auth, " ")
	tok = strings.TrimSpace(tok)
	if auth == "" || !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || len(tok) > 4096 {
		return nil, &authError{http.StatusUnauthorized, "invalid_request", "a bearer access token from the identity provider is required"}
	}
	if len(s.cfg.APIClients) == 0 && s.cfg.APIAudience == "" {
		return nil, &authError{http.StatusForbidden, "invalid_token", "the wallet API accepts no app's tokens: it is not configured for any client; start wallet serve with --api-client CLIENT_ID (or --api-audience)"}
	}
	key := tokenKey(tok)
	if p, ok := s.tokens.get(key); ok {
		return &p, nil
	}
	in, err := s.idp.introspect(ctx, tok)
	if err != nil {
		return nil, s.idpAuthError(ctx, "introspection", err)
	}
	if !in.Active || (in.TokenType != "" && !strings.EqualFold(in.TokenType, "Bearer")) {
		return nil, &authError{http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or revoked"}
	}
	// The client first: a token of a client the API does not accept is refused as such,
	// whatever its scope.
	if !s.apiAllowed(in) {
		s.log.InfoContext(ctx, "bearer: token of a client the API does not accept", "client_id", in.ClientID)
		return nil, &authError{http.StatusForbidden, "invalid_token", "tokens of this client are not accepted"}
	}
	if !slices.Contains(strings.Fields(in.Scope), ScopeIDNumber) {
		return nil, &authError{http.StatusForbidden, "insufficient_scope", "the access token was not granted the id_number scope"}
	}
	ui, err := s.idp.userinfo(ctx, tok)
	if err != nil {
		return nil, s.idpAuthError(ctx, "userinfo", err)
	}
	if ui.IDNumber == "" || (in.Sub != "" && ui.Sub != in.Sub) {
		return nil, &authError{http.StatusForbidden, "insufficient_scope", "the identity provider released no ID number for this token"}
	}
	p := principal{sub: ui.Sub, clientID: in.ClientID, index: s.svc.HolderIndex(ui.IDNumber)}
	var exp time.Time
	if in.Exp > 0 {
		exp = time.Unix(in.Exp, 0)
	}
	s.tokens.put(key, p, exp)
	return &p, nil
}

// apiAllowed reports whether an introspected token is meant for the wallet API: issued to a
// client of Config.APIClients, or carrying Config.APIAudience in its aud. Deny by default.
func (s *Server) apiAllowed(in *introspection) bool {
	if in.ClientID != "" && slices.Contains(s.cfg.APIClients, in.ClientID) {
		return true
	}
	return s.cfg.APIAudience != "" && slices.Contains(in.Aud, s.cfg.APIAudience)
}

func (s *Server) idpAuthError(ctx context.Context, what string, err error) *authError {
	var hs errHTTPStatus
	if errors.As(err, &hs) && (hs.code == http.StatusUnauthorized || hs.code == http.StatusForbidden) {
		if what == "userinfo" {
			return &authError{http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or revoked"}
		}
		// The provider refused the wallet's own credentials: a configuration fault.
		s.log.ErrorContext(ctx, "bearer: provider refused the wallet's client credentials", "call", what, "err", err.Error())
		return &authError{http.StatusServiceUnavailable, "temporarily_unavailable", "tokens cannot be checked now"}
	}
	s.log.WarnContext(ctx, "bearer: provider call failed", "call", what, "err", err.Error())
	return &authError{http.StatusServiceUnavailable, "temporarily_unavailable", "the identity provider cannot be reached"}
}
