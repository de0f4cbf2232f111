package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tongban/tongban/internal/citizenui"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/health"
)

// Cookies. The wallet's cookies are sealed with SM4-GCM under a cookie key derived from the
// keyring's token key (HMAC-SM3, label "tongban/wallet/cookie"; the same on every replica,
// and never the field key that encrypts licences), each with its own aad, and carry their
// own expiry. A login is also stored server-side (Config.Sessions) under a keyed hash of its
// random SID: a session cookie counts only while its row exists, and logout deletes the row,
// so a copy of the cookie is dead after logout. With an https PublicURL the cookies get the
// __Host- prefix (Secure, Path=/, no Domain: httpkit.Cookies), except tbw_lang. The names
// differ from the provider's (tb_*), which may share the host in development.
const (
	cookieSession = "tbw_session" // the login: sealed session
	cookieLogin   = "tbw_login"   // a login in progress: sealed loginState
	cookieLang    = "tbw_lang"    // "zh" or "en"; not sealed

	aadSession = "wallet/session"
	aadLogin   = "wallet/login"
)

var b64 = base64.RawURLEncoding

// csrfLogout is the CSRF purpose of the logout form, the wallet's one form (httpkit.CSRF):
// its tokens are bound to the session's random SID.
const csrfLogout = "logout"

// session is a wallet login. It holds the holder's blind index rather than the ID number,
// and the masked name and number for display. It does not keep the ID token (which holds
// personal data).
type session struct {
	Sub     string `json:"sub"`  // the provider's subject (opaque)
	Index   []byte `json:"idx"`  // HolderIndex of the ID number
	Name    string `json:"name"` // masked
	Number  string `json:"num"`  // masked
	SID     string `json:"sid"`  // random; the CSRF token is derived from it
	Expires int64  `json:"exp"`  // Unix seconds
	// ProviderSID is the sid claim of the login's ID token: logout sends it to the provider as
	// logout_hint, so the provider ends its session without asking again. "" when the
	// provider sent none.
	ProviderSID string `json:"psid,omitempty"`
}

// loginState is a login in progress (state, nonce, PKCE verifier, where to go next).
type loginState struct {
	State    string `json:"st"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"next"`
	Expires  int64  `json:"exp"`
}

const loginStateLifetime = 10 * time.Minute

// seal encrypts v as a cookie value.
func (s *Server) seal(v any, aad string) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sealed, err := s.cookieAEAD.Seal(rand.Reader, b, []byte(aad))
	if err != nil {
		return "", err
	}
	return b64.EncodeToString(sealed), nil
}

// unseal decrypts a cookie value into v; false when absent, tampered or not JSON.
func (s *Server) unseal(r *http.Request, base, aad string, v any) bool {
	c := s.cookies.Value(r, base)
	if c == "" || len(c) > 8<<10 {
		return false
	}
	raw, err := b64.DecodeString(c)
	if err != nil {
		return false
	}
	b, err := s.cookieAEAD.Open(raw, []byte(aad))
	if err != nil {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

// lookupSession returns the browser's live session, or nil: the cookie must open, be unexpired
// and name a session that is still stored (not logged out). The error is a storage failure
// (storage.ErrUnavailable among them), when it cannot tell.
func (s *Server) lookupSession(r *http.Request) (*session, error) {
	var sess session
	if !s.unseal(r, cookieSession, aadSession, &sess) || s.now().Unix() >= sess.Expires || len(sess.Index) == 0 || sess.SID == "" {
		return nil, nil
	}
	ctx := r.Context()
	id := s.storedSessionID(sess.SID)
	_, err := s.sessions.GetLoginSession(ctx, id, s.now())
	switch {
	case err == nil:
		return &sess, nil
	case errors.Is(err, storage.ErrExpired):
		_ = s.sessions.DeleteLoginSession(ctx, id) // best effort: Purge deletes it otherwise
		return nil, nil
	case errors.Is(err, storage.ErrNotFound):
		return nil, nil
	}
	return nil, fmt.Errorf("wallet: session lookup: %w", err)
}

// session is lookupSession for pages that only show who is logged in (a message page's
// header): a storage failure counts as no session, logged (at debug while the database
// refuses writes, see unavailable).
func (s *Server) session(r *http.Request) *session {
	sess, err := s.lookupSession(r)
	if err != nil {
		health.LogFailure(r.Context(), s.log, "session: lookup failed", err)
	}
	return sess
}

// storedSessionID is the storage ID of a session: "wallet:" + base64url(HMAC-SM3(session key,
// SID)). The ":" keeps it apart from the provider's session IDs (plain base64url) in a shared
// table, and storage never holds the SID itself.
func (s *Server) storedSessionID(sid string) string {
	return "wallet:" + b64.EncodeToString(smcrypto.HMACSM3(s.sessionKey, []byte(sid)))
}

// startSession stores sess server-side; the caller then sets its cookie.
func (s *Server) startSession(ctx context.Context, sess *session) error {
	now := s.now().UTC()
	return s.sessions.CreateLoginSession(ctx, storage.LoginSession{
		ID: s.storedSessionID(sess.SID), PersonID: "wallet:" + sess.Sub,
		AuthTime: now, AMR: []string{}, CreatedAt: now, ExpiresAt: time.Unix(sess.Expires, 0).UTC(),
	})
}

// endSession deletes sess server-side, so its cookie (and any copy of it) is refused from now.
func (s *Server) endSession(ctx context.Context, sess *session) error {
	err := s.sessions.DeleteLoginSession(ctx, s.storedSessionID(sess.SID))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}

// Purge deletes expired sessions server-side and returns how many; run it periodically
// (`wallet serve` does, every --purge-interval). Otherwise an expired session's row only goes
// when its cookie comes back. It deletes every login session of Config.Sessions that expired
// before now: in a database shared with the provider its expired SSO sessions go too, which
// is what the provider's own purge does anyway. Deleting by expiry only, it is idempotent, so
// replicas (and the provider) may all run it.
func (s *Server) Purge(ctx context.Context) (int64, error) {
	return s.sessions.DeleteExpiredLoginSessions(ctx, s.now())
}

// localPath is citizenui.LocalPath: every "next" and "back" of the wallet is checked the one way
// (a path on this site, else "/").
var localPath = citizenui.LocalPath
