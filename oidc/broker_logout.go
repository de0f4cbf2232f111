package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tongban/tongban/storage"
)

// Back-channel logout from upstream providers (OpenID Connect Back-Channel Logout 1.0, tongban
// as the relying party of each upstream): an upstream that ends a citizen's session POSTs a
// logout token to /upstream/backchannel-logout; tongban verifies it as its wallet verifies
// tongban's own (wallet/web/backchannel.go), finds the local SSO sessions made by brokered
// logins from that upstream session or subject (storage.UpstreamLogout), and ends them as a
// local logout does: their grants are revoked and tongban's own apps get logout tokens
// (endSessions). docs/design/roaming-logout2.md.

// pathUpstreamBackchannelLogout is the back-channel logout URI to register for tongban at every
// upstream (UpstreamBackchannelLogoutURI).
const pathUpstreamBackchannelLogout = "/upstream/backchannel-logout"

// upstreamLogoutMaxAge bounds how old an upstream logout token's iat may be: tongban's own
// tokens live 2 minutes, plus a minute of clock skew.
const upstreamLogoutMaxAge = 3 * time.Minute

// nsUpstreamLogoutJTI is the storage.Nonces namespace of spent upstream logout-token jti
// values (key: upstream ID "/" jti).
const nsUpstreamLogoutJTI = "upstream-logout-jti"

// Refusals of an upstream logout token besides those shared with upstream ID tokens
// (ErrUpstreamAlg, ErrUpstreamSignature, ErrUpstreamIssuer — no upstream has that issuer —,
// ErrUpstreamAudience, ErrUpstreamExpired). Each is answered 400 invalid_request and audited
// "upstream.logout.refused"; no session ends.
var (
	// ErrUpstreamLogoutToken: the token is missing, carries a nonce, lacks the back-channel
	// logout event (a JSON object), a jti, or both sub and sid.
	ErrUpstreamLogoutToken = errors.New("oidc: upstream logout token: invalid claims")
	// ErrUpstreamLogoutReplay: the token's jti was used before.
	ErrUpstreamLogoutReplay = errors.New("oidc: upstream logout token replayed (jti already used)")
)

// UpstreamBackchannelLogoutURI is the back-channel logout URI to register for tongban at an
// upstream provider (its backchannel_logout_uri as a client there): the issuer followed by
// /upstream/backchannel-logout.
func UpstreamBackchannelLogoutURI(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + pathUpstreamBackchannelLogout
}

// upstreamLogoutClaims are the members of an upstream logout token tongban reads.
type upstreamLogoutClaims struct {
	Issuer   string           `json:"iss"`
	Audience upstreamAudience `json:"aud"`
	Subject  string           `json:"sub"`
	SID      string           `json:"sid"`
	JTI      string           `json:"jti"`
	IssuedAt int64            `json:"iat"`
	Expiry   int64            `json:"exp"`
	Events   map[string]any   `json:"events"`
	Nonce    *json.RawMessage `json:"nonce"`
}

// handleUpstreamBackchannelLogout ends the local sessions an upstream's logout token names
// (POST application/x-www-form-urlencoded logout_token=…; Back-Channel Logout 1.0 §2.5–2.8).
// Answers: 200 (also when no session was live), 400 {"error":"invalid_request"} for a refused
// token (audited "upstream.logout.refused" with the reason), 503 when storage or the upstream's
// JWKS fails.
func (s *Server) handleUpstreamBackchannelLogout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	u, c, err := s.checkUpstreamLogoutToken(ctx, r.PostFormValue("logout_token"))
	var ids []string
	if err == nil {
		ids, err = s.endUpstreamSessions(ctx, u, c)
	}
	if err != nil {
		reason := upstreamLogoutReason(err)
		if reason == "" {
			s.log.ErrorContext(ctx, "upstream back-channel logout", "upstream", u.ID, "err", err.Error())
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		s.log.InfoContext(ctx, "upstream back-channel logout refused", "upstream", u.ID, "reason", reason, "error", err.Error())
		actor := "upstream"
		if u.ID != "" {
			actor += ":" + u.ID
		}
		s.appendAudit(ctx, storage.AuditEvent{Actor: actor, Action: "upstream.logout.refused",
			Detail: "upstream=" + u.ID + " reason=" + reason})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request"}`))
		return
	}
	// The sessions are gone; now the same as a local logout: revoke, tell our apps.
	if _, err := s.endSessions(ctx, ids); err != nil {
		s.log.ErrorContext(ctx, "single logout after an upstream logout", "upstream", u.ID, "err", err.Error())
	}
	s.log.InfoContext(ctx, "upstream back-channel logout", "upstream", u.ID, "sessions_ended", len(ids))
	w.WriteHeader(http.StatusOK)
}

// upstreamLogoutReason names a refusal in logs and audit details; "" for a failure that is
// not the token's fault (storage, an unreachable JWKS).
func upstreamLogoutReason(err error) string {
	if errors.Is(err, ErrUpstreamUnavailable) {
		return ""
	}
	for _, c := range []struct {
		err    error
		reason string
	}{
		{ErrUpstreamLogoutReplay, "replay"},
		{ErrUpstreamLogoutToken, "claims"},
		{ErrUpstreamAlg, "alg"},
		{ErrUpstreamSignature, "signature"},
		{ErrUpstreamIssuer, "iss"},
		{ErrUpstreamAudience, "aud"},
		{ErrUpstreamExpired, "expired"},
	} {
		if errors.Is(err, c.err) {
			return c.reason
		}
	}
	return ""
}

// checkUpstreamLogoutToken verifies raw and returns the upstream it comes from: the unverified
// iss picks the registered upstreams with that issuer (none: ErrUpstreamIssuer), the signature
// must verify with their JWKS (SGD_SM3_SM2, ES256 or RS256: ErrUpstreamAlg,
// ErrUpstreamSignature), aud must contain tongban's client ID at one of them
// (ErrUpstreamAudience), exp not past and iat at most upstreamLogoutMaxAge old and not in the
// future, each with upstreamSkew (ErrUpstreamExpired); no nonce, the back-channel logout event
// as a JSON object, a jti, and a sub or a sid (ErrUpstreamLogoutToken). The jti is spent later,
// with the sessions (endUpstreamSessions).
func (s *Server) checkUpstreamLogoutToken(ctx context.Context, raw string) (storage.Upstream, upstreamLogoutClaims, error) {
	var c upstreamLogoutClaims
	if raw == "" {
		return storage.Upstream{}, c, fmt.Errorf("%w: no logout_token", ErrUpstreamLogoutToken)
	}
	if _, err := jwsAlg(raw); err != nil {
		return storage.Upstream{}, c, err
	}
	// The issuer only chooses whose keys to try; nothing else is read before the signature.
	var unverified struct {
		Issuer string `json:"iss"`
	}
	if parts := strings.Split(raw, "."); len(parts) == 3 {
		if js, err := b64.DecodeString(parts[1]); err == nil {
			_ = json.Unmarshal(js, &unverified)
		}
	}
	ups, err := s.store.ListUpstreams(ctx)
	if err != nil {
		return storage.Upstream{}, c, err
	}
	ups = slices.DeleteFunc(ups, func(u storage.Upstream) bool { return u.Issuer != unverified.Issuer || u.Issuer == "" })
	if len(ups) == 0 {
		return storage.Upstream{}, c, fmt.Errorf("%w: no upstream has issuer %q", ErrUpstreamIssuer, cutForError(unverified.Issuer, 100))
	}
	prov, err := s.upstreamProvider(ctx, ups[0])
	if err != nil {
		return ups[0], c, err
	}
	payload, err := prov.keys.verify(ctx, raw)
	if err != nil {
		return ups[0], c, err
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return ups[0], c, fmt.Errorf("%w: claims: %w", ErrUpstreamLogoutToken, err)
	}
	i := slices.IndexFunc(ups, func(u storage.Upstream) bool { return slices.Contains(c.Audience, s.upstreamClientID(u)) })
	if c.Issuer != unverified.Issuer {
		return ups[0], c, fmt.Errorf("%w: %q", ErrUpstreamIssuer, cutForError(c.Issuer, 100))
	}
	if i < 0 {
		return ups[0], c, fmt.Errorf("%w: aud %q", ErrUpstreamAudience, []string(c.Audience))
	}
	u := ups[i]
	now := s.now()
	iat := time.Unix(c.IssuedAt, 0)
	ev, evOK := c.Events[EventBackchannelLogout].(map[string]any)
	switch {
	case c.Expiry == 0 || !now.Before(time.Unix(c.Expiry, 0).Add(upstreamSkew)):
		return u, c, fmt.Errorf("%w: exp %d", ErrUpstreamExpired, c.Expiry)
	case c.IssuedAt == 0 || iat.After(now.Add(upstreamSkew)) || iat.Before(now.Add(-upstreamLogoutMaxAge)):
		return u, c, fmt.Errorf("%w: iat %d", ErrUpstreamExpired, c.IssuedAt)
	case c.Nonce != nil:
		return u, c, fmt.Errorf("%w: it carries a nonce (an ID token is not a logout token)", ErrUpstreamLogoutToken)
	case !evOK || ev == nil:
		return u, c, fmt.Errorf("%w: no back-channel logout event object", ErrUpstreamLogoutToken)
	case c.JTI == "" || len(c.JTI) > 255:
		return u, c, fmt.Errorf("%w: jti missing or too long", ErrUpstreamLogoutToken)
	case c.Subject == "" && c.SID == "", len(c.Subject) > 255, len(c.SID) > 255:
		return u, c, fmt.Errorf("%w: neither sub nor sid, or too long", ErrUpstreamLogoutToken)
	}
	return u, c, nil
}

// endUpstreamSessions spends the token's jti (ErrUpstreamLogoutReplay when spent before),
// deletes the local login sessions made by brokered logins from u whose upstream subject
// and/or sid the token names, and audits "upstream.logout" — all in one transaction. It
// returns the IDs of the ended sessions (for endSessions).
func (s *Server) endUpstreamSessions(ctx context.Context, u storage.Upstream, c upstreamLogoutClaims) ([]string, error) {
	var ids []string
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		err := s.store.UseNonce(ctx, nsUpstreamLogoutJTI, u.ID+"/"+c.JTI, s.now().Add(upstreamLogoutMaxAge+upstreamSkew))
		if errors.Is(err, storage.ErrAlreadyUsed) {
			return ErrUpstreamLogoutReplay
		} else if err != nil {
			return err
		}
		if ids, err = s.store.FindUpstreamSessions(ctx, u.ID, c.Subject, c.SID); err != nil {
			return err
		}
		for _, id := range ids {
			if err := s.store.DeleteLoginSession(ctx, id); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		}
		by := "sub"
		switch {
		case c.SID != "" && c.Subject != "":
			by = "sid+sub"
		case c.SID != "":
			by = "sid"
		}
		_, err = s.store.AppendAudit(ctx, storage.AuditEvent{Time: s.now(), Actor: "upstream:" + u.ID, Action: "upstream.logout",
			Detail: "upstream=" + u.ID + " by=" + by + " sessions_ended=" + strconv.Itoa(len(ids))})
		return err
	})
	return ids, err
}

// cut shortens an untrusted value for an error message.
func cutForError(v string, n int) string {
	if len(v) > n {
		return v[:n] + "…"
	}
	return v
}
