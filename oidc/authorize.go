package oidc

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// handleAuthorize serves the authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2), GET
// and POST. The request's parameters become the canonical query of the pending request.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "", msgBadRequest)
		return
	}
	// OpenID Federation automatic registration (federation_register.go): a federation client's
	// request object is checked here, once, and its parameters become the request.
	query, ok := s.federationAuthorize(w, r, r.Form)
	if !ok {
		return
	}
	s.authorize(w, r, pendingAuth{Query: query, RequestedAt: s.now().UnixMicro()})
}

// handleResume continues a pending authorization request after the login or consent page.
func (s *Server) handleResume(w http.ResponseWriter, r *http.Request) {
	p, err := s.decodePending(r.URL.Query().Get("authz"))
	if err != nil {
		s.log.InfoContext(r.Context(), "authorization request expired or forged", "err", err)
		s.renderError(w, r, http.StatusBadRequest, "", msgRequestExpired)
		return
	}
	s.authorize(w, r, p)
}

// parseAuthorizeRequest lets fosite parse and validate an authorization request given as a
// form-encoded query: client, redirect URI (exact, loopback port may vary), response type,
// scopes, state. Request objects are not supported (discovery says so): a request with
// request or request_uri is validated without it and then answered request_not_supported or
// request_uri_not_supported (OIDC Core §6.1, §6.2) at its redirect URI — not with an error page
// about the redirect URI, which is what fosite's attempt to read the object would give.
func (s *Server) parseAuthorizeRequest(ctx context.Context, query string) (fosite.AuthorizeRequester, error) {
	var unsupported *fosite.RFC6749Error
	if q, err := url.ParseQuery(query); err == nil && (q.Has("request") || q.Has("request_uri")) {
		unsupported = fosite.ErrRequestNotSupported
		if q.Has("request_uri") {
			unsupported = fosite.ErrRequestURINotSupported
		}
		q.Del("request")
		q.Del("request_uri")
		query = q.Encode()
	}
	fr, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url(pathAuthorize)+"?"+query, nil)
	if err != nil {
		return nil, fosite.ErrInvalidRequest.WithWrap(err)
	}
	ar, err := s.provider.NewAuthorizeRequest(ctx, fr)
	if err == nil && unsupported != nil {
		err = unsupported
	}
	return ar, err
}

// oidcParams are the OIDC Core §3.1.2.1 parameters tongban acts on before issuing a code.
type oidcParams struct {
	prompts   []string
	maxAge    time.Duration // -1 = not set
	hintSub   string        // sub of a valid id_token_hint
	claims    *fositeadapter.ClaimsRequest
	acrLevel  int // weakest requested known acr, -1 = none
	essential bool
}

func (s *Server) parseOIDCParams(ctx context.Context, form url.Values) (oidcParams, error) {
	p := oidcParams{maxAge: -1}
	if err := fositeadapter.ValidateChallenge(form.Get("code_challenge"), form.Get("code_challenge_method")); err != nil {
		return p, err
	}
	p.prompts = strings.Fields(form.Get("prompt"))
	for _, v := range p.prompts {
		if v != "none" && v != "login" && v != "consent" {
			return p, fosite.ErrInvalidRequest.WithHintf("Unsupported prompt value %q (supported: none, login, consent).", v)
		}
	}
	if slices.Contains(p.prompts, "none") && len(p.prompts) > 1 {
		return p, fosite.ErrInvalidRequest.WithHint("prompt=none must not be combined with other values.")
	}
	if v := form.Get("max_age"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > 1<<31 {
			return p, fosite.ErrInvalidRequest.WithHint("max_age must be a non-negative number of seconds.")
		}
		p.maxAge = time.Duration(n) * time.Second
	}
	// OIDC Core §3.1.2.1: scope must contain openid (tongban issues codes for OIDC only).
	if !slices.Contains(strings.Fields(form.Get("scope")), ScopeOpenID) {
		return p, fosite.ErrInvalidScope.WithHint("The scope parameter must contain openid.")
	}
	for _, l := range paramLimits {
		if len(form.Get(l.name)) > l.max {
			return p, fosite.ErrInvalidRequest.WithHintf("%s is longer than %d bytes.", l.name, l.max)
		}
	}
	var err error
	if p.claims, err = parseClaimsRequest(form.Get("claims")); err != nil {
		return p, err
	}
	if hint := form.Get("id_token_hint"); hint != "" {
		tok, err := s.signer.Decode(ctx, hint)
		var ve *jwt.ValidationError
		if err != nil && !(errors.As(err, &ve) && ve.Has(jwt.ValidationErrorExpired) && tok != nil) {
			return p, fosite.ErrInvalidRequest.WithHint("id_token_hint is not an ID token issued by this provider.")
		}
		p.hintSub = hintSubject(tok.Claims)
		if p.hintSub == "" {
			return p, fosite.ErrInvalidRequest.WithHint("id_token_hint has no subject.")
		}
	}
	values, essential := acrRequest(form.Get("acr_values"), p.claims)
	p.acrLevel, p.essential = requiredACRLevel(values), essential
	return p, nil
}

// errUnmetAuthentication is the OpenID Connect Unmet Authentication Requirements 1.0 error:
// an essential acr could not be reached by the login the person just made.
var errUnmetAuthentication = &fosite.RFC6749Error{
	ErrorField:       "unmet_authentication_requirements",
	DescriptionField: "The requested authentication context (acr) could not be reached.",
	CodeField:        http.StatusBadRequest,
}

// authorize decides what an authorization request needs (OIDC Core §3.1.2.3):
//
//  1. login, when there is no SSO session, prompt=login, the session is older than max_age,
//     its acr is below the weakest requested acr_values (or essential claims acr), or
//     id_token_hint names someone else — unless the session was made for this very request
//     (auth_time ≥ the request's arrival), which ends the loop; with prompt=none the answer
//     is login_required instead. A session made for this request whose person is not the one
//     id_token_hint names gets login_required too;
//  2. consent, when prompt=consent or the remembered consent does not cover the requested
//     scopes — unless the consent page was accepted for this request in this same login
//     session (pendingAuth.Consent); with prompt=none the answer is consent_required;
//  3. otherwise a code, with iss in the response (RFC 9207).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, pending pendingAuth) {
	ctx := r.Context()
	requestedAt := time.UnixMicro(pending.RequestedAt)
	if !s.precheckAuthorize(w, r, pending.Query) {
		return
	}
	if !s.checkClientPublished(w, r, pending.Query) {
		return
	}
	ar, err := s.parseAuthorizeRequest(ctx, pending.Query)
	if err != nil {
		s.authorizeError(w, r, ar, err)
		return
	}
	attribute(ctx, ar.GetClient().GetID()) // for the latency of this request (timed)
	op, err := s.parseOIDCParams(ctx, ar.GetRequestForm())
	if err != nil {
		s.authorizeError(w, r, ar, err)
		return
	}
	c := ar.GetClient().(*fositeadapter.Client)
	ls, err := s.loginSession(ctx, r)
	if err != nil {
		s.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	now := s.now()
	none := slices.Contains(op.prompts, "none")
	pending.Expires = now.Add(s.cfg.AuthRequestLifetime).UnixMicro()

	// 1. Authentication.
	reason := ""
	hintMismatch := ls != nil && op.hintSub != "" && op.hintSub != s.subjectFor(c, ls.PersonID)
	if ls == nil {
		reason = "no_session"
	} else if ls.AuthTime.Before(requestedAt) { // not made for this request
		switch {
		case slices.Contains(op.prompts, "login"):
			reason = "prompt_login"
		case op.maxAge >= 0 && now.Sub(ls.AuthTime) > op.maxAge:
			reason = "max_age"
		case op.acrLevel > acrLevel(ls.ACR):
			reason = "acr"
		case hintMismatch:
			reason = "id_token_hint"
		}
	} else if hintMismatch {
		// OIDC Core §3.1.2.1: someone other than the person id_token_hint names logged in
		// for this very request. Asking again would loop; the answer is login_required.
		s.authorizeError(w, r, ar, fosite.ErrLoginRequired.WithHint(
			"The person who logged in is not the one named by id_token_hint."))
		return
	}
	if reason != "" {
		if none {
			s.authorizeError(w, r, ar, fosite.ErrLoginRequired.WithHintf("Login is required (%s).", reason))
			return
		}
		s.log.DebugContext(ctx, "login required", "client_id", c.GetID(), "reason", reason)
		// No re-entry (broker.go): without a session, try the hinted or silent-SSO upstream
		// with prompt=none first; its login_required falls back to the login page.
		if u, ok := s.silentUpstream(ctx, ar.GetRequestForm()); ok && reason == "no_session" {
			s.redirectUpstream(w, r, u, s.encodePending(pending), pickLang(firstNonEmpty(pending.Lang, ar.GetRequestForm().Get("ui_locales"))), true)
			return
		}
		http.Redirect(w, r, s.localPath(pathLogin)+"?authz="+url.QueryEscape(s.encodePending(pending)), http.StatusSeeOther)
		return
	}
	if op.essential && op.acrLevel > acrLevel(ls.ACR) {
		s.authorizeError(w, r, ar, errUnmetAuthentication)
		return
	}

	// 1b. Acting for a company (agents.go): after the login, before consent.
	act, ok := s.decideActing(w, r, ar, c, ls, pending, none)
	if !ok {
		return
	}

	// 2. Consent. A consent given on the consent page counts only in the login session (and
	// for the person) that gave it: see pendingAuth.Consent.
	consented := s.consentedBy(pending, ls)
	pending.Consent = ""
	if !consented && (slices.Contains(op.prompts, "consent") || !s.hasConsent(ctx, ls.PersonID, c.GetID(), ar.GetRequestedScopes())) {
		if none {
			s.authorizeError(w, r, ar, fosite.ErrConsentRequired.WithHint("The person has not consented to these scopes."))
			return
		}
		if act != nil { // the consent page names the company (agents.go)
			pending.Acting = act.company.ID
		}
		http.Redirect(w, r, s.localPath(pathConsent)+"?authz="+url.QueryEscape(s.encodePending(pending)), http.StatusSeeOther)
		return
	}

	// 3. Code.
	sess := &fositeadapter.Session{
		Subject:     s.subjectFor(c, ls.PersonID),
		PersonID:    ls.PersonID,
		AuthTime:    fositeadapter.Nanos(ls.AuthTime),
		RequestedAt: fositeadapter.Nanos(requestedAt),
		ACR:         ls.ACR,
		AMR:         ls.AMR,
		Claims:      op.claims,
		IDP:         s.sessionIDP(ctx, ls), // broker.go
		SID:         s.sid(ls.ID),          // logout_backchannel.go
	}
	if act != nil {
		sess.Subject = s.subjectFor(c, act.company.ID)
		sess.ActingFor = act.company.ID
		sess.ActorSubject = s.subjectFor(c, ls.PersonID)
	}
	for _, scope := range ar.GetRequestedScopes() {
		if act == nil || act.allowsScope(scope) { // scopes beyond the authorisation are not granted
			ar.GrantScope(scope)
		}
	}
	for _, aud := range ar.GetRequestedAudience() {
		ar.GrantAudience(aud)
	}
	resp, err := s.provider.NewAuthorizeResponse(ctx, ar, sess)
	if err != nil {
		s.authorizeError(w, r, ar, err)
		return
	}
	if err := s.recordSessionClient(ctx, ls, ar, sess); err != nil { // logout_backchannel.go
		s.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	resp.AddParameter("iss", s.issuer)
	s.countSignIn(ar.GetClient().GetID())
	u := *ar.GetRedirectURI()
	q := u.Query()
	for k, v := range resp.GetParameters() {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// authorizeError answers a failed authorization request. With a valid client and redirect URI
// the error goes back to the client (RFC 6749 §4.1.2.1) with state and iss (RFC 9207 §2);
// otherwise — unknown client, redirect URI not registered — an error page is shown and nothing
// redirects (RFC 9700 §4.11.2: no open redirector).
func (s *Server) authorizeError(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error) {
	if unavailable(err) {
		if ar == nil || !ar.IsRedirectURIValid() {
			s.pageError(r.Context(), w, r, r.URL.Query().Get("ui_locales"), "authorize", err)
			return
		}
		err = fosite.ErrTemporarilyUnavailable.WithWrap(err).WithHint("The identity provider cannot store data right now; try again later.")
	}
	rfc := fosite.ErrorToRFC6749Error(err)
	clientID := ""
	if ar != nil && ar.GetClient() != nil {
		clientID = ar.GetClient().GetID() // fosite looked it up: a registered client
	}
	s.countError(r.Context(), "authorize", rfc.ErrorField, clientID)
	if ar == nil || !ar.IsRedirectURIValid() {
		s.log.InfoContext(r.Context(), "authorization request refused without redirect",
			"client_id", clientID, "error", rfc.ErrorField, "hint", rfc.HintField)
		msg := msgBadRedirect
		if errors.Is(err, fosite.ErrInvalidClient) || clientID == "" {
			msg = msgUnknownClient
		}
		s.renderError(w, r, http.StatusBadRequest, r.URL.Query().Get("ui_locales"), msg)
		return
	}
	s.log.InfoContext(r.Context(), "authorization error", "client_id", clientID,
		"error", rfc.ErrorField, "hint", rfc.HintField)
	u := *ar.GetRedirectURI()
	u.Fragment = ""
	q := u.Query()
	q.Set("error", rfc.ErrorField)
	if d := rfc.GetDescription(); d != "" {
		q.Set("error_description", d)
	}
	if st := ar.GetState(); st != "" && len(st) <= maxStateLen {
		q.Set("state", st)
	}
	q.Set("iss", s.issuer)
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// subjectFor returns the "sub" of a person for a client (OIDC Core §8): the person ID for
// public subjects; for pairwise subjects base64url(HMAC-SM3(pairwise key, sector ‖ 0 ‖ person
// ID)), where sector is the client's SectorIdentifier or the host of its first redirect URI.
func (s *Server) subjectFor(c *fositeadapter.Client, personID string) string {
	if c.Registration.SubjectType != "pairwise" {
		return personID
	}
	return pairwiseSubject(s.keys.pairwise, sectorOf(c.Registration), personID)
}

func pairwiseSubject(key []byte, sector, personID string) string {
	return b64.EncodeToString(smcrypto.HMACSM3(key, []byte(sector+"\x00"+personID)))
}

func sectorOf(c storage.Client) string {
	if c.SectorIdentifier != "" {
		return c.SectorIdentifier
	}
	if len(c.RedirectURIs) > 0 {
		if u, err := url.Parse(c.RedirectURIs[0]); err == nil {
			return u.Hostname()
		}
	}
	return c.ID
}

// hasConsent reports whether the person's remembered consent for the client covers scopes.
func (s *Server) hasConsent(ctx context.Context, personID, clientID string, scopes fosite.Arguments) bool {
	c, err := s.store.GetConsent(ctx, personID, clientID)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			s.logFailure(ctx, "read consent", err, "client_id", clientID)
		}
		return false
	}
	for _, sc := range scopes {
		if !slices.Contains(c.Scopes, sc) {
			return false
		}
	}
	return true
}

// maxStateLen bounds state and nonce: both are echoed back (in the Location header and the ID
// token), so an unbounded value lets a caller make the provider emit arbitrarily large responses.
const maxStateLen = 512

// paramLimits are the length caps of the authorization request parameters tongban echoes or
// parses; a longer value is invalid_request.
var paramLimits = []struct {
	name string
	max  int
}{
	{"state", maxStateLen},
	{"nonce", maxStateLen},
	{"login_hint", 256},
	{"ui_locales", 128},
	{"acr_values", 512},
	{"claims", 4096},
	{"id_token_hint", 8192},
}

// precheckAuthorize refuses, before fosite trusts the client and redirect URI, an
// authorization request that repeats a parameter (RFC 6749 §3.1: parameters MUST NOT be
// included more than once) or whose redirect URI is not one the client registered (exactly,
// or a loopback one differing only in the port, RFC 8252 §7.3, without user info). It answers
// and returns false when the request is refused.
func (s *Server) precheckAuthorize(w http.ResponseWriter, r *http.Request, query string) bool {
	ctx := r.Context()
	form, err := url.ParseQuery(query)
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, "", msgBadRequest)
		return false
	}
	dup := ""
	for k, v := range form {
		if len(v) > 1 && (dup == "" || k < dup) {
			dup = k
		}
	}
	if dup != "" {
		if dup == "client_id" || dup == "redirect_uri" {
			s.countError(ctx, "authorize", "invalid_request", "")
			s.log.InfoContext(ctx, "authorization request refused without redirect", "error", "invalid_request",
				"hint", "duplicate "+dup)
			msg := msgBadRedirect
			if dup == "client_id" {
				msg = msgUnknownClient
			}
			s.renderError(w, r, http.StatusBadRequest, form.Get("ui_locales"), msg)
			return false
		}
		first := url.Values{}
		for k, v := range form {
			first.Set(k, v[0])
		}
		ar, err := s.parseAuthorizeRequest(ctx, first.Encode())
		if err == nil {
			err = fosite.ErrInvalidRequest.WithHintf("The %s parameter is included more than once.", dup)
			if a, ok := ar.(*fosite.AuthorizeRequest); ok && dup == "state" {
				a.State = "" // which one would we echo?
			}
		}
		s.authorizeError(w, r, ar, err)
		return false
	}
	uri := form.Get("redirect_uri")
	if uri == "" {
		return true
	}
	c, err := s.clients.Get(ctx, form.Get("client_id"))
	if err != nil {
		return true // fosite answers unknown client
	}
	for _, reg := range c.Registration.RedirectURIs {
		if uri == reg || loopbackVariant(uri, reg) {
			return true
		}
	}
	s.countError(ctx, "authorize", "invalid_request", c.GetID())
	s.log.InfoContext(ctx, "authorization request refused without redirect", "client_id", c.GetID(),
		"error", "invalid_request", "hint", "redirect_uri not registered")
	s.renderError(w, r, http.StatusBadRequest, form.Get("ui_locales"), msgBadRedirect)
	return false
}

// loopbackVariant reports whether uri is the registered loopback redirect URI reg with only
// the port changed (RFC 8252 §7.3): http, a loopback IP literal, no user info, and every other
// character identical.
func loopbackVariant(uri, reg string) bool {
	const prefix = "http://"
	if !strings.HasPrefix(uri, prefix) || !strings.HasPrefix(reg, prefix) {
		return false
	}
	split := func(s string) (string, string) {
		rest := s[len(prefix):]
		i := strings.IndexAny(rest, "/?#")
		if i < 0 {
			i = len(rest)
		}
		return rest[:i], rest[i:]
	}
	ua, urest := split(uri)
	ra, rrest := split(reg)
	if urest != rrest || strings.Contains(ua, "@") || strings.Contains(ra, "@") {
		return false
	}
	uh, up, err1 := net.SplitHostPort(withPort(ua))
	rh, _, err2 := net.SplitHostPort(withPort(ra))
	if err1 != nil || err2 != nil || uh != rh {
		return false
	}
	if ip := net.ParseIP(uh); ip == nil || !ip.IsLoopback() {
		return false
	}
	_, err := strconv.ParseUint(up, 10, 16)
	return up == "" || err == nil
}

func withPort(authority string) string {
	if strings.HasSuffix(authority, "]") || !strings.Contains(strings.TrimPrefix(authority, "["), ":") {
		return authority + ":"
	}
	return authority
}
