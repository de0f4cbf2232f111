package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tongban/tongban/storage"
)

type appStatRow struct {
	ClientID         string  `db:"client_id"`
	Hour             int64   `db:"hour"`
	Logins           int64   `db:"logins"`
	LoginFailures    int64   `db:"login_failures"`
	Tokens           int64   `db:"tokens"`
	Errors           int64   `db:"errors"`
	LatencySumMillis float64 `db:"latency_sum_ms"`
	LatencyCount     int64   `db:"latency_count"`
}

// addAppStat is the upsert-add of one delta. The table name qualifies the existing row's
// columns (PostgreSQL would find a bare column name ambiguous next to excluded's).
const addAppStat = `INSERT INTO app_stats (client_id, hour, logins, login_failures, tokens, errors, latency_sum_ms, latency_count)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (client_id, hour) DO UPDATE SET
		logins = app_stats.logins + excluded.logins,
		login_failures = app_stats.login_failures + excluded.login_failures,
		tokens = app_stats.tokens + excluded.tokens,
		errors = app_stats.errors + excluded.errors,
		latency_sum_ms = app_stats.latency_sum_ms + excluded.latency_sum_ms,
		latency_count = app_stats.latency_count + excluded.latency_count`

// AddAppStats implements storage.AppStats: every delta is checked first, then added with one
// upsert each in one transaction, in (client ID, hour) order: concurrent transactions of
// several replicas take the rows' locks in the same order and so never deadlock.
func (s *Store) AddAppStats(ctx context.Context, deltas []storage.AppStatDelta) error {
	const op = "add app stats"
	for i, d := range deltas {
		c := d.AppCounts
		if d.ClientID == "" || c.Logins < 0 || c.LoginFailures < 0 || c.Tokens < 0 || c.Errors < 0 ||
			c.LatencySumMillis < 0 || c.LatencyCount < 0 {
			return fmt.Errorf("%s: %s: delta %d: %w", s.d.Name, op, i, storage.ErrInvalidAppStat)
		}
	}
	if len(deltas) == 0 {
		return nil
	}
	deltas = slices.Clone(deltas)
	slices.SortFunc(deltas, func(a, b storage.AppStatDelta) int {
		return cmp.Or(strings.Compare(a.ClientID, b.ClientID), a.Hour.Truncate(time.Hour).Compare(b.Hour.Truncate(time.Hour)))
	})
	return s.InTx(ctx, func(ctx context.Context) error {
		for _, d := range deltas {
			c := d.AppCounts
			if _, err := s.exec(ctx, op, addAppStat, d.ClientID, micros(d.Hour.Truncate(time.Hour)),
				c.Logins, c.LoginFailures, c.Tokens, c.Errors, c.LatencySumMillis, c.LatencyCount); err != nil {
				return err
			}
		}
		return nil
	})
}

// AppStatsSince implements storage.AppStats.
func (s *Store) AppStatsSince(ctx context.Context, clientID string, since time.Time) ([]storage.AppStatRow, error) {
	var rows []appStatRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(`SELECT client_id, hour, logins, login_failures, tokens, errors,
		latency_sum_ms, latency_count FROM app_stats WHERE client_id = ? AND hour >= ? ORDER BY hour`),
		clientID, micros(since.Truncate(time.Hour))); err != nil {
		return nil, s.wrap("app stats since", err)
	}
	out := make([]storage.AppStatRow, len(rows))
	for i, r := range rows {
		out[i] = storage.AppStatRow{ClientID: r.ClientID, Hour: fromMicros(r.Hour), AppCounts: storage.AppCounts{
			Logins: r.Logins, LoginFailures: r.LoginFailures, Tokens: r.Tokens, Errors: r.Errors,
			LatencySumMillis: r.LatencySumMillis, LatencyCount: r.LatencyCount,
		}}
	}
	return out, nil
}

// PurgeAppStats implements storage.AppStats.
func (s *Store) PurgeAppStats(ctx context.Context, before time.Time) (int64, error) {
	return s.exec(ctx, "purge app stats", `DELETE FROM app_stats WHERE hour < ?`, micros(before))
}
