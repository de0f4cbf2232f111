package sqlstore

import (
	"context"
	"time"

	"github.com/tongban/tongban/storage"
)

const tokenColumns = `kind, signature, request_id, client_id, subject, active, requested_at, expires_at, data`

type tokenRow struct {
	Kind        string `db:"kind"`
	Signature   string `db:"signature"`
	RequestID   string `db:"request_id"`
	ClientID    string `db:"client_id"`
	Subject     string `db:"subject"`
	Active      bool   `db:"active"`
	RequestedAt int64  `db:"requested_at"`
	ExpiresAt   int64  `db:"expires_at"`
	Data        []byte `db:"data"`
}

// CreateToken inserts r (Active as given); ErrConflict when (Kind, Signature) exists,
// ErrNotFound when r.ClientID names no client.
func (s *Store) CreateToken(ctx context.Context, r storage.TokenRecord) error {
	_, err := s.exec(ctx, "create token", `INSERT INTO tokens (`+tokenColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		string(r.Kind), r.Signature, r.RequestID, r.ClientID, r.Subject, r.Active,
		micros(r.RequestedAt), micros(r.ExpiresAt), blob(r.Data))
	return err
}

// GetToken returns the record, active or not, or ErrNotFound.
func (s *Store) GetToken(ctx context.Context, kind storage.TokenKind, signature string) (storage.TokenRecord, error) {
	var r tokenRow
	if err := s.get(ctx, "get token", &r, `SELECT `+tokenColumns+` FROM tokens WHERE kind = ? AND signature = ?`,
		string(kind), signature); err != nil {
		return storage.TokenRecord{}, err
	}
	return storage.TokenRecord{
		Kind:        storage.TokenKind(r.Kind),
		Signature:   r.Signature,
		RequestID:   r.RequestID,
		ClientID:    r.ClientID,
		Subject:     r.Subject,
		Active:      r.Active,
		RequestedAt: fromMicros(r.RequestedAt),
		ExpiresAt:   fromMicros(r.ExpiresAt),
		Data:        fromBlob(r.Data),
	}, nil
}

// InvalidateToken marks an active record inactive with one conditional UPDATE. Exactly one
// of any number of concurrent callers changes the row and gets nil; the others get
// ErrAlreadyUsed. ErrNotFound when no such record exists.
func (s *Store) InvalidateToken(ctx context.Context, kind storage.TokenKind, signature string) error {
	const op = "invalidate token"
	n, err := s.exec(ctx, op, `UPDATE tokens SET active = false WHERE kind = ? AND signature = ? AND active`,
		string(kind), signature)
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	var exists int
	if err := s.get(ctx, op, &exists, `SELECT 1 FROM tokens WHERE kind = ? AND signature = ?`,
		string(kind), signature); err != nil {
		return err // ErrNotFound when missing
	}
	return s.fail(op, storage.ErrAlreadyUsed)
}

// DeleteToken removes the record; ErrNotFound when missing.
func (s *Store) DeleteToken(ctx context.Context, kind storage.TokenKind, signature string) error {
	return s.execOne(ctx, "delete token", `DELETE FROM tokens WHERE kind = ? AND signature = ?`,
		string(kind), signature)
}

// RevokeByRequestID marks every active record of that kind and request ID inactive and
// returns how many changed.
func (s *Store) RevokeByRequestID(ctx context.Context, kind storage.TokenKind, requestID string) (int64, error) {
	return s.exec(ctx, "revoke tokens by request ID",
		`UPDATE tokens SET active = false WHERE kind = ? AND request_id = ? AND active`,
		string(kind), requestID)
}

// DeleteExpiredTokens removes records with ExpiresAt before t; returns how many.
func (s *Store) DeleteExpiredTokens(ctx context.Context, before time.Time) (int64, error) {
	return s.exec(ctx, "delete expired tokens", `DELETE FROM tokens WHERE expires_at < ?`, micros(before))
}
