package sqlstore

import (
	"context"
	"time"

	"github.com/tongban/tongban/storage"
)

// AddFailure records a failure for key at now and returns the number of failures in
// (now-window, now]. Failures of key at or before now-window are deleted.
//
// The INSERT commits before the count is taken, deliberately outside a transaction: with
// concurrent callers on the same key each count includes at least every failure committed
// before its own, and the last caller's count includes all of them. A count may come out
// higher than a strictly serial order would give, never lower, so a lockout threshold cannot
// be slipped past by racing requests.
func (s *Store) AddFailure(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	const op = "add failure"
	at, from := micros(now), micros(now.Add(-window))
	if _, err := s.exec(ctx, op, `INSERT INTO throttle_failures (key, at) VALUES (?, ?)`, key, at); err != nil {
		return 0, err
	}
	if _, err := s.exec(ctx, op, `DELETE FROM throttle_failures WHERE key = ? AND at <= ?`, key, from); err != nil {
		return 0, err
	}
	var n int
	// Counted on the write pool: on SQLite it is the connection that just inserted.
	if err := s.writer(ctx).GetContext(ctx, &n, s.q(`SELECT count(*) FROM throttle_failures WHERE key = ? AND at > ? AND at <= ?`),
		key, from, at); err != nil {
		return 0, s.wrap(op, err)
	}
	return n, nil
}

// CountFailures returns the number of failures of key in (now-window, now].
func (s *Store) CountFailures(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	var n int
	if err := s.reader(ctx).GetContext(ctx, &n, s.q(`SELECT count(*) FROM throttle_failures WHERE key = ? AND at > ? AND at <= ?`),
		key, micros(now.Add(-window)), micros(now)); err != nil {
		return 0, s.wrap("count failures", err)
	}
	return n, nil
}

// ClearFailures forgets key's failures.
func (s *Store) ClearFailures(ctx context.Context, key string) error {
	_, err := s.exec(ctx, "clear failures", `DELETE FROM throttle_failures WHERE key = ?`, key)
	return err
}

// PurgeFailures deletes every failure recorded before t, for keys that never fail or clear
// again (an IP address seen once); returns how many. Call it from the same periodic job as
// PurgeNonces, with t older than the longest window in use.
func (s *Store) PurgeFailures(ctx context.Context, before time.Time) (int64, error) {
	return s.exec(ctx, "purge failures", `DELETE FROM throttle_failures WHERE at < ?`, micros(before))
}

// FailureStats returns the number of failures of key in (now-window, now] and the times of
// the oldest and newest of them (zero when there are none), in one read.
func (s *Store) FailureStats(ctx context.Context, key string, now time.Time, window time.Duration) (storage.FailureStats, error) {
	var row struct {
		N     int   `db:"n"`
		First int64 `db:"first"`
		Last  int64 `db:"last"`
	}
	if err := s.reader(ctx).GetContext(ctx, &row, s.q(`SELECT count(*) AS n, COALESCE(min(at), 0) AS first, COALESCE(max(at), 0) AS last
		FROM throttle_failures WHERE key = ? AND at > ? AND at <= ?`),
		key, micros(now.Add(-window)), micros(now)); err != nil {
		return storage.FailureStats{}, s.wrap("failure stats", err)
	}
	st := storage.FailureStats{Count: row.N}
	if row.N > 0 {
		st.First, st.Last = fromMicros(row.First), fromMicros(row.Last)
	}
	return st, nil
}
