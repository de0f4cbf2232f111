package oidc

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/token/jwt"
)

// typAccessTokenJWT is the JWS "typ" of JWT access tokens (RFC 9068 §2.1).
const typAccessTokenJWT = "at+jwt"

// tokenStrategy is the oauth2.CoreStrategy tongban gives fosite. Authorization codes and
// refresh tokens are always HMAC-SM3 opaque tokens (hmacStrategy). Access tokens are opaque
// too, except for clients registered with AccessTokenFormat "jwt": those get RFC 9068 JWT
// access tokens (typ at+jwt) signed by idTokenSigner with the client's id_token algorithm
// key (SGD_SM3_SM2 through smjose, ES256, RS256), kid in the header, so a resource server
// verifies them offline with the JWKS.
//
// A JWT access token is stored like an opaque one, under its signature (the third part of
// the JWS), so introspection, revocation, the revocation of a refresh family and the purge
// apply unchanged; introspection and userinfo read the record first and then verify the JWS
// (ValidateAccessToken), so a revoked JWT is inactive there even though it still verifies
// offline until exp — resource servers that must see revocation introspect.
//
// fosite's handler/oauth2.DefaultJWTStrategy (v0.49.0) is not used: it makes every access
// token of the provider a JWT (no per-client choice); it takes the header and claims from a
// JWTSessionContainer session (oauth2.JWTClaims, which has no client_id, auth_time, acr or
// amr); and it stamps iat and checks exp against the wall clock instead of Config.Now. Its
// signing part would be idTokenSigner anyway.
type tokenStrategy struct {
	*hmacStrategy
	signer   *idTokenSigner
	issuer   string
	lifetime time.Duration // access token lifetime when the session has no expiry yet
}

var _ oauth2.CoreStrategy = (*tokenStrategy)(nil)

// isJWT says whether an access token has the shape of a compact JWS rather than an opaque
// token.
func isJWT(token string) bool {
	return !strings.HasPrefix(token, prefixAccess) && strings.Count(token, ".") == 2
}

func (t *tokenStrategy) AccessTokenSignature(ctx context.Context, token string) string {
	if isJWT(token) {
		return token[strings.LastIndexByte(token, '.')+1:]
	}
	return t.hmacStrategy.AccessTokenSignature(ctx, token)
}

func (t *tokenStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	c, ok := r.GetClient().(*client)
	if !ok || c.c.AccessTokenFormat != AccessTokenJWT {
		return t.hmacStrategy.GenerateAccessToken(ctx, r)
	}
	sess, ok := r.GetSession().(*session)
	if !ok {
		return "", "", fosite.ErrServerError.WithWrap(errSessionType)
	}
	now := t.now()
	exp := sess.GetExpiresAt(fosite.AccessToken)
	if exp.IsZero() {
		exp = now.Add(t.lifetime)
		sess.SetExpiresAt(fosite.AccessToken, exp)
	}
	sub := sess.Subject
	if sub == "" { // client credentials: the client is the subject (RFC 9068 §2.2)
		sub = c.GetID()
	}
	claims := jwt.MapClaims{
		"iss":       t.issuer,
		"exp":       exp.Unix(),
		"aud":       accessTokenAudience(c, r.GetGrantedAudience(), t.issuer),
		"sub":       sub,
		"client_id": c.GetID(),
		"iat":       now.Unix(),
		"jti":       randomString(16),
	}
	if sc := r.GetGrantedScopes(); len(sc) > 0 {
		claims["scope"] = strings.Join(sc, " ")
	}
	if sess.PersonID != "" && sess.AuthTime != 0 {
		claims["auth_time"] = unixNano(sess.AuthTime).Unix()
	}
	if sess.ACR != "" {
		claims["acr"] = sess.ACR
	}
	if len(sess.AMR) > 0 {
		claims["amr"] = sess.AMR
	}
	return t.signer.Generate(ctx, claims, &jwt.Headers{Extra: map[string]any{"alg": c.idTokenAlg(), "typ": typAccessTokenJWT}})
}

// accessTokenAudience is the aud of a JWT access token (RFC 9068 §3): the resources the
// request indicated (audience parameter), else the client's registered audience, else this
// server's UserInfo endpoint (the one resource every OIDC access token is good for).
func accessTokenAudience(c *client, granted fosite.Arguments, issuer string) any {
	aud := []string(granted)
	if len(aud) == 0 {
		aud = c.c.Audience
	}
	switch len(aud) {
	case 0:
		return issuer + pathUserinfo
	case 1:
		return aud[0]
	}
	return aud
}

// ValidateAccessToken checks an opaque token's MAC, or a JWT's signature (any published key,
// typ at+jwt), and the expiry of the stored record (which the JWT's exp repeats).
func (t *tokenStrategy) ValidateAccessToken(ctx context.Context, r fosite.Requester, token string) error {
	if !isJWT(token) {
		return t.hmacStrategy.ValidateAccessToken(ctx, r, token)
	}
	if err := t.verifyJWT(ctx, token); err != nil {
		return err
	}
	exp := r.GetSession().GetExpiresAt(fosite.AccessToken)
	if !exp.IsZero() && !t.now().Before(exp) {
		return fosite.ErrTokenExpired.WithHint("The access token expired.")
	}
	return nil
}

// verifyJWT checks that token is a JWT access token signed by one of our published keys.
func (t *tokenStrategy) verifyJWT(ctx context.Context, token string) error {
	payload, h, err := t.signer.verify(ctx, token)
	if err != nil {
		return fosite.ErrTokenSignatureMismatch.WithWrap(err)
	}
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != typAccessTokenJWT {
		return fosite.ErrInvalidTokenFormat.WithHint("The token is not a JWT access token.")
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return fosite.ErrInvalidTokenFormat.WithWrap(err)
	}
	if !t.now().Before(time.Unix(claims.Exp, 0)) {
		return fosite.ErrTokenExpired.WithHint("The access token expired.")
	}
	return nil
}

// authenticAccessToken says whether token is an access token this server made: a valid
// HMAC for an opaque token, a valid signature for a JWT (expiry not checked). It reads no
// token record.
func (t *tokenStrategy) authenticAccessToken(ctx context.Context, token string) bool {
	if isJWT(token) {
		_, h, err := t.signer.verify(ctx, token)
		typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
		return err == nil && typ == typAccessTokenJWT
	}
	return t.validate(prefixAccess, token, time.Time{}, "") == nil
}
