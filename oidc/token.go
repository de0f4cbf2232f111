package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/internal/httpkit"
	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	"github.com/tongban/tongban/storage"
)

// handleToken serves the token endpoint (RFC 6749 §3.2): grant types authorization_code (with
// PKCE, RFC 7636), refresh_token (rotated, RFC 9700 §4.14.2), client_credentials, the device
// code (RFC 8628 §3.4, GrantDeviceCode) and token exchange (RFC 8693, GrantTokenExchange). Any other grant type — password, implicit, JWT
// bearer — is unsupported_grant_type.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			s.countError(ctx, "token", "invalid_request", "")
			oauthJSON.Error(w, http.StatusRequestEntityTooLarge, "invalid_request", "The request body is too large.")
			return
		}
		s.tokenError(ctx, w, r, nil, "", fosite.ErrInvalidRequest.WithHint("The request body is malformed."))
		return
	}
	// RFC 6749 §3.2: request parameters MUST NOT be included more than once.
	for k, v := range r.PostForm {
		if len(v) > 1 {
			s.tokenError(ctx, w, r, nil, "", fosite.ErrInvalidRequest.WithHintf("The %s parameter is included more than once.", k))
			return
		}
	}
	grant := r.PostForm.Get("grant_type")
	switch grant {
	case "authorization_code", "refresh_token", "client_credentials", GrantDeviceCode, GrantTokenExchange:
	default:
		s.tokenError(ctx, w, r, nil, grant, fosite.ErrUnsupportedGrantType.WithHint(
			"Supported grant types: authorization_code, refresh_token, client_credentials, "+GrantDeviceCode+", "+GrantTokenExchange+"."))
		return
	}
	var (
		ar   fosite.AccessRequester
		resp fosite.AccessResponder
		err  error
	)
	// A code's claim and everything its redemption writes commit together, and so do a refresh
	// token's claim, the revocation of the access tokens before it and its successor
	// (docs/design/token-transactions.md). Client credentials write nothing. A transaction the
	// database aborted for a conflict with a concurrent one wrote nothing and runs again.
	for attempt := 1; ; attempt++ {
		ar, resp, err = s.tokenAttempt(r.Context(), r, grant)
		if !errors.Is(err, storage.ErrTxAborted) || attempt == maxTokenAttempts {
			break
		}
	}
	if err != nil {
		s.tokenError(ctx, w, r, ar, grant, err)
		return
	}
	s.countToken(ctx, grant, ar.GetClient().GetID())
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

// maxTokenAttempts is how many times a token request runs when the database aborts its
// transaction for a conflict with a concurrent one (storage.ErrTxAborted).
const maxTokenAttempts = 3

// tokenAttempt runs one attempt at a token request: fosite's token endpoint in one transaction
// (for the grants that write), with a fresh TokenState. It returns the access request and the
// response, or the error to answer with.
func (s *Server) tokenAttempt(ctx context.Context, r *http.Request, grant string) (fosite.AccessRequester, fosite.AccessResponder, error) {
	st := &fositeadapter.TokenState{RefreshGrant: grant == "refresh_token"}
	// The code or refresh token must carry our HMAC before its record is read, let alone
	// claimed: a token built around a signature copied from the database is refused as
	// unknown (fosite reads storage before it validates the token; see fositeadapter.Store).
	switch grant {
	case "authorization_code":
		st.Forged = !s.strategy.AuthenticCode(r.PostForm.Get("code"))
	case "refresh_token":
		st.Forged = !s.strategy.AuthenticRefreshToken(r.PostForm.Get("refresh_token"))
	}
	ctx = fositeadapter.WithTokenState(ctx, st)
	var (
		ar   fosite.AccessRequester
		resp fosite.AccessResponder
		oerr error // why the request is refused, when it is
	)
	exchange := func(ctx context.Context) error {
		ar, resp, oerr = s.exchange(ctx, r, grant, st)
		if oerr != nil && fosite.ErrorToRFC6749Error(oerr).CodeField >= http.StatusInternalServerError {
			return oerr // a failure of the server: roll the claim back, the client may retry
		}
		return nil // commit what was issued, or the claim and revocations of a refused request
	}
	if grant == "client_credentials" {
		_ = exchange(ctx)
		return ar, resp, oerr
	}
	err := s.store.InTx(ctx, exchange)
	switch {
	case err == nil:
		return ar, resp, oerr
	case err == oerr:
		return ar, nil, err
	}
	// The transaction could not begin or commit.
	return ar, nil, fosite.ErrServerError.WithWrap(err).WithHint("The tokens could not be stored.")
}

// exchange runs fosite's token endpoint for one request (in the request's transaction, see
// handleToken) and returns the access request, and the response or why it was refused.
func (s *Server) exchange(ctx context.Context, r *http.Request, grant string, st *fositeadapter.TokenState) (fosite.AccessRequester, fosite.AccessResponder, error) {
	ar, err := s.provider.NewAccessRequest(ctx, r, &fositeadapter.Session{})
	if err != nil && grant == "client_credentials" && ar != nil && ar.GetClient() != nil && ar.GetClient().IsPublic() {
		// RFC 6749 §5.2: the client is not authorized to use this grant type.
		err = fosite.ErrUnauthorizedClient.WithHint("Public clients may not use the client_credentials grant.")
	}
	if err == nil && grant == "refresh_token" {
		err = narrowRefreshScope(ar, st, strings.Fields(r.PostForm.Get("scope")))
		fositeadapter.AdvanceGeneration(ar, st)
	}
	if err == nil && (grant == "authorization_code" || grant == "refresh_token") {
		err = s.checkActingGrant(ctx, ar) // agents.go: the authorisation must still stand
	}
	if err != nil {
		if merr := s.fstore.MarkFailedRedemption(ctx, st); merr != nil {
			err = fosite.ErrServerError.WithWrap(merr)
		}
		return ar, nil, err
	}
	if grant == "client_credentials" {
		// RFC 6749 §4.4: the requested scopes, already checked against the client's, are
		// granted; openid and offline_access mean nothing without a person.
		for _, sc := range ar.GetRequestedScopes() {
			// Nor a licence scope: only a holder's consent grants one (lookup.go).
			if _, licence := LicenceScopeKind(sc); sc != ScopeOpenID && sc != ScopeOfflineAccess && !licence {
				ar.GrantScope(sc)
			}
		}
		for _, aud := range ar.GetRequestedAudience() {
			ar.GrantAudience(aud)
		}
	}
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil && st.RefreshReused && fosite.ErrorToRFC6749Error(err).CodeField < http.StatusInternalServerError {
		err = fosite.ErrInvalidGrant.WithWrap(err).WithHint("The refresh token was already used.")
	}
	if err == nil {
		// Every token issued is audited: in the request's transaction for the grants that
		// write (the entry commits with the tokens), in a group commit for client
		// credentials. A token whose entry cannot be written is not issued. An exchanged
		// token's entry is token.exchange (exchange.go), written with the token.
		if grant != GrantTokenExchange {
			if aerr := s.fstore.AuditGrant(ctx, "token.issue", ar, "grant="+grant+" request="+ar.GetID()); aerr != nil {
				return ar, nil, fosite.ErrServerError.WithWrap(aerr).WithHint("The token could not be audited.")
			}
		}
		if rerr := s.recordActingGrant(ctx, ar); rerr != nil { // agents.go
			return ar, nil, fosite.ErrServerError.WithWrap(rerr).WithHint("The grant could not be recorded.")
		}
	}
	return ar, resp, err
}

// narrowRefreshScope applies a refresh request's scope parameter (RFC 6749 §6). The requested
// scope must not include any scope not originally granted (invalid_scope); this is checked
// before the refresh token is claimed (RotateRefreshToken), so a refused request leaves it
// usable. A narrower scope is granted to the new access token only: the token response,
// introspection, UserInfo and the refreshed ID token see just that scope (offline_access
// included only when requested). The rotated refresh token keeps the original grant —
// fosite's refresh handler stores the same request for both tokens, so
// fositeadapter.Store.CreateRefreshTokenSession puts the original scope back
// (TokenState.RefreshScope) — and a later refresh without scope gets the full original scope
// again.
func narrowRefreshScope(ar fosite.AccessRequester, st *fositeadapter.TokenState, requested fosite.Arguments) error {
	granted := ar.GetGrantedScopes()
	for _, sc := range requested {
		if !granted.Has(sc) {
			return fosite.ErrInvalidScope.WithHintf("The scope %q was not granted to this refresh token.", sc)
		}
	}
	if len(requested) == 0 {
		return nil
	}
	narrowed := fosite.Arguments{}
	for _, sc := range granted { // in the original grant's order, without duplicates
		if requested.Has(sc) {
			narrowed = append(narrowed, sc)
		}
	}
	if len(narrowed) == len(granted) {
		return nil
	}
	req, ok := ar.(*fosite.AccessRequest)
	if !ok {
		return fosite.ErrServerError.WithHint("unexpected access request type")
	}
	st.RefreshScope = slices.Clone(granted)
	req.GrantedScope = narrowed
	return nil
}

// tokenError writes an RFC 6749 §5.2 error, with WWW-Authenticate for invalid_client when the
// client tried HTTP Basic.
func (s *Server) tokenError(ctx context.Context, w http.ResponseWriter, r *http.Request, ar fosite.AccessRequester, grant string, err error) {
	rfc := fosite.ErrorToRFC6749Error(err)
	clientID := ""
	if ar != nil && ar.GetClient() != nil {
		clientID = ar.GetClient().GetID() // set by fosite once the client authenticated
	}
	s.countError(ctx, "token", rfc.ErrorField, clientID) // counted for no client before authentication
	if clientID == "" {
		clientID = r.PostFormValue("client_id")
	}
	if id, _, ok := r.BasicAuth(); ok && clientID == "" {
		clientID, _ = url.QueryUnescape(id)
	}
	level := s.log.InfoContext
	if rfc.CodeField >= 500 {
		level = s.log.ErrorContext
	}
	if unavailable(err) {
		// The database refuses writes: a 503 the client may retry, counted and logged once per
		// interval by the readiness monitor (storage/health), not once per request.
		err, level = errUnavailable.WithWrap(err), s.log.DebugContext
		rfc = fosite.ErrorToRFC6749Error(err)
		httpkit.SetRetryAfter(w)
	}
	cause := ""
	if c := rfc.Unwrap(); c != nil {
		cause = c.Error()
	}
	level(ctx, "token error", "client_id", clientID, "grant_type", grant, "error", rfc.ErrorField,
		"hint", rfc.HintField, "cause", cause)
	if rfc.ErrorField == fosite.ErrInvalidClient.ErrorField {
		if _, _, basic := r.BasicAuth(); basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
		}
	}
	s.provider.WriteAccessError(ctx, w, ar, err)
}

// handleRevoke serves token revocation (RFC 7009): the client authenticates as at the token
// endpoint (public clients send client_id); revoking an access or refresh token revokes every
// access and refresh token of its grant. Unknown tokens and tokens of other clients answer
// 200 as §2.2 asks.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	forged := false
	// A token without a valid HMAC is unknown (§2.2: 200, nothing revoked) without a database
	// read: otherwise a token built around a signature copied from the database and the
	// client_id of a public client would revoke a grant.
	if err := r.ParseForm(); err == nil {
		tok := r.PostForm.Get("token")
		forged = !s.strategy.AuthenticRefreshToken(tok) && !s.strategy.AuthenticAccessToken(ctx, tok)
	}
	// One transaction, whose first write is the grant's row of the revoked-grant list: a
	// refresh of the same grant running at the same time either commits first (and its new
	// tokens are revoked too) or waits for this one (and is refused). A token already
	// superseded still revokes its grant (TokenState.Revocation).
	var err error
	for attempt := 1; ; attempt++ {
		st := &fositeadapter.TokenState{Forged: forged, Revocation: true}
		var answer error // fosite's verdict, written after the commit
		err = s.store.InTx(fositeadapter.WithTokenState(ctx, st), func(ctx context.Context) error {
			answer = s.provider.NewRevocationRequest(ctx, r)
			switch {
			case st.StorageErr != nil: // fosite reports it only as temporarily_unavailable
				return st.StorageErr
			case errors.Is(answer, fosite.ErrTemporarilyUnavailable):
				return answer
			}
			return nil
		})
		if err == nil {
			err = answer
			break
		}
		if !errors.Is(err, storage.ErrTxAborted) || attempt == maxTokenAttempts {
			break
		}
	}
	if err != nil && (unavailable(err) || errors.Is(err, fosite.ErrTemporarilyUnavailable) || fosite.ErrorToRFC6749Error(err).CodeField >= 500) {
		// Nothing was revoked: say so (503, retry), never 200.
		s.countError(ctx, "revoke", errUnavailable.ErrorField, "")
		s.logFailure(ctx, "revocation failed", err)
		s.writeUnavailable(w)
		return
	}
	if err != nil {
		rfc := fosite.ErrorToRFC6749Error(err)
		s.countError(ctx, "revoke", rfc.ErrorField, "")
		s.log.InfoContext(ctx, "revocation", "error", rfc.ErrorField, "hint", rfc.HintField)
	}
	s.provider.WriteRevocationResponse(ctx, w, err)
}

// introspection is the RFC 7662 §2.2 response.
type introspection struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Sub       string   `json:"sub,omitempty"`
	Exp       int64    `json:"exp,omitempty"`
	Iat       int64    `json:"iat,omitempty"`
	Iss       string   `json:"iss,omitempty"`
	Aud       []string `json:"aud,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	ACR       string   `json:"acr,omitempty"`
	AuthTime  int64    `json:"auth_time,omitempty"`
	// Act is {"sub": the agent's subject} for a token issued to an agent acting for a
	// company (RFC 8693 §4.1, agents.go); Sub is then the company's. For a token issued by
	// token exchange (exchange.go) it is the actor chain: {"sub": the requesting client or the
	// actor token's subject, "act": the subject token's own actor, if any}.
	Act *fositeadapter.Actor `json:"act,omitempty"`
}

// handleIntrospect serves token introspection (RFC 7662). Only confidential clients may
// introspect (client_secret_basic or client_secret_post); they may introspect any token — a
// resource server checks tokens issued to others. Inactive, expired, revoked, unknown and
// malformed tokens all answer {"active":false}.
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			oauthJSON.Error(w, http.StatusRequestEntityTooLarge, "invalid_request", "The request body is too large.")
			return
		}
		oauthJSON.Error(w, http.StatusBadRequest, "invalid_request", "malformed body")
		return
	}
	c, err := s.authenticateClient(ctx, r, r.PostForm)
	if err == nil && c.IsPublic() {
		err = fosite.ErrInvalidClient.WithHint("Public clients may not introspect tokens.")
	}
	if err != nil {
		rfc := fosite.ErrorToRFC6749Error(err)
		s.countError(ctx, "introspect", rfc.ErrorField, "") // the client did not authenticate
		if _, _, basic := r.BasicAuth(); basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="introspect"`)
		}
		oauthJSON.Error(w, rfc.CodeField, rfc.ErrorField, rfc.GetDescription())
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		oauthJSON.Error(w, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	out := introspection{}
	tu, ar, err := s.provider.IntrospectToken(ctx, token, fosite.TokenUse(r.PostForm.Get("token_type_hint")), &fositeadapter.Session{})
	if err == nil {
		err = s.checkPersonActive(ctx, ar) // person_active.go: a disabled person's tokens are inactive
	}
	if unavailable(err) { // the token may well be active: say nothing rather than "inactive"
		s.countError(ctx, "introspect", errUnavailable.ErrorField, c.GetID())
		s.writeUnavailable(w)
		return
	}
	if err == nil && !clientPublished(ar.GetClient()) {
		err = errClientNotPublished // a suspended or retired app's tokens are inactive
	}
	if err == nil && tu == fosite.AccessToken && !accessTokenAccepted(ar) {
		err = errTokenCut // issued before the app was suspended, resumed, retired or re-keyed
	}
	if err == nil {
		if sess, _ := ar.GetSession().(*fositeadapter.Session); sess != nil && sess.ActingFor != "" {
			// agents.go: a withdrawn or expired authorisation makes the token inactive.
			if _, aerr := s.actingCompany(ctx, sess, ar.GetClient().GetID()); aerr != nil {
				if unavailable(aerr) {
					s.writeUnavailable(w)
					return
				}
				oauthJSON.Write(w, http.StatusOK, introspection{})
				return
			}
		}
	}
	if err == nil {
		sess, _ := ar.GetSession().(*fositeadapter.Session)
		out = introspection{
			Active:   true,
			Scope:    strings.Join(ar.GetGrantedScopes(), " "),
			ClientID: ar.GetClient().GetID(),
			Iat:      ar.GetRequestedAt().Unix(),
			Iss:      s.issuer,
			Aud:      ar.GetGrantedAudience(),
		}
		if sess != nil {
			out.Sub = sess.Subject
			if sess.ActingFor != "" {
				out.Act = &fositeadapter.Actor{Sub: sess.ActorSubject}
			}
			if sess.Act != nil {
				out.Act = sess.Act
			}
			out.ACR = sess.ACR
			if sess.AuthTime != 0 {
				out.AuthTime = fositeadapter.FromNanos(sess.AuthTime).Unix()
			}
		}
		if tu == fosite.AccessToken {
			out.TokenType = "Bearer"
			out.Exp = ar.GetSession().GetExpiresAt(fosite.AccessToken).Unix()
		} else {
			out.TokenType = "refresh_token"
			out.Exp = ar.GetSession().GetExpiresAt(fosite.RefreshToken).Unix()
		}
	}
	oauthJSON.Write(w, http.StatusOK, out)
}
