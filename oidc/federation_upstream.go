package oidc

// Brokering through OpenID Federation 1.0: an upstream registered with `idp upstreams add
// --federation` (storage.Upstream.Federation) is an OP whose metadata — issuer, endpoints,
// keys — come from its resolved trust chain (entity type openid_provider) instead of
// discovery, and are resolved again when the chain expires. This instance is the upstream's
// relying party by automatic registration (§12.1): its own entity identifier is the client_id,
// the authorization request is a request object signed with its relying-party key
// (storage.PurposeFederationRP, SGD_SM3_SM2), and it authenticates at the token endpoint with
// private_key_jwt signed by the same key. No client secret passes between federated provinces.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/tongban/tongban/internal/httpkit"
	"github.com/tongban/tongban/sm-crypto/smjose"
	"github.com/tongban/tongban/storage"
)

// federationJWTLifetime is the lifetime of the request objects and client assertions this
// instance sends to federation upstreams.
const federationJWTLifetime = 2 * time.Minute

// upstreamClientID is this instance's client_id at upstream u: for a federation upstream
// registered without one, this instance's entity identifier.
func (s *Server) upstreamClientID(u storage.Upstream) string {
	if u.Federation && u.ClientID == "" {
		return s.federation().EntityID()
	}
	return u.ClientID
}

// federationProvider resolves the trust chain of federation upstream u (its Issuer is its
// entity identifier) and caches its OP metadata until the chain expires: issuer (equal to the
// entity identifier when given), authorization_endpoint and token_endpoint (https, or http on
// a loopback host), and the keys — jwks inline, else jwks_uri (read as discovery's). Errors:
// ErrUpstreamChain.
func (s *Server) federationProvider(ctx context.Context, u storage.Upstream) (*upstreamProvider, error) {
	ent, err := s.federation().ResolveEntity(ctx, u.Issuer, EntityTypeProvider)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUpstreamChain, err)
	}
	md := ent.Metadata
	str := func(name string) string { v, _ := md[name].(string); return v }
	endpointOK := func(raw string) bool {
		p, err := url.Parse(raw)
		return err == nil && p.Host != "" && p.Fragment == "" &&
			(p.Scheme == "https" || p.Scheme == "http" && isLoopbackHost(p.Hostname()))
	}
	if iss := str("issuer"); iss != "" && strings.TrimSuffix(iss, "/") != u.Issuer {
		return nil, fmt.Errorf("%w: metadata issuer %q is not the entity identifier", ErrUpstreamChain, cutForError(iss, 100))
	}
	authURL, tokenURL := str("authorization_endpoint"), str("token_endpoint")
	if !endpointOK(authURL) || !endpointOK(tokenURL) {
		return nil, fmt.Errorf("%w: openid_provider metadata without usable authorization and token endpoints", ErrUpstreamChain)
	}
	keys := &upstreamKeys{client: s.upstreamHTTPClient()}
	switch v := md["jwks"].(type) {
	case map[string]any:
		b, _ := json.Marshal(v)
		set, err := smjose.ParseJWKS(b)
		if err != nil {
			return nil, fmt.Errorf("%w: jwks: %w", ErrUpstreamChain, err)
		}
		keys.set, keys.fetched = set, time.Now()
	default:
		if !endpointOK(str("jwks_uri")) {
			return nil, fmt.Errorf("%w: openid_provider metadata without jwks or jwks_uri", ErrUpstreamChain)
		}
		keys.url = str("jwks_uri")
	}
	p := &upstreamProvider{issuer: u.Issuer, keys: keys, fetched: time.Now(), expires: ent.Expires,
		endpoint: oauth2.Endpoint{AuthURL: authURL, TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}}
	s.broker.putProvider(u.ID, p)
	return p, nil
}

// federationAuthURL is the authorization request to federation upstream u (OpenID Federation
// 1.0 §12.1.1.1, RFC 9101): every parameter in a request object signed with this instance's
// relying-party key (iss and client_id its entity identifier, aud the upstream's issuer, a
// random jti, exp two minutes ahead); client_id, response_type and scope also as query
// parameters (OIDC Core §6.1).
func (s *Server) federationAuthURL(ctx context.Context, u storage.Upstream, prov *upstreamProvider, f upstreamFlow, lang string) (string, error) {
	clientID := s.upstreamClientID(u)
	scope := strings.Join(u.Scopes, " ")
	now := s.now()
	claims := map[string]any{
		"iss": clientID, "aud": u.Issuer, "jti": httpkit.RandomString(16), "iat": now.Unix(),
		"exp":       now.Add(federationJWTLifetime).Unix(),
		"client_id": clientID, "response_type": "code", "redirect_uri": UpstreamRedirectURI(s.issuer), "scope": scope,
		"state": f.State, "nonce": f.Nonce, "code_challenge": oauth2.S256ChallengeFromVerifier(f.Verifier),
		"code_challenge_method": "S256", "ui_locales": lang,
	}
	if f.Silent {
		claims["prompt"] = "none"
	}
	ro, err := s.rp.sign(ctx, claims, "oauth-authz-req+jwt")
	if err != nil {
		return "", fmt.Errorf("sign request object: %w", err)
	}
	q := url.Values{"client_id": {clientID}, "response_type": {"code"}, "scope": {scope}, "request": {ro}}
	sep := "?"
	if strings.Contains(prov.endpoint.AuthURL, "?") {
		sep = "&"
	}
	return prov.endpoint.AuthURL + sep + q.Encode(), nil
}

// federationClientAssertion is the private_key_jwt client assertion (RFC 7523 §3) for the
// token endpoint of federation upstream u: iss and sub this instance's entity identifier, aud
// the token endpoint, a random jti, exp two minutes ahead, signed with the relying-party key.
func (s *Server) federationClientAssertion(ctx context.Context, u storage.Upstream, prov *upstreamProvider) (string, error) {
	clientID := s.upstreamClientID(u)
	now := s.now()
	a, err := s.rp.sign(ctx, map[string]any{"iss": clientID, "sub": clientID, "aud": prov.endpoint.TokenURL,
		"jti": httpkit.RandomString(16), "iat": now.Unix(), "exp": now.Add(federationJWTLifetime).Unix()}, "")
	if err != nil {
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	return a, nil
}
