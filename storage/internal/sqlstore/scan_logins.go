package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/tongban/tongban/storage"
)

const scanLoginColumns = `id, binding_hash, pending, client_id, browser, state, session_id, person_id, acr, amr,
	auth_time, created_at, expires_at`

type scanLoginRow struct {
	ID          string        `db:"id"`
	BindingHash []byte        `db:"binding_hash"`
	Pending     string        `db:"pending"`
	ClientID    string        `db:"client_id"`
	Browser     string        `db:"browser"`
	State       string        `db:"state"`
	SessionID   string        `db:"session_id"`
	PersonID    string        `db:"person_id"`
	ACR         string        `db:"acr"`
	AMR         string        `db:"amr"`
	AuthTime    sql.NullInt64 `db:"auth_time"`
	CreatedAt   int64         `db:"created_at"`
	ExpiresAt   int64         `db:"expires_at"`
}

// optTime stores a zero time as NULL.
func optTime(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return nullMicros(&t)
}

// CreateScanLogin inserts sl; ErrConflict when the ID exists.
func (s *Store) CreateScanLogin(ctx context.Context, sl storage.ScanLogin) error {
	bh := sl.BindingHash
	if bh == nil {
		bh = []byte{}
	}
	_, err := s.exec(ctx, "create scan login", `INSERT INTO scan_logins (`+scanLoginColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sl.ID, bh, sl.Pending, sl.ClientID, sl.Browser, string(sl.State), sl.SessionID, sl.PersonID, sl.ACR,
		list(sl.AMR), optTime(sl.AuthTime), micros(sl.CreatedAt), micros(sl.ExpiresAt))
	return err
}

// GetScanLogin returns the request or ErrNotFound, whatever its state and expiry.
func (s *Store) GetScanLogin(ctx context.Context, id string) (storage.ScanLogin, error) {
	const op = "get scan login"
	var r scanLoginRow
	if err := s.get(ctx, op, &r, `SELECT `+scanLoginColumns+` FROM scan_logins WHERE id = ?`, id); err != nil {
		return storage.ScanLogin{}, err
	}
	amr, err := fromList(r.AMR)
	if err != nil {
		return storage.ScanLogin{}, s.wrap(op, err)
	}
	sl := storage.ScanLogin{
		ID: r.ID, BindingHash: fromBlob(r.BindingHash), Pending: r.Pending, ClientID: r.ClientID, Browser: r.Browser,
		State: storage.ScanState(r.State), SessionID: r.SessionID, PersonID: r.PersonID, ACR: r.ACR, AMR: amr,
		CreatedAt: fromMicros(r.CreatedAt), ExpiresAt: fromMicros(r.ExpiresAt),
	}
	if t := fromNullMicros(r.AuthTime); t != nil {
		sl.AuthTime = *t
	}
	return sl, nil
}

// scanRefused explains why a conditional update of request id changed no row: ErrNotFound,
// ErrExpired (at or after ExpiresAt), else ErrAlreadyUsed (a state or session that does not
// allow the transition).
func (s *Store) scanRefused(ctx context.Context, op, id string, now time.Time) error {
	sl, err := s.GetScanLogin(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return s.fail(op, storage.ErrNotFound)
	case err != nil:
		return err
	case !now.Before(sl.ExpiresAt):
		return s.fail(op, storage.ErrExpired)
	}
	return s.fail(op, storage.ErrAlreadyUsed)
}

// MarkScanLoginScanned: pending → scanned by sessionID with one conditional UPDATE, which
// also matches a request already scanned by that same session (a reload changes nothing).
func (s *Store) MarkScanLoginScanned(ctx context.Context, id, personID, sessionID string, now time.Time) error {
	const op = "mark scan login scanned"
	n, err := s.exec(ctx, op, `UPDATE scan_logins SET state = ?, session_id = ?, person_id = ?
		WHERE id = ? AND expires_at > ? AND (state = ? OR (state = ? AND session_id = ? AND person_id = ?))`,
		string(storage.ScanScanned), sessionID, personID, id, micros(now),
		string(storage.ScanPending), string(storage.ScanScanned), sessionID, personID)
	if err != nil {
		return err
	}
	if n == 0 {
		return s.scanRefused(ctx, op, id, now)
	}
	return nil
}

// DecideScanLogin: scanned → approved or denied, for the session that scanned it, with one
// conditional UPDATE.
func (s *Store) DecideScanLogin(ctx context.Context, id, sessionID string, d storage.ScanDecision, now time.Time) error {
	const op = "decide scan login"
	to, acr, amr, at := storage.ScanDenied, "", list(nil), sql.NullInt64{}
	if d.Approve {
		to, acr, amr, at = storage.ScanApproved, d.ACR, list(d.AMR), optTime(d.AuthTime)
	}
	n, err := s.exec(ctx, op, `UPDATE scan_logins SET state = ?, acr = ?, amr = ?, auth_time = ?
		WHERE id = ? AND expires_at > ? AND state = ? AND session_id = ?`,
		string(to), acr, amr, at, id, micros(now), string(storage.ScanScanned), sessionID)
	if err != nil {
		return err
	}
	if n == 0 {
		return s.scanRefused(ctx, op, id, now)
	}
	return nil
}

// UseScanLogin: approved → used with one conditional UPDATE, then reads the request back.
func (s *Store) UseScanLogin(ctx context.Context, id string, now time.Time) (storage.ScanLogin, error) {
	const op = "use scan login"
	n, err := s.exec(ctx, op, `UPDATE scan_logins SET state = ? WHERE id = ? AND expires_at > ? AND state = ?`,
		string(storage.ScanUsed), id, micros(now), string(storage.ScanApproved))
	if err != nil {
		return storage.ScanLogin{}, err
	}
	if n == 0 {
		return storage.ScanLogin{}, s.scanRefused(ctx, op, id, now)
	}
	return s.GetScanLogin(ctx, id)
}

// DeleteExpiredScanLogins removes requests whose expiry is before t; returns how many.
func (s *Store) DeleteExpiredScanLogins(ctx context.Context, before time.Time) (int64, error) {
	return s.exec(ctx, "delete expired scan logins", `DELETE FROM scan_logins WHERE expires_at < ?`, micros(before))
}
