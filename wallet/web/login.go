package web

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/tongban/tongban/idnumber"
	"github.com/tongban/tongban/internal/citizenui"
	"github.com/tongban/tongban/internal/httpkit"
)

// handleLogin starts the authorization code flow (OIDC Core §3.1) with PKCE S256 (RFC 7636),
// a random state and nonce kept in a sealed cookie, and the scopes openid, profile and
// id_number. ?next= is where to return (a local path).
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	st, err := s.idp.state(r.Context())
	if err != nil {
		s.log.WarnContext(r.Context(), "login: provider unavailable", "err", err.Error())
		s.renderMessage(w, r, http.StatusServiceUnavailable, "idpDown")
		return
	}
	ls := loginState{
		State: httpkit.RandomString(16), Nonce: httpkit.RandomString(16), Verifier: oauth2.GenerateVerifier(),
		Next: localPath(r.URL.Query().Get("next")), Expires: s.now().Add(loginStateLifetime).Unix(),
	}
	v, err := s.seal(ls, aadLogin)
	if err != nil {
		s.serverError(w, r, "login: seal state", err)
		return
	}
	s.cookies.Set(w, cookieLogin, v, int(loginStateLifetime.Seconds()))
	u := st.oauth.AuthCodeURL(ls.State, oidc.Nonce(ls.Nonce), oauth2.S256ChallengeOption(ls.Verifier),
		oauth2.SetAuthURLParam("ui_locales", uiLocale(s.lang(r))))
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// handleCallback finishes the login: it checks state and iss (RFC 9207), redeems the code
// with the PKCE verifier, verifies the ID token (signature through the provider's JWKS, SM2
// included; iss, aud, exp; nonce), reads the ID number from it (or from userinfo) and sets
// the session cookie.
func (s *Server) handleCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	var ls loginState
	ok := s.unseal(r, cookieLogin, aadLogin, &ls)
	s.cookies.Clear(w, cookieLogin)
	if !ok || s.now().Unix() >= ls.Expires ||
		subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(ls.State)) != 1 {
		s.renderMessage(w, r, http.StatusBadRequest, "loginExpired")
		return
	}
	if iss := q.Get("iss"); iss != "" && iss != s.idp.issuer {
		s.log.WarnContext(ctx, "callback: iss mismatch")
		s.renderMessage(w, r, http.StatusBadRequest, "loginFailed")
		return
	}
	if e := q.Get("error"); e != "" {
		key := "loginFailed"
		if e == "access_denied" {
			key = "loginCancelled"
		}
		s.log.InfoContext(ctx, "callback: provider returned an error", "error", e)
		s.renderMessage(w, r, http.StatusForbidden, key)
		return
	}
	st, err := s.idp.state(ctx)
	if err != nil {
		s.renderMessage(w, r, http.StatusServiceUnavailable, "idpDown")
		return
	}
	tok, err := st.oauth.Exchange(s.idp.ctx(ctx), q.Get("code"), oauth2.VerifierOption(ls.Verifier))
	if err != nil {
		s.log.WarnContext(ctx, "callback: code exchange failed", "err", err.Error())
		s.renderMessage(w, r, http.StatusBadGateway, "loginFailed")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		s.log.WarnContext(ctx, "callback: no ID token")
		s.renderMessage(w, r, http.StatusBadGateway, "loginFailed")
		return
	}
	idt, err := st.verifier.Verify(s.idp.ctx(ctx), raw)
	if err != nil {
		s.log.WarnContext(ctx, "callback: ID token refused", "err", err.Error())
		s.renderMessage(w, r, http.StatusBadGateway, "loginFailed")
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(ls.Nonce)) != 1 {
		s.log.WarnContext(ctx, "callback: nonce mismatch")
		s.renderMessage(w, r, http.StatusBadRequest, "loginFailed")
		return
	}
	var pc personClaims
	if err := idt.Claims(&pc); err != nil {
		s.serverError(w, r, "callback: claims", err)
		return
	}
	if pc.IDNumber == "" { // not in the ID token: ask userinfo
		if ui, err := s.idp.userinfo(ctx, tok.AccessToken); err == nil && ui.Sub == idt.Subject {
			pc.IDNumber, pc.IDNumberType = ui.IDNumber, ui.IDNumberType
			if pc.Name == "" {
				pc.Name = ui.Name
			}
			if pc.ElderMode == nil {
				pc.ElderMode = ui.ElderMode
			}
		}
	}
	if pc.IDNumber == "" {
		s.log.WarnContext(ctx, "callback: no id_number claim; is the wallet client granted the id_number scope?", "sub", idt.Subject)
		s.renderMessage(w, r, http.StatusForbidden, "noIDNumber")
		return
	}
	sess := session{
		Sub: idt.Subject, Index: s.svc.HolderIndex(pc.IDNumber),
		Name: idnumber.MaskName(pc.Name), Number: maskNumber(pc.IDNumber, pc.IDNumberType),
		SID: httpkit.RandomString(16), Expires: s.now().Add(s.cfg.SessionLifetime).Unix(),
		ProviderSID: pc.SID,
	}
	v, err := s.seal(sess, aadSession)
	if err != nil {
		s.serverError(w, r, "callback: seal session", err)
		return
	}
	if err := s.startSession(ctx, &sess); err != nil {
		s.serverError(w, r, "callback: store session", err)
		return
	}
	s.cookies.Set(w, cookieSession, v, int(s.cfg.SessionLifetime.Seconds()))
	if pc.ElderMode != nil && *pc.ElderMode {
		// The person turned 长辈模式 on in their account: the wallet opens in it too. A false
		// claim leaves this browser's own choice alone.
		citizenui.SetElder(w, s.cookies, true)
	}
	s.log.InfoContext(ctx, "login", "sub", idt.Subject)
	http.Redirect(w, r, ls.Next, http.StatusSeeOther)
}

// uiLocale is the BCP 47 tag of a page language, for ui_locales (OIDC Core §3.1.2.1).
func uiLocale(lang string) string {
	if lang == langEN {
		return "en"
	}
	return "zh-CN"
}

func maskNumber(n, typ string) string {
	if typ == "credit_code" {
		return idnumber.MaskCreditCode(n)
	}
	return idnumber.MaskResidentID(n)
}

// handleLogoutConfirm asks before logging out (GET /logout?back=PATH): a page with the
// logout form (POST, CSRF token bound to the session) and a cancel that returns to back (a
// path on this server, else home). Without a session it goes home.
func (s *Server) handleLogoutConfirm(w http.ResponseWriter, r *http.Request) {
	sess, err := s.lookupSession(r)
	if err != nil {
		s.serverError(w, r, "logout: session", err)
		return
	}
	if sess == nil {
		http.Redirect(w, r, pathHome, http.StatusSeeOther)
		return
	}
	d := s.newPage(r, sess)
	d.Title = d.T["logout"]
	d.Back = citizenui.LocalPath(r.URL.Query().Get("back"))
	if strings.HasPrefix(d.Back, pathLogout) {
		d.Back = pathHome
	}
	s.render(w, http.StatusOK, s.pages.logout, d)
}

// handleLogout ends the wallet session (CSRF-checked POST; the stored session is deleted, so
// the cookie is refused from now on even if a copy of it survives) and sends the browser to the
// provider's end_session_endpoint (RP-Initiated Logout 1.0) with client_id,
// post_logout_redirect_uri and state, so the single sign-on session ends too; the provider
// returns to PostLogoutRedirectURL. No id_token_hint is sent: the ID token carries the
// holder's name and ID number, which must not end up in browser history or access logs.
// logout_hint carries the provider's sid instead (not personal data), and the provider ends
// its session without asking the person to confirm a second time; without it (a provider
// that sent no sid) the provider asks.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	sess, err := s.lookupSession(r)
	if err != nil {
		s.serverError(w, r, "logout: session", err)
		return
	}
	if sess == nil {
		http.Redirect(w, r, pathHome, http.StatusSeeOther)
		return
	}
	if !s.csrf.Check(r, csrfLogout, sess.SID) {
		s.renderMessage(w, r, http.StatusForbidden, "badForm")
		return
	}
	if err := s.endSession(r.Context(), sess); err != nil {
		s.serverError(w, r, "logout: end session", err)
		return
	}
	s.cookies.Clear(w, cookieSession)
	s.log.InfoContext(r.Context(), "logout", "sub", sess.Sub)
	st, err := s.idp.state(r.Context())
	if err != nil || st.endSession == "" {
		http.Redirect(w, r, pathHome, http.StatusSeeOther)
		return
	}
	u, err := url.Parse(st.endSession)
	if err != nil {
		http.Redirect(w, r, pathHome, http.StatusSeeOther)
		return
	}
	qv := u.Query()
	qv.Del("id_token_hint")
	qv.Del("logout_hint")
	if sess.ProviderSID != "" {
		qv.Set("logout_hint", sess.ProviderSID)
	}
	qv.Set("client_id", s.cfg.ClientID)
	qv.Set("state", httpkit.RandomString(16))
	qv.Set("post_logout_redirect_uri", s.PostLogoutRedirectURL())
	qv.Set("ui_locales", uiLocale(s.lang(r)))
	u.RawQuery = qv.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}
