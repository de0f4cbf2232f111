package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/tongban/tongban/storage"
)

const personColumns = `id, kind, name, id_number_sealed, id_number_index, id_number_masked,
	phone_sealed, phone_index, password_hash, otp_secret_sealed, disabled, elder_mode, created_at, updated_at`

type personRow struct {
	ID              string `db:"id"`
	Kind            string `db:"kind"`
	Name            string `db:"name"`
	IDNumberSealed  []byte `db:"id_number_sealed"`
	IDNumberIndex   []byte `db:"id_number_index"`
	IDNumberMasked  string `db:"id_number_masked"`
	PhoneSealed     []byte `db:"phone_sealed"`
	PhoneIndex      []byte `db:"phone_index"`
	PasswordHash    string `db:"password_hash"`
	OTPSecretSealed []byte `db:"otp_secret_sealed"`
	Disabled        bool   `db:"disabled"`
	ElderMode       bool   `db:"elder_mode"`
	CreatedAt       int64  `db:"created_at"`
	UpdatedAt       int64  `db:"updated_at"`
}

func (r personRow) person() storage.Person {
	return storage.Person{
		ID:              r.ID,
		Kind:            storage.PersonKind(r.Kind),
		Name:            r.Name,
		IDNumberSealed:  fromBlob(r.IDNumberSealed),
		IDNumberIndex:   fromBlob(r.IDNumberIndex),
		IDNumberMasked:  r.IDNumberMasked,
		PhoneSealed:     fromBlob(r.PhoneSealed),
		PhoneIndex:      fromBlob(r.PhoneIndex),
		PasswordHash:    r.PasswordHash,
		OTPSecretSealed: fromBlob(r.OTPSecretSealed),
		Disabled:        r.Disabled,
		ElderMode:       r.ElderMode,
		CreatedAt:       fromMicros(r.CreatedAt),
		UpdatedAt:       fromMicros(r.UpdatedAt),
	}
}

// CreatePerson inserts p; ErrConflict when the ID, ID-number index or phone index exists.
func (s *Store) CreatePerson(ctx context.Context, p storage.Person) error {
	_, err := s.exec(ctx, "create person", `INSERT INTO people (`+personColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, string(p.Kind), p.Name, blob(p.IDNumberSealed), blob(p.IDNumberIndex), p.IDNumberMasked,
		blob(p.PhoneSealed), blob(p.PhoneIndex), p.PasswordHash, blob(p.OTPSecretSealed), p.Disabled, p.ElderMode,
		micros(p.CreatedAt), micros(p.UpdatedAt))
	return err
}

// GetPerson returns the person with that ID, or ErrNotFound.
func (s *Store) GetPerson(ctx context.Context, id string) (storage.Person, error) {
	return s.getPerson(ctx, "get person", `id = ?`, id)
}

// GetPersonByIDNumberIndex finds a person by the blind index of the ID number, or ErrNotFound.
func (s *Store) GetPersonByIDNumberIndex(ctx context.Context, index []byte) (storage.Person, error) {
	if len(index) == 0 {
		return storage.Person{}, s.fail("get person by ID number", storage.ErrNotFound)
	}
	return s.getPerson(ctx, "get person by ID number", `id_number_index = ?`, index)
}

// GetPersonByPhoneIndex finds a person by the blind index of the phone number, or ErrNotFound.
func (s *Store) GetPersonByPhoneIndex(ctx context.Context, index []byte) (storage.Person, error) {
	if len(index) == 0 {
		return storage.Person{}, s.fail("get person by phone", storage.ErrNotFound)
	}
	return s.getPerson(ctx, "get person by phone", `phone_index = ?`, index)
}

func (s *Store) getPerson(ctx context.Context, op, where string, arg any) (storage.Person, error) {
	var r personRow
	if err := s.get(ctx, op, &r, `SELECT `+personColumns+` FROM people WHERE `+where, arg); err != nil {
		return storage.Person{}, err
	}
	return r.person(), nil
}

// UpdatePerson reads the person, applies fn and writes the result in one transaction.
// ErrNotFound when there is no such person; fn's error is returned as is and nothing is
// written. fn must not change ID, nor call the store.
func (s *Store) UpdatePerson(ctx context.Context, id string, fn func(*storage.Person) error) error {
	const op = "update person"
	return s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		var r personRow
		err := tx.GetContext(ctx, &r, s.q(`SELECT `+personColumns+` FROM people WHERE id = ?`+s.d.ForUpdate), id)
		if errors.Is(err, sql.ErrNoRows) {
			return s.fail(op, storage.ErrNotFound)
		}
		if err != nil {
			return s.wrap(op, err)
		}
		p := r.person()
		if err := fn(&p); err != nil {
			return err
		}
		if p.ID != id {
			return fmt.Errorf("%s: %s: the update function changed the ID", s.d.Name, op)
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE people SET kind = ?, name = ?, id_number_sealed = ?,
			id_number_index = ?, id_number_masked = ?, phone_sealed = ?, phone_index = ?,
			password_hash = ?, otp_secret_sealed = ?, disabled = ?, elder_mode = ?, created_at = ?, updated_at = ?
			WHERE id = ?`),
			string(p.Kind), p.Name, blob(p.IDNumberSealed), blob(p.IDNumberIndex), p.IDNumberMasked,
			blob(p.PhoneSealed), blob(p.PhoneIndex), p.PasswordHash, blob(p.OTPSecretSealed), p.Disabled, p.ElderMode,
			micros(p.CreatedAt), micros(p.UpdatedAt), id)
		return s.wrap(op, err)
	})
}
