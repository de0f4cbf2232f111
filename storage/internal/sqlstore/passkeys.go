package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/tongban/tongban/storage"
)

// EnsurePasskeyUserHandle stores handle as the person's WebAuthn user handle unless the person
// has one (INSERT … ON CONFLICT (person_id) DO NOTHING), then returns the stored one.
// ErrNotFound when the person is missing (foreign key); ErrConflict when handle is another
// person's.
func (s *Store) EnsurePasskeyUserHandle(ctx context.Context, personID string, handle []byte) ([]byte, error) {
	const op = "ensure passkey user handle"
	if len(handle) == 0 {
		return nil, fmt.Errorf("%s: %s: empty user handle", s.d.Name, op)
	}
	var stored []byte
	err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO passkey_user_handles (person_id, handle) VALUES (?, ?)
			ON CONFLICT (person_id) DO NOTHING`), personID, handle); err != nil {
			return s.wrap(op, err)
		}
		return s.wrap(op, tx.GetContext(ctx, &stored, s.q(`SELECT handle FROM passkey_user_handles WHERE person_id = ?`), personID))
	})
	return stored, err
}

// PersonByPasskeyUserHandle returns the ID of the person with that user handle, or ErrNotFound.
func (s *Store) PersonByPasskeyUserHandle(ctx context.Context, handle []byte) (string, error) {
	const op = "person by passkey user handle"
	if len(handle) == 0 {
		return "", s.fail(op, storage.ErrNotFound)
	}
	var id string
	if err := s.get(ctx, op, &id, `SELECT person_id FROM passkey_user_handles WHERE handle = ?`, handle); err != nil {
		return "", err
	}
	return id, nil
}

const passkeyColumns = `credential_id, person_id, public_key, sign_count, aaguid, attestation_type,
	attestation_format, transports, user_verified, backup_eligible, backup_state, clone_warning, name,
	created_at, last_used_at`

type passkeyRow struct {
	CredentialID      []byte        `db:"credential_id"`
	PersonID          string        `db:"person_id"`
	PublicKey         []byte        `db:"public_key"`
	SignCount         int64         `db:"sign_count"`
	AAGUID            []byte        `db:"aaguid"`
	AttestationType   string        `db:"attestation_type"`
	AttestationFormat string        `db:"attestation_format"`
	Transports        string        `db:"transports"`
	UserVerified      bool          `db:"user_verified"`
	BackupEligible    bool          `db:"backup_eligible"`
	BackupState       bool          `db:"backup_state"`
	CloneWarning      bool          `db:"clone_warning"`
	Name              string        `db:"name"`
	CreatedAt         int64         `db:"created_at"`
	LastUsedAt        sql.NullInt64 `db:"last_used_at"`
}

func (r passkeyRow) passkey() (storage.Passkey, error) {
	tr, err := fromList(r.Transports)
	if err != nil {
		return storage.Passkey{}, err
	}
	if r.SignCount < 0 || r.SignCount > 1<<32-1 {
		return storage.Passkey{}, fmt.Errorf("sign count %d out of range", r.SignCount)
	}
	return storage.Passkey{
		CredentialID:      r.CredentialID,
		PersonID:          r.PersonID,
		PublicKey:         r.PublicKey,
		SignCount:         uint32(r.SignCount),
		AAGUID:            fromBlob(r.AAGUID),
		AttestationType:   r.AttestationType,
		AttestationFormat: r.AttestationFormat,
		Transports:        tr,
		UserVerified:      r.UserVerified,
		BackupEligible:    r.BackupEligible,
		BackupState:       r.BackupState,
		CloneWarning:      r.CloneWarning,
		Name:              r.Name,
		CreatedAt:         fromMicros(r.CreatedAt),
		LastUsedAt:        fromNullMicros(r.LastUsedAt),
	}, nil
}

// CreatePasskey inserts pk; ErrConflict when the credential ID exists, ErrNotFound when the
// person does not.
func (s *Store) CreatePasskey(ctx context.Context, pk storage.Passkey) error {
	const op = "create passkey"
	if len(pk.CredentialID) == 0 || len(pk.PublicKey) == 0 {
		return fmt.Errorf("%s: %s: empty credential ID or public key", s.d.Name, op)
	}
	_, err := s.exec(ctx, op, `INSERT INTO passkeys (`+passkeyColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		pk.CredentialID, pk.PersonID, pk.PublicKey, int64(pk.SignCount), blob(pk.AAGUID), pk.AttestationType,
		pk.AttestationFormat, list(pk.Transports), pk.UserVerified, pk.BackupEligible, pk.BackupState,
		pk.CloneWarning, pk.Name, micros(pk.CreatedAt), nullMicros(pk.LastUsedAt))
	return err
}

// GetPasskey returns the passkey with that credential ID, or ErrNotFound.
func (s *Store) GetPasskey(ctx context.Context, credentialID []byte) (storage.Passkey, error) {
	const op = "get passkey"
	if len(credentialID) == 0 {
		return storage.Passkey{}, s.fail(op, storage.ErrNotFound)
	}
	var r passkeyRow
	if err := s.get(ctx, op, &r, `SELECT `+passkeyColumns+` FROM passkeys WHERE credential_id = ?`, credentialID); err != nil {
		return storage.Passkey{}, err
	}
	pk, err := r.passkey()
	if err != nil {
		return storage.Passkey{}, s.wrap(op, err)
	}
	return pk, nil
}

// ListPasskeys returns the person's passkeys ordered by creation time, then credential ID.
func (s *Store) ListPasskeys(ctx context.Context, personID string) ([]storage.Passkey, error) {
	const op = "list passkeys"
	var rows []passkeyRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(`SELECT `+passkeyColumns+` FROM passkeys
		WHERE person_id = ? ORDER BY created_at, credential_id`), personID); err != nil {
		return nil, s.wrap(op, err)
	}
	out := make([]storage.Passkey, 0, len(rows))
	for _, r := range rows {
		pk, err := r.passkey()
		if err != nil {
			return nil, s.wrap(op, err)
		}
		out = append(out, pk)
	}
	return out, nil
}

// UpdatePasskey reads the passkey (locking its row: FOR UPDATE on PostgreSQL, the write lock
// on SQLite), applies fn and writes the result in one transaction.
func (s *Store) UpdatePasskey(ctx context.Context, personID string, credentialID []byte, fn func(*storage.Passkey) error) error {
	const op = "update passkey"
	return s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		var r passkeyRow
		err := tx.GetContext(ctx, &r, s.q(`SELECT `+passkeyColumns+` FROM passkeys
			WHERE credential_id = ? AND person_id = ?`+s.d.ForUpdate), credentialID, personID)
		if errors.Is(err, sql.ErrNoRows) {
			return s.fail(op, storage.ErrNotFound)
		}
		if err != nil {
			return s.wrap(op, err)
		}
		pk, err := r.passkey()
		if err != nil {
			return s.wrap(op, err)
		}
		if err := fn(&pk); err != nil {
			return err
		}
		if string(pk.CredentialID) != string(credentialID) || pk.PersonID != personID {
			return fmt.Errorf("%s: %s: the update function changed the credential ID or person", s.d.Name, op)
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE passkeys SET public_key = ?, sign_count = ?, aaguid = ?,
			attestation_type = ?, attestation_format = ?, transports = ?, user_verified = ?, backup_eligible = ?,
			backup_state = ?, clone_warning = ?, name = ?, created_at = ?, last_used_at = ?
			WHERE credential_id = ?`),
			pk.PublicKey, int64(pk.SignCount), blob(pk.AAGUID), pk.AttestationType, pk.AttestationFormat,
			list(pk.Transports), pk.UserVerified, pk.BackupEligible, pk.BackupState, pk.CloneWarning, pk.Name,
			micros(pk.CreatedAt), nullMicros(pk.LastUsedAt), credentialID)
		return s.wrap(op, err)
	})
}

// DeletePasskey removes the person's passkey; ErrNotFound when there is none.
func (s *Store) DeletePasskey(ctx context.Context, personID string, credentialID []byte) error {
	return s.execOne(ctx, "delete passkey", `DELETE FROM passkeys WHERE credential_id = ? AND person_id = ?`,
		credentialID, personID)
}
