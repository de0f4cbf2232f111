package wallet

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/idnumber"
	"github.com/tongban/tongban/storage"
)

// Record is a stored licence, opened for its holder or an authorised agent.
type Record struct {
	// ID is the storage ID of the licence (opaque, stable across re-imports).
	ID string
	// Licence is the licence as imported, with Status the stored status (which
	// SetStatus may have changed since the import).
	Licence credentials.Licence
	// AsAgent is set when the viewer is not the holder but an authorised agent of a business
	// licence (credentials.Licence.Agents).
	AsAgent bool
}

// Showable reports whether a code may show the licence at the service's current time (see
// credentials.Licence.CheckShowable).
func (s *Service) Showable(r Record) error { return r.Licence.CheckShowable(s.now()) }

// PutResult says what Put did.
type PutResult struct {
	ID      string
	Created bool // a new licence; false: an existing one was updated
	// KeptRevoked: the stored licence was revoked and stays revoked although the new version
	// says otherwise (revocation is final; see Put).
	KeptRevoked bool
}

// HolderIndex returns the blind index (HMAC-SM3, 32 bytes) of a holder number — resident ID
// number or unified social credit code — after idnumber's normalisation (spaces dropped,
// full-width folded, letters upper-cased). It is the key every lookup by holder uses and the
// same value the identity provider indexes persons by.
func (s *Service) HolderIndex(number string) []byte {
	return s.kr.BlindIndex(idnumber.NormalizeResidentID(number))
}

// Put validates l (credentials.Licence.Validate) and stores it: a new licence, or an update of
// the stored licence with the same kind, issuer and number (which keeps its ID). The holder
// number is sealed with aad "licence/holder" and the whole licence (fields, name, agents) with
// aad "licence/fields", each bound to the licence's kind, issuer and number; the holder is
// found by HolderIndex.
//
// Revocation is final: when the stored licence is revoked, the update is stored with status
// revoked (PutResult.KeptRevoked) — re-importing an old full dump must not bring a revoked
// licence back. Suspended licences take the status given.
//
// A licence never moves to another holder: when the stored licence has a different holder,
// Put stores nothing and returns ErrHolderChanged.
//
// Errors: Validate's errors (credentials.ErrInvalidHolder …), ErrHolderChanged, or storage and
// keyring errors.
func (s *Service) Put(ctx context.Context, l credentials.Licence, a Actor) (PutResult, error) {
	if err := l.Validate(); err != nil {
		return PutResult{}, err
	}
	l = l.Clone()
	l.Holder = idnumber.NormalizeResidentID(l.Holder)
	for i, ag := range l.Agents {
		l.Agents[i] = idnumber.NormalizeResidentID(ag)
	}
	prev, err := s.findExact(ctx, l.Kind, l.Issuer, l.Number)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return PutResult{}, err
	}
	if prev != nil && !strings.EqualFold(prev.Licence.Holder, l.Holder) {
		return PutResult{}, ErrHolderChanged
	}
	var res PutResult
	if prev != nil && prev.Licence.Status == credentials.StatusRevoked && l.Status != credentials.StatusRevoked {
		l.Status = credentials.StatusRevoked
		res.KeptRevoked = true
	}
	row, err := s.seal(l)
	if err != nil {
		return PutResult{}, err
	}
	res.ID, res.Created, err = s.store.UpsertLicence(ctx, row)
	if err != nil {
		return PutResult{}, fmt.Errorf("wallet: store licence: %w", err)
	}
	action := "licence.update"
	if res.Created {
		action = "licence.create"
	}
	s.audit(ctx, a, action, res.ID, fmt.Sprintf("kind=%s status=%s", l.Kind, l.Status))
	return res, nil
}

// ImportReport is the outcome of Import.
type ImportReport struct {
	// Stored lists the licences stored, in input order.
	Stored []ImportedLicence
	// Rejected lists the lines that were not stored, with line number and reason; nothing
	// from them was stored.
	Rejected []credentials.LineError
	// Created and Updated count Stored by outcome; KeptRevoked counts updates of revoked
	// licences that stay revoked.
	Created, Updated, KeptRevoked int
}

// ImportedLicence is one stored line of an import, without personal data.
type ImportedLicence struct {
	ID           string           `json:"id"`
	Kind         credentials.Kind `json:"kind"`
	MaskedNumber string           `json:"masked_number"`
	Created      bool             `json:"created"`
	KeptRevoked  bool             `json:"kept_revoked,omitempty"`
}

// Import reads the JSON Lines import format (credentials.ParseImport,
// docs/formats/licences.md) and stores every good line with Put. A bad line is reported in
// ImportReport.Rejected with its line number and reason, and nothing from it is stored; the
// good lines are stored whatever the bad ones. Re-importing a licence updates it.
//
// The error is non-nil only when reading r or storing fails; the report then says what was
// stored before the failure.
func (s *Service) Import(ctx context.Context, r io.Reader, a Actor) (*ImportReport, error) {
	good, bad, rerr := credentials.ParseImportLines(r)
	rep := &ImportReport{Rejected: bad}
	for _, gl := range good {
		l := gl.Licence
		res, err := s.Put(ctx, l, a)
		if errors.Is(err, ErrHolderChanged) {
			rep.Rejected = append(rep.Rejected, credentials.LineError{Line: gl.Line, Err: err})
			continue
		}
		if err != nil {
			return rep, fmt.Errorf("wallet: import %s %s: %w", l.Kind, l.MaskedNumber(), err)
		}
		rep.Stored = append(rep.Stored, ImportedLicence{
			ID: res.ID, Kind: l.Kind, MaskedNumber: l.MaskedNumber(), Created: res.Created, KeptRevoked: res.KeptRevoked,
		})
		switch {
		case res.Created:
			rep.Created++
		default:
			rep.Updated++
		}
		if res.KeptRevoked {
			rep.KeptRevoked++
		}
	}
	slices.SortStableFunc(rep.Rejected, func(a, b credentials.LineError) int { return a.Line - b.Line })
	if rerr != nil {
		return rep, fmt.Errorf("wallet: import: %w", rerr)
	}
	return rep, nil
}

// Licences returns every licence the holder of number may show (一证通办): the licences held
// by that resident ID number or credit code, then the business licences it is an authorised
// agent of; each group in the order of credentials.Kinds (resident ID card first), then by
// licence number.
func (s *Service) Licences(ctx context.Context, number string) ([]Record, error) {
	return s.LicencesByIndex(ctx, s.HolderIndex(number))
}

// LicencesByIndex is Licences for a holder known by HolderIndex (a session keeps the index,
// not the number).
func (s *Service) LicencesByIndex(ctx context.Context, index []byte) ([]Record, error) {
	rows, err := s.store.ListLicencesByHolder(ctx, index)
	if err != nil {
		return nil, fmt.Errorf("wallet: list licences: %w", err)
	}
	var own []Record
	for _, row := range rows {
		r, err := s.open(row)
		if err != nil {
			return nil, err
		}
		own = append(own, r)
	}
	rows, err = s.store.ListLicencesByAgent(ctx, index)
	if err != nil {
		return nil, fmt.Errorf("wallet: list licences by agent: %w", err)
	}
	var agent []Record
	for _, row := range rows {
		r, err := s.agentLicence(row, index)
		if errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		agent = append(agent, r)
	}
	byKind := func(a, b Record) int {
		return slices.Index(credentials.Kinds, a.Licence.Kind) - slices.Index(credentials.Kinds, b.Licence.Kind)
	}
	slices.SortStableFunc(own, byKind)
	slices.SortStableFunc(agent, byKind)
	return append(own, agent...), nil
}

// Licence returns the licence with storage ID id if the holder with index may show it, else
// ErrNotFound (also for a licence that exists but belongs to somebody else).
func (s *Service) Licence(ctx context.Context, index []byte, id string) (Record, error) {
	row, err := s.store.GetLicence(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return Record{}, ErrNotFound
	} else if err != nil {
		return Record{}, fmt.Errorf("wallet: get licence: %w", err)
	}
	if subtle.ConstantTimeCompare(row.HolderIndex, index) == 1 {
		return s.open(row)
	}
	return s.agentLicence(row, index)
}

// agentLicence opens row, a business licence, if the person with holder index may show it as
// an authorised agent, else ErrNotFound. The licence's own sealed Agents list decides;
// storage's AgentIndexes only find the candidates.
func (s *Service) agentLicence(row storage.Licence, index []byte) (Record, error) {
	if row.Kind != string(credentials.BusinessLicence) {
		return Record{}, ErrNotFound
	}
	r, err := s.open(row)
	if err != nil {
		return Record{}, err
	}
	for _, ag := range r.Licence.Agents {
		if subtle.ConstantTimeCompare(s.HolderIndex(ag), index) == 1 {
			r.AsAgent = true
			return r, nil
		}
	}
	return Record{}, ErrNotFound
}

// LicenceByID returns the licence with storage ID id whoever holds it (operators), or
// ErrNotFound.
func (s *Service) LicenceByID(ctx context.Context, id string) (Record, error) {
	row, err := s.store.GetLicence(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return Record{}, ErrNotFound
	} else if err != nil {
		return Record{}, fmt.Errorf("wallet: get licence: %w", err)
	}
	return s.open(row)
}

// Find returns the licences of kind with that licence number, from any issuer (usually one),
// ordered by issuer, or ErrNotFound. The number is matched after upper-casing (stored numbers
// are canonical: digits and upper-case letters).
func (s *Service) Find(ctx context.Context, kind credentials.Kind, number string) ([]Record, error) {
	rows, err := s.store.FindLicences(ctx, string(kind), strings.ToUpper(number))
	if err != nil {
		return nil, fmt.Errorf("wallet: find licence: %w", err)
	}
	if len(rows) == 0 {
		return nil, ErrNotFound
	}
	out := make([]Record, 0, len(rows))
	for _, row := range rows {
		r, err := s.open(row)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// findExact returns the stored licence with that kind, issuer and number, or ErrNotFound.
func (s *Service) findExact(ctx context.Context, kind credentials.Kind, issuer, number string) (*Record, error) {
	rs, err := s.Find(ctx, kind, number)
	if err != nil {
		return nil, err
	}
	for i := range rs {
		if rs[i].Licence.Issuer == issuer {
			return &rs[i], nil
		}
	}
	return nil, ErrNotFound
}

// ErrFinal: SetStatus was asked to change the status of a revoked licence.
var ErrFinal = errors.New("wallet: licence is revoked; revocation is final")

// SetStatus sets the status of the licence with storage ID id: credentials.StatusSuspended
// or StatusRevoked stop new codes at once; StatusValid restores a suspended licence. A
// revoked licence stays revoked (ErrFinal) and only its own status may be set again. Errors:
// ErrNotFound, ErrFinal, credentials.ErrUnknownStatus, storage errors.
func (s *Service) SetStatus(ctx context.Context, id string, status credentials.Status, a Actor) (Record, error) {
	if !status.Valid() {
		return Record{}, fmt.Errorf("%w: %q", credentials.ErrUnknownStatus, status)
	}
	r, err := s.LicenceByID(ctx, id)
	if err != nil {
		return Record{}, err
	}
	if r.Licence.Status == credentials.StatusRevoked && status != credentials.StatusRevoked {
		return r, ErrFinal
	}
	if err := s.store.SetLicenceStatus(ctx, id, storage.LicenceStatus(status), s.now().UTC()); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return Record{}, ErrNotFound
		}
		return Record{}, fmt.Errorf("wallet: set licence status: %w", err)
	}
	s.audit(ctx, a, "licence.status", id, fmt.Sprintf("kind=%s status=%s previous=%s", r.Licence.Kind, status, r.Licence.Status))
	r.Licence.Status = status
	return r, nil
}

// aad binds a sealed licence part to the licence's identity (kind, issuer, number).
func aad(part string, kind, issuer, number string) string {
	return "licence/" + part + "\x00" + kind + "\x00" + issuer + "\x00" + number
}

// seal turns a validated licence into its storage row.
func (s *Service) seal(l credentials.Licence) (storage.Licence, error) {
	doc, err := json.Marshal(l)
	if err != nil {
		return storage.Licence{}, fmt.Errorf("wallet: encode licence: %w", err)
	}
	kind := string(l.Kind)
	holder, err := s.kr.SealField([]byte(l.Holder), aad("holder", kind, l.Issuer, l.Number))
	if err != nil {
		return storage.Licence{}, fmt.Errorf("wallet: seal holder: %w", err)
	}
	fields, err := s.kr.SealField(doc, aad("fields", kind, l.Issuer, l.Number))
	if err != nil {
		return storage.Licence{}, fmt.Errorf("wallet: seal fields: %w", err)
	}
	row := storage.Licence{
		Kind: kind, Number: l.Number, Issuer: l.Issuer,
		HolderIndex: s.HolderIndex(l.Holder), HolderSealed: holder, FieldsSealed: fields,
		Status: storage.LicenceStatus(l.Status), ValidFrom: l.ValidFrom.Start().UTC(),
		UpdatedAt: s.now().UTC(),
	}
	for _, ag := range l.Agents {
		row.AgentIndexes = append(row.AgentIndexes, s.HolderIndex(ag))
	}
	if l.ValidUntil != nil {
		// The last instant of the last valid day (ValidUntil is inclusive).
		t := l.ValidUntil.Start().AddDate(0, 0, 1).UTC()
		row.ValidUntil = &t
	}
	return row, nil
}

// open decrypts a storage row; the stored status wins over the sealed one.
func (s *Service) open(row storage.Licence) (Record, error) {
	doc, err := s.kr.OpenField(row.FieldsSealed, aad("fields", row.Kind, row.Issuer, row.Number))
	if err != nil {
		return Record{}, fmt.Errorf("%w: licence %s: %w", ErrCorrupt, row.ID, err)
	}
	var l credentials.Licence
	if err := json.Unmarshal(doc, &l); err != nil {
		return Record{}, fmt.Errorf("%w: licence %s: %v", ErrCorrupt, row.ID, err)
	}
	if string(l.Kind) != row.Kind || l.Issuer != row.Issuer || l.Number != row.Number {
		return Record{}, fmt.Errorf("%w: licence %s does not match its row", ErrCorrupt, row.ID)
	}
	l.Status = credentials.Status(row.Status)
	return Record{ID: row.ID, Licence: l}, nil
}
