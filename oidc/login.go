package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/internal/textcheck"
	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	"github.com/tongban/tongban/storage"
)

// pendingForm decodes the pending request of a login or consent page and the original
// authorization parameters it carries.
func (s *Server) pendingForm(v string) (pendingAuth, url.Values, error) {
	p, err := s.decodePending(v)
	if err != nil {
		return p, nil, err
	}
	q, err := url.ParseQuery(p.Query)
	if err != nil {
		return p, nil, errInvalidAuthRequest
	}
	return p, q, nil
}

// postedForm is a submitted login or consent form with its pending request.
type postedForm struct {
	authz string      // the pending request as posted
	p     pendingAuth // authz decoded
	q     url.Values  // the original authorization parameters
	lang  string      // the language to answer in
}

// readPostedForm parses a posted login or consent form and decodes its pending request. When
// either is unreadable, or the request has expired, it has answered with an error page and
// returns false.
func (s *Server) readPostedForm(w http.ResponseWriter, r *http.Request) (postedForm, bool) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "", msgBadRequest)
		return postedForm{}, false
	}
	f := postedForm{authz: r.PostForm.Get("authz")}
	var err error
	f.p, f.q, err = s.pendingForm(f.authz)
	f.lang = pickLang(firstNonEmpty(r.PostForm.Get("ui_locales"), f.q.Get("ui_locales")))
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, f.lang, msgRequestExpired)
		return postedForm{}, false
	}
	return f, true
}

// useOnce marks the form as used (storage.Nonces namespace ns, see useForm). A form submitted
// a second time gets the expired-request page and false; a storage failure the
// temporarily-unavailable page (pageError) and false.
func (s *Server) useOnce(w http.ResponseWriter, r *http.Request, f postedForm, ns string) bool {
	err := s.useForm(r.Context(), ns, f.authz, f.p)
	switch {
	case err == nil:
		return true
	case errors.Is(err, storage.ErrAlreadyUsed):
		s.log.InfoContext(r.Context(), strings.TrimSuffix(ns, "-form")+" form submitted twice", "client_id", f.q.Get("client_id"))
		s.renderError(w, r, http.StatusBadRequest, f.lang, msgRequestExpired)
	default:
		s.pageError(r.Context(), w, r, f.lang, "record form submission", err)
	}
	return false
}

// loginPage fills the login page for a pending request.
func (s *Server) loginPage(ctx context.Context, w http.ResponseWriter, r *http.Request, authz string, q url.Values, lang string) pageData {
	d := s.newPage(r, lang, pathLogin, url.Values{"authz": {authz}})
	d.Authz = authz
	d.CSRF = s.csrf.CookieToken(w, r, "login")
	if c, err := s.clients.Get(ctx, q.Get("client_id")); err == nil {
		d.ClientName = c.DisplayName()
	}
	// login_hint (OIDC Core §3.1.2.1) pre-fills the identifier when it has its shape.
	if hint := q.Get("login_hint"); hint != "" {
		if _, kind := accounts.NormalizeIdentifier(hint); kind != accounts.IdentifierUnknown {
			d.LoginHint = hint
		}
	}
	values, _ := acrRequest(q.Get("acr_values"), mustClaims(q.Get("claims")))
	d.NeedOTP = requiredACRLevel(values) >= acrLevel(ACRMultiFactor)
	if p, err := s.decodePending(authz); err == nil && p.Next != "" && q.Get("notice") == "fresh" {
		d.Message = d.T["freshLoginNeeded"] // loginFor: a fresh login for an account page
	}
	s.fillLoginScan(w, r, &d)            // scan.go
	s.fillLoginPasskey(&d)               // passkey.go
	s.fillLoginUpstreams(ctx, &d, authz) // broker.go
	return d
}

func mustClaims(s string) *fositeadapter.ClaimsRequest {
	cr, _ := parseClaimsRequest(s)
	return cr
}

// handleLoginPage shows the login form (GET /login?authz=…[&ui_locales=en]).
func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	authz := r.URL.Query().Get("authz")
	_, q, err := s.pendingForm(authz)
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, r.URL.Query().Get("ui_locales"), msgRequestExpired)
		return
	}
	p, _ := s.decodePending(authz)
	lang := pickLang(firstNonEmpty(r.URL.Query().Get("ui_locales"), p.Lang, q.Get("ui_locales")))
	s.render(w, http.StatusOK, s.pages.login, s.loginPage(r.Context(), w, r, authz, q, lang))
}

// handleLogin checks the posted credentials (POST /login) with
// accounts.Service.AuthenticatePassword, which applies the lockouts (the browser's device
// cookie, devicecookie.go, makes it a trusted device). On success it starts the SSO session,
// renews the device cookie and answers 303 to the pending authorization request; on failure it
// shows the form again with one message for an unknown identifier and a wrong password alike,
// and 429 with Retry-After and the wait when the account is paused or the address locked.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, ok := s.readPostedForm(w, r)
	if !ok {
		return
	}
	authz, p, q, lang := f.authz, f.p, f.q, f.lang
	if !s.csrf.CheckCookie(r, "login") {
		s.countLogin(ctx, "csrf", q.Get("client_id"))
		s.log.InfoContext(ctx, "login refused: CSRF token missing or wrong", "client_id", q.Get("client_id"))
		d := s.loginPage(ctx, w, r, authz, q, lang)
		d.Error = d.T[msgCSRF]
		s.render(w, http.StatusForbidden, s.pages.login, d)
		return
	}
	if !s.useOnce(w, r, f, "login-form") {
		return
	}
	// A form shown again (after a failure) gets a fresh token: each submission is single-use.
	d := s.loginPage(ctx, w, r, s.encodePending(p), q, lang)
	// A form shown again keeps the identifier the person typed, as typed (a mistyped check
	// character included: the person corrects it rather than typing all 18 again), whether or
	// not anyone has it; the password and code are never echoed.
	d.LoginHint = keptIdentifier(r.PostForm.Get("identifier"))
	dev, devIssued := s.device(r)
	a, err := s.accounts.AuthenticatePassword(ctx, accounts.PasswordLogin{
		Identifier: r.PostForm.Get("identifier"),
		Password:   []byte(r.PostForm.Get("password")),
		OTP:        strings.TrimSpace(r.PostForm.Get("otp")),
		WantMFA:    d.NeedOTP,
		ClientIP:   s.cfg.ClientIP(r),
		Device:     dev,
		ClientID:   q.Get("client_id"),
	})
	person, amr := a.Person, a.AMR
	switch {
	case err != nil && s.renderLoginRefused(ctx, w, d, q.Get("client_id"), err): // failed, paused or locked (lockout.go)
		return
	case err != nil:
		d.Error = d.T[msgServer]
		s.render(w, s.serverStatus(ctx, w, "login", err), s.pages.login, d)
		return
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	acr := ACRPassword
	if len(amr) > 1 {
		acr = ACRMultiFactor
	}
	if _, err := s.endSession(ctx, w, r); err != nil {
		s.logFailure(ctx, "end previous session", err)
	}
	if err := s.startSession(ctx, w, r, storage.LoginSession{
		PersonID: person.ID, AuthTime: now, ACR: acr, AMR: amr,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionLifetime),
	}); err != nil {
		d.Error = d.T[msgServer]
		s.render(w, s.serverStatus(ctx, w, "start session", err), s.pages.login, d)
		return
	}
	s.renewDeviceCookie(w, person.ID, dev, devIssued)
	s.finishUpstreamLink(ctx, w, r, p, person.ID) // broker.go
	s.countLogin(ctx, "success", q.Get("client_id"))
	s.log.InfoContext(ctx, "login", "person_id", person.ID, "client_id", q.Get("client_id"), "acr", acr)
	s.appendAudit(ctx, storage.AuditEvent{Actor: person.ID, Action: "login.success", Subject: person.ID,
		ClientID: q.Get("client_id"), Detail: acr})
	http.Redirect(w, r, s.afterLogin(p, lang), http.StatusSeeOther)
}

// afterLogin returns where a login made for the pending request p continues, whatever the
// method (password, passkey, scan-to-login): the account page or confirmation page it was for
// (pendingAuth.Next), else the authorization request resumed, with a fresh expiry and without
// a consent given before this login (that was another session's, or another person's).
func (s *Server) afterLogin(p pendingAuth, lang string) string {
	if p.Next != "" {
		return s.nextURL(p.Next, lang)
	}
	p.Expires = s.now().Add(s.cfg.AuthRequestLifetime).UnixMicro()
	p.Lang = lang
	p.Consent = ""
	return s.localPath(pathResume) + "?authz=" + url.QueryEscape(s.encodePending(p))
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// appendAudit appends an audit event, stamping the time; failures are logged.
func (s *Server) appendAudit(ctx context.Context, e storage.AuditEvent) {
	e.Time = s.now()
	if _, err := s.store.AppendAudit(ctx, e); err != nil {
		s.logFailure(ctx, "audit append failed", err, "action", e.Action)
	}
}

// keptIdentifier is the identifier a login form shown again keeps: id trimmed, when it is at
// most 64 bytes of valid UTF-8 without control or invisible characters, else "".
func keptIdentifier(id string) string {
	id = strings.TrimSpace(id)
	if len(id) > 64 || !utf8.ValidString(id) {
		return ""
	}
	for _, c := range id {
		if unicode.IsControl(c) || textcheck.Invisible(c) {
			return ""
		}
	}
	return id
}
