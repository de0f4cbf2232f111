package sqlstore

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/tongban/tongban/storage"
)

// The storage of the citizen's account pages (storage.SelfService): sessions on every device,
// consents per app, the grants of a person, and recovery codes (migration 00011).

// session converts a row to a storage.LoginSession.
func (r loginSessionRow) session() (storage.LoginSession, error) {
	amr, err := fromList(r.AMR)
	if err != nil {
		return storage.LoginSession{}, err
	}
	return storage.LoginSession{
		ID:        r.ID,
		PersonID:  r.PersonID,
		AuthTime:  fromMicros(r.AuthTime),
		ACR:       r.ACR,
		AMR:       amr,
		CreatedAt: fromMicros(r.CreatedAt),
		ExpiresAt: fromMicros(r.ExpiresAt),
		Device:    r.Device,
		ClientIP:  r.ClientIP,
		LastSeen:  fromZeroMicros(r.LastSeen),
	}, nil
}

// zeroMicros stores an optional time as Unix microseconds, the zero time as 0.
func zeroMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

// fromZeroMicros is the inverse of zeroMicros.
func fromZeroMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMicros(v)
}

// ListLoginSessionsForPerson implements storage.SelfService.
func (s *Store) ListLoginSessionsForPerson(ctx context.Context, personID string, now time.Time) ([]storage.LoginSession, error) {
	const op = "list login sessions of person"
	var rows []loginSessionRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(`SELECT `+loginSessionColumns+` FROM login_sessions
		WHERE person_id = ? AND expires_at > ? ORDER BY last_seen DESC, created_at DESC, id`), personID, micros(now)); err != nil {
		return nil, s.wrap(op, err)
	}
	out := make([]storage.LoginSession, 0, len(rows))
	for _, r := range rows {
		ls, err := r.session()
		if err != nil {
			return nil, s.wrap(op, err)
		}
		out = append(out, ls)
	}
	return out, nil
}

// TouchLoginSession implements storage.SelfService with one conditional UPDATE.
func (s *Store) TouchLoginSession(ctx context.Context, id string, at time.Time) error {
	const op = "touch login session"
	n, err := s.exec(ctx, op, `UPDATE login_sessions SET last_seen = ? WHERE id = ? AND last_seen < ?`,
		micros(at), id, micros(at))
	if err != nil || n == 1 {
		return err
	}
	var exists int
	return s.get(ctx, op, &exists, `SELECT 1 FROM login_sessions WHERE id = ?`, id) // ErrNotFound when missing
}

// ListConsents implements storage.SelfService.
func (s *Store) ListConsents(ctx context.Context, personID string) ([]storage.Consent, error) {
	const op = "list consents"
	var rows []consentRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(`SELECT person_id, client_id, scopes, granted_at FROM consents
		WHERE person_id = ? ORDER BY client_id`), personID); err != nil {
		return nil, s.wrap(op, err)
	}
	out := make([]storage.Consent, 0, len(rows))
	for _, r := range rows {
		scopes, err := fromList(r.Scopes)
		if err != nil {
			return nil, s.wrap(op, err)
		}
		out = append(out, storage.Consent{PersonID: r.PersonID, ClientID: r.ClientID, Scopes: scopes, GrantedAt: fromMicros(r.GrantedAt)})
	}
	return out, nil
}

// ListGrants implements storage.SelfService (index tokens_by_subject).
func (s *Store) ListGrants(ctx context.Context, subject, clientID string, now time.Time) ([]string, error) {
	out := []string{}
	query := `SELECT DISTINCT request_id FROM tokens WHERE subject = ? AND expires_at > ?`
	args := []any{subject, micros(now)}
	if clientID != "" {
		query += ` AND client_id = ?`
		args = append(args, clientID)
	}
	if err := s.reader(ctx).SelectContext(ctx, &out, s.q(query), args...); err != nil {
		return nil, s.wrap("list grants", err)
	}
	slices.Sort(out) // byte order on every backend, whatever the column's collation
	return out, nil
}

// PutAccessRecoveryCode implements storage.SelfService.
func (s *Store) PutAccessRecoveryCode(ctx context.Context, c storage.AccessRecoveryCode) error {
	_, err := s.exec(ctx, "put recovery code", `INSERT INTO access_recovery_codes (person_id, code_hash, created_at, expires_at, attempts)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (person_id) DO UPDATE SET code_hash = excluded.code_hash, created_at = excluded.created_at,
			expires_at = excluded.expires_at, attempts = excluded.attempts`,
		c.PersonID, c.CodeHash, micros(c.CreatedAt), micros(c.ExpiresAt), c.Attempts)
	return err
}

// CheckAccessRecoveryCode implements storage.SelfService: a conditional DELETE redeems the code
// (exactly one concurrent caller wins); failing that, a conditional UPDATE counts a wrong
// code; failing that too, a read says why the code is unusable.
func (s *Store) CheckAccessRecoveryCode(ctx context.Context, personID string, codeHash []byte, now time.Time, maxAttempts int) error {
	const op = "check recovery code"
	n, err := s.exec(ctx, op, `DELETE FROM access_recovery_codes
		WHERE person_id = ? AND code_hash = ? AND expires_at > ? AND attempts < ?`,
		personID, codeHash, micros(now), maxAttempts)
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	n, err = s.exec(ctx, op, `UPDATE access_recovery_codes SET attempts = attempts + 1
		WHERE person_id = ? AND expires_at > ? AND attempts < ?`, personID, micros(now), maxAttempts)
	if err != nil {
		return err
	}
	if n == 1 {
		return s.fail(op, storage.ErrWrongCode)
	}
	var r struct {
		ExpiresAt int64 `db:"expires_at"`
		Attempts  int   `db:"attempts"`
	}
	if err := s.get(ctx, op, &r, `SELECT expires_at, attempts FROM access_recovery_codes WHERE person_id = ?`, personID); err != nil {
		return err // ErrNotFound: no code (or redeemed meanwhile)
	}
	if r.ExpiresAt <= micros(now) {
		return s.fail(op, storage.ErrExpired)
	}
	return s.fail(op, storage.ErrAlreadyUsed)
}

// DeleteAccessRecoveryCode implements storage.SelfService.
func (s *Store) DeleteAccessRecoveryCode(ctx context.Context, personID string) error {
	err := s.execOne(ctx, "delete recovery code", `DELETE FROM access_recovery_codes WHERE person_id = ?`, personID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}

// PurgeAccessRecoveryCodes implements storage.SelfService.
func (s *Store) PurgeAccessRecoveryCodes(ctx context.Context, before time.Time) (int64, error) {
	return s.exec(ctx, "purge recovery codes", `DELETE FROM access_recovery_codes WHERE expires_at < ?`, micros(before))
}
