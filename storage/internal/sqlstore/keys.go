package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/tongban/tongban/storage"
)

const keyColumns = `id, purpose, algorithm, sealed, public, created_at, not_before, retired_at, expires_at`

type keyRow struct {
	ID        string        `db:"id"`
	Purpose   string        `db:"purpose"`
	Algorithm string        `db:"algorithm"`
	Sealed    []byte        `db:"sealed"`
	Public    []byte        `db:"public"`
	CreatedAt int64         `db:"created_at"`
	NotBefore int64         `db:"not_before"`
	RetiredAt sql.NullInt64 `db:"retired_at"`
	ExpiresAt sql.NullInt64 `db:"expires_at"`
}

func (r keyRow) key() storage.KeyRecord {
	return storage.KeyRecord{
		ID:        r.ID,
		Purpose:   storage.KeyPurpose(r.Purpose),
		Algorithm: r.Algorithm,
		Sealed:    fromBlob(r.Sealed),
		Public:    fromBlob(r.Public),
		CreatedAt: fromMicros(r.CreatedAt),
		NotBefore: fromMicros(r.NotBefore),
		RetiredAt: fromNullMicros(r.RetiredAt),
		ExpiresAt: fromNullMicros(r.ExpiresAt),
	}
}

// CreateKey inserts k; ErrConflict when the ID exists.
func (s *Store) CreateKey(ctx context.Context, k storage.KeyRecord) error {
	_, err := s.exec(ctx, "create key", `INSERT INTO keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, string(k.Purpose), k.Algorithm, blob(k.Sealed), blob(k.Public), micros(k.CreatedAt),
		micros(k.NotBefore), nullMicros(k.RetiredAt), nullMicros(k.ExpiresAt))
	return err
}

// GetKey returns the key or ErrNotFound.
func (s *Store) GetKey(ctx context.Context, id string) (storage.KeyRecord, error) {
	var r keyRow
	if err := s.get(ctx, "get key", &r, `SELECT `+keyColumns+` FROM keys WHERE id = ?`, id); err != nil {
		return storage.KeyRecord{}, err
	}
	return r.key(), nil
}

// ListKeys returns every key of the purpose, newest (CreatedAt) first, then by ID descending.
func (s *Store) ListKeys(ctx context.Context, purpose storage.KeyPurpose) ([]storage.KeyRecord, error) {
	var rows []keyRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(`SELECT `+keyColumns+` FROM keys WHERE purpose = ?
		ORDER BY created_at DESC, id DESC`), string(purpose)); err != nil {
		return nil, s.wrap("list keys", err)
	}
	out := make([]storage.KeyRecord, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.key())
	}
	return out, nil
}

// RetireKey sets RetiredAt and ExpiresAt; ErrNotFound when missing.
func (s *Store) RetireKey(ctx context.Context, id string, retiredAt, expiresAt time.Time) error {
	return s.execOne(ctx, "retire key", `UPDATE keys SET retired_at = ?, expires_at = ? WHERE id = ?`,
		micros(retiredAt), micros(expiresAt), id)
}

// RewrapKey replaces Sealed; ErrNotFound when missing.
func (s *Store) RewrapKey(ctx context.Context, id string, sealed []byte) error {
	return s.execOne(ctx, "rewrap key", `UPDATE keys SET sealed = ? WHERE id = ?`, blob(sealed), id)
}
