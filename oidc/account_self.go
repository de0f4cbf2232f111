package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/storage"
)

// The self-service sections of the account page (issue 10, part 4) — change the password, the
// sessions on every device, the consents per app, download my data, close my account — and
// the access-recovery pages reached from the login page ("forgot password"). The rules are
// package accounts' (accounts/selfservice.go); these handlers decode, check the session and
// the CSRF token, call them and render.
const (
	pathSelfPassword     = "/account/password"           // POST old, new, new2
	pathSelfSessionEnd   = "/account/sessions/end"       // POST id
	pathSelfSessionOther = "/account/sessions/end-other" // POST: every session but this one
	pathSelfConsentDrop  = "/account/consents/withdraw"  // POST client_id
	pathSelfData         = "/account/data"               // GET [?full=1]: the JSON download (account_self_data.go)
	pathSelfClose        = "/account/close"              // GET the confirmation page, POST confirm
	pathRecover          = "/account/recover"            // GET the form, POST identifier: send a code
	pathRecoverFinish    = "/account/recover/finish"     // POST identifier, code, new, new2
)

// csrfRecover is the CSRF purpose of the recovery forms (no session there).
const csrfRecover = "recover"

// selfPage is what the templates see of the self-service account sections and pages
// (pageData.Self).
type selfPage struct {
	// Account page.
	PasswordAction, SessionEndAction, SessionOtherAction, ConsentAction string
	DataURL, DataFullURL, CloseURL                                      string
	MinPasswordLength                                                   int
	Sessions                                                            []selfSession
	Consents                                                            []selfConsent
	Fresh                                                               bool // the login is fresh: the full-data download needs no new login

	// Recovery pages: Step is "start" (identifier form), "code" (code and new password),
	// "done" or "off" (no notifier).
	Step                        string
	Identifier                  string
	RecoverAction, FinishAction string
	LoginURL, AccountURL        string

	// Closing page: Step is "confirm" or "closed".
	ConfirmWord string
	CloseAction string
}

// selfSession is one login session in the sessions list.
type selfSession struct {
	ID, Device, ClientIP, Created, LastSeen string
	Current                                 bool
}

// selfConsent is one remembered consent in the consents list.
type selfConsent struct {
	ClientID, ClientName, Granted string
	Scopes                        []string
}

// closeWord is the word a person types to confirm closing the account, per page language;
// either language's word is accepted.
var closeWord = map[string]string{langZH: "注销", langEN: "CLOSE"}

// fillAccountSelf fills pageData.Self for the account page: the forms' actions, the live
// sessions of the person (this one marked) and their consents with each app's name.
func (s *Server) fillAccountSelf(ctx context.Context, d *pageData, ls *storage.LoginSession, p storage.Person) error {
	q := "?ui_locales=" + url.QueryEscape(d.Lang)
	sp := &selfPage{
		PasswordAction:     s.localPath(pathSelfPassword) + q,
		SessionEndAction:   s.localPath(pathSelfSessionEnd) + q,
		SessionOtherAction: s.localPath(pathSelfSessionOther) + q,
		ConsentAction:      s.localPath(pathSelfConsentDrop) + q,
		DataURL:            s.localPath(pathSelfData) + q,
		DataFullURL:        s.localPath(pathSelfData) + q + "&full=1",
		CloseURL:           s.localPath(pathSelfClose) + q,
		MinPasswordLength:  accounts.MinPasswordLength,
		Fresh:              s.now().Sub(ls.AuthTime) <= s.cfg.FreshLogin,
	}
	sessions, err := s.store.ListLoginSessionsForPerson(ctx, p.ID, s.now())
	if err != nil {
		return err
	}
	for _, x := range sessions {
		sp.Sessions = append(sp.Sessions, selfSession{ID: x.ID, Device: x.Device, ClientIP: x.ClientIP,
			Created: showTime(x.CreatedAt), LastSeen: showTime(x.LastSeen), Current: x.ID == ls.ID})
	}
	// This device first.
	slices.SortStableFunc(sp.Sessions, func(a, b selfSession) int {
		switch {
		case a.Current == b.Current:
			return 0
		case a.Current:
			return -1
		}
		return 1
	})
	consents, err := s.store.ListConsents(ctx, p.ID)
	if err != nil {
		return err
	}
	for _, c := range consents {
		name := c.ClientID
		if cl, err := s.clients.Get(ctx, c.ClientID); err == nil {
			name = cl.DisplayName()
		}
		sc := selfConsent{ClientID: c.ClientID, ClientName: name, Granted: showTime(c.GrantedAt)}
		for _, sc2 := range c.Scopes {
			sc.Scopes = append(sc.Scopes, scopeText(d.Lang, sc2))
		}
		sp.Consents = append(sp.Consents, sc)
	}
	d.Self = sp
	return nil
}

// routesSelf adds the routes of the self-service account sections and pages.
func (s *Server) routesSelf(handle func(method, path string, h http.HandlerFunc)) {
	handle("POST", pathSelfPassword, s.handleSelfPassword)
	handle("POST", pathSelfSessionEnd, s.handleSelfSessionEnd)
	handle("POST", pathSelfSessionOther, s.handleSelfSessionOthers)
	handle("POST", pathSelfConsentDrop, s.handleSelfConsentWithdraw)
	handle("GET", pathSelfData, s.handleSelfData)
	handle("GET", pathSelfClose, s.handleSelfClosePage)
	handle("POST", pathSelfClose, s.handleSelfClose)
	handle("GET", pathRecover, s.handleRecoverPage)
	handle("POST", pathRecover, s.handleRecoverStart)
	handle("POST", pathRecoverFinish, s.handleRecoverFinish)
}

// accountFailed shows the account page again with an error message (key msg) and status.
func (s *Server) accountFailed(w http.ResponseWriter, r *http.Request, ls *storage.LoginSession, p storage.Person, status int, msg string) {
	s.accountFailedWith(w, r, ls, p, status, msg, nil)
}

// accountFailedWith is accountFailed with then, when not nil, run on the page's data after
// the sections are filled (to show the message at its form).
func (s *Server) accountFailedWith(w http.ResponseWriter, r *http.Request, ls *storage.LoginSession, p storage.Person, status int, msg string, then func(*pageData)) {
	d := s.accountPageData(w, r, ls, p)
	d.Error = d.T[msg]
	// The language switch of a page answering a POST leads to the account page itself.
	if other := map[string]string{langZH: langEN, langEN: langZH}[d.Lang]; d.SwitchURL != "" {
		d.SwitchURL = s.accountURL(other)
	}
	for _, fill := range s.accountSections() {
		if err := fill(r.Context(), &d, ls, p); err != nil {
			s.pageError(r.Context(), w, r, d.Lang, "fill account page", err)
			return
		}
	}
	if then != nil {
		then(&d)
	}
	s.render(w, status, s.pages.account, d)
}

// selfForm is the common start of the account-page POST handlers: the session (fresh when
// asked), then the CSRF token. ok false: it has answered.
func (s *Server) selfForm(w http.ResponseWriter, r *http.Request, fresh bool) (*storage.LoginSession, storage.Person, bool) {
	ls, p, ok := s.accountSession(w, r, fresh)
	if !ok {
		return nil, p, false
	}
	if !s.checkAccountForm(w, r) {
		s.log.InfoContext(r.Context(), "account form refused: CSRF token missing or wrong", "person_id", p.ID)
		return nil, p, false
	}
	return ls, p, true
}

// passwordMessage maps a password-policy error to its page message key.
func passwordMessage(err error) string {
	switch {
	case errors.Is(err, accounts.ErrPasswordTooShort):
		return "selfPwTooShort"
	case errors.Is(err, accounts.ErrPasswordTooLong):
		return "selfPwTooLong"
	case errors.Is(err, accounts.ErrPasswordUnchanged):
		return "selfPwUnchanged"
	case errors.Is(err, accounts.ErrPasswordCharacters):
		return "selfPwCharacters"
	}
	return "selfPwTooCommon"
}

// handleSelfPassword changes the password (POST /account/password: old, new, new2). The old
// password is the re-authentication (checked through the login lockout, so no fresh login is
// asked for); every other session of the person ends.
func (s *Server) handleSelfPassword(w http.ResponseWriter, r *http.Request) {
	ls, p, ok := s.selfForm(w, r, false)
	if !ok {
		return
	}
	ctx := r.Context()
	// The old password proves only the password: a person with a second factor changes it
	// from a session that passed the second factor, so a stolen password cannot lock the
	// owner out (found by a fresh-user trial).
	if acrLevel(ls.ACR) < acrLevel(ACRMultiFactor) {
		if mfa, err := s.hasSecondFactor(ctx, p); err != nil {
			s.pageError(ctx, w, r, pickLang(r.URL.Query().Get("ui_locales")), "read second factors", err)
			return
		} else if mfa {
			s.loginFor(w, r, s.localPath(pathAccount), pickLang(r.URL.Query().Get("ui_locales")), loginNeed{Fresh: true, MFA: true})
			return
		}
	}
	nw := r.PostForm.Get("new")
	if nw != r.PostForm.Get("new2") {
		s.accountFailed(w, r, ls, p, http.StatusBadRequest, "selfPwMismatch")
		return
	}
	dev, _ := s.device(r)
	err := s.accounts.ChangePassword(ctx, accounts.PasswordChange{PersonID: p.ID, Old: []byte(r.PostForm.Get("old")),
		New: []byte(nw), ClientIP: s.cfg.ClientIP(r), Device: dev, KeepSession: ls.ID})
	switch {
	case err == nil:
		s.accountDone(w, r, "selfPwChanged")
	case errors.Is(err, accounts.ErrWrongPassword):
		s.accountFailed(w, r, ls, p, http.StatusUnauthorized, "selfPwWrongOld")
	case errors.Is(err, accounts.ErrLoginLocked), errors.Is(err, accounts.ErrLoginThrottled):
		if le := (*accounts.LoginError)(nil); errors.As(err, &le) && le.RetryAfter > 0 {
			setRetryAfter(w, le.RetryAfter)
		}
		s.accountFailed(w, r, ls, p, http.StatusTooManyRequests, msgLocked)
	case errors.Is(err, accounts.ErrWeakPassword):
		s.accountFailed(w, r, ls, p, http.StatusBadRequest, passwordMessage(err))
	default:
		s.pageError(ctx, w, r, pickLang(r.URL.Query().Get("ui_locales")), "change password", err)
	}
}

// handleSelfSessionEnd ends one session of the person (POST /account/sessions/end: id). An ID
// that is not a live session of this person gets 404 and ends nothing. Ending this very
// session logs this browser out.
func (s *Server) handleSelfSessionEnd(w http.ResponseWriter, r *http.Request) {
	ls, p, ok := s.selfForm(w, r, false)
	if !ok {
		return
	}
	ctx := r.Context()
	id := r.PostForm.Get("id")
	list, err := s.store.ListLoginSessionsForPerson(ctx, p.ID, s.now())
	if err != nil {
		s.pageError(ctx, w, r, pickLang(r.URL.Query().Get("ui_locales")), "list sessions", err)
		return
	}
	if id == "" || !slices.ContainsFunc(list, func(x storage.LoginSession) bool { return x.ID == id }) {
		s.log.InfoContext(ctx, "end session refused: not a session of this person", "person_id", p.ID)
		s.accountFailed(w, r, ls, p, http.StatusNotFound, "selfSessionUnknown")
		return
	}
	if err := s.store.DeleteLoginSession(ctx, id); err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.pageError(ctx, w, r, pickLang(r.URL.Query().Get("ui_locales")), "end session", err)
		return
	}
	if _, err := s.endSessions(ctx, []string{id}); err != nil { // logout_backchannel.go
		s.log.ErrorContext(ctx, "single logout", "person_id", p.ID, "err", err.Error())
	}
	s.appendAudit(ctx, storage.AuditEvent{Actor: p.ID, Action: "session.end", Subject: p.ID, Detail: "one"})
	if id == ls.ID {
		s.cookies.Clear(w, sessionCookieName)
	}
	s.accountDone(w, r, "selfSessionEnded")
}

// handleSelfSessionOthers ends every session of the person but this one (POST
// /account/sessions/end-other).
func (s *Server) handleSelfSessionOthers(w http.ResponseWriter, r *http.Request) {
	ls, p, ok := s.selfForm(w, r, false)
	if !ok {
		return
	}
	ctx := r.Context()
	list, err := s.store.ListLoginSessionsForPerson(ctx, p.ID, s.now())
	if err != nil {
		s.pageError(ctx, w, r, pickLang(r.URL.Query().Get("ui_locales")), "list sessions", err)
		return
	}
	n := 0
	var ended []string
	defer func() { // logout_backchannel.go: the ended sessions' apps are told
		if _, err := s.endSessions(ctx, ended); err != nil {
			s.log.ErrorContext(ctx, "single logout", "person_id", p.ID, "err", err.Error())
		}
	}()
	for _, x := range list {
		if x.ID == ls.ID {
			continue
		}
		ended = append(ended, x.ID)
		if err := s.store.DeleteLoginSession(ctx, x.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			s.pageError(ctx, w, r, pickLang(r.URL.Query().Get("ui_locales")), "end session", err)
			return
		}
		n++
	}
	s.appendAudit(ctx, storage.AuditEvent{Actor: p.ID, Action: "session.end", Subject: p.ID, Detail: "others=" + strconv.Itoa(n)})
	s.accountDone(w, r, "selfSessionsEnded")
}

// revokeGrants revokes every token of the person's grants with clientID ("" = every client):
// refresh tokens and stored access tokens become inactive and sealed access tokens are
// refused through the revoked-grant list (fositeadapter.Store.RevokeGrant). It returns how many
// grants were revoked. A grant is found by its token records (storage.SelfService.ListGrants):
// one without a refresh token leaves none once its authorization code has expired and been
// purged, so its sealed access tokens stay valid for the rest of their lifetime (10 minutes by
// default).
func (s *Server) revokeGrants(ctx context.Context, personID, clientID string) (int, error) {
	grants, err := s.store.ListGrants(ctx, personID, clientID, s.now())
	if err != nil {
		return 0, err
	}
	for _, g := range grants {
		if err := s.fstore.RevokeGrant(ctx, g); err != nil {
			return 0, err
		}
	}
	return len(grants), nil
}

// handleSelfConsentWithdraw withdraws the person's consent for one app (POST
// /account/consents/withdraw: client_id) and revokes that app's tokens for the person; the app
// must ask for consent again. An app without a consent of this person gets 404.
func (s *Server) handleSelfConsentWithdraw(w http.ResponseWriter, r *http.Request) {
	ls, p, ok := s.selfForm(w, r, false)
	if !ok {
		return
	}
	ctx := r.Context()
	clientID := r.PostForm.Get("client_id")
	err := s.store.DeleteConsent(ctx, p.ID, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		s.accountFailed(w, r, ls, p, http.StatusNotFound, "selfConsentUnknown")
		return
	}
	if err != nil {
		s.pageError(ctx, w, r, pickLang(r.URL.Query().Get("ui_locales")), "withdraw consent", err)
		return
	}
	n, err := s.revokeGrants(ctx, p.ID, clientID)
	if err != nil {
		s.pageError(ctx, w, r, pickLang(r.URL.Query().Get("ui_locales")), "revoke grants", err)
		return
	}
	s.log.InfoContext(ctx, "consent withdrawn", "person_id", p.ID, "client_id", clientID, "grants_revoked", n)
	s.appendAudit(ctx, storage.AuditEvent{Actor: p.ID, Action: "consent.withdraw", Subject: p.ID, ClientID: clientID,
		Detail: "grants_revoked=" + strconv.Itoa(n)})
	s.accountDone(w, r, "selfConsentWithdrawn")
}

// handleSelfClosePage shows what closing the account does and asks for the typed
// confirmation (GET /account/close; a fresh login is required).
func (s *Server) handleSelfClosePage(w http.ResponseWriter, r *http.Request) {
	ls, p, ok := s.accountSession(w, r, true)
	if !ok {
		return
	}
	s.renderClose(w, r, ls, p, http.StatusOK, "")
}

func (s *Server) renderClose(w http.ResponseWriter, r *http.Request, ls *storage.LoginSession, p storage.Person, status int, msg string) {
	d := s.accountPageData(w, r, ls, p)
	d.Self = &selfPage{Step: "confirm", ConfirmWord: closeWord[d.Lang], CloseAction: s.localPath(pathSelfClose) + "?ui_locales=" + d.Lang,
		AccountURL: s.accountURL(d.Lang)}
	if msg != "" {
		d.Error = d.T[msg]
	}
	s.render(w, status, s.pages.page("closeaccount.html"), d)
}

// handleSelfClose closes the account (POST /account/close: confirm, the typed word; a fresh
// login is required): every grant of the person is revoked, then accounts.CloseAccount ends
// the sessions, withdraws the consents, disables login and erases the personal data
// (docs/citizens/retention.md); this browser's session cookie goes too.
func (s *Server) handleSelfClose(w http.ResponseWriter, r *http.Request) {
	ls, p, ok := s.selfForm(w, r, true)
	if !ok {
		return
	}
	ctx := r.Context()
	typed := strings.TrimSpace(r.PostForm.Get("confirm"))
	if typed != closeWord[langZH] && !strings.EqualFold(typed, closeWord[langEN]) {
		s.renderClose(w, r, ls, p, http.StatusBadRequest, "selfCloseMismatch")
		return
	}
	lang := pickLang(r.URL.Query().Get("ui_locales"))
	n, err := s.revokeGrants(ctx, p.ID, "")
	if err == nil {
		err = s.accounts.CloseAccount(ctx, p.ID)
	}
	if err != nil {
		s.pageError(ctx, w, r, lang, "close account", err)
		return
	}
	s.log.InfoContext(ctx, "account closed", "person_id", p.ID, "grants_revoked", n)
	s.cookies.Clear(w, sessionCookieName)
	d := s.newPage(r, lang, pathSelfClose, nil)
	d.Self = &selfPage{Step: "closed"}
	s.render(w, http.StatusOK, s.pages.page("closeaccount.html"), d)
}

// recoverPage fills the recovery page in step.
func (s *Server) recoverPage(w http.ResponseWriter, r *http.Request, lang, step string) pageData {
	d := s.newPage(r, lang, pathRecover, url.Values{})
	d.CSRF = s.csrf.CookieToken(w, r, csrfRecover)
	q := "?ui_locales=" + url.QueryEscape(lang)
	d.Self = &selfPage{Step: step, RecoverAction: s.localPath(pathRecover) + q, FinishAction: s.localPath(pathRecoverFinish) + q,
		LoginURL: s.localPath(pathAccountLogin) + q, AccountURL: s.localPath(pathAccount) + q, MinPasswordLength: accounts.MinPasswordLength}
	if s.cfg.Notifier == nil && step != "done" {
		d.Self.Step = "off"
	}
	return d
}

// handleRecoverPage shows the first recovery step (GET /account/recover): the identifier
// form, or, without a Config.Notifier, a page that says recovery is off and where to go.
func (s *Server) handleRecoverPage(w http.ResponseWriter, r *http.Request) {
	d := s.recoverPage(w, r, pickLang(r.URL.Query().Get("ui_locales")), "start")
	status := http.StatusOK
	if d.Self.Step == "off" {
		status = http.StatusServiceUnavailable
	}
	s.render(w, status, s.pages.page("recover.html"), d)
}

// recoverForm parses a recovery form and checks its CSRF token; false: it has answered.
func (s *Server) recoverForm(w http.ResponseWriter, r *http.Request, lang string) bool {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, lang, msgBadRequest)
		return false
	}
	if !s.csrf.CheckCookie(r, csrfRecover) {
		s.log.InfoContext(r.Context(), "recovery form refused: CSRF token missing or wrong")
		d := s.recoverPage(w, r, lang, "start")
		d.Error = d.T[msgCSRF]
		s.render(w, http.StatusForbidden, s.pages.page("recover.html"), d)
		return false
	}
	return true
}

// handleRecoverStart sends a recovery code (POST /account/recover: identifier) and shows the
// code form — the same page whether or not the identifier is registered (no enumeration).
func (s *Server) handleRecoverStart(w http.ResponseWriter, r *http.Request) {
	lang := pickLang(r.URL.Query().Get("ui_locales"))
	if !s.recoverForm(w, r, lang) {
		return
	}
	identifier := strings.TrimSpace(r.PostForm.Get("identifier"))
	if _, kind := accounts.NormalizeIdentifier(identifier); kind == accounts.IdentifierUnknown {
		// Not the shape of an ID number, credit code or mobile number: saying so tells
		// nothing about who is registered, and nothing is sent or counted.
		d := s.recoverPage(w, r, lang, "start")
		d.Error = d.T["selfRecoverBadIdentifier"]
		s.render(w, http.StatusBadRequest, s.pages.page("recover.html"), d)
		return
	}
	err := s.accounts.StartRecovery(r.Context(), identifier, s.cfg.ClientIP(r))
	d := s.recoverPage(w, r, lang, "code")
	d.Self.Identifier = identifier
	switch {
	case err == nil:
		s.render(w, http.StatusOK, s.pages.page("recover.html"), d)
	case errors.Is(err, accounts.ErrRecoveryOff):
		d.Self.Step = "off"
		s.render(w, http.StatusServiceUnavailable, s.pages.page("recover.html"), d)
	case errors.Is(err, accounts.ErrRecoveryThrottled):
		d.Self.Step = "start"
		d.Error = d.T["selfRecoverThrottled"]
		setRetryAfter(w, s.accounts.RecoveryWindow())
		s.render(w, http.StatusTooManyRequests, s.pages.page("recover.html"), d)
	default:
		s.pageError(r.Context(), w, r, lang, "start recovery", err)
	}
}

// handleRecoverFinish checks the code and sets the new password (POST
// /account/recover/finish: identifier, code, new, new2); every session of the person ends.
func (s *Server) handleRecoverFinish(w http.ResponseWriter, r *http.Request) {
	lang := pickLang(r.URL.Query().Get("ui_locales"))
	if !s.recoverForm(w, r, lang) {
		return
	}
	identifier := strings.TrimSpace(r.PostForm.Get("identifier"))
	d := s.recoverPage(w, r, lang, "code")
	d.Self.Identifier = identifier
	fail := func(status int, msg string) {
		d.Error = d.T[msg]
		s.render(w, status, s.pages.page("recover.html"), d)
	}
	if s.cfg.Notifier == nil {
		d.Self.Step = "off"
		s.render(w, http.StatusServiceUnavailable, s.pages.page("recover.html"), d)
		return
	}
	nw := r.PostForm.Get("new")
	if nw != r.PostForm.Get("new2") {
		fail(http.StatusBadRequest, "selfPwMismatch")
		return
	}
	err := s.accounts.FinishRecovery(r.Context(), accounts.Recovery{Identifier: identifier, Code: r.PostForm.Get("code"),
		New: []byte(nw), ClientIP: s.cfg.ClientIP(r)})
	switch {
	case err == nil:
		d.Self.Step = "done"
		s.render(w, http.StatusOK, s.pages.page("recover.html"), d)
	case errors.Is(err, accounts.ErrWeakPassword):
		fail(http.StatusBadRequest, passwordMessage(err))
	case errors.Is(err, accounts.ErrRecoveryCode):
		fail(http.StatusUnauthorized, "selfRecoverBadCode")
	case errors.Is(err, accounts.ErrRecoveryThrottled):
		setRetryAfter(w, s.accounts.RecoveryWindow())
		fail(http.StatusTooManyRequests, "selfRecoverThrottled")
	default:
		s.pageError(r.Context(), w, r, lang, "finish recovery", err)
	}
}
