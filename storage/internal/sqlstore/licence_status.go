package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jmoiron/sqlx"

	"github.com/tongban/tongban/storage"
)

// LicenceStatusIndex returns the licence's status index, allocating MAX + 1 on first call.
// Two concurrent allocations may pick the same value (PostgreSQL, read committed); the unique
// index refuses the second, which retries. Every refusal means another allocation committed,
// so a caller loses at most once per concurrent allocator: statusIndexAttempts bounds that
// generously (five attempts were too few for eight allocations at once on a loaded machine).
func (s *Store) LicenceStatusIndex(ctx context.Context, id string) (uint64, error) {
	const op = "licence status index"
	var err error
	for attempt := 0; attempt < statusIndexAttempts; attempt++ {
		var idx sql.NullInt64
		err = s.inTx(ctx, op, func(tx *sqlx.Tx) error {
			if err := tx.GetContext(ctx, &idx, s.q(`SELECT status_idx FROM licences WHERE id = ?`), id); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return s.fail(op, storage.ErrNotFound)
				}
				return s.wrap(op, err)
			}
			if idx.Valid {
				return nil
			}
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE licences
				SET status_idx = (SELECT COALESCE(MAX(status_idx), -1) + 1 FROM licences)
				WHERE id = ? AND status_idx IS NULL`), id); err != nil {
				return s.wrap(op, err)
			}
			return s.wrap(op, tx.GetContext(ctx, &idx, s.q(`SELECT status_idx FROM licences WHERE id = ?`), id))
		})
		if err == nil {
			if !idx.Valid || idx.Int64 < 0 {
				return 0, s.fail(op, errors.New("no index allocated"))
			}
			return uint64(idx.Int64), nil
		}
		if !errors.Is(err, storage.ErrConflict) {
			return 0, err
		}
	}
	return 0, err
}

// ListLicenceStatuses returns every licence with a status index, ordered by index.
func (s *Store) ListLicenceStatuses(ctx context.Context) ([]storage.LicenceStatusEntry, error) {
	var rows []struct {
		Index  int64  `db:"status_idx"`
		Status string `db:"status"`
	}
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(`SELECT status_idx, status FROM licences
		WHERE status_idx IS NOT NULL ORDER BY status_idx`)); err != nil {
		return nil, s.wrap(opListStatuses, err)
	}
	out := make([]storage.LicenceStatusEntry, 0, len(rows))
	for _, r := range rows {
		out = append(out, storage.LicenceStatusEntry{Index: uint64(r.Index), Status: storage.LicenceStatus(r.Status)})
	}
	return out, nil
}

// statusIndexAttempts bounds LicenceStatusIndex's retries after a conflict.
const statusIndexAttempts = 64

const opListStatuses = "list licence statuses"
