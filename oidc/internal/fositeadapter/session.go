package fositeadapter

import (
	"encoding/json"
	"net/url"
	"slices"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"
)

// Session is the fosite session of every grant: what tongban knows about the login that an
// authorization code, access token or refresh token stands for. It is serialised into
// storage.TokenRecord.Data (with the request, see storedRequest) and carries no personal data:
// claims such as the name or ID number are read from the person record when an ID token or
// userinfo response is made, so token records never hold them.
//
// It implements openid.Session for fosite's prompt validation; IDTokenClaims is a view built
// from the fields below.
type Session struct {
	// Subject is the "sub" given to this client (the person ID, or a pairwise value).
	Subject string `json:"sub,omitempty"`
	// PersonID is the opaque person ID ("" for client credentials).
	PersonID string `json:"pid,omitempty"`
	// AuthTime is when the person authenticated (UnixNano), RequestedAt when the
	// authorization request first arrived (UnixNano).
	AuthTime    int64    `json:"at,omitempty"`
	RequestedAt int64    `json:"rat,omitempty"`
	ACR         string   `json:"acr,omitempty"`
	AMR         []string `json:"amr,omitempty"`
	// Nonce is the authorization request's nonce (OIDC Core §3.1.2.1), put in the ID token of
	// the code exchange only.
	Nonce string `json:"n,omitempty"`
	// CodeChallenge is the PKCE S256 challenge (RFC 7636 §4.3) of an authorization code; it is
	// cleared once the verifier has been checked.
	CodeChallenge string `json:"cc,omitempty"`
	// Claims is the OIDC claims request parameter (OIDC Core §5.5), if any.
	Claims *ClaimsRequest `json:"cl,omitempty"`
	// Expiry per token type, UnixNano; 0 = not set.
	CodeExp    int64 `json:"ce,omitempty"`
	AccessExp  int64 `json:"ae,omitempty"`
	RefreshExp int64 `json:"re,omitempty"`
	IDExp      int64 `json:"ie,omitempty"`
	// Gen is the grant's generation: 0 for the tokens issued with the authorization code or
	// client credentials, n after the grant's refresh token was rotated n times. A
	// self-contained access token carries it, so that a refresh can revoke the access tokens
	// issued before it (storage.Revocations) and not the new one.
	Gen int64 `json:"g,omitempty"`
	// AccessIssued is when a sealed or JWT access token was made (UnixNano). A sealed token
	// is valid only while less than the access-token lifetime now configured (plus a minute)
	// has passed since, whatever its own expiry says, so that an entry of the revoked-grant
	// list — kept that long — outlives every token it revokes even after the lifetime was
	// shortened. Either kind is inactive when it is not after its app's TokensNotBefore.
	AccessIssued int64 `json:"ai,omitempty"`
	// ActingFor is the person ID of the legal person (法人) that PersonID, an agent (经办人),
	// acts for in this grant (oidc's agents.go); "" when the person acts for themself. Subject
	// is then the company's subject for this client, and ActorSubject the agent's (the "act"
	// claim, RFC 8693 §4.1).
	ActingFor string `json:"af,omitempty"`
	// SID is the sid claim of the SSO login session the grant was issued from (OpenID Connect
	// Back-Channel Logout 1.0 §2.1; oidc's logout_backchannel.go); "" for grants without one.
	SID          string `json:"sid,omitempty"`
	ActorSubject string `json:"as,omitempty"`
	// Act is the actor chain of a token issued by token exchange (RFC 8693 §4.1, oidc's
	// exchange.go): who acts for Subject — the requesting client, or the actor token's
	// subject — with the subject token's own actor nested inside. nil for other tokens.
	Act *Actor `json:"ax,omitempty"`
	// Parent is the grant (request ID) of the subject token a token exchange was made from,
	// and ParentGen that token's generation: the exchanged token is inactive once the
	// subject token's grant is revoked at or above ParentGen (Store.GetAccessTokenSession).
	// "" for other tokens.
	Parent    string `json:"pg,omitempty"`
	ParentGen int64  `json:"pn,omitempty"`
	// IDP is the issuer of the upstream provider the person authenticated at (a brokered
	// login, oidc's broker.go): the ID token's "idp" claim. "" for a local login.
	IDP string `json:"idp,omitempty"`

	idClaims  *jwt.IDTokenClaims
	idHeaders *jwt.Headers
}

var _ fosite.Session = (*Session)(nil)

// Actor is the "act" claim (RFC 8693 §4.1): the subject of the party acting, and that
// party's own actor when it acted for someone else too (outermost is the current actor).
type Actor struct {
	Sub string `json:"sub"`
	Act *Actor `json:"act,omitempty"`
}

// Depth is the number of actors in the chain a (0 for nil).
func (a *Actor) Depth() int {
	n := 0
	for ; a != nil; a = a.Act {
		n++
	}
	return n
}

// FromNanos is the time of a Session field in UnixNano, in UTC; the zero time for 0.
func FromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// Nanos is t as a Session field: UnixNano, 0 for the zero time.
func Nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func (s *Session) SetExpiresAt(key fosite.TokenType, exp time.Time) {
	switch key {
	case fosite.AuthorizeCode:
		s.CodeExp = Nanos(exp)
	case fosite.AccessToken:
		s.AccessExp = Nanos(exp)
	case fosite.RefreshToken:
		s.RefreshExp = Nanos(exp)
	case fosite.IDToken:
		s.IDExp = Nanos(exp)
	}
}

func (s *Session) GetExpiresAt(key fosite.TokenType) time.Time {
	switch key {
	case fosite.AuthorizeCode:
		return FromNanos(s.CodeExp)
	case fosite.AccessToken:
		return FromNanos(s.AccessExp)
	case fosite.RefreshToken:
		return FromNanos(s.RefreshExp)
	case fosite.IDToken:
		return FromNanos(s.IDExp)
	}
	return time.Time{}
}

func (s *Session) GetUsername() string { return "" }

func (s *Session) GetSubject() string {
	if s == nil {
		return ""
	}
	return s.Subject
}

// Clone returns a copy that shares nothing mutable with s (fosite clones the session of a
// refresh token before rotating it). Unlike fosite's DefaultSession it uses no reflection.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	c := *s
	c.AMR = slices.Clone(s.AMR)
	c.Act = s.Act.clone()
	c.idClaims, c.idHeaders = nil, nil
	return &c
}

// IDTokenClaims returns the view of the session that fosite's OpenIDConnectRequestValidator
// reads (Subject, AuthTime, RequestedAt). tongban builds the signed ID token itself
// (oidc's idtoken.go), so changes to the returned claims are not persisted.
func (s *Session) IDTokenClaims() *jwt.IDTokenClaims {
	if s.idClaims == nil {
		s.idClaims = &jwt.IDTokenClaims{
			Subject:                             s.Subject,
			AuthTime:                            FromNanos(s.AuthTime),
			RequestedAt:                         FromNanos(s.RequestedAt),
			AuthenticationContextClassReference: s.ACR,
			AuthenticationMethodsReferences:     s.AMR,
			Nonce:                               s.Nonce,
		}
	}
	return s.idClaims
}

// IDTokenHeaders returns an empty header set; the signer chooses alg and kid.
func (s *Session) IDTokenHeaders() *jwt.Headers {
	if s.idHeaders == nil {
		s.idHeaders = &jwt.Headers{Extra: map[string]interface{}{}}
	}
	return s.idHeaders
}

// storedRequest is the JSON form of a fosite.Requester in storage.TokenRecord.Data. The client
// is stored by ID only and restored from the client cache.
type storedRequest struct {
	ID          string              `json:"id"`
	RequestedAt int64               `json:"rat"`
	ClientID    string              `json:"cid"`
	Scopes      []string            `json:"rs,omitempty"`
	Granted     []string            `json:"gs,omitempty"`
	Audience    []string            `json:"ra,omitempty"`
	GrantedAud  []string            `json:"ga,omitempty"`
	Form        map[string][]string `json:"f,omitempty"`
	Session     *Session            `json:"s"`
}

// encodeRequest serialises r; its session must be a *Session.
func encodeRequest(r fosite.Requester) ([]byte, *Session, error) {
	sess, ok := r.GetSession().(*Session)
	if !ok {
		return nil, nil, ErrSessionType
	}
	sr := storedRequestOf(r, sess)
	if f := r.GetRequestForm(); len(f) > 0 {
		sr.Form = f
	}
	b, err := json.Marshal(&sr)
	return b, sess, err
}

// storedRequestOf returns the stored form of r with session sess, without the request form.
func storedRequestOf(r fosite.Requester, sess *Session) storedRequest {
	return storedRequest{
		ID:          r.GetID(),
		RequestedAt: Nanos(r.GetRequestedAt()),
		ClientID:    r.GetClient().GetID(),
		Scopes:      r.GetRequestedScopes(),
		Granted:     r.GetGrantedScopes(),
		Audience:    r.GetRequestedAudience(),
		GrantedAud:  r.GetGrantedAudience(),
		Session:     sess,
	}
}

// decodeRequest restores a request serialised by encodeRequest, with client c.
func decodeRequest(data []byte, c fosite.Client) (*fosite.Request, *Session, error) {
	var sr storedRequest
	if err := json.Unmarshal(data, &sr); err != nil {
		return nil, nil, err
	}
	req, sess := sr.request(c)
	return req, sess, nil
}

// request restores the request of sr, with client c.
func (sr *storedRequest) request(c fosite.Client) (*fosite.Request, *Session) {
	if sr.Session == nil {
		sr.Session = &Session{}
	}
	form := url.Values(sr.Form)
	if form == nil {
		form = url.Values{}
	}
	return &fosite.Request{
		ID:                sr.ID,
		RequestedAt:       FromNanos(sr.RequestedAt),
		Client:            c,
		RequestedScope:    orEmpty(sr.Scopes),
		GrantedScope:      orEmpty(sr.Granted),
		RequestedAudience: orEmpty(sr.Audience),
		GrantedAudience:   orEmpty(sr.GrantedAud),
		Form:              form,
		Session:           sr.Session,
	}, sr.Session
}

func orEmpty(s []string) fosite.Arguments {
	if s == nil {
		return fosite.Arguments{}
	}
	return fosite.Arguments(s)
}

// clone returns a deep copy of the chain a.
func (a *Actor) clone() *Actor {
	if a == nil {
		return nil
	}
	return &Actor{Sub: a.Sub, Act: a.Act.clone()}
}
