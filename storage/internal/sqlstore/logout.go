package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tongban/tongban/storage"
)

// Single-logout columns of clients (migration 00022), in logoutArgs order.
const (
	logoutColumns = `backchannel_logout_uri, backchannel_logout_session_required,
	frontchannel_logout_uri, frontchannel_logout_session_required`
	logoutPlaceholders = `?, ?, ?, ?`
	logoutSet          = `backchannel_logout_uri = ?, backchannel_logout_session_required = ?,
	frontchannel_logout_uri = ?, frontchannel_logout_session_required = ?`
)

type logoutRow struct {
	BackchannelLogoutURI              string `db:"backchannel_logout_uri"`
	BackchannelLogoutSessionRequired  bool   `db:"backchannel_logout_session_required"`
	FrontchannelLogoutURI             string `db:"frontchannel_logout_uri"`
	FrontchannelLogoutSessionRequired bool   `db:"frontchannel_logout_session_required"`
}

func (r logoutRow) apply(c *storage.Client) {
	c.BackchannelLogoutURI = r.BackchannelLogoutURI
	c.BackchannelLogoutSessionRequired = r.BackchannelLogoutSessionRequired
	c.FrontchannelLogoutURI = r.FrontchannelLogoutURI
	c.FrontchannelLogoutSessionRequired = r.FrontchannelLogoutSessionRequired
}

func logoutArgs(c storage.Client) []any {
	return []any{c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired,
		c.FrontchannelLogoutURI, c.FrontchannelLogoutSessionRequired}
}

// RecordSessionClient implements storage.SingleLogout with one upsert keeping the later expiry.
func (s *Store) RecordSessionClient(ctx context.Context, sc storage.SessionClient) error {
	_, err := s.exec(ctx, "record session client", `INSERT INTO session_clients
		(session_id, request_id, client_id, subject, person_id, expires_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (session_id, request_id) DO UPDATE SET expires_at =
			CASE WHEN excluded.expires_at > session_clients.expires_at THEN excluded.expires_at ELSE session_clients.expires_at END`,
		sc.SessionID, sc.RequestID, sc.ClientID, sc.Subject, sc.PersonID, micros(sc.ExpiresAt))
	return err
}

type sessionClientRow struct {
	SessionID string `db:"session_id"`
	RequestID string `db:"request_id"`
	ClientID  string `db:"client_id"`
	Subject   string `db:"subject"`
	PersonID  string `db:"person_id"`
	ExpiresAt int64  `db:"expires_at"`
}

// ListSessionClients implements storage.SingleLogout.
func (s *Store) ListSessionClients(ctx context.Context, sessionIDs []string) ([]storage.SessionClient, error) {
	const op = "list session clients"
	out := []storage.SessionClient{}
	if len(sessionIDs) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In(`SELECT session_id, request_id, client_id, subject, person_id, expires_at
		FROM session_clients WHERE session_id IN (?) ORDER BY session_id, client_id, request_id`, sessionIDs)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	var rows []sessionClientRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(q), args...); err != nil {
		return nil, s.wrap(op, err)
	}
	for _, r := range rows {
		out = append(out, storage.SessionClient{SessionID: r.SessionID, RequestID: r.RequestID, ClientID: r.ClientID,
			Subject: r.Subject, PersonID: r.PersonID, ExpiresAt: fromMicros(r.ExpiresAt)})
	}
	return out, nil
}

// ListSessionIDsForPerson implements storage.SingleLogout.
func (s *Store) ListSessionIDsForPerson(ctx context.Context, personID string) ([]string, error) {
	out := []string{}
	if err := s.reader(ctx).SelectContext(ctx, &out, s.q(`SELECT DISTINCT session_id FROM session_clients
		WHERE person_id = ? ORDER BY session_id`), personID); err != nil {
		return nil, s.wrap("list session IDs for person", err)
	}
	return out, nil
}

// DeleteSessionClients implements storage.SingleLogout.
func (s *Store) DeleteSessionClients(ctx context.Context, sessionIDs []string) (int64, error) {
	const op = "delete session clients"
	if len(sessionIDs) == 0 {
		return 0, nil
	}
	q, args, err := sqlx.In(`DELETE FROM session_clients WHERE session_id IN (?)`, sessionIDs)
	if err != nil {
		return 0, s.wrap(op, err)
	}
	return s.exec(ctx, op, q, args...)
}

// PurgeSessionClients implements storage.SingleLogout.
func (s *Store) PurgeSessionClients(ctx context.Context, before time.Time) (int64, error) {
	return s.exec(ctx, "purge session clients", `DELETE FROM session_clients WHERE expires_at < ?`, micros(before))
}

const logoutOutboxColumns = `id, client_id, uri, subject, sid, attempts, next_attempt, created_at`

type logoutDeliveryRow struct {
	ID          string `db:"id"`
	ClientID    string `db:"client_id"`
	URI         string `db:"uri"`
	Subject     string `db:"subject"`
	SID         string `db:"sid"`
	Attempts    int    `db:"attempts"`
	NextAttempt int64  `db:"next_attempt"`
	CreatedAt   int64  `db:"created_at"`
}

// EnqueueLogouts implements storage.SingleLogout in one transaction.
func (s *Store) EnqueueLogouts(ctx context.Context, ds []storage.LogoutDelivery) error {
	const op = "enqueue logouts"
	if len(ds) == 0 {
		return nil
	}
	return s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		for _, d := range ds {
			if d.ID == "" {
				d.ID = randomID()
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO logout_outbox (`+logoutOutboxColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), d.ID, d.ClientID, d.URI, d.Subject, d.SID, d.Attempts,
				micros(d.NextAttempt), micros(d.CreatedAt)); err != nil {
				return s.wrap(op, err)
			}
		}
		return nil
	})
}

// ClaimDueLogouts implements storage.SingleLogout: a SELECT … FOR UPDATE (PostgreSQL; SQLite
// holds the write lock) and an UPDATE of the claimed rows in one transaction.
func (s *Store) ClaimDueLogouts(ctx context.Context, now, leaseUntil time.Time, limit int) ([]storage.LogoutDelivery, error) {
	const op = "claim due logouts"
	if limit <= 0 {
		limit = 100
	}
	var out []storage.LogoutDelivery
	err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		out = []storage.LogoutDelivery{}
		var rows []logoutDeliveryRow
		if err := tx.SelectContext(ctx, &rows, s.q(`SELECT `+logoutOutboxColumns+` FROM logout_outbox
			WHERE next_attempt <= ? ORDER BY next_attempt, id LIMIT ?`+s.d.ForUpdate), micros(now), limit); err != nil {
			return s.wrap(op, err)
		}
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE logout_outbox SET next_attempt = ? WHERE id = ?`),
				micros(leaseUntil), r.ID); err != nil {
				return s.wrap(op, err)
			}
			out = append(out, storage.LogoutDelivery{ID: r.ID, ClientID: r.ClientID, URI: r.URI, Subject: r.Subject,
				SID: r.SID, Attempts: r.Attempts, NextAttempt: fromMicros(r.NextAttempt), CreatedAt: fromMicros(r.CreatedAt)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RescheduleLogout implements storage.SingleLogout.
func (s *Store) RescheduleLogout(ctx context.Context, id string, attempts int, next time.Time) error {
	return s.execOne(ctx, "reschedule logout", `UPDATE logout_outbox SET attempts = ?, next_attempt = ? WHERE id = ?`,
		attempts, micros(next), id)
}

// DeleteLogout implements storage.SingleLogout.
func (s *Store) DeleteLogout(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete logout", `DELETE FROM logout_outbox WHERE id = ?`, id)
}

// CountLogouts implements storage.SingleLogout.
func (s *Store) CountLogouts(ctx context.Context) (int64, error) {
	var n int64
	err := s.reader(ctx).GetContext(ctx, &n, `SELECT COUNT(*) FROM logout_outbox`)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, s.wrap("count logouts", err)
}
