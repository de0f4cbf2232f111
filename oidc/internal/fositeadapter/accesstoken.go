package fositeadapter

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/token/jwt"

	"github.com/tongban/tongban/oidc/internal/sealed"
)

// TypAccessTokenJWT is the JWS "typ" of JWT access tokens (RFC 9068 §2.1).
const TypAccessTokenJWT = "at+jwt"

// formatJWT is the storage.Client.AccessTokenFormat of clients given JWT access tokens
// (oidc.AccessTokenJWT).
const formatJWT = "jwt"

// Signer signs and verifies the JWS of JWT access tokens with the provider's published
// ID-token keys: oidc's ID-token signer, which also implements fosite's jwt.Signer.
type Signer interface {
	// Generate signs claims with the active key for header.Get("alg") and JWS typ
	// header.Get("typ"), and returns the compact JWS and its signature part.
	Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (token, signature string, err error)
	// Verify checks a compact JWS against the published key named by its kid and returns
	// its payload and header.
	Verify(ctx context.Context, token string) (payload []byte, header jose.Header, err error)
}

// TokenStrategy is the oauth2.CoreStrategy tongban gives fosite. Authorization codes and refresh
// tokens are always HMAC-SM3 opaque tokens (hmacStrategy), stored. Access tokens are opaque
// sealed tokens, not stored (SealedAccessTokens), except for clients registered with
// AccessTokenFormat "jwt": those get RFC 9068 JWT access tokens (typ
// at+jwt) signed by the Signer (oidc's ID-token signer) with the client's id_token algorithm key
// (SGD_SM3_SM2 through smjose, ES256, RS256), kid in the header, so a resource server verifies them
// offline with the JWKS.
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
// amr); and it stamps iat and checks exp against the wall clock instead of oidc's Config.Now.
// Its signing part would be oidc's ID-token signer anyway.
type TokenStrategy struct {
	*hmacStrategy
	sealed   *sealed.Sealer // opaque access tokens (SealedAccessTokens)
	signer   Signer
	issuer   string
	userinfo string        // the UserInfo endpoint: the aud of JWT access tokens that name no resource
	lifetime time.Duration // access token lifetime when the session has no expiry yet
}

// NewTokenStrategy returns the token strategy of the provider with the given issuer: opaque
// tokens MACed with HMAC-SM3 under key (keyring.TokenKey), JWT access tokens signed by signer
// with iss issuer and, when the request names no audience, aud userinfo (the UserInfo endpoint
// URL). lifetime is the access token lifetime; now is the clock expiry is checked against.
func NewTokenStrategy(key []byte, signer Signer, issuer, userinfo string, lifetime time.Duration, now func() time.Time) *TokenStrategy {
	return &TokenStrategy{hmacStrategy: newHMACStrategy(key, now), sealed: NewAccessTokenSealer(key, now), signer: signer,
		issuer: issuer, userinfo: userinfo, lifetime: lifetime}
}

// Sealer returns the sealer of the strategy's opaque access tokens, which the Store opens.
func (t *TokenStrategy) Sealer() *sealed.Sealer { return t.sealed }

var _ oauth2.CoreStrategy = (*TokenStrategy)(nil)

// isJWT says whether an access token has the shape of a compact JWS rather than an opaque
// token.
func isJWT(token string) bool {
	return !strings.HasPrefix(token, prefixAccess) && strings.Count(token, ".") == 2
}

// AccessTokenSignature returns what the Store looks an access token up by: a sealed token
// itself (GetAccessTokenSession opens it), a JWT's signature, a stored opaque token's
// signature.
func (t *TokenStrategy) AccessTokenSignature(ctx context.Context, token string) string {
	switch {
	case t.sealed.Has(token):
		return token
	case isJWT(token):
		return token[strings.LastIndexByte(token, '.')+1:]
	}
	return t.hmacStrategy.AccessTokenSignature(ctx, token)
}

// GenerateAccessToken makes a sealed access token (SealedAccessTokens), or an RFC 9068 JWT for
// a client registered for them.
func (t *TokenStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	sess, ok := r.GetSession().(*Session)
	if !ok {
		return "", "", fosite.ErrServerError.WithWrap(ErrSessionType)
	}
	now := t.now()
	exp := sess.GetExpiresAt(fosite.AccessToken)
	if exp.IsZero() {
		exp = now.Add(t.lifetime)
		sess.SetExpiresAt(fosite.AccessToken, exp)
	}
	c, ok := r.GetClient().(*Client)
	if !ok || c.Registration.AccessTokenFormat != formatJWT {
		tok, err := sealAccessToken(t.sealed, r, sess, now)
		if _, ok := errors.AsType[*fosite.RFC6749Error](err); ok {
			return "", "", err
		} else if err != nil {
			return "", "", fosite.ErrServerError.WithWrap(err)
		}
		return tok, "", nil // nothing to store (Store.CreateAccessTokenSession)
	}
	// Stored with the token's record: oidc's introspection and UserInfo compare it with the
	// app's TokensNotBefore, as they do a sealed token's.
	sess.AccessIssued = now.UnixNano()
	sub := sess.Subject
	if sub == "" { // client credentials: the client is the subject (RFC 9068 §2.2)
		sub = c.GetID()
	}
	claims := jwt.MapClaims{
		"iss":       t.issuer,
		"exp":       exp.Unix(),
		"aud":       accessTokenAudience(c, r.GetGrantedAudience(), t.userinfo),
		"sub":       sub,
		"client_id": c.GetID(),
		"iat":       now.Unix(),
		"jti":       newJTI(),
	}
	if sc := r.GetGrantedScopes(); len(sc) > 0 {
		claims["scope"] = strings.Join(sc, " ")
	}
	if sess.PersonID != "" && sess.AuthTime != 0 {
		claims["auth_time"] = FromNanos(sess.AuthTime).Unix()
	}
	if sess.ACR != "" {
		claims["acr"] = sess.ACR
	}
	if len(sess.AMR) > 0 {
		claims["amr"] = sess.AMR
	}
	if sess.Act != nil { // token exchange (RFC 8693 §4.1)
		claims["act"] = sess.Act
	}
	return t.signer.Generate(ctx, claims, &jwt.Headers{Extra: map[string]any{"alg": c.IDTokenAlg(), "typ": TypAccessTokenJWT}})
}

// accessTokenAudience is the aud of a JWT access token (RFC 9068 §3): the resources the
// request indicated (audience parameter), else the client's registered audience, else this
// server's UserInfo endpoint (the one resource every OIDC access token is good for).
func accessTokenAudience(c *Client, granted fosite.Arguments, userinfo string) any {
	aud := []string(granted)
	if len(aud) == 0 {
		aud = c.Registration.Audience
	}
	switch len(aud) {
	case 0:
		return userinfo
	case 1:
		return aud[0]
	}
	return aud
}

// ValidateAccessToken checks an opaque token's MAC, or a JWT's signature (any published key,
// typ at+jwt), and the expiry of the stored record (which the JWT's exp repeats).
func (t *TokenStrategy) ValidateAccessToken(ctx context.Context, r fosite.Requester, token string) error {
	if t.sealed.Has(token) {
		// Store.GetAccessTokenSession opened the seal (which authenticates it) and checked
		// the revoked-grant list; what is left is the expiry it carries, and the lifetime now
		// configured (Session.AccessIssued).
		now := t.now()
		if exp := r.GetSession().GetExpiresAt(fosite.AccessToken); !exp.IsZero() && !now.Before(exp) {
			return fosite.ErrTokenExpired.WithHint("The access token expired.")
		}
		if sess, ok := r.GetSession().(*Session); ok && sess.AccessIssued != 0 &&
			!now.Before(FromNanos(sess.AccessIssued).Add(t.lifetime+revocationMargin)) {
			return fosite.ErrTokenExpired.WithHint("The access token is older than the access-token lifetime.")
		}
		return nil
	}
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
func (t *TokenStrategy) verifyJWT(ctx context.Context, token string) error {
	payload, h, err := t.signer.Verify(ctx, token)
	if err != nil {
		return fosite.ErrTokenSignatureMismatch.WithWrap(err)
	}
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != TypAccessTokenJWT {
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

// AuthenticAccessToken says whether token is an access token this server made: a seal that
// opens, a valid HMAC for a stored opaque token, a valid signature for a JWT (expiry not
// checked). It reads no token record.
func (t *TokenStrategy) AuthenticAccessToken(ctx context.Context, token string) bool {
	if t.sealed.Has(token) {
		_, err := t.sealed.Open(token)
		return err == nil
	}
	if isJWT(token) {
		_, h, err := t.signer.Verify(ctx, token)
		typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
		return err == nil && typ == TypAccessTokenJWT
	}
	return t.validate(prefixAccess, token, time.Time{}, "") == nil
}

// newJTI returns a JWT ID (RFC 7519 §4.1.7): 128 random bits, base64url (22 characters).
func newJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return b64.EncodeToString(b[:])
}
