package oidc

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/storage"
)

// consentPage fills the consent page: the client's name and what each requested scope reveals.
func (s *Server) consentPage(w http.ResponseWriter, r *http.Request, authz string, q url.Values, lang string) pageData {
	d := s.newPage(r, lang, pathConsent, url.Values{"authz": {authz}})
	d.Authz = authz
	d.CSRF = s.csrf.CookieToken(w, r, "consent")
	d.ClientName = q.Get("client_id")
	purpose := ""
	if c, err := s.clients.Get(r.Context(), q.Get("client_id")); err == nil {
		d.ClientName = c.DisplayName()
		purpose = c.Registration.Purpose
		if lang == langEN && c.Registration.PurposeEn != "" {
			purpose = c.Registration.PurposeEn
		}
	}
	d.Acting = s.consentActing(r, authz) // agents.go
	for _, sc := range strings.Fields(q.Get("scope")) {
		// Licence scopes get a box of their own, with the app's purpose (lookup.go).
		if t, ok := licenceScopeText(lang, sc); ok {
			if d.Lookup == nil {
				d.Lookup = &lookupConsent{Purpose: purpose}
			}
			d.Lookup.Licences = append(d.Lookup.Licences, t)
			continue
		}
		d.Scopes = append(d.Scopes, scopeText(lang, sc))
	}
	return d
}

// handleConsentPage shows the consent form (GET /consent?authz=…). Without a login session the
// browser goes back to the login page.
func (s *Server) handleConsentPage(w http.ResponseWriter, r *http.Request) {
	pg, ok := s.pendingPage(w, r)
	if !ok {
		return
	}
	s.render(w, http.StatusOK, s.pages.consent, s.consentPage(w, r, pg.authz, pg.query, pg.lang))
}

// pendingPageReq is what a page of a pending authorization request (consent, acting) reads
// first: the request (authz) and its query, the login session, and the page's language.
type pendingPageReq struct {
	authz string
	query url.Values
	ls    *storage.LoginSession
	lang  string
}

// pendingPage reads the pending request of a page's GET (?authz=…) and the login session. An
// expired or forged request gets an error page, no session the login page; ok is false then,
// the answer written.
func (s *Server) pendingPage(w http.ResponseWriter, r *http.Request) (pendingPageReq, bool) {
	authz := r.URL.Query().Get("authz")
	p, q, err := s.pendingForm(authz)
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, r.URL.Query().Get("ui_locales"), msgRequestExpired)
		return pendingPageReq{}, false
	}
	ls, err := s.loginSession(r.Context(), r)
	if err != nil || ls == nil {
		http.Redirect(w, r, s.localPath(pathLogin)+"?authz="+url.QueryEscape(authz), http.StatusSeeOther)
		return pendingPageReq{}, false
	}
	lang := pickLang(firstNonEmpty(r.URL.Query().Get("ui_locales"), p.Lang, q.Get("ui_locales")))
	return pendingPageReq{authz: authz, query: q, ls: ls, lang: lang}, true
}

// handleConsent records the decision (POST /consent). "allow" remembers the scopes for the
// client (storage.Consents, merged with earlier grants) and answers 303 to the pending
// request; "deny" sends access_denied to the client (RFC 6749 §4.1.2.1).
func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, ok := s.readPostedForm(w, r)
	if !ok {
		return
	}
	authz, p, q, lang := f.authz, f.p, f.q, f.lang
	if !s.csrf.CheckCookie(r, "consent") {
		d := s.consentPage(w, r, authz, q, lang)
		d.Error = d.T[msgCSRF]
		s.render(w, http.StatusForbidden, s.pages.consent, d)
		return
	}
	ls, err := s.loginSession(ctx, r)
	if err != nil || ls == nil {
		http.Redirect(w, r, s.localPath(pathLogin)+"?authz="+url.QueryEscape(authz), http.StatusSeeOther)
		return
	}
	if !s.useOnce(w, r, f, "consent-form") {
		return
	}
	clientID := q.Get("client_id")
	if r.PostForm.Get("decision") != "allow" {
		ar, err := s.parseAuthorizeRequest(ctx, p.Query)
		if err == nil {
			err = fosite.ErrAccessDenied.WithHint("The person declined.")
		}
		s.appendAudit(ctx, storage.AuditEvent{Actor: ls.PersonID, Action: "consent.deny", Subject: ls.PersonID, ClientID: clientID})
		s.authorizeError(w, r, ar, err)
		return
	}
	scopes := strings.Fields(q.Get("scope"))
	if old, err := s.store.GetConsent(ctx, ls.PersonID, clientID); err == nil {
		for _, sc := range old.Scopes {
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	slices.Sort(scopes)
	if err := s.store.SaveConsent(ctx, storage.Consent{PersonID: ls.PersonID, ClientID: clientID, Scopes: scopes, GrantedAt: s.now()}); err != nil {
		s.pageError(ctx, w, r, lang, "save consent", err)
		return
	}
	s.appendAudit(ctx, storage.AuditEvent{Actor: ls.PersonID, Action: "consent.grant", Subject: ls.PersonID,
		ClientID: clientID, Detail: strings.Join(scopes, " ")})
	p.Consent = s.consentBinding(ls)
	p.Lang = lang
	p.Expires = s.now().Add(s.cfg.AuthRequestLifetime).UnixMicro()
	http.Redirect(w, r, s.localPath(pathResume)+"?authz="+url.QueryEscape(s.encodePending(p)), http.StatusSeeOther)
}
