package sqlstore

import (
	"context"
	"time"

	"github.com/tongban/tongban/storage"
)

// UseNonce records (namespace, value) until expiresAt with one
// INSERT … ON CONFLICT DO NOTHING: the first call inserts the row and returns nil; every
// later call finds it and returns ErrAlreadyUsed, until PurgeNonces removes it.
//
// An expired nonce that has not been purged yet still counts as used. Storage has no clock of
// its own (callers inject theirs), so "expired" would have to be judged against the database
// clock, which tests with a fixed clock could not control; failing closed until the purge is
// the simpler rule, and a value whose validity has ended is refused by its own expiry check
// anyway. Callers whose values legitimately repeat (one-time codes) put the time step into
// the value or namespace.
func (s *Store) UseNonce(ctx context.Context, namespace, value string, expiresAt time.Time) error {
	const op = "use nonce"
	n, err := s.exec(ctx, op, `INSERT INTO nonces (namespace, value, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (namespace, value) DO NOTHING`, namespace, value, micros(expiresAt))
	if err != nil {
		return err
	}
	if n == 0 {
		return s.fail(op, storage.ErrAlreadyUsed)
	}
	return nil
}

// PurgeNonces deletes nonces whose expiry is before t; returns how many.
func (s *Store) PurgeNonces(ctx context.Context, before time.Time) (int64, error) {
	return s.exec(ctx, "purge nonces", `DELETE FROM nonces WHERE expires_at < ?`, micros(before))
}
