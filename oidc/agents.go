package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	"github.com/tongban/tongban/storage"
)

// Acting for a company (法人 / 经办人). A natural person whom a company's legal representative
// authorised as an agent (accounts.AuthoriseAgent) chooses at login, after authenticating and
// before consent, whether they log in to the app as themself or for one of the companies
// that authorised them for that app. The app may ask with the authorization request parameter
// acting_for: "company" (a company must be chosen) or a unified social credit code (that
// company, without the page). While acting, the ID token and userinfo describe the company —
// sub is the company's subject for the client, credit_code and name the company's — and carry
// act {"sub": <the agent's subject>} (RFC 8693 §4.1); scopes beyond the authorisation are not
// granted. Every token request, introspection and userinfo request checks that the
// authorisation still stands; withdrawing it revokes the grants issued while acting
// (accounts.WithdrawAgent, storage.Agents.RecordActingGrant).
const (
	pathActing = "/authorize/acting" // GET the choice page, POST choice

	// ParamActingFor is the authorization request parameter an app asks for acting with.
	ParamActingFor = "acting_for"
	// ActingForCompany as ParamActingFor: the person must act for a company.
	ActingForCompany = "company"

	actingSelf = "self" // pendingAuth.Acting: the person acts for themself
	csrfActing = "acting"
)

// Claims of a token issued to an agent acting for a company.
const (
	ClaimCreditCode = "credit_code" // the company's unified social credit code (GB 32100-2015)
	ClaimAct        = "act"         // {"sub": the agent's subject for the client} (RFC 8693 §4.1)
)

// acting is the company an agent acts for in one authorization, with the authorisation.
type acting struct {
	company storage.Person
	auth    storage.AgentAuthorisation
}

// allowsScope reports whether the authorisation lets the agent be granted scope (openid
// always).
func (a *acting) allowsScope(scope string) bool {
	if scope == ScopeOpenID || len(a.auth.Scopes) == 0 {
		return true
	}
	for _, sc := range a.auth.Scopes {
		if sc == scope {
			return true
		}
	}
	return false
}

// hintActingDenied is the description of access_denied when the person may not act for the
// company acting_for names: the same for an unknown company, a malformed code and a missing
// authorisation, so the app learns nothing about who is registered.
const hintActingDenied = "You are not authorised to act for that company in this app."

// decideActing settles who the person logging in with ls acts as in the authorization request
// ar of client c. It returns the company (nil for themself) and true; or false when it has
// answered: with an error to the app (access_denied; interaction_required under
// prompt=none), or with a 303 to the acting page when the person must choose.
func (s *Server) decideActing(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, c *fositeadapter.Client,
	ls *storage.LoginSession, pending pendingAuth, none bool) (*acting, bool) {
	ctx := r.Context()
	param := strings.TrimSpace(ar.GetRequestForm().Get(ParamActingFor))
	fail := func(err error) (*acting, bool) {
		s.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err))
		return nil, false
	}
	check := func(companyID string) (*acting, error) {
		a, co, err := s.accounts.ActingAuthorisation(ctx, companyID, ls.PersonID, c.GetID())
		if err != nil {
			return nil, err
		}
		return &acting{company: co, auth: a}, nil
	}
	if param != "" && param != ActingForCompany {
		co, err := s.accounts.CompanyByCreditCode(ctx, param)
		var act *acting
		if err == nil {
			act, err = check(co.ID)
		}
		switch {
		case err == nil:
			return act, true
		case errors.Is(err, accounts.ErrInvalidIDNumber), errors.Is(err, storage.ErrNotFound), errors.Is(err, accounts.ErrNoAuthorisation):
			s.authorizeError(w, r, ar, fosite.ErrAccessDenied.WithHint(hintActingDenied))
			return nil, false
		}
		return fail(err)
	}
	if pending.Acting == actingSelf && param == "" {
		return nil, true
	}
	if pending.Acting != "" && pending.Acting != actingSelf {
		act, err := check(pending.Acting)
		if err == nil {
			return act, true
		} else if !errors.Is(err, accounts.ErrNoAuthorisation) {
			return fail(err)
		}
		// The authorisation ended since the choice (or the choice is not this person's).
	}
	companies, err := s.accounts.CompaniesForClient(ctx, ls.PersonID, c.GetID())
	if err != nil {
		return fail(err)
	}
	if len(companies) == 0 {
		if param == ActingForCompany {
			s.authorizeError(w, r, ar, fosite.ErrAccessDenied.WithHint(
				"No company has authorised you to act for it in this app, or its authorisation was withdrawn or has expired."))
			return nil, false
		}
		return nil, true
	}
	if none {
		if param == ActingForCompany {
			s.authorizeError(w, r, ar, fosite.ErrInteractionRequired.WithHint("The person must choose the company to act for."))
			return nil, false
		}
		return nil, true // prompt=none without acting_for: the person themself
	}
	pending.Acting = ""
	http.Redirect(w, r, s.localPath(pathActing)+"?authz="+url.QueryEscape(s.encodePending(pending)), http.StatusSeeOther)
	return nil, false
}

// actingPage is what the acting template sees (pageData.Acting).
type actingPage struct {
	Companies []accounts.Company
	// Self: the person may also choose themself (the app did not ask for a company).
	Self bool
	// For is the name of the company the person acts for, on the consent page ("" = themself).
	For string
}

// consentActing returns what the consent page shows of acting: the company the pending
// request authz acts for, nil when the person acts for themself.
func (s *Server) consentActing(r *http.Request, authz string) *actingPage {
	p, err := s.decodePending(authz)
	if err != nil || p.Acting == "" || p.Acting == actingSelf {
		return nil
	}
	co, err := s.store.GetPerson(r.Context(), p.Acting)
	if err != nil || co.Kind != storage.LegalPerson {
		return nil
	}
	return &actingPage{For: co.Name}
}

// actingPageData fills the acting page for the person of ls and the pending request.
func (s *Server) actingPageData(w http.ResponseWriter, r *http.Request, ls *storage.LoginSession, authz string, q url.Values, lang string) (pageData, error) {
	d := s.newPage(r, lang, pathActing, url.Values{"authz": {authz}})
	d.Authz = authz
	d.CSRF = s.csrf.CookieToken(w, r, csrfActing)
	d.ClientName = q.Get("client_id")
	if c, err := s.clients.Get(r.Context(), q.Get("client_id")); err == nil {
		d.ClientName = c.DisplayName()
	}
	cos, err := s.accounts.CompaniesForClient(r.Context(), ls.PersonID, q.Get("client_id"))
	if err != nil {
		return d, err
	}
	d.Acting = &actingPage{Companies: cos, Self: q.Get(ParamActingFor) == ""}
	return d, nil
}

// handleActingPage shows the choice "myself / <company>" (GET /authorize/acting?authz=…).
// Without a login session the browser goes to the login page.
func (s *Server) handleActingPage(w http.ResponseWriter, r *http.Request) {
	pg, ok := s.pendingPage(w, r)
	if !ok {
		return
	}
	ls, authz, q, lang := pg.ls, pg.authz, pg.query, pg.lang
	d, err := s.actingPageData(w, r, ls, authz, q, lang)
	if err != nil {
		s.pageError(r.Context(), w, r, lang, "list companies", err)
		return
	}
	s.render(w, http.StatusOK, s.pages.page("acting.html"), d)
}

// handleActing records the choice (POST /authorize/acting: authz, csrf, choice = "self" or a
// company's person ID among those offered) in the pending request and resumes it. A choice
// not offered shows the page again (400).
func (s *Server) handleActing(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, ok := s.readPostedForm(w, r)
	if !ok {
		return
	}
	ls, err := s.loginSession(ctx, r)
	if err != nil || ls == nil {
		http.Redirect(w, r, s.localPath(pathLogin)+"?authz="+url.QueryEscape(f.authz), http.StatusSeeOther)
		return
	}
	d, err := s.actingPageData(w, r, ls, f.authz, f.q, f.lang)
	if err != nil {
		s.pageError(ctx, w, r, f.lang, "list companies", err)
		return
	}
	if !s.csrf.CheckCookie(r, csrfActing) {
		d.Error = d.T[msgCSRF]
		s.render(w, http.StatusForbidden, s.pages.page("acting.html"), d)
		return
	}
	choice := r.PostForm.Get("choice")
	valid := choice == actingSelf && d.Acting.Self
	for _, co := range d.Acting.Companies {
		valid = valid || choice == co.ID
	}
	if !valid {
		d.Error = d.T["actingChoose"]
		s.render(w, http.StatusBadRequest, s.pages.page("acting.html"), d)
		return
	}
	if !s.useOnce(w, r, f, "acting-form") {
		return
	}
	p := f.p
	p.Acting = choice
	p.Lang = f.lang
	p.Expires = s.now().Add(s.cfg.AuthRequestLifetime).UnixMicro()
	http.Redirect(w, r, s.localPath(pathResume)+"?authz="+url.QueryEscape(s.encodePending(p)), http.StatusSeeOther)
}

// errActingEnded: the authorisation an acting grant stands on was withdrawn or has expired.
var errActingEnded = errors.New("oidc: the agent authorisation was withdrawn or has expired")

// actingCompany re-checks the authorisation of an acting session for clientID and returns
// the company. errActingEnded (wrapping accounts.ErrNoAuthorisation) when it no longer stands.
func (s *Server) actingCompany(ctx context.Context, sess *fositeadapter.Session, clientID string) (storage.Person, error) {
	_, co, err := s.accounts.ActingAuthorisation(ctx, sess.ActingFor, sess.PersonID, clientID)
	if errors.Is(err, accounts.ErrNoAuthorisation) {
		return co, errors.Join(errActingEnded, err)
	}
	return co, err
}

// checkActingGrant refuses a token request for an acting grant whose authorisation no longer
// stands, revoking the grant (invalid_grant).
func (s *Server) checkActingGrant(ctx context.Context, ar fosite.AccessRequester) error {
	sess, ok := ar.GetSession().(*fositeadapter.Session)
	if !ok || sess.ActingFor == "" {
		return nil
	}
	_, err := s.actingCompany(ctx, sess, ar.GetClient().GetID())
	switch {
	case errors.Is(err, errActingEnded):
		if rerr := s.fstore.RevokeGrant(ctx, ar.GetID()); rerr != nil {
			return fosite.ErrServerError.WithWrap(rerr)
		}
		return fosite.ErrInvalidGrant.WithHint("The authorisation to act for the company was withdrawn or has expired.")
	case err != nil:
		return fosite.ErrServerError.WithWrap(err)
	}
	return nil
}

// recordActingGrant remembers an acting grant after tokens were issued for it, until its
// refresh token (or access token) expires, so that a withdrawal finds it.
func (s *Server) recordActingGrant(ctx context.Context, ar fosite.AccessRequester) error {
	sess, ok := ar.GetSession().(*fositeadapter.Session)
	if !ok || sess.ActingFor == "" {
		return nil
	}
	exp := sess.GetExpiresAt(fosite.RefreshToken)
	if a := sess.GetExpiresAt(fosite.AccessToken); a.After(exp) {
		exp = a
	}
	if exp.IsZero() {
		exp = s.now().Add(s.cfg.RefreshTokenLifetime)
	}
	return s.store.RecordActingGrant(ctx, ar.GetID(), sess.ActingFor, sess.PersonID, exp)
}

// actingClaims sets the claims of a token issued while acting for company co: name and
// credit_code of the company, and act with the agent's subject. released are the claims the
// scopes release (personClaims of the company, e.g. id_number).
func (s *Server) actingClaims(sess *fositeadapter.Session, co storage.Person, released []string, into map[string]any) error {
	if err := personClaims(s.accounts, co, released, into); err != nil {
		return err
	}
	code, err := s.accounts.IDNumber(co)
	if err != nil {
		return err
	}
	into[ClaimName] = co.Name
	into[ClaimCreditCode] = code
	into[ClaimAct] = map[string]any{"sub": sess.ActorSubject}
	return nil
}

// agentElder sets the elder_mode claim of a token issued while acting for a company from the
// agent's own setting (the person at the screen), when released has it.
func agentElder(agent storage.Person, released []string, into map[string]any) {
	delete(into, ClaimElderMode)
	if agent.ElderMode && slices.Contains(released, ClaimElderMode) {
		into[ClaimElderMode] = true
	}
}

// hintSubject is the subject of the person an id_token_hint names: its sub, or for an ID token
// issued while acting for a company its act.sub — the agent who logged in, not the company.
func hintSubject(claims map[string]any) string {
	if act, ok := claims[ClaimAct].(map[string]any); ok {
		if sub, ok := act["sub"].(string); ok {
			return sub
		}
	}
	sub, _ := claims["sub"].(string)
	return sub
}

// routesAgents adds the routes of the acting page and of the account page's companies
// section (account_agents.go).
func (s *Server) routesAgents(handle func(method, path string, h http.HandlerFunc)) {
	handle("GET", pathActing, s.handleActingPage)
	handle("POST", pathActing, s.handleActing)
	handle("POST", pathAgentAuthorise, s.handleAgentAuthorise)
	handle("POST", pathAgentWithdraw, s.handleAgentWithdraw)
}

func init() {
	addMessages(map[string]map[string]string{
		langZH: {
			"actingHeading": "选择登录身份",
			"actingFor":     "：请选择您以什么身份登录。",
			"actingSelf":    "本人",
			"actingHelp":    "以企业身份登录时，应用看到的是企业（名称与统一社会信用代码），并知道由您经办。",
			"actingChoose":  "请选择一个身份。",
			"actingButton":  "继续",
			"actingConsent": "您正在代表企业登录：",
		},
		langEN: {
			"actingHeading": "Choose who you sign in as",
			"actingFor":     " — choose who you sign in as:",
			"actingSelf":    "Myself",
			"actingHelp":    "Signed in for a company, the app sees the company (its name and unified social credit code) and that you act for it as its agent.",
			"actingChoose":  "Choose one.",
			"actingButton":  "Continue",
			"actingConsent": "You are signing in for the company: ",
		},
	})
}
