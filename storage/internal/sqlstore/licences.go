package sqlstore

import (
	"context"
	"database/sql"
	"time"

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

// UpsertLicence inserts l, or updates every field but the ID of the licence with the same
// (Kind, Issuer, Number). It returns the stored ID and whether a new row was created. An empty
// l.ID gets a random one (16 bytes, base64url). ErrConflict when l.ID belongs to a licence with
// another (Kind, Issuer, Number).
//
// Two statements, no transaction: INSERT … ON CONFLICT (kind, issuer, number) DO NOTHING, and
// when that inserted nothing, UPDATE … RETURNING id. A concurrent insert of the same licence
// makes the INSERT wait for it and then do nothing, so exactly one caller sees created; no
// licence is ever deleted, so the UPDATE always finds the row.
func (s *Store) UpsertLicence(ctx context.Context, l storage.Licence) (string, bool, error) {
	const op = "upsert licence"
	if l.ID == "" {
		l.ID = randomID()
	}
	n, err := s.exec(ctx, op, `INSERT INTO licences (`+licenceColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (kind, issuer, number) DO NOTHING`,
		l.ID, l.Kind, l.Number, l.Issuer, blob(l.HolderIndex), blob(l.HolderSealed), blob(l.FieldsSealed),
		string(l.Status), micros(l.ValidFrom), nullMicros(l.ValidUntil), micros(l.UpdatedAt))
	if err != nil {
		return "", false, err
	}
	if n == 1 {
		return l.ID, true, nil
	}
	var id string
	err = s.w.GetContext(ctx, &id, s.q(`UPDATE licences SET holder_index = ?, holder_sealed = ?,
		fields_sealed = ?, status = ?, valid_from = ?, valid_until = ?, updated_at = ?
		WHERE kind = ? AND issuer = ? AND number = ? RETURNING id`),
		blob(l.HolderIndex), blob(l.HolderSealed), blob(l.FieldsSealed), string(l.Status),
		micros(l.ValidFrom), nullMicros(l.ValidUntil), micros(l.UpdatedAt), l.Kind, l.Issuer, l.Number)
	if err != nil {
		return "", false, s.wrap(op, err) // sql.ErrNoRows only if a row vanished in between
	}
	return id, false, nil
}

// GetLicence returns the licence or ErrNotFound.
func (s *Store) GetLicence(ctx context.Context, id string) (storage.Licence, error) {
	var r licenceRow
	if err := s.get(ctx, "get licence", &r, `SELECT `+licenceColumns+` FROM licences WHERE id = ?`, id); err != nil {
		return storage.Licence{}, err
	}
	return r.licence(), nil
}

// ListLicencesByHolder returns every licence of a holder ordered by Kind, then Number (byte
// order), then Issuer and ID. No licence is an empty list, not an error.
func (s *Store) ListLicencesByHolder(ctx context.Context, holderIndex []byte) ([]storage.Licence, error) {
	out := []storage.Licence{}
	if len(holderIndex) == 0 {
		return out, nil
	}
	var rows []licenceRow
	if err := s.r.SelectContext(ctx, &rows, s.q(`SELECT `+licenceColumns+` FROM licences
		WHERE holder_index = ? ORDER BY kind, number, issuer, id`), holderIndex); err != nil {
		return nil, s.wrap("list licences by holder", err)
	}
	for _, r := range rows {
		out = append(out, r.licence())
	}
	return out, nil
}

// SetLicenceStatus changes the status and sets UpdatedAt to at; ErrNotFound when missing.
func (s *Store) SetLicenceStatus(ctx context.Context, id string, status storage.LicenceStatus, at time.Time) error {
	return s.execOne(ctx, "set licence status", `UPDATE licences SET status = ?, updated_at = ? WHERE id = ?`,
		string(status), micros(at), id)
}
