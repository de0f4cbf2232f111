package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tongban/tongban/storage"
)

const otpDeviceColumns = `id, person_id, name, algorithm, secret_sealed, confirmed, last_used_step, created_at`

type otpDeviceRow struct {
	ID           string `db:"id"`
	PersonID     string `db:"person_id"`
	Name         string `db:"name"`
	Algorithm    string `db:"algorithm"`
	SecretSealed []byte `db:"secret_sealed"`
	Confirmed    bool   `db:"confirmed"`
	LastUsedStep int64  `db:"last_used_step"`
	CreatedAt    int64  `db:"created_at"`
}

func (r otpDeviceRow) device() storage.OTPDevice {
	return storage.OTPDevice{ID: r.ID, PersonID: r.PersonID, Name: r.Name, Algorithm: r.Algorithm,
		SecretSealed: fromBlob(r.SecretSealed), Confirmed: r.Confirmed, LastUsedStep: r.LastUsedStep,
		CreatedAt: fromMicros(r.CreatedAt)}
}

// CreateOTPDevice inserts d; ErrConflict when the ID exists, ErrNotFound when the person does
// not.
func (s *Store) CreateOTPDevice(ctx context.Context, d storage.OTPDevice) error {
	_, err := s.exec(ctx, "create OTP device", `INSERT INTO otp_devices (`+otpDeviceColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.PersonID, d.Name, d.Algorithm, d.SecretSealed, d.Confirmed, d.LastUsedStep, micros(d.CreatedAt))
	return err
}

// GetOTPDevice returns the device or ErrNotFound.
func (s *Store) GetOTPDevice(ctx context.Context, id string) (storage.OTPDevice, error) {
	var r otpDeviceRow
	if err := s.get(ctx, "get OTP device", &r, `SELECT `+otpDeviceColumns+` FROM otp_devices WHERE id = ?`, id); err != nil {
		return storage.OTPDevice{}, err
	}
	return r.device(), nil
}

// ListOTPDevices returns the person's devices ordered by CreatedAt then ID.
func (s *Store) ListOTPDevices(ctx context.Context, personID string) ([]storage.OTPDevice, error) {
	var rows []otpDeviceRow
	err := s.reader(ctx).SelectContext(ctx, &rows, s.q(`SELECT `+otpDeviceColumns+` FROM otp_devices
		WHERE person_id = ? ORDER BY created_at, id`), personID)
	if err != nil {
		return nil, s.wrap("list OTP devices", err)
	}
	out := make([]storage.OTPDevice, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.device())
	}
	return out, nil
}

// UpdateOTPDevice reads the device (locking its row on PostgreSQL), applies fn and writes the
// result in one transaction. fn must not change ID or PersonID, nor call the store.
func (s *Store) UpdateOTPDevice(ctx context.Context, id string, fn func(*storage.OTPDevice) error) error {
	const op = "update OTP device"
	return s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		var r otpDeviceRow
		err := tx.GetContext(ctx, &r, s.q(`SELECT `+otpDeviceColumns+` FROM otp_devices WHERE id = ?`+s.d.ForUpdate), id)
		if errors.Is(err, sql.ErrNoRows) {
			return s.fail(op, storage.ErrNotFound)
		}
		if err != nil {
			return s.wrap(op, err)
		}
		d := r.device()
		if err := fn(&d); err != nil {
			return err
		}
		if d.ID != id || d.PersonID != r.PersonID {
			return fmt.Errorf("%s: %s: the update function changed the ID or the person", s.d.Name, op)
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE otp_devices SET name = ?, algorithm = ?, secret_sealed = ?,
			confirmed = ?, last_used_step = ?, created_at = ? WHERE id = ?`),
			d.Name, d.Algorithm, d.SecretSealed, d.Confirmed, d.LastUsedStep, micros(d.CreatedAt), id)
		return s.wrap(op, err)
	})
}

// DeleteOTPDevice removes the device; ErrNotFound when missing.
func (s *Store) DeleteOTPDevice(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete OTP device", `DELETE FROM otp_devices WHERE id = ?`, id)
}

// DeleteUnconfirmedOTPDevices removes the unconfirmed devices created before t.
func (s *Store) DeleteUnconfirmedOTPDevices(ctx context.Context, before time.Time) (int64, error) {
	return s.exec(ctx, "delete unconfirmed OTP devices", `DELETE FROM otp_devices
		WHERE NOT confirmed AND created_at < ?`, micros(before))
}

// SetRecoveryCodes replaces the person's recovery codes with hashes, in one transaction.
func (s *Store) SetRecoveryCodes(ctx context.Context, personID string, hashes [][]byte, at time.Time) error {
	const op = "set recovery codes"
	return s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM recovery_codes WHERE person_id = ?`), personID); err != nil {
			return s.wrap(op, err)
		}
		for _, h := range hashes {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO recovery_codes (person_id, hash, created_at, used_at)
				VALUES (?, ?, ?, NULL)`), personID, h, micros(at)); err != nil {
				return s.wrap(op, err)
			}
		}
		return nil
	})
}

// UseRecoveryCode marks the unused code as used with one conditional UPDATE; when it changes
// no row, a second read tells a used code (ErrAlreadyUsed) from an unknown one (ErrNotFound).
func (s *Store) UseRecoveryCode(ctx context.Context, personID string, hash []byte, at time.Time) error {
	const op = "use recovery code"
	n, err := s.exec(ctx, op, `UPDATE recovery_codes SET used_at = ?
		WHERE person_id = ? AND hash = ? AND used_at IS NULL`, micros(at), personID, hash)
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	var count int
	if err := s.get(ctx, op, &count, `SELECT COUNT(*) FROM recovery_codes WHERE person_id = ? AND hash = ?`, personID, hash); err != nil {
		return err
	}
	if count > 0 {
		return s.fail(op, storage.ErrAlreadyUsed)
	}
	return s.fail(op, storage.ErrNotFound)
}

// CountRecoveryCodes returns how many of the person's codes are unused.
func (s *Store) CountRecoveryCodes(ctx context.Context, personID string) (int, error) {
	var n int
	err := s.get(ctx, "count recovery codes", &n, `SELECT COUNT(*) FROM recovery_codes
		WHERE person_id = ? AND used_at IS NULL`, personID)
	return n, err
}

// DeleteRecoveryCodes removes every recovery code of the person.
func (s *Store) DeleteRecoveryCodes(ctx context.Context, personID string) (int64, error) {
	return s.exec(ctx, "delete recovery codes", `DELETE FROM recovery_codes WHERE person_id = ?`, personID)
}
