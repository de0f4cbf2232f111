package sqlstore

import (
	"context"
	"time"

	"github.com/tongban/tongban/storage"
)

const deviceColumns = `device_code_hash, user_code_hash, request_id, client_id, scopes, device_kind, created_at,
	expires_at, interval_s, last_poll_at, status, person_id, auth_time, acr, amr, decided_at`

type deviceRow struct {
	DeviceCodeHash string `db:"device_code_hash"`
	UserCodeHash   string `db:"user_code_hash"`
	RequestID      string `db:"request_id"`
	ClientID       string `db:"client_id"`
	Scopes         string `db:"scopes"`
	DeviceKind     string `db:"device_kind"`
	CreatedAt      int64  `db:"created_at"`
	ExpiresAt      int64  `db:"expires_at"`
	IntervalS      int64  `db:"interval_s"`
	LastPollAt     int64  `db:"last_poll_at"`
	Status         string `db:"status"`
	PersonID       string `db:"person_id"`
	AuthTime       int64  `db:"auth_time"`
	ACR            string `db:"acr"`
	AMR            string `db:"amr"`
	DecidedAt      int64  `db:"decided_at"`
}

// optMicros stores an optional time: 0 for the zero time.
func optMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

// fromOptMicros reads a time stored by optMicros.
func fromOptMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMicros(v)
}

// seconds is d in whole seconds, rounded up.
func seconds(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }

// CreateDeviceAuthorization inserts d as pending, polled last at its creation; ErrConflict
// when either hash is taken, ErrNotFound when the client does not exist.
func (s *Store) CreateDeviceAuthorization(ctx context.Context, d storage.DeviceAuthorization) error {
	_, err := s.exec(ctx, "create device authorization", `INSERT INTO device_authorizations (`+deviceColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, '', 'null', 0)`,
		d.DeviceCodeHash, d.UserCodeHash, d.RequestID, d.ClientID, list(d.Scopes), d.DeviceKind,
		micros(d.CreatedAt), micros(d.ExpiresAt), seconds(d.Interval), micros(d.CreatedAt), string(storage.DevicePending))
	return err
}

// getDevice reads one authorization by a key column.
func (s *Store) getDevice(ctx context.Context, op, column, value string) (storage.DeviceAuthorization, error) {
	var r deviceRow
	if err := s.get(ctx, op, &r, `SELECT `+deviceColumns+` FROM device_authorizations WHERE `+column+` = ?`, value); err != nil {
		return storage.DeviceAuthorization{}, err
	}
	scopes, err := fromList(r.Scopes)
	if err != nil {
		return storage.DeviceAuthorization{}, s.wrap(op, err)
	}
	amr, err := fromList(r.AMR)
	if err != nil {
		return storage.DeviceAuthorization{}, s.wrap(op, err)
	}
	return storage.DeviceAuthorization{
		DeviceCodeHash: r.DeviceCodeHash,
		UserCodeHash:   r.UserCodeHash,
		RequestID:      r.RequestID,
		ClientID:       r.ClientID,
		Scopes:         scopes,
		DeviceKind:     r.DeviceKind,
		CreatedAt:      fromMicros(r.CreatedAt),
		ExpiresAt:      fromMicros(r.ExpiresAt),
		Interval:       time.Duration(r.IntervalS) * time.Second,
		LastPollAt:     fromMicros(r.LastPollAt),
		Status:         storage.DeviceStatus(r.Status),
		PersonID:       r.PersonID,
		AuthTime:       fromOptMicros(r.AuthTime),
		ACR:            r.ACR,
		AMR:            amr,
		DecidedAt:      fromOptMicros(r.DecidedAt),
	}, nil
}

// GetDeviceAuthorizationByUserCode returns the authorization or ErrNotFound.
func (s *Store) GetDeviceAuthorizationByUserCode(ctx context.Context, userCodeHash string) (storage.DeviceAuthorization, error) {
	return s.getDevice(ctx, "get device authorization", "user_code_hash", userCodeHash)
}

// PollDeviceAuthorization records a poll with two conditional UPDATEs: the first succeeds
// only when the interval has passed since the last poll; otherwise the second records the
// poll and raises the interval by slowDown (tooFast). Either UPDATE holds the row until the
// caller's transaction ends, so concurrent polls of one device code queue.
func (s *Store) PollDeviceAuthorization(ctx context.Context, deviceCodeHash, clientID string, now time.Time, slowDown time.Duration) (storage.DeviceAuthorization, bool, error) {
	const op = "poll device authorization"
	at := micros(now)
	n, err := s.exec(ctx, op, `UPDATE device_authorizations SET last_poll_at = ?
		WHERE device_code_hash = ? AND client_id = ? AND last_poll_at + interval_s * 1000000 <= ?`,
		at, deviceCodeHash, clientID, at)
	if err != nil {
		return storage.DeviceAuthorization{}, false, err
	}
	tooFast := n == 0
	if tooFast {
		if err := s.execOne(ctx, op, `UPDATE device_authorizations SET last_poll_at = ?, interval_s = interval_s + ?
			WHERE device_code_hash = ? AND client_id = ?`, at, seconds(slowDown), deviceCodeHash, clientID); err != nil {
			return storage.DeviceAuthorization{}, false, err
		}
	}
	d, err := s.getDevice(ctx, op, "device_code_hash", deviceCodeHash)
	return d, tooFast, err
}

// DecideDeviceAuthorization records the decision with one UPDATE conditional on the
// authorization being pending and unexpired; when it changes nothing, the record says why.
func (s *Store) DecideDeviceAuthorization(ctx context.Context, userCodeHash string, dec storage.DeviceDecision) error {
	const op = "decide device authorization"
	status := storage.DeviceDenied
	if dec.Approve {
		status = storage.DeviceApproved
	}
	at := micros(dec.At)
	n, err := s.exec(ctx, op, `UPDATE device_authorizations
		SET status = ?, person_id = ?, auth_time = ?, acr = ?, amr = ?, decided_at = ?
		WHERE user_code_hash = ? AND status = ? AND expires_at > ?`,
		string(status), dec.PersonID, optMicros(dec.AuthTime), dec.ACR, list(dec.AMR), at,
		userCodeHash, string(storage.DevicePending), at)
	if err != nil || n == 1 {
		return err
	}
	d, err := s.getDevice(ctx, op, "user_code_hash", userCodeHash)
	switch {
	case err != nil:
		return err // ErrNotFound
	case d.Status != storage.DevicePending:
		return s.fail(op, storage.ErrAlreadyUsed)
	}
	return s.fail(op, storage.ErrExpired)
}

// RedeemDeviceAuthorization moves an approved authorization to issued with one conditional
// UPDATE: exactly one concurrent caller gets nil.
func (s *Store) RedeemDeviceAuthorization(ctx context.Context, deviceCodeHash string) error {
	const op = "redeem device authorization"
	n, err := s.exec(ctx, op, `UPDATE device_authorizations SET status = ? WHERE device_code_hash = ? AND status = ?`,
		string(storage.DeviceIssued), deviceCodeHash, string(storage.DeviceApproved))
	if err != nil || n == 1 {
		return err
	}
	var exists int
	if err := s.get(ctx, op, &exists, `SELECT 1 FROM device_authorizations WHERE device_code_hash = ?`, deviceCodeHash); err != nil {
		return err
	}
	return s.fail(op, storage.ErrAlreadyUsed)
}

// DeleteExpiredDeviceAuthorizations deletes authorizations whose expiry is before t.
func (s *Store) DeleteExpiredDeviceAuthorizations(ctx context.Context, before time.Time) (int64, error) {
	return s.exec(ctx, "delete expired device authorizations", `DELETE FROM device_authorizations WHERE expires_at < ?`, micros(before))
}
