package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	"github.com/tongban/tongban/storage"
)

// Token exchange (RFC 8693): a department's service presents a citizen's access token and gets
// an access token for another department's API, which says who acts (act) for the citizen
// (sub). See docs/design/roaming-exchange.md and docs/developers/app-developers.md.
const (
	// GrantTokenExchange is the grant type of the token exchange request (RFC 8693 §2.1).
	GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	// TokenTypeAccessToken is the only token type exchanged and issued (RFC 8693 §3): an
	// access token of this server.
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
)

// Actions of the exchange audit entries. actionExchange is a token issued by exchange (actor
// the requesting client, subject the person; detail audience, scopes, lifetime, the subject
// token's client, the actor, the grant); actionExchangeRefused is a refused one (detail the
// error code, the audience, the reason). Neither holds a token.
const (
	actionExchange              = "token.exchange"
	actionExchangeRefused       = "token.exchange.refused"
	actionExchangePolicySet     = "client.exchange_policy.set"
	actionExchangePolicyRemoved = "client.exchange_policy.remove"
)

// Errors of exchange policies (SetExchangePolicy).
var (
	// ErrInvalidExchangeAudience: the audience is not an absolute URI (scheme and host, no
	// fragment, RFC 8707 §2) or longer than MaxExchangeAudienceLength.
	ErrInvalidExchangeAudience = errors.New("oidc: invalid token exchange audience")
	// ErrInvalidExchangeLifetime: the maximum lifetime is neither 0 nor within
	// [MinExchangeLifetime, MaxExchangeLifetime].
	ErrInvalidExchangeLifetime = errors.New("oidc: invalid token exchange lifetime")
	// ErrExchangePublicClient: a public client may not exchange tokens.
	ErrExchangePublicClient = errors.New("oidc: a public client cannot exchange tokens")
)

// Bounds of an exchange policy.
const (
	MaxExchangeAudienceLength = 512
	MinExchangeLifetime       = time.Minute
	MaxExchangeLifetime       = 24 * time.Hour
	// maxActDepth bounds the act chain of an exchanged token (a token exchanged from one
	// exchanged from one …): a longer one is refused with invalid_grant.
	maxActDepth = 4
)

// errInvalidTarget is RFC 8693 §2.2.2 invalid_target (also RFC 8707 §2): the audience or
// resource is not one the client's exchange policy allows.
var errInvalidTarget = &fosite.RFC6749Error{
	ErrorField:       "invalid_target",
	DescriptionField: "The requested audience or resource is invalid, unknown, or not allowed for this client.",
	CodeField:        http.StatusBadRequest,
}

// SetExchangePolicy lets the confidential client p.ClientID exchange citizens' access tokens for
// tokens for p.Audience (an absolute URI, an audience or an RFC 8707 resource) with at most
// p.Scopes (empty: any of the subject token's scopes except licence scopes, which a policy must
// name) and at most p.MaxLifetime (0: the server's access token lifetime; else 1 minute to 24
// hours). It replaces the client's policy for that audience, and records
// client.exchange_policy.set by actor in the same transaction. CreatedAt is set to now. Errors:
// storage.ErrNotFound (no such client); ErrExchangePublicClient; ErrInvalidExchangeAudience;
// ErrInvalidScope (unsupported, or offline_access: exchanged tokens have no refresh token);
// ErrInvalidExchangeLifetime; storage errors.
func SetExchangePolicy(ctx context.Context, store storage.Storage, actor audit.Actor, p storage.ExchangePolicy) (storage.ExchangePolicy, error) {
	if err := validExchangeAudience(p.Audience); err != nil {
		return p, err
	}
	p.Scopes = slices.Compact(slices.Sorted(slices.Values(p.Scopes)))
	for _, sc := range p.Scopes {
		if sc == ScopeOfflineAccess {
			return p, fmt.Errorf("%w: %q (exchanged tokens have no refresh token)", ErrInvalidScope, sc)
		}
		if !slices.Contains(SupportedScopes, sc) {
			return p, fmt.Errorf("%w: %q (supported: %s)", ErrInvalidScope, sc, strings.Join(SupportedScopes, " "))
		}
	}
	if p.MaxLifetime != 0 && (p.MaxLifetime < MinExchangeLifetime || p.MaxLifetime > MaxExchangeLifetime) {
		return p, fmt.Errorf("%w: %s (0, or %s to %s)", ErrInvalidExchangeLifetime, p.MaxLifetime, MinExchangeLifetime, MaxExchangeLifetime)
	}
	p.CreatedAt = timeNow().UTC()
	err := store.InTx(ctx, func(ctx context.Context) error {
		c, err := store.GetClient(ctx, p.ClientID)
		if err != nil {
			return err
		}
		if c.Public {
			return ErrExchangePublicClient
		}
		if err := store.PutExchangePolicy(ctx, p); err != nil {
			return err
		}
		return actor.Record(ctx, store, p.CreatedAt, actionExchangePolicySet, p.ClientID, p.ClientID, exchangePolicyDetail(p))
	})
	return p, err
}

// RemoveExchangePolicy removes the policy of (clientID, audience) and records
// client.exchange_policy.remove by actor in the same transaction. Errors: storage.ErrNotFound
// when there is none; storage errors.
func RemoveExchangePolicy(ctx context.Context, store storage.Storage, actor audit.Actor, clientID, audience string) error {
	return store.InTx(ctx, func(ctx context.Context) error {
		if err := store.DeleteExchangePolicy(ctx, clientID, audience); err != nil {
			return err
		}
		return actor.Record(ctx, store, timeNow(), actionExchangePolicyRemoved, clientID, clientID, "audience="+audience)
	})
}

// ListExchangePolicies returns the exchange policies of clientID ("" for every client), by
// client ID then audience.
func ListExchangePolicies(ctx context.Context, store storage.Storage, clientID string) ([]storage.ExchangePolicy, error) {
	return store.ListExchangePolicies(ctx, clientID)
}

func exchangePolicyDetail(p storage.ExchangePolicy) string {
	return fmt.Sprintf("audience=%s scopes=%s max_lifetime=%s", p.Audience, strings.Join(p.Scopes, ","), p.MaxLifetime)
}

// validExchangeAudience checks that aud is an absolute URI with a host and no fragment
// (RFC 8707 §2), printable ASCII, at most MaxExchangeAudienceLength bytes.
func validExchangeAudience(aud string) error {
	if aud == "" || len(aud) > MaxExchangeAudienceLength {
		return fmt.Errorf("%w: %d bytes (1 to %d)", ErrInvalidExchangeAudience, len(aud), MaxExchangeAudienceLength)
	}
	for _, r := range aud {
		if r <= ' ' || r > '~' {
			return fmt.Errorf("%w: %q has a space or a character that is not printable ASCII", ErrInvalidExchangeAudience, aud)
		}
	}
	u, err := url.Parse(aud)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" || strings.Contains(aud, "#") {
		return fmt.Errorf("%w: %q is not an absolute URI with a host and without a fragment", ErrInvalidExchangeAudience, aud)
	}
	return nil
}

// tokenExchangeHandler is the token endpoint's handler of the token exchange request (RFC 8693
// §2, grant type GrantTokenExchange), composed into fosite like its own handlers
// (composeFosite) and run in the token request's transaction (Server.tokenAttempt):
//
//   - the client authenticates as for every grant, must be confidential and registered for
//     GrantTokenExchange, and must have at least one exchange policy (storage.ExchangePolicies):
//     unauthorized_client otherwise;
//   - subject_token and subject_token_type (TokenTypeAccessToken) are required; actor_token
//     and actor_token_type come together; requested_token_type, when given, is
//     TokenTypeAccessToken: invalid_request otherwise, as is a request naming no audience and
//     no resource (duplicates were refused by handleToken);
//   - every audience and resource must be an audience of one of the client's policies:
//     invalid_target;
//   - the subject token must be an access token of this server that introspection would call
//     active — not expired or revoked, of a published app, issued after the app's cut, of an
//     enabled person, of a standing agent authorisation — and issued for a person:
//     invalid_grant otherwise; the actor token, when given, likewise (it may be a client
//     credentials token);
//   - the scopes asked for (default: all allowed) must be among the subject token's and every
//     target's policy's (licence scopes only when a policy names them; never offline_access):
//     invalid_scope.
//
// The token issued is an access token of the requesting client (sealed, or a JWT for a client
// registered for JWT access tokens) with sub the subject token's, aud the targets, act
// {"sub": the actor token's subject, or the requesting client's ID} with the subject token's
// own actor nested (an agent's, or an earlier exchange's), the person's auth_time, acr and
// amr, and a lifetime bounded by the policies, the server's access token lifetime and the
// subject token's expiry. It is bound to the subject token's grant (Session.Parent): revoking
// that grant makes it inactive too. No refresh token and no ID token are issued. Each
// exchange is audited as token.exchange, each refusal past client authentication as
// token.exchange.refused, in the request's transaction.
type tokenExchangeHandler struct {
	s *Server
	grantHandler
}

var _ fosite.TokenEndpointHandler = (*tokenExchangeHandler)(nil)

func (h *tokenExchangeHandler) HandleTokenEndpointRequest(ctx context.Context, req fosite.AccessRequester) error {
	s := h.s
	c, err := h.client(ctx, req)
	if err != nil {
		return err
	}
	err = s.handleExchange(ctx, c, req)
	if err == nil {
		return nil
	}
	if rfc := fosite.ErrorToRFC6749Error(err); rfc.CodeField < http.StatusInternalServerError {
		detail := "error=" + rfc.ErrorField
		if aud := exchangeTargets(req.GetRequestForm(), req.GetRequestedAudience()); len(aud) > 0 {
			// The client's own words: escaped (no blank can forge another key=value) and cut.
			a := url.QueryEscape(strings.Join(aud, ","))
			if len(a) > MaxExchangeAudienceLength {
				a = a[:MaxExchangeAudienceLength] + "…"
			}
			detail += " audience=" + a
		}
		if rfc.HintField != "" {
			h := url.QueryEscape(rfc.HintField) // may quote the client's scope
			if len(h) > MaxExchangeAudienceLength {
				h = h[:MaxExchangeAudienceLength] + "…"
			}
			detail += " reason=" + h
		}
		if aerr := (audit.Actor{ID: c.GetID()}).Record(ctx, s.store, s.now(), actionExchangeRefused, "", c.GetID(), detail); aerr != nil {
			return fosite.ErrServerError.WithWrap(aerr).WithHint("The refusal could not be audited.")
		}
	}
	return err
}

// exchangeTargets are the audiences (fosite's parse of the audience parameter) and the
// resource of a token exchange request, without duplicates, in order.
func exchangeTargets(form url.Values, audience fosite.Arguments) []string {
	var out []string
	for _, a := range append(slices.Clone([]string(audience)), form["resource"]...) {
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// handleExchange checks a token exchange request of client c and prepares req's session,
// scopes and audience (tokenExchangeHandler).
func (s *Server) handleExchange(ctx context.Context, c *fositeadapter.Client, req fosite.AccessRequester) error {
	if c.IsPublic() {
		return fosite.ErrUnauthorizedClient.WithHint("Public clients may not exchange tokens.")
	}
	if !c.GetGrantTypes().Has(GrantTokenExchange) {
		return fosite.ErrUnauthorizedClient.WithHint("The client is not registered for the token-exchange grant.")
	}
	form := req.GetRequestForm()
	subjectToken, actorToken := form.Get("subject_token"), form.Get("actor_token")
	switch {
	case subjectToken == "":
		return fosite.ErrInvalidRequest.WithHint("The subject_token parameter is required.")
	case form.Get("subject_token_type") == "":
		return fosite.ErrInvalidRequest.WithHint("The subject_token_type parameter is required.")
	case form.Get("subject_token_type") != TokenTypeAccessToken:
		return fosite.ErrInvalidRequest.WithHintf("Unsupported subject_token_type; only %s is exchanged.", TokenTypeAccessToken)
	case actorToken != "" && form.Get("actor_token_type") == "":
		return fosite.ErrInvalidRequest.WithHint("The actor_token_type parameter is required with actor_token.")
	case actorToken == "" && form.Get("actor_token_type") != "":
		return fosite.ErrInvalidRequest.WithHint("The actor_token_type parameter is given without actor_token.")
	case actorToken != "" && form.Get("actor_token_type") != TokenTypeAccessToken:
		return fosite.ErrInvalidRequest.WithHintf("Unsupported actor_token_type; only %s is accepted.", TokenTypeAccessToken)
	case form.Get("requested_token_type") != "" && form.Get("requested_token_type") != TokenTypeAccessToken:
		return fosite.ErrInvalidRequest.WithHintf("Unsupported requested_token_type; only %s is issued.", TokenTypeAccessToken)
	}
	targets := exchangeTargets(form, req.GetRequestedAudience())
	if len(targets) == 0 {
		return fosite.ErrInvalidRequest.WithHint("Name the API the token is for with audience or resource.")
	}
	for _, r := range form["resource"] {
		if validExchangeAudience(r) != nil {
			return errInvalidTarget.WithHint("The resource must be an absolute URI without a fragment.")
		}
	}

	// Policy: the client must have one, and one for every target.
	policies, err := s.store.ListExchangePolicies(ctx, c.GetID())
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	if len(policies) == 0 {
		return fosite.ErrUnauthorizedClient.WithHint("The client has no token exchange policy.")
	}
	lifetime := s.cfg.AccessTokenLifetime
	var policyScopes []fosite.Arguments // per target; nil = any of the subject token's
	for _, t := range targets {
		i := slices.IndexFunc(policies, func(p storage.ExchangePolicy) bool { return p.Audience == t })
		if i < 0 {
			return errInvalidTarget.WithHintf("The client's exchange policy does not allow the target %q.", t)
		}
		p := policies[i]
		if p.MaxLifetime > 0 && p.MaxLifetime < lifetime {
			lifetime = p.MaxLifetime
		}
		policyScopes = append(policyScopes, fosite.Arguments(p.Scopes))
	}

	// The subject token, and the actor token, must be active as introspection says.
	subjReq, rerr := s.activeAccessToken(ctx, subjectToken)
	if rerr != nil {
		return rerr.WithHint("The subject token is not an active access token.")
	}
	subj, ok := subjReq.GetSession().(*fositeadapter.Session)
	if !ok || subj.PersonID == "" {
		return fosite.ErrInvalidGrant.WithHint("The subject token was not issued for a person.")
	}
	actor := c.GetID()
	if actorToken != "" {
		actReq, rerr := s.activeAccessToken(ctx, actorToken)
		if rerr != nil {
			return rerr.WithHint("The actor token is not an active access token.")
		}
		as, _ := actReq.GetSession().(*fositeadapter.Session)
		if as == nil || as.Subject == "" { // client credentials: the client acts
			actor = actReq.GetClient().GetID()
		} else {
			actor = as.Subject
		}
	}
	prior := subj.Act
	if prior == nil && subj.ActingFor != "" { // an agent acting for a company (agents.go)
		prior = &fositeadapter.Actor{Sub: subj.ActorSubject}
	}
	act := &fositeadapter.Actor{Sub: actor, Act: prior}
	if act.Depth() > maxActDepth {
		return fosite.ErrInvalidGrant.WithHintf("The subject token has been exchanged too often (at most %d actors).", maxActDepth)
	}

	// Scopes: within the subject token's and every target's policy.
	allowed := fosite.Arguments{}
	for _, sc := range subjReq.GetGrantedScopes() {
		if sc == ScopeOfflineAccess {
			continue
		}
		_, licence := LicenceScopeKind(sc)
		ok := true
		for _, ps := range policyScopes {
			if len(ps) == 0 && licence || len(ps) > 0 && !ps.Has(sc) {
				ok = false
			}
		}
		if ok {
			allowed = append(allowed, sc)
		}
	}
	requested := req.GetRequestedScopes()
	granted := allowed
	if len(requested) > 0 {
		granted = fosite.Arguments{}
		for _, sc := range requested {
			if !subjReq.GetGrantedScopes().Has(sc) {
				return fosite.ErrInvalidScope.WithHintf("The scope %q was not granted to the subject token.", sc)
			}
			if !allowed.Has(sc) {
				return fosite.ErrInvalidScope.WithHintf("The client's exchange policy does not allow the scope %q for this target.", sc)
			}
			if !granted.Has(sc) {
				granted = append(granted, sc)
			}
		}
	}

	// The exchanged token lives no longer than the subject token.
	now := s.now()
	exp := now.Add(lifetime)
	if se := subjReq.GetSession().GetExpiresAt(fosite.AccessToken); !se.IsZero() && se.Before(exp) {
		exp = se
	}
	sess, ok := req.GetSession().(*fositeadapter.Session)
	ar, ok2 := req.(*fosite.AccessRequest)
	if !ok || !ok2 {
		return fosite.ErrServerError.WithWrap(fositeadapter.ErrSessionType)
	}
	*sess = fositeadapter.Session{
		Subject:     subj.Subject,
		PersonID:    subj.PersonID,
		AuthTime:    subj.AuthTime,
		RequestedAt: fositeadapter.Nanos(now),
		ACR:         subj.ACR,
		AMR:         slices.Clone(subj.AMR),
		Act:         act,
		Parent:      subjReq.GetID(),
		ParentGen:   subj.Gen,
	}
	sess.SetExpiresAt(fosite.AccessToken, exp)
	ar.RequestedScope = slices.Clone(requested)
	ar.GrantedScope = fosite.Arguments{}
	for _, sc := range granted {
		ar.GrantScope(sc)
	}
	ar.RequestedAudience, ar.GrantedAudience = fosite.Arguments(targets), fosite.Arguments{}
	for _, t := range targets {
		ar.GrantAudience(t)
	}
	return nil
}

// activeAccessToken returns the request of token when it is an access token of this server
// that introspection would answer active for (handleIntrospect): a valid MAC, seal or
// signature, not expired, not revoked (nor its parent grant), its app published and its
// tokens not cut, its person enabled, its agent authorisation standing. The error is
// invalid_grant, or server_error for a storage failure.
func (s *Server) activeAccessToken(ctx context.Context, token string) (fosite.Requester, *fosite.RFC6749Error) {
	if !s.strategy.AuthenticAccessToken(ctx, token) {
		return nil, fosite.ErrInvalidGrant // forged or not ours: no database read
	}
	tu, ar, err := s.provider.IntrospectToken(ctx, token, fosite.AccessToken, &fositeadapter.Session{})
	if err == nil && tu != fosite.AccessToken {
		return nil, fosite.ErrInvalidGrant
	}
	if err == nil {
		err = s.checkPersonActive(ctx, ar)
	}
	if err == nil && !accessTokenAccepted(ar) { // published, and issued after the app's cut
		err = errTokenCut
	}
	if err == nil {
		if sess, _ := ar.GetSession().(*fositeadapter.Session); sess != nil && sess.ActingFor != "" {
			_, err = s.actingCompany(ctx, sess, ar.GetClient().GetID())
		}
	}
	switch {
	case err == nil:
		return ar, nil
	case unavailable(err):
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	if rfc := fosite.ErrorToRFC6749Error(err); rfc.CodeField >= http.StatusInternalServerError &&
		!errors.Is(err, errTokenCut) && !errors.Is(err, errActingEnded) {
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	return nil, fosite.ErrInvalidGrant.WithWrap(err)
}

// PopulateTokenEndpointResponse issues the exchanged access token (RFC 8693 §2.2.1):
// access_token, issued_token_type TokenTypeAccessToken, token_type Bearer, expires_in and scope;
// no refresh token. It writes the token.exchange audit entry.
func (h *tokenExchangeHandler) PopulateTokenEndpointResponse(ctx context.Context, req fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !h.CanHandleTokenEndpointRequest(ctx, req) {
		return fosite.ErrUnknownRequest
	}
	s := h.s
	access, accessSig, err := s.strategy.GenerateAccessToken(ctx, req)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	if err := s.fstore.CreateAccessTokenSession(ctx, accessSig, req.Sanitize(nil)); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	sess, _ := req.GetSession().(*fositeadapter.Session)
	exp := req.GetSession().GetExpiresAt(fosite.AccessToken)
	detail := fmt.Sprintf("audience=%s scopes=%s lifetime=%s request=%s", strings.Join(req.GetGrantedAudience(), ","),
		strings.Join(req.GetGrantedScopes(), ","), exp.Sub(s.now()).Round(time.Second), req.GetID())
	if sess != nil && sess.Act != nil {
		detail += " act=" + sess.Act.Sub + " parent=" + sess.Parent
	}
	if _, err := s.store.AppendAudit(ctx, storage.AuditEvent{Time: s.now(), Actor: req.GetClient().GetID(), Action: actionExchange,
		Subject: sess.PersonID, ClientID: req.GetClient().GetID(), Detail: detail}); err != nil {
		return fosite.ErrServerError.WithWrap(err).WithHint("The exchange could not be audited.")
	}
	resp.SetAccessToken(access)
	resp.SetTokenType("Bearer")
	resp.SetExpiresIn(exp.Sub(s.now()))
	resp.SetScopes(req.GetGrantedScopes())
	resp.SetExtra("issued_token_type", TokenTypeAccessToken)
	return nil
}
