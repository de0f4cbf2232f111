package oidc

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/tongban/tongban/internal/httpkit"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// Cookie names (base names: httpkit.Cookies adds the __Host- prefix with Secure cookies, that
// is for https issuers without Config.InsecureCookies).
const (
	sessionCookieName = "tb_session" // SSO login session
	csrfCookieName    = "tb_csrf"    // CSRF double-submit secret (httpkit.CSRF.CookieToken)
)

// b64 is base64url without padding (RFC 4648 §5), the encoding of every random value and
// MAC this package puts in cookies, parameters and subjects.
var b64 = base64.RawURLEncoding

// sessionID maps the secret in the session cookie to the storage.LoginSession ID:
// base64url(HMAC-SM3(session key, secret)). Storage never holds the cookie value, so a copy of
// the database cannot be replayed as a cookie.
func (s *Server) sessionID(secret string) string {
	return b64.EncodeToString(smcrypto.HMACSM3(s.keys.session, []byte(secret)))
}

// loginSession returns the browser's live SSO session, or nil.
func (s *Server) loginSession(ctx context.Context, r *http.Request) (*storage.LoginSession, error) {
	secret := s.cookies.Value(r, sessionCookieName)
	if secret == "" {
		return nil, nil
	}
	ls, err := s.store.GetLoginSession(ctx, s.sessionID(secret), s.now())
	switch {
	case err == nil:
		s.touchSession(ctx, &ls)
		return &ls, nil
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrExpired):
		return nil, nil
	}
	return nil, err
}

// startSession stores a new login session and sets its cookie (a browser-session cookie; the
// server-side ExpiresAt bounds it), with the device description of r (withDevice). A new ID is
// made on every login (no session fixation).
func (s *Server) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, ls storage.LoginSession) error {
	ls = s.withDevice(r, ls)
	secret := httpkit.RandomString(32)
	ls.ID = s.sessionID(secret)
	if err := s.store.CreateLoginSession(ctx, ls); err != nil {
		return err
	}
	s.cookies.Set(w, sessionCookieName, secret, 0)
	s.syncElder(ctx, w, r, ls.PersonID) // elder.go
	return nil
}

// endSession deletes the browser's login session, if any, and its cookie, and ends it at
// its apps (endSessionFrames). It returns the person whose session ended ("" when there was
// none).
func (s *Server) endSession(ctx context.Context, w http.ResponseWriter, r *http.Request) (string, error) {
	id, _, err := s.endSessionFrames(ctx, w, r)
	return id, err
}

// endSessionFrames is endSession that also returns the front-channel logout iframes of the
// session's apps. The session's grants are revoked and back-channel logout tokens enqueued
// (endSessions); a failure there is logged, not returned: the session has ended.
func (s *Server) endSessionFrames(ctx context.Context, w http.ResponseWriter, r *http.Request) (string, []frontChannelFrame, error) {
	s.cookies.Clear(w, sessionCookieName)
	ls, err := s.loginSession(ctx, r)
	if err != nil || ls == nil {
		return "", nil, err
	}
	if err := s.store.DeleteLoginSession(ctx, ls.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return "", nil, err
	}
	frames, err := s.endSessions(ctx, []string{ls.ID})
	if err != nil {
		s.log.ErrorContext(ctx, "single logout", "person_id", ls.PersonID, "err", err.Error())
	}
	return ls.PersonID, frames, nil
}
