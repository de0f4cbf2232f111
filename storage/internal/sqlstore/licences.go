package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tongban/tongban/storage"
)

const licenceColumns = `id, kind, number, issuer, holder_index, holder_sealed, fields_sealed, status,
	valid_from, valid_until, updated_at`

type licenceRow struct {
	ID           string        `db:"id"`
	Kind         string        `db:"kind"`
	Number       string        `db:"number"`
	Issuer       string        `db:"issuer"`
	HolderIndex  []byte        `db:"holder_index"`
	HolderSealed []byte        `db:"holder_sealed"`
	FieldsSealed []byte        `db:"fields_sealed"`
	Status       string        `db:"status"`
	ValidFrom    int64         `db:"valid_from"`
	ValidUntil   sql.NullInt64 `db:"valid_until"`
	UpdatedAt    int64         `db:"updated_at"`
}

func (r licenceRow) licence() storage.Licence {
	return storage.Licence{
		ID:           r.ID,
		Kind:         r.Kind,
		Number:       r.Number,
		Issuer:       r.Issuer,
		HolderIndex:  fromBlob(r.HolderIndex),
		HolderSealed: fromBlob(r.HolderSealed),
		FieldsSealed: fromBlob(r.FieldsSealed),
		Status:       storage.LicenceStatus(r.Status),
		ValidFrom:    fromMicros(r.ValidFrom),
		ValidUntil:   fromNullMicros(r.ValidUntil),
		UpdatedAt:    fromMicros(r.UpdatedAt),
	}
}

// licenceColumnsL is licenceColumns qualified by the table alias l (for joins).
var licenceColumnsL = func() string {
	cols := strings.Split(licenceColumns, ",")
	for i, c := range cols {
		cols[i] = "l." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()

// licenceAgentRow is a licence joined with one of its agent indexes (NULL when it has none).
type licenceAgentRow struct {
	licenceRow
	AgentIndex []byte `db:"agent_index"`
}

// selectLicencesQuery selects licences with their agent indexes: one row per (licence,
// agent), or one row with a NULL agent index for a licence without agents. Callers append
// WHERE and an ORDER BY that keeps the rows of one licence together and ends with
// la.agent_index.
var selectLicencesQuery = `SELECT ` + licenceColumnsL + `, la.agent_index FROM licences l
	LEFT JOIN licence_agents la ON la.licence_id = l.id`

// foldLicences turns joined rows (those of one licence consecutive) into licences. One
// statement reads licence and agents, so they come from one snapshot.
func foldLicences(rows []licenceAgentRow) []storage.Licence {
	out := []storage.Licence{}
	for _, r := range rows {
		if n := len(out); n == 0 || out[n-1].ID != r.ID {
			out = append(out, r.licence())
		}
		if len(r.AgentIndex) > 0 {
			l := &out[len(out)-1]
			l.AgentIndexes = append(l.AgentIndexes, r.AgentIndex)
		}
	}
	return out
}

// agentSet returns the non-empty indexes of l in byte order without duplicates.
func agentSet(l [][]byte) [][]byte {
	var out [][]byte
	for _, b := range l {
		if len(b) > 0 {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, bytes.Compare)
	return slices.CompactFunc(out, bytes.Equal)
}

// UpsertLicence inserts l, or updates every field but the ID of the licence with the same
// (Kind, Issuer, Number), and replaces its agent indexes with l.AgentIndexes (empty entries
// dropped, duplicates stored once). It returns the stored ID and whether a new row was
// created. An empty l.ID gets a random one (16 bytes, base64url). ErrConflict when l.ID
// belongs to a licence with another (Kind, Issuer, Number).
//
// One transaction: INSERT … ON CONFLICT (kind, issuer, number) DO NOTHING, and when that
// inserted nothing, UPDATE … RETURNING id and DELETE of the old agents; then INSERT of the
// agents. A concurrent insert of the same licence makes the INSERT wait for it and then do
// nothing (PostgreSQL; SQLite transactions take the write lock at BEGIN), so exactly one
// caller sees created; no licence is ever deleted, so the UPDATE always finds the row.
func (s *Store) UpsertLicence(ctx context.Context, l storage.Licence) (string, bool, error) {
	const op = "upsert licence"
	if l.ID == "" {
		l.ID = randomID()
	}
	agents := agentSet(l.AgentIndexes)
	var id string
	var created bool
	err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO licences (`+licenceColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (kind, issuer, number) DO NOTHING`),
			l.ID, l.Kind, l.Number, l.Issuer, blob(l.HolderIndex), blob(l.HolderSealed), blob(l.FieldsSealed),
			string(l.Status), micros(l.ValidFrom), nullMicros(l.ValidUntil), micros(l.UpdatedAt))
		if err != nil {
			return s.wrap(op, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return s.wrap(op, err)
		}
		if n == 1 {
			id, created = l.ID, true
		} else {
			err = tx.GetContext(ctx, &id, s.q(`UPDATE licences SET holder_index = ?, holder_sealed = ?,
				fields_sealed = ?, status = ?, valid_from = ?, valid_until = ?, updated_at = ?
				WHERE kind = ? AND issuer = ? AND number = ? RETURNING id`),
				blob(l.HolderIndex), blob(l.HolderSealed), blob(l.FieldsSealed), string(l.Status),
				micros(l.ValidFrom), nullMicros(l.ValidUntil), micros(l.UpdatedAt), l.Kind, l.Issuer, l.Number)
			if err != nil {
				return s.wrap(op, err) // sql.ErrNoRows only if a row vanished in between
			}
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM licence_agents WHERE licence_id = ?`), id); err != nil {
				return s.wrap(op, err)
			}
		}
		for _, a := range agents {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO licence_agents (licence_id, agent_index) VALUES (?, ?)`),
				id, a); err != nil {
				return s.wrap(op, err)
			}
		}
		return nil
	})
	if err != nil {
		return "", false, err
	}
	return id, created, nil
}

// GetLicence returns the licence or ErrNotFound.
func (s *Store) GetLicence(ctx context.Context, id string) (storage.Licence, error) {
	ls, err := s.selectLicences(ctx, "get licence", `WHERE l.id = ? ORDER BY la.agent_index`, id)
	if err != nil {
		return storage.Licence{}, err
	}
	if len(ls) == 0 {
		return storage.Licence{}, s.fail("get licence", storage.ErrNotFound)
	}
	return ls[0], nil
}

// FindLicences returns the licences of kind with exactly that number, ordered by Issuer then
// ID. No match is an empty list.
func (s *Store) FindLicences(ctx context.Context, kind, number string) ([]storage.Licence, error) {
	return s.selectLicences(ctx, "find licences", `WHERE l.kind = ? AND l.number = ?
		ORDER BY l.issuer, l.id, la.agent_index`, kind, number)
}

// ListLicencesByHolder returns every licence of a holder ordered by Kind, then Number (byte
// order), then Issuer and ID. No licence is an empty list, not an error.
func (s *Store) ListLicencesByHolder(ctx context.Context, holderIndex []byte) ([]storage.Licence, error) {
	if len(holderIndex) == 0 {
		return []storage.Licence{}, nil
	}
	return s.selectLicences(ctx, "list licences by holder", `WHERE l.holder_index = ?
		ORDER BY l.kind, l.number, l.issuer, l.id, la.agent_index`, holderIndex)
}

// ListLicencesByAgent returns every licence agentIndex is an agent of, ordered like
// ListLicencesByHolder. No licence is an empty list, not an error.
func (s *Store) ListLicencesByAgent(ctx context.Context, agentIndex []byte) ([]storage.Licence, error) {
	if len(agentIndex) == 0 {
		return []storage.Licence{}, nil
	}
	return s.selectLicences(ctx, "list licences by agent", `WHERE l.id IN
		(SELECT licence_id FROM licence_agents WHERE agent_index = ?)
		ORDER BY l.kind, l.number, l.issuer, l.id, la.agent_index`, agentIndex)
}

// selectLicences runs selectLicencesQuery with the given tail on the read pool.
func (s *Store) selectLicences(ctx context.Context, op, tail string, args ...any) ([]storage.Licence, error) {
	var rows []licenceAgentRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(selectLicencesQuery+"\n\t"+tail), args...); err != nil {
		return nil, s.wrap(op, err)
	}
	return foldLicences(rows), nil
}

// SetLicenceStatus changes the status and sets UpdatedAt to at; ErrNotFound when missing.
func (s *Store) SetLicenceStatus(ctx context.Context, id string, status storage.LicenceStatus, at time.Time) error {
	return s.execOne(ctx, "set licence status", `UPDATE licences SET status = ?, updated_at = ? WHERE id = ?`,
		string(status), micros(at), id)
}
