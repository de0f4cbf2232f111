package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tongban/tongban/internal/citizenui"
	"github.com/tongban/tongban/storage"
)

// The citizen's own account pages (the person's account, 我的账户) live under pathAccount on
// the provider itself: they use the SSO session, not an app's tokens. A browser without a
// session is sent to the login page with a pendingAuth whose Next is the page it asked for;
// sensitive actions (enrolling a passkey or an OTP device, changing the password, downloading
// the full ID number, closing the account) want a fresh login, one made no longer than
// Config.FreshLogin ago.
const (
	pathAccount      = "/account"
	pathAccountLogin = "/account/login" // GET ?next=…[&fresh=1]: log in, then go to next
	pathAsset        = "/assets/"       // GET /assets/{name}: the stylesheet and the page scripts
)

// csrfAccount is the CSRF purpose of every account-page form and fetch.
const csrfAccount = "account"

// accountPage is what the account templates see besides pageData's common fields.
type accountPage struct {
	Name     string // the person's display name
	IDMasked string // e.g. "110101********002X"
	AuthTime time.Time
	Notice   string // a one-line confirmation of the last action ("" = none)
	// LogoutURL is the logout page (its confirmation, with a cancel), in the page language.
	LogoutURL string
	// ElderSwitch is the 长辈模式 section's switch (elder.go): the tool bar's, with words
	// that say what pressing it does, switching the account's setting ElderOn.
	ElderSwitch citizenui.Switch
	// ElderOn is the account's 长辈模式 setting (storage.Person.ElderMode), what the section
	// shows; ElderBrowserDiffers is set when this browser's cookie says otherwise.
	ElderOn, ElderBrowserDiffers bool
}

// accountNext reports whether next is a path the login may continue at: the account pages,
// the scan-to-login and device-code confirmation pages, and the admin console (adminsession.go), under the issuer's path, with no
// scheme, host, "//" or backslash (no open redirect).
func (s *Server) accountNext(next string) bool {
	if next == "" || strings.ContainsAny(next, "\\\r\n") || strings.HasPrefix(next, "//") {
		return false
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return false
	}
	for _, p := range accountNextPrefixes {
		if u.Path == s.path+p || strings.HasPrefix(u.Path, s.path+p+"/") {
			return true
		}
	}
	return false
}

// accountNextPrefixes are the pages a login may continue at (accountNext).
var accountNextPrefixes = []string{pathAccount, pathScanConfirm, pathDevice, pathAdmin}

// nextURL is where a login for pendingAuth.Next continues: next with the page language.
func (s *Server) nextURL(next, lang string) string {
	if !s.accountNext(next) {
		return s.localPath(pathAccount)
	}
	u, _ := url.Parse(next)
	q := u.Query()
	q.Set("ui_locales", lang)
	u.RawQuery = q.Encode()
	return u.String()
}

// loginNeed says what a login for the account pages must give besides a session.
type loginNeed struct {
	// Fresh: the page wants a fresh login (Config.FreshLogin); the login page says why.
	Fresh bool
	// MFA: the login page asks for the second factor (as for acr_values
	// urn:tongban:acr:mfa): a person with one enrolled must give it, or use a passkey.
	MFA bool
}

// loginFor answers with a 303 to the login page, which continues at next (a path accountNext
// accepts) once the person has logged in. The pending request carries need in its Query
// (acr_values for MFA, notice=fresh), which only the login page reads for a Next login.
func (s *Server) loginFor(w http.ResponseWriter, r *http.Request, next, lang string, need loginNeed) {
	if !s.accountNext(next) {
		next = s.localPath(pathAccount)
	}
	now := s.now()
	q := url.Values{}
	if need.MFA {
		q.Set("acr_values", ACRMultiFactor)
	}
	if need.Fresh {
		q.Set("notice", "fresh")
	}
	p := pendingAuth{Next: next, Query: q.Encode(), RequestedAt: now.UnixMicro(), Expires: now.Add(s.cfg.AuthRequestLifetime).UnixMicro(), Lang: lang}
	http.Redirect(w, r, s.localPath(pathLogin)+"?"+url.Values{"authz": {s.encodePending(p)}, "ui_locales": {lang}}.Encode(), http.StatusSeeOther)
}

// handleAccountLogin starts a login for the account pages (GET /account/login?next=…): the
// "log in again" link of a page that wants a fresh login.
func (s *Server) handleAccountLogin(w http.ResponseWriter, r *http.Request) {
	s.loginFor(w, r, r.URL.Query().Get("next"), pickLang(r.URL.Query().Get("ui_locales")), loginNeed{})
}

// accountSession returns the browser's SSO session and its person for an account page. Without
// a live session, or with fresh and a login older than Config.FreshLogin — or, with fresh, a
// login below urn:tongban:acr:mfa by a person who has a second factor (an OTP device or a
// passkey: whoever manages second factors, sees full numbers or closes the account must have
// passed the second factor, not only the password) — it has answered with a 303 to the login
// page (continuing at r's URL for GET, at the account page otherwise) and returns ok false; a
// disabled or missing person ends the session the same way; a storage failure gets the
// unavailable page.
func (s *Server) accountSession(w http.ResponseWriter, r *http.Request, fresh bool) (ls *storage.LoginSession, p storage.Person, ok bool) {
	ctx := r.Context()
	lang := pickLang(r.URL.Query().Get("ui_locales"))
	next := s.localPath(pathAccount)
	if r.Method == http.MethodGet {
		next = r.URL.Path
		if q := r.URL.Query(); len(q) > 0 {
			q.Del("ui_locales")
			if enc := q.Encode(); enc != "" {
				next += "?" + enc
			}
		}
	}
	ls, err := s.loginSession(ctx, r)
	if err != nil {
		s.pageError(ctx, w, r, lang, "read login session", err)
		return nil, p, false
	}
	if ls == nil {
		s.loginFor(w, r, next, lang, loginNeed{Fresh: fresh})
		return nil, p, false
	}
	p, err = s.store.GetPerson(ctx, ls.PersonID)
	switch {
	case errors.Is(err, storage.ErrNotFound) || (err == nil && p.Disabled):
		if _, err := s.endSession(ctx, w, r); err != nil {
			s.logFailure(ctx, "end session of a missing or disabled person", err)
		}
		s.loginFor(w, r, next, lang, loginNeed{})
		return nil, p, false
	case err != nil:
		s.pageError(ctx, w, r, lang, "read person", err)
		return nil, p, false
	}
	if !fresh {
		return ls, p, true
	}
	mfa := false
	if acrLevel(ls.ACR) < acrLevel(ACRMultiFactor) {
		if mfa, err = s.hasSecondFactor(ctx, p); err != nil {
			s.pageError(ctx, w, r, lang, "read second factors", err)
			return nil, p, false
		}
	}
	if mfa || s.now().Sub(ls.AuthTime) > s.cfg.FreshLogin {
		s.loginFor(w, r, next, lang, loginNeed{Fresh: true, MFA: mfa})
		return nil, p, false
	}
	return ls, p, true
}

// hasSecondFactor reports whether the person can pass urn:tongban:acr:mfa: a confirmed OTP
// device (the operator-set legacy secret included) or a passkey.
func (s *Server) hasSecondFactor(ctx context.Context, p storage.Person) (bool, error) {
	devs, err := s.accounts.ListOTPDevices(ctx, p.ID) // confirmed ones, the legacy secret included
	if err != nil || len(devs) > 0 {
		return len(devs) > 0, err
	}
	pks, err := s.store.ListPasskeys(ctx, p.ID)
	return len(pks) > 0, err
}

// handleAccount shows the account page (GET /account): who is logged in, and a section per
// feature (accountSections) that each fills its own pageData field.
func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request) {
	ls, p, ok := s.accountSession(w, r, false)
	if !ok {
		return
	}
	d := s.accountPageData(w, r, ls, p)
	for _, fill := range s.accountSections() {
		if err := fill(r.Context(), &d, ls, p); err != nil {
			s.pageError(r.Context(), w, r, d.Lang, "fill account page", err)
			return
		}
	}
	s.render(w, http.StatusOK, s.pages.account, d)
}

// accountPageData fills the fields every account page has.
func (s *Server) accountPageData(w http.ResponseWriter, r *http.Request, ls *storage.LoginSession, p storage.Person) pageData {
	lang := pickLang(r.URL.Query().Get("ui_locales"))
	d := s.newPage(r, lang, r.URL.Path, url.Values{})
	d.CSRF = s.csrf.CookieToken(w, r, csrfAccount)
	d.Account = &accountPage{Name: p.Name, IDMasked: p.IDNumberMasked, AuthTime: ls.AuthTime,
		LogoutURL: s.localPath(pathLogout) + "?ui_locales=" + url.QueryEscape(lang), ElderSwitch: d.ElderSwitch}
	// The section shows and switches the account's setting (storage.Person.ElderMode), which
	// may differ from this browser's cookie (switched in another browser, or the cookie
	// cleared); pressing it sets both (elder.go).
	d.Account.ElderOn, d.Account.ElderBrowserDiffers = p.ElderMode, p.ElderMode != d.Elder
	sw := &d.Account.ElderSwitch
	sw.On, sw.Label, sw.Hint = p.ElderMode, d.T["elderTurnOn"], d.T["elderOff"]
	if p.ElderMode {
		sw.Label, sw.Hint = d.T["elderTurnOff"], d.T["elderOn"]
	}
	if done := r.URL.Query().Get("done"); slices.Contains(accountNotices, done) {
		d.Account.Notice = d.T[done]
	}
	return d
}

// accountNotices are the message keys accountDone may show on the account page (?done=); any
// other value shows nothing, so a crafted link cannot make the page claim what did not happen.
var accountNotices = []string{"otpAdded", "otpErrNoDevice", "otpRemoved", "selfConsentWithdrawn",
	"selfPwChanged", "selfSessionEnded", "selfSessionsEnded", "passkeyAdded", "passkeyRemoved", "passkeyRenamed",
	"corrFiled",
	"agentAuthorised", "agentWithdrawn", // account_agents.go
	"upstreamUnlinked", // broker.go
}

// accountSection fills one section of the account page.
type accountSection func(ctx context.Context, d *pageData, ls *storage.LoginSession, p storage.Person) error

// accountSections lists the sections of the account page in the order they appear.
func (s *Server) accountSections() []accountSection {
	return []accountSection{s.fillAccountPasskeys, s.fillAccountOTP, s.fillAccountSelf, s.fillAccountCorrections,
		s.fillAccountAgents, // account_agents.go
		s.fillAccountLinks,  // broker.go
	}
}

// checkAccountForm parses a posted account form and checks its CSRF token (form field "csrf"
// or header X-CSRF-Token). On failure it has answered 400 or 403 and returns false.
func (s *Server) checkAccountForm(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, r.URL.Query().Get("ui_locales"), msgBadRequest)
		return false
	}
	if r.PostForm.Get("csrf") == "" && r.Header.Get("X-CSRF-Token") != "" {
		r.PostForm.Set("csrf", r.Header.Get("X-CSRF-Token"))
	}
	if !s.csrf.CheckCookie(r, csrfAccount) {
		s.renderError(w, r, http.StatusForbidden, r.URL.Query().Get("ui_locales"), msgCSRF)
		return false
	}
	return true
}

// accountDone answers a successful account form with a 303 back to the account page, which
// shows the message with key done.
func (s *Server) accountDone(w http.ResponseWriter, r *http.Request, done string) {
	q := url.Values{"ui_locales": {pickLang(r.URL.Query().Get("ui_locales"))}}
	if done != "" {
		q.Set("done", done)
	}
	http.Redirect(w, r, s.localPath(pathAccount)+"?"+q.Encode(), http.StatusSeeOther)
}

func init() {
	addMessages(map[string]map[string]string{
		langZH: {"backToAccount": "前往我的账户", "accountHeading": "我的账户", "accountLink": "我的账户", "freshLoginNeeded": "为保护您的账户，请重新登录后再进行此操作。"},
		langEN: {"backToAccount": "Go to my account", "accountHeading": "My account", "accountLink": "My account", "freshLoginNeeded": "For your protection, log in again before doing this."},
	})
}
