package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tongban/tongban/storage"
)

// pathBackchannelLogout is the wallet's back-channel logout endpoint (OpenID Connect
// Back-Channel Logout 1.0 §2.5), registered at the provider as the wallet client's
// backchannel_logout_uri: PublicURL + "/backchannel-logout".
const pathBackchannelLogout = "/backchannel-logout"

// eventBackchannelLogout is the member a logout token's events claim must have (§2.4).
const eventBackchannelLogout = "http://schemas.openid.net/event/backchannel-logout"

// logoutTokenMaxAge bounds how old a logout token's iat may be (the provider's tokens live
// 2 minutes; a minute of clock skew on top).
const logoutTokenMaxAge = 3 * time.Minute

// Errors of a refused logout token (logged; the answer is 400 invalid_request).
var (
	errLogoutToken       = errors.New("wallet: invalid logout token")
	errLogoutTokenReplay = errors.New("wallet: logout token replayed (jti already used)")
)

// BackchannelLogoutURL is the wallet's back-channel logout endpoint, to register at the
// provider (idp clients add --backchannel-logout-uri).
func (s *Server) BackchannelLogoutURL() string { return s.public + pathBackchannelLogout }

// logoutClaims are the members of a logout token the wallet reads.
type logoutClaims struct {
	Sub    string         `json:"sub"`
	SID    string         `json:"sid"`
	JTI    string         `json:"jti"`
	IAT    int64          `json:"iat"`
	Events map[string]any `json:"events"`
	Nonce  *string        `json:"nonce"`
}

// handleBackchannelLogout ends the wallet sessions of the person a logout token names (POST
// application/x-www-form-urlencoded logout_token=…). The token must verify with the
// provider's JWKS in the wallet client's ID-token algorithm, with iss the provider, aud the
// wallet's client ID, exp not past, iat at most logoutTokenMaxAge old, the back-channel logout
// event, a sub, a jti not seen before (storage.Nonces, namespace "wallet/logout-jti") and no
// nonce. The wallet keeps no provider sid per session, so it ends every wallet session of
// that sub (the safe side of sid). Answers: 200 ended (also when none was live), 400
// {"error":"invalid_request"} for a refused token, 503 when storage fails.
func (s *Server) handleBackchannelLogout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	c, err := s.checkLogoutToken(ctx, r.PostFormValue("logout_token"))
	switch {
	case errors.Is(err, errLogoutToken), errors.Is(err, errLogoutTokenReplay):
		s.log.WarnContext(ctx, "back-channel logout refused", "err", err.Error())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request"}`))
		return
	case err != nil:
		s.log.ErrorContext(ctx, "back-channel logout", "err", err.Error())
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	n, err := s.sessions.DeleteLoginSessionsForPerson(ctx, "wallet:"+c.Sub)
	if err != nil {
		s.log.ErrorContext(ctx, "back-channel logout: end sessions", "err", err.Error())
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	s.log.InfoContext(ctx, "back-channel logout", "sub", c.Sub, "sessions_ended", n)
	w.WriteHeader(http.StatusOK)
}

// checkLogoutToken verifies raw as described at handleBackchannelLogout. Errors wrap
// errLogoutToken or errLogoutTokenReplay for a refused token; others are the provider's
// discovery or storage failing.
func (s *Server) checkLogoutToken(ctx context.Context, raw string) (logoutClaims, error) {
	var c logoutClaims
	if raw == "" {
		return c, fmt.Errorf("%w: no logout_token", errLogoutToken)
	}
	st, err := s.idp.state(ctx)
	if err != nil {
		return c, err
	}
	// go-oidc checks the signature (the wallet's keySet: only its registered algorithm), iss,
	// aud and exp; a logout token has no nonce to compare.
	tok, err := st.verifier.Verify(s.idp.ctx(ctx), raw)
	if err != nil {
		return c, fmt.Errorf("%w: %w", errLogoutToken, err)
	}
	if err := tok.Claims(&c); err != nil {
		return c, fmt.Errorf("%w: claims: %w", errLogoutToken, err)
	}
	now := s.now()
	switch {
	case c.Nonce != nil:
		return c, fmt.Errorf("%w: it carries a nonce (an ID token is not a logout token)", errLogoutToken)
	case c.Events == nil || c.Events[eventBackchannelLogout] == nil:
		return c, fmt.Errorf("%w: no back-channel logout event", errLogoutToken)
	case c.Sub == "":
		return c, fmt.Errorf("%w: no sub", errLogoutToken)
	case c.JTI == "":
		return c, fmt.Errorf("%w: no jti", errLogoutToken)
	case c.IAT == 0 || now.Sub(time.Unix(c.IAT, 0)) > logoutTokenMaxAge || time.Unix(c.IAT, 0).Sub(now) > time.Minute:
		return c, fmt.Errorf("%w: iat not fresh", errLogoutToken)
	}
	if _, ok := c.Events[eventBackchannelLogout].(map[string]any); !ok {
		return c, fmt.Errorf("%w: the event member is not a JSON object", errLogoutToken)
	}
	if err := s.nonces.UseNonce(ctx, "wallet/logout-jti", c.JTI, now.Add(logoutTokenMaxAge+time.Minute)); errors.Is(err, storage.ErrAlreadyUsed) {
		return c, errLogoutTokenReplay
	} else if err != nil {
		return c, err
	}
	return c, nil
}
