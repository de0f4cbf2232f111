package storage

import (
	"context"
	"time"
)

// SessionClient records that a client took part in an SSO login session: the authorization
// request RequestID (the grant, TokenRecord.RequestID) was issued to ClientID from session
// SessionID for the person PersonID, whose sub at that client is Subject. Single logout
// (OpenID Connect Back-Channel Logout 1.0) reads it to know whom to tell and which grants to
// revoke when the session ends.
type SessionClient struct {
	SessionID string
	RequestID string
	ClientID  string
	Subject   string
	PersonID  string
	// ExpiresAt is when the record may be purged: the later of the session's end and the
	// expiry of the grant's refresh token (microsecond precision).
	ExpiresAt time.Time
}

// LogoutDelivery is one back-channel logout token waiting in the durable outbox: to be POSTed
// to URI for ClientID. The token itself is signed at each attempt (its exp is at most two
// minutes, shorter than the retries), from Subject and SID.
type LogoutDelivery struct {
	ID       string // random, 22 characters; set by EnqueueLogouts when empty
	ClientID string
	URI      string
	Subject  string // the sub claim ("" when the client does not need it)
	SID      string // the sid claim ("" when none)
	// Attempts is how many deliveries failed so far; NextAttempt when the next one is due.
	Attempts    int
	NextAttempt time.Time
	CreatedAt   time.Time
}

// SingleLogout stores what OpenID Connect single logout needs (migration 00022): the clients of
// each SSO session and the outbox of back-channel logout deliveries. Times are stored at
// microsecond precision.
type SingleLogout interface {
	// RecordSessionClient adds or refreshes (same SessionID and RequestID: the later
	// ExpiresAt wins) one SessionClient.
	RecordSessionClient(ctx context.Context, sc SessionClient) error
	// ListSessionClients returns the records of the given sessions, ordered by session ID,
	// then client ID, then request ID; empty (not nil) when none.
	ListSessionClients(ctx context.Context, sessionIDs []string) ([]SessionClient, error)
	// ListSessionIDsForPerson returns the distinct session IDs of the person's records,
	// sorted; empty (not nil) when none.
	ListSessionIDsForPerson(ctx context.Context, personID string) ([]string, error)
	// DeleteSessionClients deletes the records of the given sessions; returns how many.
	DeleteSessionClients(ctx context.Context, sessionIDs []string) (int64, error)
	// PurgeSessionClients deletes the records that expired before t; returns how many.
	PurgeSessionClients(ctx context.Context, before time.Time) (int64, error)

	// EnqueueLogouts adds deliveries to the outbox (giving each a random ID when it has
	// none); ErrConflict when an ID exists (then nothing is added).
	EnqueueLogouts(ctx context.Context, ds []LogoutDelivery) error
	// ClaimDueLogouts returns up to limit deliveries whose NextAttempt is at or before now,
	// oldest due first, and moves their NextAttempt to leaseUntil in the same transaction, so
	// that another replica does not take them while this one tries. limit ≤ 0 means 100.
	ClaimDueLogouts(ctx context.Context, now, leaseUntil time.Time, limit int) ([]LogoutDelivery, error)
	// RescheduleLogout sets a delivery's Attempts and NextAttempt after a failure;
	// ErrNotFound when it is not in the outbox.
	RescheduleLogout(ctx context.Context, id string, attempts int, next time.Time) error
	// DeleteLogout removes a delivery (sent, or given up); ErrNotFound when missing.
	DeleteLogout(ctx context.Context, id string) error
	// CountLogouts returns how many deliveries wait in the outbox (for metrics).
	CountLogouts(ctx context.Context) (int64, error)
}
