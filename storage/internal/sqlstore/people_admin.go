package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/tongban/tongban/storage"
)

// People administration and corrections (storage.PasswordResets, storage.Corrections;
// migration 00016).

// personExists returns ErrNotFound (wrapped with op) when there is no person id.
func (s *Store) personExists(ctx context.Context, op, id string) error {
	var one int
	return s.get(ctx, op, &one, `SELECT 1 FROM people WHERE id = ?`, id)
}

type passwordResetRow struct {
	TokenHash []byte `db:"token_hash"`
	PersonID  string `db:"person_id"`
	CreatedAt int64  `db:"created_at"`
	ExpiresAt int64  `db:"expires_at"`
}

func (r passwordResetRow) reset() storage.PasswordReset {
	return storage.PasswordReset{TokenHash: fromBlob(r.TokenHash), PersonID: r.PersonID,
		CreatedAt: fromMicros(r.CreatedAt), ExpiresAt: fromMicros(r.ExpiresAt)}
}

// PutPasswordReset implements storage.PasswordResets.
func (s *Store) PutPasswordReset(ctx context.Context, r storage.PasswordReset) error {
	const op = "put password reset"
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.personExists(ctx, op, r.PersonID); err != nil {
			return err
		}
		if _, err := s.exec(ctx, op, `DELETE FROM password_resets WHERE person_id = ?`, r.PersonID); err != nil {
			return err
		}
		_, err := s.exec(ctx, op, `INSERT INTO password_resets (token_hash, person_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			blob(r.TokenHash), r.PersonID, micros(r.CreatedAt), micros(r.ExpiresAt))
		return err
	})
}

// GetPasswordReset implements storage.PasswordResets.
func (s *Store) GetPasswordReset(ctx context.Context, tokenHash []byte, now time.Time) (storage.PasswordReset, error) {
	const op = "get password reset"
	if len(tokenHash) == 0 {
		return storage.PasswordReset{}, s.fail(op, storage.ErrNotFound)
	}
	var r passwordResetRow
	if err := s.get(ctx, op, &r, `SELECT token_hash, person_id, created_at, expires_at FROM password_resets WHERE token_hash = ?`, tokenHash); err != nil {
		return storage.PasswordReset{}, err
	}
	if r.ExpiresAt <= micros(now) {
		return storage.PasswordReset{}, s.fail(op, storage.ErrExpired)
	}
	return r.reset(), nil
}

// RedeemPasswordReset implements storage.PasswordResets: a read, then a DELETE of that row
// whose row count picks the one winner among concurrent redeemers.
func (s *Store) RedeemPasswordReset(ctx context.Context, tokenHash []byte, now time.Time) (storage.PasswordReset, error) {
	const op = "redeem password reset"
	r, err := s.GetPasswordReset(ctx, tokenHash, now)
	if err != nil {
		return r, err
	}
	n, err := s.exec(ctx, op, `DELETE FROM password_resets WHERE token_hash = ? AND expires_at > ?`, blob(tokenHash), micros(now))
	if err != nil {
		return storage.PasswordReset{}, err
	}
	if n != 1 {
		return storage.PasswordReset{}, s.fail(op, storage.ErrNotFound)
	}
	return r, nil
}

// DeletePasswordResets implements storage.PasswordResets.
func (s *Store) DeletePasswordResets(ctx context.Context, personID string) (int64, error) {
	return s.exec(ctx, "delete password resets", `DELETE FROM password_resets WHERE person_id = ?`, personID)
}

// PurgePasswordResets implements storage.PasswordResets.
func (s *Store) PurgePasswordResets(ctx context.Context, before time.Time) (int64, error) {
	return s.exec(ctx, "purge password resets", `DELETE FROM password_resets WHERE expires_at < ?`, micros(before))
}

const correctionColumns = `id, person_id, target, field, current_masked, proposed_sealed, reason, status, filed_at,
	decided_at, decided_by, decision_note`

type correctionRow struct {
	ID             string `db:"id"`
	PersonID       string `db:"person_id"`
	Target         string `db:"target"`
	Field          string `db:"field"`
	CurrentMasked  string `db:"current_masked"`
	ProposedSealed []byte `db:"proposed_sealed"`
	Reason         string `db:"reason"`
	Status         string `db:"status"`
	FiledAt        int64  `db:"filed_at"`
	DecidedAt      int64  `db:"decided_at"`
	DecidedBy      string `db:"decided_by"`
	DecisionNote   string `db:"decision_note"`
}

func (r correctionRow) correction() storage.Correction {
	return storage.Correction{ID: r.ID, PersonID: r.PersonID, Target: r.Target, Field: r.Field,
		CurrentMasked: r.CurrentMasked, ProposedSealed: fromBlob(r.ProposedSealed), Reason: r.Reason,
		Status: storage.CorrectionStatus(r.Status), FiledAt: fromMicros(r.FiledAt), DecidedAt: fromZeroMicros(r.DecidedAt),
		DecidedBy: r.DecidedBy, DecisionNote: r.DecisionNote}
}

// CreateCorrection implements storage.Corrections.
func (s *Store) CreateCorrection(ctx context.Context, c storage.Correction) error {
	const op = "create correction"
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.personExists(ctx, op, c.PersonID); err != nil {
			return err
		}
		_, err := s.exec(ctx, op, `INSERT INTO corrections (`+correctionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.PersonID, c.Target, c.Field, c.CurrentMasked, nonNilBlob(c.ProposedSealed), c.Reason, string(c.Status),
			micros(c.FiledAt), zeroMicros(c.DecidedAt), c.DecidedBy, c.DecisionNote)
		return err
	})
}

// nonNilBlob is b, or an empty byte slice for nil (the column is NOT NULL).
func nonNilBlob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// GetCorrection implements storage.Corrections.
func (s *Store) GetCorrection(ctx context.Context, id string) (storage.Correction, error) {
	var r correctionRow
	if err := s.get(ctx, "get correction", &r, `SELECT `+correctionColumns+` FROM corrections WHERE id = ?`, id); err != nil {
		return storage.Correction{}, err
	}
	return r.correction(), nil
}

// ListCorrections implements storage.Corrections (indexes corrections_by_person,
// corrections_by_status).
func (s *Store) ListCorrections(ctx context.Context, q storage.CorrectionQuery) ([]storage.Correction, error) {
	const op = "list corrections"
	if q.Limit <= 0 || q.Offset < 0 {
		return nil, s.wrap(op, errors.New("limit must be positive and offset not negative"))
	}
	query := `SELECT ` + correctionColumns + ` FROM corrections WHERE 1 = 1`
	var args []any
	if q.Status != "" {
		query += ` AND status = ?`
		args = append(args, string(q.Status))
	}
	if q.PersonID != "" {
		query += ` AND person_id = ?`
		args = append(args, q.PersonID)
	}
	if q.OldestFirst {
		query += ` ORDER BY filed_at, id LIMIT ? OFFSET ?`
	} else {
		query += ` ORDER BY filed_at DESC, id DESC LIMIT ? OFFSET ?`
	}
	args = append(args, q.Limit, q.Offset)
	var rows []correctionRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(query), args...); err != nil {
		return nil, s.wrap(op, err)
	}
	out := make([]storage.Correction, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.correction())
	}
	return out, nil
}

// CountPendingCorrections implements storage.Corrections.
func (s *Store) CountPendingCorrections(ctx context.Context, personID string) (int, error) {
	var n int
	err := s.get(ctx, "count pending corrections", &n, `SELECT COUNT(*) FROM corrections WHERE person_id = ? AND status = 'pending'`, personID)
	return n, err
}

// DecideCorrection implements storage.Corrections with one conditional UPDATE.
func (s *Store) DecideCorrection(ctx context.Context, id string, status storage.CorrectionStatus, at time.Time, by, note string) error {
	const op = "decide correction"
	if status != storage.CorrectionApplied && status != storage.CorrectionRejected {
		return s.wrap(op, errors.New("status must be applied or rejected"))
	}
	n, err := s.exec(ctx, op, `UPDATE corrections SET status = ?, decided_at = ?, decided_by = ?, decision_note = ?
		WHERE id = ? AND status = 'pending'`, string(status), micros(at), by, note, id)
	if err != nil || n == 1 {
		return err
	}
	var one int
	if err := s.get(ctx, op, &one, `SELECT 1 FROM corrections WHERE id = ?`, id); err != nil {
		return err
	}
	return s.fail(op, storage.ErrAlreadyUsed)
}
