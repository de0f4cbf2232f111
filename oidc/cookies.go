package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// Cookie names. With Secure cookies they carry the __Host- prefix (RFC 6265bis §4.1.3.2):
// Secure, Path=/, no Domain, so no sibling host can set or overwrite them.
const (
	sessionCookieName = "tb_session" // SSO login session
	csrfCookieName    = "tb_csrf"    // CSRF double-submit secret
)

func (s *Server) cookieName(base string) string {
	if s.secureCookies {
		return "__Host-" + base
	}
	return base
}

// setCookie sets an HttpOnly, SameSite=Lax cookie on Path=/ (Secure unless
// Config.InsecureCookies). maxAge < 0 deletes it; 0 makes a browser-session cookie.
func (s *Server) setCookie(w http.ResponseWriter, base, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName(base),
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   s.secureCookies,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
}

// b64 is base64url without padding (RFC 4648 §5), the encoding of every random value and
// MAC this package puts in cookies, parameters and subjects.
var b64 = base64.RawURLEncoding

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b64.EncodeToString(b)
}

// sessionID maps the secret in the session cookie to the storage.LoginSession ID:
// base64url(HMAC-SM3(session key, secret)). Storage never holds the cookie value, so a copy of
// the database cannot be replayed as a cookie.
func (s *Server) sessionID(secret string) string {
	return b64.EncodeToString(smcrypto.HMACSM3(s.keys.session, []byte(secret)))
}

// loginSession returns the browser's live SSO session, or nil.
func (s *Server) loginSession(ctx context.Context, r *http.Request) (*storage.LoginSession, error) {
	c, err := r.Cookie(s.cookieName(sessionCookieName))
	if err != nil || c.Value == "" {
		return nil, nil
	}
	ls, err := s.store.GetLoginSession(ctx, s.sessionID(c.Value), s.now())
	switch {
	case err == nil:
		return &ls, nil
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrExpired):
		return nil, nil
	}
	return nil, err
}

// startSession stores a new login session and sets its cookie (a browser-session cookie; the
// server-side ExpiresAt bounds it). A new ID is made on every login (no session fixation).
func (s *Server) startSession(ctx context.Context, w http.ResponseWriter, ls storage.LoginSession) error {
	secret := randomString(32)
	ls.ID = s.sessionID(secret)
	if err := s.store.CreateLoginSession(ctx, ls); err != nil {
		return err
	}
	s.setCookie(w, sessionCookieName, secret, 0)
	return nil
}

// endSession deletes the browser's login session, if any, and its cookie. It returns the
// person whose session ended ("" when there was none).
func (s *Server) endSession(ctx context.Context, w http.ResponseWriter, r *http.Request) (string, error) {
	s.setCookie(w, sessionCookieName, "", -1)
	ls, err := s.loginSession(ctx, r)
	if err != nil || ls == nil {
		return "", err
	}
	if err := s.store.DeleteLoginSession(ctx, ls.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return "", err
	}
	return ls.PersonID, nil
}

// CSRF protection of the login, consent and logout forms: a random secret in an HttpOnly
// cookie, and in the form base64url(HMAC-SM3(csrf key, purpose ‖ 0 ‖ secret)). A cross-site
// page can neither read the cookie nor compute the token; the purpose stops a token of one
// form being replayed on another.

// csrfToken returns the token for purpose, setting the secret cookie when the browser has none.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request, purpose string) string {
	secret := ""
	if c, err := r.Cookie(s.cookieName(csrfCookieName)); err == nil && len(c.Value) >= 43 {
		secret = c.Value
	} else {
		secret = randomString(32)
		s.setCookie(w, csrfCookieName, secret, 0)
	}
	return s.csrfFor(purpose, secret)
}

func (s *Server) csrfFor(purpose, secret string) string {
	return b64.EncodeToString(smcrypto.HMACSM3(s.keys.csrf, []byte(purpose+"\x00"+secret)))
}

// checkCSRF reports whether the posted "csrf" field matches the cookie for purpose.
func (s *Server) checkCSRF(r *http.Request, purpose string) bool {
	c, err := r.Cookie(s.cookieName(csrfCookieName))
	if err != nil || len(c.Value) < 43 {
		return false
	}
	got := r.PostFormValue("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(s.csrfFor(purpose, c.Value)))
}
