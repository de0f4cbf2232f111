package storage

import (
	"context"
	"time"
)

// App states (Client.Status, 统一应用管理). pending_review → published | rejected;
// published ⇄ suspended; any → retired (final).
const (
	ClientPendingReview = "pending_review" // registered (RFC 7591 or console), waiting for a reviewer
	ClientPublished     = "published"      // may log people in and get tokens
	ClientRejected      = "rejected"       // refused by a reviewer (ReviewNote says why)
	ClientSuspended     = "suspended"      // stopped by an operator (ReviewNote says why); may resume
	ClientRetired       = "retired"        // withdrawn for good; final
)

// EffectiveStatus is c.Status, with "" (rows stored before the lifecycle existed) read as
// ClientPublished.
func (c Client) EffectiveStatus() string {
	if c.Status == "" {
		return ClientPublished
	}
	return c.Status
}

// ClientQuery selects one page of ListClientsPage. Zero fields select everything.
type ClientQuery struct {
	Department string // only apps of this department when set
	// Status: only apps in this state when set (ClientPublished also matches old rows with "").
	Status string
	After  string // keyset cursor: only IDs greater than After (byte order); "" = from the start
	Limit  int    // page size; 0 means 100, at most 1000
}

// InitialAccessToken is an RFC 7591 §3 initial access token: a bearer credential an operator
// issues to a department, with which the department's developers register apps at the
// registration endpoint. Only its HMAC-SM3 hash is stored. It may be used UsesLeft more times
// (oidc issues single-use tokens: UsesLeft 1) until ExpiresAt.
type InitialAccessToken struct {
	Hash       []byte // HMAC-SM3 of the token (32 bytes), the key
	Department string // stamped on every app registered with it
	CreatedBy  string // audit.Actor ID of the issuer
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsesLeft   int
}

// Apps stores what the app lifecycle needs beyond Clients.
type Apps interface {
	// ListClientsPage returns at most q.Limit clients with ID > q.After, ordered by ID
	// (keyset pagination: the next page starts after the last ID returned), filtered by
	// q.Department and q.Status. Fewer than the limit means the last page.
	ListClientsPage(ctx context.Context, q ClientQuery) ([]Client, error)

	// CreateInitialAccessToken stores t; ErrConflict when its hash exists.
	CreateInitialAccessToken(ctx context.Context, t InitialAccessToken) error
	// UseInitialAccessToken spends one use of the token whose hash is hash, atomically (one
	// conditional UPDATE: of concurrent callers at most UsesLeft succeed), and returns it as it
	// was before the use. ErrNotFound when no such token exists, ErrExpired when now is at or
	// after its ExpiresAt, ErrAlreadyUsed when no use is left.
	UseInitialAccessToken(ctx context.Context, hash []byte, now time.Time) (InitialAccessToken, error)
	// PurgeInitialAccessTokens deletes the tokens that expired before t; returns how many.
	PurgeInitialAccessTokens(ctx context.Context, before time.Time) (int64, error)

	// RevokeClientGrants ends every grant of the client: all its active token records
	// (authorization codes, refresh tokens) become inactive, and each of their grants is added
	// to the revoked-grant list (Revocations, RevokedAll) until the latest expiry of its
	// records, so the grant's self-contained access tokens are refused too. Returns how many
	// grants were revoked. Runs in one transaction (joining the caller's).
	RevokeClientGrants(ctx context.Context, clientID string) (int64, error)
}
