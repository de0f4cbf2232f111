package storage

import (
	"context"
	"errors"
	"time"
)

// ErrInvalidAppStat: an AppStatDelta without a client ID or with a negative count.
var ErrInvalidAppStat = errors.New("storage: invalid app statistics delta")

// AppCounts are one app's figures for one hour: what the provider did for that app (client).
type AppCounts struct {
	Logins        int64 // sign-ins to the app: authorization codes issued and device grants approved (typed credentials or SSO)
	LoginFailures int64 // refused logins for the app: wrong credentials, throttled, locked, CSRF
	Tokens        int64 // token responses to the app, every grant
	Errors        int64 // OAuth error responses attributed to the app, every endpoint
	// LatencySumMillis is the sum, in milliseconds (fractional), of the token endpoint's
	// server time over the app's LatencyCount requests; the mean is their quotient.
	LatencySumMillis float64
	LatencyCount     int64
}

// IsZero reports whether every count is zero.
func (c AppCounts) IsZero() bool { return c == AppCounts{} }

// Add returns c + d, field by field.
func (c AppCounts) Add(d AppCounts) AppCounts {
	return AppCounts{
		Logins: c.Logins + d.Logins, LoginFailures: c.LoginFailures + d.LoginFailures,
		Tokens: c.Tokens + d.Tokens, Errors: c.Errors + d.Errors,
		LatencySumMillis: c.LatencySumMillis + d.LatencySumMillis, LatencyCount: c.LatencyCount + d.LatencyCount,
	}
}

// AppStatDelta is what to add to the row of (ClientID, Hour).
type AppStatDelta struct {
	ClientID string
	// Hour is the start of the UTC hour the counts belong to; the store truncates it to the
	// hour (so any instant within the hour names it).
	Hour time.Time
	AppCounts
}

// AppStatRow is one stored (app, hour) row: the sums of every delta added to it, by every
// replica.
type AppStatRow struct {
	ClientID string
	Hour     time.Time // start of the UTC hour, in UTC
	AppCounts
}

// AppStats stores per-app hourly counts (the console's "last 24 hours" page). Rows are keyed
// by (client ID, hour) and only ever grow, by additions that commute, so any number of
// replicas may add to the same rows at once and the sums are exact. There is no foreign key
// to the clients table: figures of a removed app stay until purged.
type AppStats interface {
	// AddAppStats adds every delta to its (ClientID, Hour) row, creating the row when it does
	// not exist, with one upsert-add per delta (INSERT … ON CONFLICT DO UPDATE SET x = x +
	// excluded.x), all in one transaction: either every delta is added or none is. Deltas for
	// the same row may repeat (they add up). Errors: ErrInvalidAppStat (nothing added) for a
	// delta with an empty ClientID or a negative count; ErrUnavailable, ErrTxAborted.
	AddAppStats(ctx context.Context, deltas []AppStatDelta) error
	// AppStatsSince returns clientID's rows whose hour is at or after since truncated to the
	// hour, oldest first; hours without a row are missing (nothing happened in them). An
	// unknown client has no rows (an empty result, not ErrNotFound).
	AppStatsSince(ctx context.Context, clientID string, since time.Time) ([]AppStatRow, error)
	// PurgeAppStats deletes the rows of every app whose hour started before before, and
	// returns how many went.
	PurgeAppStats(ctx context.Context, before time.Time) (int64, error)
}
