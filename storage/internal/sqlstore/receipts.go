package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tongban/tongban/storage"
)

// maxReceiptCTIs bounds the ctis of one ListCodeReceipts call.
const maxReceiptCTIs = 1000

const codeRecordColumns = `cti, holder_index, kinds, profile, issued_at, expires_at`

type codeRecordRow struct {
	CTI         []byte `db:"cti"`
	HolderIndex []byte `db:"holder_index"`
	Kinds       string `db:"kinds"`
	Profile     int    `db:"profile"`
	IssuedAt    int64  `db:"issued_at"`
	ExpiresAt   int64  `db:"expires_at"`
}

// RecordCode implements storage.CodeRecords: one INSERT.
func (s *Store) RecordCode(ctx context.Context, r storage.CodeRecord) error {
	if len(r.CTI) == 0 || len(r.HolderIndex) == 0 {
		return s.wrap("record code", errors.New("cti and holder index are required"))
	}
	_, err := s.exec(ctx, "record code", `INSERT INTO code_records (`+codeRecordColumns+`) VALUES (?, ?, ?, ?, ?, ?)`, r.CTI, r.HolderIndex, list(r.Kinds), r.Profile, micros(r.IssuedAt), micros(r.ExpiresAt))
	return err
}

// ListCodeRecords implements storage.CodeRecords.
func (s *Store) ListCodeRecords(ctx context.Context, holderIndex []byte, since, until time.Time, limit int) ([]storage.CodeRecord, error) {
	const op = "list code records"
	if limit <= 0 {
		return nil, s.wrap(op, fmt.Errorf("limit %d: want > 0", limit))
	}
	q := `SELECT ` + codeRecordColumns + ` FROM code_records WHERE holder_index = ?`
	args := []any{holderIndex}
	if !since.IsZero() {
		q += ` AND issued_at >= ?`
		args = append(args, micros(since))
	}
	if !until.IsZero() {
		q += ` AND issued_at < ?`
		args = append(args, micros(until))
	}
	q += ` ORDER BY issued_at DESC, cti DESC LIMIT ?`
	args = append(args, limit)
	var rows []codeRecordRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(q), args...); err != nil {
		return nil, s.wrap(op, err)
	}
	out := make([]storage.CodeRecord, 0, len(rows))
	for _, r := range rows {
		rec, err := r.record(s, op)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// GetCodeRecord implements storage.CodeRecords.
func (s *Store) GetCodeRecord(ctx context.Context, cti []byte) (storage.CodeRecord, error) {
	const op = "get code record"
	var r codeRecordRow
	if err := s.get(ctx, op, &r, `SELECT `+codeRecordColumns+` FROM code_records WHERE cti = ?`, cti); err != nil {
		return storage.CodeRecord{}, err
	}
	return r.record(s, op)
}

func (r codeRecordRow) record(s *Store, op string) (storage.CodeRecord, error) {
	kinds, err := fromList(r.Kinds)
	if err != nil {
		return storage.CodeRecord{}, s.wrap(op, err)
	}
	return storage.CodeRecord{CTI: r.CTI, HolderIndex: r.HolderIndex, Kinds: kinds, Profile: r.Profile,
		IssuedAt: fromMicros(r.IssuedAt), ExpiresAt: fromMicros(r.ExpiresAt)}, nil
}

// AddCodeReceipt implements storage.CodeRecords: one INSERT that ignores a duplicate; the
// foreign keys refuse an unknown code or counter (ErrNotFound).
func (s *Store) AddCodeReceipt(ctx context.Context, rc storage.CodeReceipt) error {
	_, err := s.exec(ctx, "add code receipt", `INSERT INTO code_receipts (cti, counter_id, verified_at, received_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (cti, counter_id) DO NOTHING`,
		rc.CTI, rc.CounterID, micros(rc.VerifiedAt), micros(rc.ReceivedAt))
	return err
}

type codeReceiptRow struct {
	CTI        []byte `db:"cti"`
	CounterID  string `db:"counter_id"`
	VerifiedAt int64  `db:"verified_at"`
	ReceivedAt int64  `db:"received_at"`
}

// ListCodeReceipts implements storage.CodeRecords.
func (s *Store) ListCodeReceipts(ctx context.Context, ctis [][]byte) ([]storage.CodeReceipt, error) {
	const op = "list code receipts"
	out := []storage.CodeReceipt{}
	if len(ctis) == 0 {
		return out, nil
	}
	if len(ctis) > maxReceiptCTIs {
		return nil, s.wrap(op, fmt.Errorf("%d ctis: at most %d", len(ctis), maxReceiptCTIs))
	}
	args := make([]any, len(ctis))
	for i, c := range ctis {
		args[i] = c
	}
	q := `SELECT cti, counter_id, verified_at, received_at FROM code_receipts WHERE cti IN (?` +
		strings.Repeat(`, ?`, len(ctis)-1) + `) ORDER BY cti, verified_at, counter_id`
	var rows []codeReceiptRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(q), args...); err != nil {
		return nil, s.wrap(op, err)
	}
	for _, r := range rows {
		out = append(out, storage.CodeReceipt{CTI: r.CTI, CounterID: r.CounterID,
			VerifiedAt: fromMicros(r.VerifiedAt), ReceivedAt: fromMicros(r.ReceivedAt)})
	}
	return out, nil
}

// DeleteCodeRecordsBefore implements storage.CodeRecords; the receipts go by ON DELETE
// CASCADE.
func (s *Store) DeleteCodeRecordsBefore(ctx context.Context, before time.Time) (int64, error) {
	return s.exec(ctx, "delete code records", `DELETE FROM code_records WHERE issued_at < ?`, micros(before))
}

const counterColumns = `id, name, office, enrolment_hash, enrolment_expires_at, key_id, public_key, created_at,
	enrolled_at, disabled_at`

type counterRow struct {
	ID                 string         `db:"id"`
	Name               string         `db:"name"`
	Office             string         `db:"office"`
	EnrolmentHash      []byte         `db:"enrolment_hash"`
	EnrolmentExpiresAt int64          `db:"enrolment_expires_at"`
	KeyID              sql.NullString `db:"key_id"`
	PublicKey          []byte         `db:"public_key"`
	CreatedAt          int64          `db:"created_at"`
	EnrolledAt         sql.NullInt64  `db:"enrolled_at"`
	DisabledAt         sql.NullInt64  `db:"disabled_at"`
}

func (r counterRow) counter() storage.Counter {
	return storage.Counter{
		ID: r.ID, Name: r.Name, Office: r.Office, EnrolmentHash: fromBlob(r.EnrolmentHash),
		EnrolmentExpiresAt: fromMicros(r.EnrolmentExpiresAt), KeyID: r.KeyID.String, PublicKey: fromBlob(r.PublicKey),
		CreatedAt: fromMicros(r.CreatedAt), EnrolledAt: fromNullMicros(r.EnrolledAt), DisabledAt: fromNullMicros(r.DisabledAt),
	}
}

// CreateCounter implements storage.Counters.
func (s *Store) CreateCounter(ctx context.Context, c storage.Counter) error {
	const op = "create counter"
	if c.ID == "" || len(c.EnrolmentHash) == 0 {
		return s.wrap(op, errors.New("ID and enrolment hash are required"))
	}
	var kid sql.NullString
	if c.KeyID != "" {
		kid = sql.NullString{String: c.KeyID, Valid: true}
	}
	_, err := s.exec(ctx, op, `INSERT INTO counters (`+counterColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Name, c.Office, c.EnrolmentHash, micros(c.EnrolmentExpiresAt), kid, blob(c.PublicKey),
		micros(c.CreatedAt), nullMicros(c.EnrolledAt), nullMicros(c.DisabledAt))
	return err
}

// GetCounter implements storage.Counters.
func (s *Store) GetCounter(ctx context.Context, id string) (storage.Counter, error) {
	var r counterRow
	if err := s.get(ctx, "get counter", &r, `SELECT `+counterColumns+` FROM counters WHERE id = ?`, id); err != nil {
		return storage.Counter{}, err
	}
	return r.counter(), nil
}

// GetCounterByKeyID implements storage.Counters.
func (s *Store) GetCounterByKeyID(ctx context.Context, keyID string) (storage.Counter, error) {
	var r counterRow
	if err := s.get(ctx, "get counter by key", &r, `SELECT `+counterColumns+` FROM counters WHERE key_id = ?`, keyID); err != nil {
		return storage.Counter{}, err
	}
	return r.counter(), nil
}

// ListCounters implements storage.Counters.
func (s *Store) ListCounters(ctx context.Context) ([]storage.Counter, error) {
	var rows []counterRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(`SELECT `+counterColumns+` FROM counters ORDER BY created_at, id`)); err != nil {
		return nil, s.wrap("list counters", err)
	}
	out := make([]storage.Counter, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.counter())
	}
	return out, nil
}

// EnrolCounter implements storage.Counters: one conditional UPDATE; when it changes no row, a
// read of the counter says why.
func (s *Store) EnrolCounter(ctx context.Context, enrolmentHash []byte, keyID string, publicKey []byte, now time.Time) (storage.Counter, error) {
	const op = "enrol counter"
	if len(enrolmentHash) == 0 || keyID == "" || len(publicKey) == 0 {
		return storage.Counter{}, s.wrap(op, errors.New("enrolment hash, key ID and public key are required"))
	}
	n, err := s.exec(ctx, op, `UPDATE counters SET key_id = ?, public_key = ?, enrolled_at = ?
		WHERE enrolment_hash = ? AND enrolled_at IS NULL AND disabled_at IS NULL AND enrolment_expires_at > ?`,
		keyID, publicKey, micros(now), enrolmentHash, micros(now))
	if err != nil {
		return storage.Counter{}, err
	}
	var r counterRow
	if err := s.get(ctx, op, &r, `SELECT `+counterColumns+` FROM counters WHERE enrolment_hash = ?`, enrolmentHash); err != nil {
		return storage.Counter{}, err
	}
	c := r.counter()
	switch {
	case n == 1:
		return c, nil
	case c.DisabledAt != nil:
		return storage.Counter{}, s.fail(op, storage.ErrNotFound)
	case c.EnrolledAt != nil:
		return storage.Counter{}, s.fail(op, storage.ErrAlreadyUsed)
	default:
		return storage.Counter{}, s.fail(op, storage.ErrExpired)
	}
}

// DisableCounter implements storage.Counters.
func (s *Store) DisableCounter(ctx context.Context, id string, now time.Time) error {
	const op = "disable counter"
	n, err := s.exec(ctx, op, `UPDATE counters SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL`, micros(now), id)
	if err != nil || n == 1 {
		return err
	}
	if _, err := s.GetCounter(ctx, id); err != nil {
		return err
	}
	return nil
}
