package oidc

import (
	"context"
	"fmt"
	"time"

	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	"github.com/tongban/tongban/storage"
)

// LogoutQueue ends the single-logout side of ended login sessions without a running Server:
// for offline commands (`idp people end-sessions`, `idp people disable`) that change the
// database directly. It does what the provider does when its own pages or console end
// sessions — revokes the sessions' grants and puts one back-channel logout delivery per app
// with a back-channel logout URI in the durable outbox (storage.LogoutDelivery) — and the
// running provider's logout worker (Server.StartLogoutDelivery, polling every
// Config.LogoutPollInterval) signs and sends the logout tokens. Front-channel logout needs the
// citizen's browser and so does not happen offline.
//
// The sid of the deliveries is the one the provider put in the sessions' ID tokens: it is
// derived from Keyring's token key, so Keyring must be the provider's.
type LogoutQueue struct {
	Store   storage.Storage
	Keyring *keyring.Keyring
	// AccessTokenLifetime is the provider's access-token lifetime: sealed access tokens of a
	// revoked grant are refused for that long (plus a minute). Zero means
	// DefaultAccessTokenLifetime.
	AccessTokenLifetime time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// EndSessions revokes the grants of the login sessions sessionIDs (already deleted, or about
// to be) and queues the back-channel logout deliveries of their apps; it returns how many it
// queued. Every step runs even when an earlier one fails; the errors are joined and wrap the
// storage errors.
func (q LogoutQueue) EndSessions(ctx context.Context, sessionIDs []string) (int, error) {
	if q.Store == nil || q.Keyring == nil {
		return 0, fmt.Errorf("oidc: LogoutQueue needs Store and Keyring")
	}
	now := time.Now
	if q.Now != nil {
		now = q.Now
	}
	life := q.AccessTokenLifetime
	if life == 0 {
		life = DefaultAccessTokenLifetime
	}
	fs := fositeadapter.NewStore(fositeadapter.StoreConfig{Storage: q.Store, Now: now, AccessTokenLifetime: life})
	ended, err := queueSessionLogouts(ctx, q.Store, fs.RevokeGrant, func(id string) string { return logoutSID(q.Keyring, id) },
		now(), sessionIDs)
	return ended.queued, err
}

// PersonSessionsEnded is EndSessions for every session recorded for the person
// (storage.SingleLogout.ListSessionIDsForPerson): call it after accounts.Service.EndSessions or
// DisablePerson committed (accounts.Config.OnSessionsEnded).
func (q LogoutQueue) PersonSessionsEnded(ctx context.Context, personID string) (int, error) {
	if q.Store == nil {
		return 0, fmt.Errorf("oidc: LogoutQueue needs Store and Keyring")
	}
	ids, err := q.Store.ListSessionIDsForPerson(ctx, personID)
	if err != nil {
		return 0, fmt.Errorf("oidc: single logout: %w", err)
	}
	return q.EndSessions(ctx, ids)
}
