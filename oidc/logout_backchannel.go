package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/tongban/tongban/internal/httpkit"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// Single logout: OpenID Connect Back-Channel Logout 1.0 and Front-Channel Logout 1.0
// (docs/design/roaming-logout.md).
//
// Every code issued from an SSO session is recorded (storage.SessionClient: session, grant,
// client, sub). When the session ends — the citizen logs out (logout.go) or ends a session on
// the account page, an operator ends the person's sessions or disables them
// (accounts.Config.OnSessionsEnded) — endSessions revokes the grants of the session (their
// access and refresh tokens stop working) and puts one delivery per client with a
// BackchannelLogoutURI in the durable outbox (storage.LogoutDelivery). The logout worker
// (StartLogoutDelivery) signs a logout token at each attempt and POSTs it.

// EventBackchannelLogout is the member of a logout token's events claim (Back-Channel Logout
// 1.0 §2.4).
const EventBackchannelLogout = "http://schemas.openid.net/event/backchannel-logout"

// Defaults of the logout delivery (Config fields).
const (
	DefaultLogoutTimeout     = 5 * time.Second // one POST
	DefaultLogoutRetryBase   = time.Second     // first retry after 1 s, then 2 s, 4 s …
	DefaultLogoutMaxAttempts = 10
	DefaultLogoutMaxAge      = time.Hour // a delivery older than this is dropped
	DefaultLogoutConcurrency = 32        // POSTs in flight per replica
	logoutTokenLifetime      = 2 * time.Minute
	logoutLease              = 30 * time.Second // a claimed delivery is another replica's again after this
)

// sid returns the sid claim of login session id: base64url of the first 16 bytes of
// HMAC-SM3(key "tongban/oidc/logout-sid", id) — stable for the session, the same for every
// client of it, and not the storage ID (which a copy of the database would give away).
func (s *Server) sid(sessionID string) string { return logoutSID(s.kr, sessionID) }

// logoutSID computes the sid of login session id with the keyring's token key (Server.sid).
func logoutSID(kr *keyring.Keyring, sessionID string) string {
	k := smcrypto.HMACSM3(kr.TokenKey(), []byte("tongban/oidc/logout-sid"))
	return b64.EncodeToString(smcrypto.HMACSM3(k, []byte(sessionID))[:16])
}

// recordSessionClient remembers that the grant of ar was issued from login session ls, so that
// ending the session revokes the grant and tells the client.
func (s *Server) recordSessionClient(ctx context.Context, ls *storage.LoginSession, ar fosite.AuthorizeRequester, sess *fositeadapter.Session) error {
	exp := s.now().Add(s.cfg.RefreshTokenLifetime)
	if ls.ExpiresAt.After(exp) {
		exp = ls.ExpiresAt
	}
	return s.store.RecordSessionClient(ctx, storage.SessionClient{
		SessionID: ls.ID, RequestID: ar.GetID(), ClientID: ar.GetClient().GetID(),
		Subject: sess.Subject, PersonID: ls.PersonID, ExpiresAt: exp,
	})
}

// frontChannelFrame is one hidden iframe of the logout done page (Front-Channel Logout 1.0 §3).
type frontChannelFrame struct {
	URL    string
	Origin string // scheme://host[:port], for the page's frame-src
}

// endSessions ends the single-logout side of login sessions that were just deleted: it revokes
// every grant issued from them, enqueues a back-channel logout delivery for each client of each
// session that has a BackchannelLogoutURI, forgets the sessions' records and wakes the worker.
// It returns the front-channel iframes of the sessions' clients. Every step runs even when an
// earlier one fails; the failures are joined.
func (s *Server) endSessions(ctx context.Context, sessionIDs []string) ([]frontChannelFrame, error) {
	ended, err := queueSessionLogouts(ctx, s.store, s.fstore.RevokeGrant, s.sid, s.now(), sessionIDs)
	if ended.queued > 0 {
		s.metrics.logoutsQueued(ended.queued)
		s.slo.wake()
	}
	var frames []frontChannelFrame
	for _, f := range ended.front {
		if u, err := url.Parse(f.uri); err == nil {
			q := u.Query()
			q.Set("iss", s.issuer)
			q.Set("sid", f.sid)
			u.RawQuery = q.Encode()
			frames = append(frames, frontChannelFrame{URL: u.String(), Origin: u.Scheme + "://" + u.Host})
		}
	}
	return frames, err
}

// endedSessions is what queueSessionLogouts did: how many deliveries it queued, and the
// front-channel logout URIs (with the sid) of the sessions' clients.
type endedSessions struct {
	queued int
	front  []struct{ uri, sid string }
}

// queueSessionLogouts is the storage side of ending login sessions, shared by the running
// provider (Server.endSessions) and offline commands (LogoutQueue): it revokes every grant
// recorded for the sessions with revoke, enqueues one back-channel logout delivery per
// (session, client with a BackchannelLogoutURI) due at now, with the session's sid (sidOf),
// and forgets the sessions' records. Every step runs even when an earlier one fails; the
// failures are joined and wrapped "oidc: single logout".
func queueSessionLogouts(ctx context.Context, store storage.Storage, revoke func(context.Context, string) error,
	sidOf func(string) string, now time.Time, sessionIDs []string) (endedSessions, error) {
	var ended endedSessions
	if len(sessionIDs) == 0 {
		return ended, nil
	}
	recs, err := store.ListSessionClients(ctx, sessionIDs)
	if err != nil {
		return ended, fmt.Errorf("oidc: single logout: %w", err)
	}
	var errs []error
	var out []storage.LogoutDelivery
	seen := map[string]bool{}
	for _, rc := range recs {
		if err := revoke(ctx, rc.RequestID); err != nil && !errors.Is(err, fosite.ErrNotFound) && !errors.Is(err, storage.ErrNotFound) {
			errs = append(errs, fmt.Errorf("revoke grant: %w", err))
		}
		key := rc.SessionID + "\x00" + rc.ClientID
		if seen[key] {
			continue
		}
		seen[key] = true
		c, err := store.GetClient(ctx, rc.ClientID)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		} else if err != nil {
			errs = append(errs, err)
			continue
		}
		sid := sidOf(rc.SessionID)
		if c.BackchannelLogoutURI != "" {
			out = append(out, storage.LogoutDelivery{ClientID: c.ID, URI: c.BackchannelLogoutURI, Subject: rc.Subject,
				SID: sid, NextAttempt: now, CreatedAt: now})
		}
		if c.FrontchannelLogoutURI != "" {
			ended.front = append(ended.front, struct{ uri, sid string }{c.FrontchannelLogoutURI, sid})
		}
	}
	if err := store.EnqueueLogouts(ctx, out); err != nil {
		errs = append(errs, fmt.Errorf("enqueue logouts: %w", err))
	} else {
		ended.queued = len(out)
	}
	if _, err := store.DeleteSessionClients(ctx, sessionIDs); err != nil {
		errs = append(errs, fmt.Errorf("forget session clients: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return ended, fmt.Errorf("oidc: single logout: %w", err)
	}
	return ended, nil
}

// PersonSessionsEnded is for accounts.Config.OnSessionsEnded: call it after every SSO session
// of the person ended (accounts.Service.EndSessions, DisablePerson). It revokes the sessions'
// grants and enqueues the back-channel logout tokens of their apps; failures are logged.
// The provider's own accounts.Service is wired to it; an admin console's Service must be too.
func (s *Server) PersonSessionsEnded(ctx context.Context, personID string) {
	ids, err := s.store.ListSessionIDsForPerson(ctx, personID)
	if err == nil {
		_, err = s.endSessions(ctx, ids)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "single logout after the sessions were ended", "person_id", personID, "err", err.Error())
	}
}

// logoutToken signs the logout token of d for client c (Back-Channel Logout 1.0 §2.4): JWS typ
// logout+jwt with the client's ID-token algorithm; iss, aud (the client ID), iat, exp (iat + 2
// minutes), jti (128 random bits), events, sub and sid; never nonce.
func (s *Server) logoutToken(ctx context.Context, c storage.Client, d storage.LogoutDelivery) (string, error) {
	now := s.now()
	claims := jwt.MapClaims{
		"iss":    s.issuer,
		"aud":    c.ID,
		"iat":    now.Unix(),
		"exp":    now.Add(logoutTokenLifetime).Unix(),
		"jti":    httpkit.RandomString(16),
		"events": map[string]any{EventBackchannelLogout: map[string]any{}},
	}
	if d.Subject != "" {
		claims["sub"] = d.Subject
	}
	if d.SID != "" {
		claims["sid"] = d.SID
	}
	alg := c.IDTokenSignedResponseAlg
	if alg == "" {
		alg = AlgRS256
	}
	tok, _, err := s.signer.Generate(ctx, claims, &jwt.Headers{Extra: map[string]any{"alg": alg, "typ": "logout+jwt"}})
	return tok, err
}

// sloState is the logout worker's state.
type sloState struct {
	kick   chan struct{}
	client *http.Client
	sem    chan struct{}
}

func newSLOState(cfg Config) *sloState {
	hc := cfg.LogoutHTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultLogoutTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // Back-Channel Logout §2.5: no redirects followed
		}}
	}
	return &sloState{kick: make(chan struct{}, 1), client: hc, sem: make(chan struct{}, cfg.LogoutConcurrency)}
}

// wake tells the worker there is work, without blocking.
func (w *sloState) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// DeliverLogouts sends every due back-channel logout delivery once, in parallel (at most
// Config.LogoutConcurrency at a time), and returns how many were sent (HTTP 200 or 204). A
// failure is retried after Config.LogoutRetryBase × 2^(attempts−1); after
// Config.LogoutMaxAttempts attempts, or when the delivery is older than Config.LogoutMaxAge, it
// is dropped with a WARN log. Errors are storage errors (a failed POST is not one).
func (s *Server) DeliverLogouts(ctx context.Context) (int, error) {
	sent := 0
	for {
		now := s.now()
		ds, err := s.store.ClaimDueLogouts(ctx, now, now.Add(logoutLease), 100)
		if err != nil || len(ds) == 0 {
			return sent, err
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		var errs []error
		for _, d := range ds {
			s.slo.sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-s.slo.sem; wg.Done() }()
				ok, err := s.deliverLogout(ctx, d)
				mu.Lock()
				defer mu.Unlock()
				if ok {
					sent++
				}
				if err != nil {
					errs = append(errs, err)
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return sent, err
		}
	}
}

// deliverLogout makes one attempt at d and records its outcome.
func (s *Server) deliverLogout(ctx context.Context, d storage.LogoutDelivery) (bool, error) {
	c, err := s.store.GetClient(ctx, d.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, s.dropLogout(ctx, d, "the client is gone")
	} else if err != nil {
		return false, err
	}
	why := ""
	tok, err := s.logoutToken(ctx, c, d)
	if err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URI, strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
	if err != nil {
		return false, s.dropLogout(ctx, d, "bad URI")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.slo.client.Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNoContent {
			s.metrics.logoutDone("sent")
			if err := s.store.DeleteLogout(ctx, d.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return true, err
			}
			s.log.InfoContext(ctx, "back-channel logout sent", "client_id", d.ClientID, "attempts", d.Attempts+1)
			return true, nil
		}
		why = "HTTP " + resp.Status
	} else {
		why = "request failed"
		if ctx.Err() != nil {
			return false, nil // shutting down: the lease runs out and another attempt follows
		}
	}
	attempts := d.Attempts + 1
	next := s.now().Add(s.cfg.LogoutRetryBase << min(attempts-1, 30))
	if attempts >= s.cfg.LogoutMaxAttempts || next.Sub(d.CreatedAt) > s.cfg.LogoutMaxAge {
		return false, s.dropLogout(ctx, d, why)
	}
	s.metrics.logoutDone("retry")
	s.log.InfoContext(ctx, "back-channel logout failed, will retry", "client_id", d.ClientID, "attempts", attempts, "why", why)
	return false, s.store.RescheduleLogout(ctx, d.ID, attempts, next)
}

// dropLogout gives up a delivery with a WARN log.
func (s *Server) dropLogout(ctx context.Context, d storage.LogoutDelivery, why string) error {
	s.metrics.logoutDone("dropped")
	s.log.WarnContext(ctx, "back-channel logout dropped", "client_id", d.ClientID, "attempts", d.Attempts+1, "why", why)
	if err := s.store.DeleteLogout(ctx, d.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return nil
}

// StartLogoutDelivery runs DeliverLogouts in the background whenever a logout enqueued
// deliveries, and every Config.LogoutPollInterval (retries, and deliveries other replicas
// enqueued), until ctx ends or stop is called; stop waits for the loop to end. Deliveries left
// in the outbox at shutdown are sent after the next start (by any replica).
func (s *Server) StartLogoutDelivery(ctx context.Context) (stop func()) {
	loop, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(s.cfg.LogoutPollInterval)
		defer t.Stop()
		for {
			if _, err := s.DeliverLogouts(loop); err != nil && loop.Err() == nil {
				s.log.WarnContext(loop, "back-channel logout delivery", "err", err.Error())
			}
			select {
			case <-loop.Done():
				return
			case <-t.C:
			case <-s.slo.kick:
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { cancel(); <-done }) }
}

// logoutDefaults fills the single-logout fields of c (called by Config.withDefaults).
func logoutDefaults(c *Config, problems *[]string) {
	if c.LogoutRetryBase == 0 {
		c.LogoutRetryBase = DefaultLogoutRetryBase
	}
	if c.LogoutMaxAttempts == 0 {
		c.LogoutMaxAttempts = DefaultLogoutMaxAttempts
	}
	if c.LogoutMaxAge == 0 {
		c.LogoutMaxAge = DefaultLogoutMaxAge
	}
	if c.LogoutConcurrency == 0 {
		c.LogoutConcurrency = DefaultLogoutConcurrency
	}
	if c.LogoutPollInterval == 0 {
		c.LogoutPollInterval = time.Second
	}
	if c.LogoutRetryBase < 0 || c.LogoutMaxAttempts < 0 || c.LogoutMaxAge < 0 || c.LogoutConcurrency < 0 || c.LogoutPollInterval < 0 {
		*problems = append(*problems, "LogoutRetryBase, LogoutMaxAttempts, LogoutMaxAge, LogoutConcurrency and LogoutPollInterval must not be negative")
	}
}

// logoutsQueued counts deliveries put in the outbox.
func (m *metrics) logoutsQueued(n int) { m.logouts.WithLabelValues("queued").Add(float64(n)) }

// logoutDone counts one delivery attempt's outcome: sent, retry or dropped.
func (m *metrics) logoutDone(result string) { m.logouts.WithLabelValues(result).Inc() }

// setFrameSrc replaces the response's Content-Security-Policy by csp with frame-src allowing
// exactly the origins of frames (the logout done page only).
func setFrameSrc(w http.ResponseWriter, frames []frontChannelFrame) {
	var origins []string
	for _, f := range frames {
		if !slices.Contains(origins, f.Origin) {
			origins = append(origins, f.Origin)
		}
	}
	w.Header().Set("Content-Security-Policy", csp+"; frame-src "+strings.Join(origins, " "))
}

// validateLogoutURIs checks a client's back- and front-channel logout URIs (Back-Channel
// Logout 1.0 §2.2, Front-Channel Logout 1.0 §2): absolute https, or http on a loopback
// address; no fragment, user info, wildcard or dot segment; canonical; at most
// MaxRedirectURILength bytes. Errors wrap ErrInvalidRedirectURI.
func validateLogoutURIs(nc NewClient) []error {
	var problems []error
	for _, l := range []struct{ what, uri string }{
		{"backchannel_logout_uri", nc.BackchannelLogoutURI}, {"frontchannel_logout_uri", nc.FrontchannelLogoutURI},
	} {
		if l.uri == "" {
			continue
		}
		u, err := url.Parse(l.uri)
		switch {
		case len(l.uri) > MaxRedirectURILength:
			problems = append(problems, fmt.Errorf("%w: %s of %d bytes, at most %d", ErrInvalidRedirectURI, l.what, len(l.uri), MaxRedirectURILength))
		case err != nil || !(u.Scheme == "https" || u.Scheme == "http" && isLoopbackHost(u.Hostname())):
			problems = append(problems, fmt.Errorf("%w: %s %q must be https, or http on a loopback address", ErrInvalidRedirectURI, l.what, l.uri))
		default:
			if err := validateRedirectURI(l.uri); err != nil {
				problems = append(problems, fmt.Errorf("%s: %w", l.what, err))
			}
		}
	}
	if nc.BackchannelLogoutURI == "" && nc.BackchannelLogoutSessionRequired {
		problems = append(problems, fmt.Errorf("%w: backchannel_logout_session_required without backchannel_logout_uri", ErrInvalidRedirectURI))
	}
	if nc.FrontchannelLogoutURI == "" && nc.FrontchannelLogoutSessionRequired {
		problems = append(problems, fmt.Errorf("%w: frontchannel_logout_session_required without frontchannel_logout_uri", ErrInvalidRedirectURI))
	}
	return problems
}

func init() {
	addMessages(map[string]map[string]string{
		langZH: {"logoutContinue": "返回应用"},
		langEN: {"logoutContinue": "Back to the app"},
	})
}
