package oidc

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/ory/fosite/token/jwt"

	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	"github.com/tongban/tongban/storage"
)

// handleLogout serves RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0), GET and
// POST, with id_token_hint, client_id, post_logout_redirect_uri, state and ui_locales.
//
//   - id_token_hint must be an ID token issued by this provider (expired is fine); its aud
//     names the client, and a client_id parameter must agree.
//   - post_logout_redirect_uri must exactly equal one of the client's registered
//     PostLogoutRedirectURIs; otherwise nothing redirects (error page after logout).
//   - When id_token_hint names the person of the browser's session, the session ends at once.
//     So it does when a registered client_id comes with logout_hint equal to the session's sid
//     (the sid claim of the ID tokens and logout tokens of this session, which only its apps
//     hold): an app whose ID token carries personal data (the wallet's carries the ID number)
//     need not put it in a URL. Otherwise a confirmation page (CSRF-protected POST) is shown
//     first, so a third-party page cannot log people out. A POST from another site without a
//     session cookie gets the confirmation page too, not "logged out": its SameSite=Lax
//     cookie was simply not sent.
//
// Ending the session deletes the SSO login session for every client and clears its cookie,
// revokes the grants issued from it and sends the back-channel logout tokens of its clients
// (logout_backchannel.go). When some of its clients have a front-channel logout URI, the done
// page loads them in hidden iframes (its CSP allows exactly their origins in frame-src) and
// links to the post_logout_redirect_uri instead of redirecting at once.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "", msgBadRequest)
		return
	}
	f := r.Form
	lang := pickLang(f.Get("ui_locales"))

	// Who is asking, and where may we send the browser afterwards?
	var c *fositeadapter.Client
	hintSub := ""
	if hint := f.Get("id_token_hint"); hint != "" {
		tok, err := s.signer.Decode(ctx, hint)
		var ve *jwt.ValidationError
		if err != nil && !(errors.As(err, &ve) && ve.Has(jwt.ValidationErrorExpired) && tok != nil) {
			s.renderError(w, r, http.StatusBadRequest, lang, msgBadRequest)
			return
		}
		hintSub = hintSubject(tok.Claims)
		aud := audience(tok.Claims["aud"])
		if len(aud) == 0 || f.Get("client_id") != "" && !slices.Contains(aud, f.Get("client_id")) {
			s.renderError(w, r, http.StatusBadRequest, lang, msgBadRequest)
			return
		}
		if cl, err := s.clients.Get(ctx, aud[0]); err == nil {
			c = cl
		}
	} else if id := f.Get("client_id"); id != "" {
		if cl, err := s.clients.Get(ctx, id); err == nil {
			c = cl
		}
	}
	target := ""
	badTarget := false
	if uri := f.Get("post_logout_redirect_uri"); uri != "" {
		if c != nil && slices.Contains(c.Registration.PostLogoutRedirectURIs, uri) {
			u, _ := url.Parse(uri)
			if st := f.Get("state"); st != "" {
				q := u.Query()
				q.Set("state", st)
				u.RawQuery = q.Encode()
			}
			target = u.String()
		} else {
			badTarget = true
		}
	}

	var frames []frontChannelFrame // logout_backchannel.go
	ls, err := s.loginSession(ctx, r)
	if err != nil {
		s.pageError(ctx, w, r, lang, "logout: read session", err)
		return
	}
	// A POST from another site carries no SameSite=Lax login cookie, so "no session" is not
	// known: saying 已退出 there would tell a person on a shared computer they are logged out
	// while they are not. They confirm on this site's own page, whose POST carries it.
	unknown := ls == nil && r.Method == http.MethodPost && r.Header.Get("Sec-Fetch-Site") == "cross-site"
	if ls != nil || unknown {
		confirmed := r.Method == http.MethodPost && f.Get("confirm") == "1" && s.csrf.CheckCookie(r, "logout")
		byToken := ls != nil && hintSub != "" && c != nil && hintSub == s.subjectFor(c, ls.PersonID)
		bySID := ls != nil && c != nil && f.Get("logout_hint") != "" &&
			subtle.ConstantTimeCompare([]byte(f.Get("logout_hint")), []byte(s.sid(ls.ID))) == 1
		if unknown || !confirmed && !byToken && !bySID {
			d := s.newPage(r, lang, pathLogout, nil)
			d.CSRF = s.csrf.CookieToken(w, r, "logout")
			d.LogoutCancel = s.accountURL(lang) // cancel: stay logged in
			if c != nil {
				if home := appHome(c); home != "" {
					d.LogoutCancel, d.AppName = home, c.DisplayName()
				}
			}
			d.Hidden = map[string]string{}
			for _, k := range []string{"id_token_hint", "logout_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales"} {
				if v := f.Get(k); v != "" {
					d.Hidden[k] = v
				}
			}
			s.render(w, http.StatusOK, s.pages.logout, d)
			return
		}
		personID, fr, err := s.endSessionFrames(ctx, w, r)
		frames = fr
		if err != nil {
			s.pageError(ctx, w, r, lang, "logout", err)
			return
		}
		clientID := ""
		if c != nil {
			clientID = c.GetID()
		}
		s.log.InfoContext(ctx, "logout", "person_id", personID, "client_id", clientID)
		s.appendAudit(ctx, storage.AuditEvent{Actor: personID, Action: "logout", Subject: personID, ClientID: clientID})
	}
	if target != "" && len(frames) == 0 {
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	d := s.newPage(r, lang, pathLogout, nil)
	d.Heading = d.T["doneHeading"]
	d.Message = d.T[msgLoggedOut]
	d.BackURL = s.accountURL(lang) // a way on: log in again
	d.BackText = d.T["loginAgain"]
	status := http.StatusOK
	if badTarget {
		d.Message = d.T[msgBadLogoutURI]
		d.Error = "1"
		status = http.StatusBadRequest
	}
	if len(frames) > 0 {
		setFrameSrc(w, frames)
		for _, f := range frames {
			d.LogoutFrames = append(d.LogoutFrames, f.URL)
		}
		d.LogoutNext = target // a link: the iframes must load first

	}
	s.render(w, status, s.pages.message, d)
}

// audience returns a JWT aud claim (string or array) as a list.
func audience(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
