package storage

import (
	"context"
	"time"
)

// DeviceStatus is the state of a device authorization (RFC 8628): pending until the person
// decides on the user-code page, then approved or denied; an approved one becomes issued when
// the device redeems its device code at the token endpoint, exactly once.
type DeviceStatus string

// Device authorization states.
const (
	DevicePending  DeviceStatus = "pending"
	DeviceApproved DeviceStatus = "approved"
	DeviceDenied   DeviceStatus = "denied"
	DeviceIssued   DeviceStatus = "issued"
)

// DeviceAuthorization is one OAuth 2.0 device authorization request (RFC 8628 §3.1–3.2) and
// what became of it. The device code and the user code are stored only as keyed hashes
// (the caller's HMAC), so a copy of the database yields neither.
type DeviceAuthorization struct {
	// DeviceCodeHash is the keyed hash of the device code (the primary key).
	DeviceCodeHash string
	// UserCodeHash is the keyed hash of the normalised user code; unique among stored
	// authorizations.
	UserCodeHash string
	// RequestID is the grant's request ID: every token issued for this authorization carries
	// it (revocation, refresh families).
	RequestID string
	ClientID  string
	Scopes    []string
	// DeviceKind is what the device says it is, reduced by the provider to a short category
	// ("tv", "kiosk", …): never free text from the device.
	DeviceKind string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	// Interval is the minimum time between two polls of the token endpoint, in whole
	// seconds (RFC 8628 §3.2 interval); PollDeviceAuthorization raises it on slow_down.
	Interval time.Duration
	// LastPollAt is the time of the last poll (CreatedAt before the first).
	LastPollAt time.Time
	Status     DeviceStatus

	// The decision, set by DecideDeviceAuthorization: the person and the login they approved
	// or denied with. Zero while pending.
	PersonID  string
	AuthTime  time.Time
	ACR       string
	AMR       []string
	DecidedAt time.Time
}

// DeviceDecision is a person's answer on the user-code page.
type DeviceDecision struct {
	Approve  bool
	PersonID string
	// AuthTime, ACR and AMR are those of the login session that decided; the tokens issued
	// carry them.
	AuthTime time.Time
	ACR      string
	AMR      []string
	At       time.Time
}

// DeviceAuthorizations stores RFC 8628 device authorizations. Every state change is one
// conditional UPDATE, so exactly one of any number of concurrent callers wins, across
// replicas.
type DeviceAuthorizations interface {
	// CreateDeviceAuthorization stores d (Status pending, LastPollAt = CreatedAt, decision
	// fields ignored). ErrConflict when the device code hash or the user code hash is taken;
	// ErrNotFound when the client does not exist.
	CreateDeviceAuthorization(ctx context.Context, d DeviceAuthorization) error
	// GetDeviceAuthorizationByUserCode returns the authorization whose user code hash is
	// userCodeHash, in any state and expired or not; ErrNotFound when there is none.
	GetDeviceAuthorizationByUserCode(ctx context.Context, userCodeHash string) (DeviceAuthorization, error)
	// PollDeviceAuthorization records a poll of the token endpoint at now by client clientID
	// and returns the authorization as it is after the poll. When the previous poll (or the
	// creation) was less than Interval before now, tooFast is true and Interval grows by
	// slowDown (RFC 8628 §3.5 slow_down). ErrNotFound when there is no authorization with
	// that device code hash for that client (another client's device code is not found, and
	// its record is left untouched).
	PollDeviceAuthorization(ctx context.Context, deviceCodeHash, clientID string, now time.Time, slowDown time.Duration) (d DeviceAuthorization, tooFast bool, err error)
	// DecideDeviceAuthorization records the person's decision on a pending authorization that
	// has not expired at dec.At: approved or denied. ErrNotFound when there is none with
	// that user code hash; ErrExpired when it expired; ErrAlreadyUsed when it was decided
	// already.
	DecideDeviceAuthorization(ctx context.Context, userCodeHash string, dec DeviceDecision) error
	// RedeemDeviceAuthorization turns an approved authorization into an issued one: the tokens
	// may be issued. ErrAlreadyUsed when it is not approved (issued already, or never
	// approved); ErrNotFound when there is none.
	RedeemDeviceAuthorization(ctx context.Context, deviceCodeHash string) error
	// DeleteExpiredDeviceAuthorizations deletes the authorizations that expired before t;
	// returns how many.
	DeleteExpiredDeviceAuthorizations(ctx context.Context, before time.Time) (int64, error)
}
