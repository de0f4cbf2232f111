package storage

import (
	"context"
	"errors"
	"time"
)

// ErrInvalidExchangePolicy: an ExchangePolicy without a client ID or audience, or with a
// negative MaxLifetime.
var ErrInvalidExchangePolicy = errors.New("storage: invalid token exchange policy")

// ExchangePolicy says that the client ClientID may exchange a citizen's access token for a
// token for Audience at the token endpoint (RFC 8693 token exchange, oidc's exchange.go).
// A client without any policy may not exchange at all.
type ExchangePolicy struct {
	ClientID string
	// Audience is the target the client may ask for: an audience (RFC 8693 §2.1) or a
	// resource indicator (RFC 8707), an absolute URI, compared exactly.
	Audience string
	// Scopes are the scopes the exchanged token may carry (always within the subject
	// token's). Empty: any of the subject token's scopes.
	Scopes []string
	// MaxLifetime bounds the exchanged token's lifetime. Zero: the server's access token
	// lifetime (which bounds it anyway, as does the subject token's expiry).
	MaxLifetime time.Duration
	// CreatedAt is when the policy was last set.
	CreatedAt time.Time
}

// ExchangePolicies stores the token exchange policies (migration 00021), keyed by
// (ClientID, Audience). Deleting a client deletes its policies.
type ExchangePolicies interface {
	// PutExchangePolicy inserts p, or replaces the policy of (p.ClientID, p.Audience).
	// ErrInvalidExchangePolicy for a policy without client ID or audience or with a negative
	// MaxLifetime; ErrNotFound when no client p.ClientID exists.
	PutExchangePolicy(ctx context.Context, p ExchangePolicy) error
	// GetExchangePolicy returns the policy of (clientID, audience); ErrNotFound when none.
	GetExchangePolicy(ctx context.Context, clientID, audience string) (ExchangePolicy, error)
	// ListExchangePolicies returns the policies of clientID, or of every client when
	// clientID is "", ordered by client ID then audience (byte order); empty, not nil, when
	// none.
	ListExchangePolicies(ctx context.Context, clientID string) ([]ExchangePolicy, error)
	// DeleteExchangePolicy removes the policy of (clientID, audience); ErrNotFound when none.
	DeleteExchangePolicy(ctx context.Context, clientID, audience string) error
}
