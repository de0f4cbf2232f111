package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/idnumber"
	"github.com/tongban/tongban/internal/textcheck"
	"github.com/tongban/tongban/storage"
)

// Corrections (纠错): a person asks for a field of their own records to be corrected — the
// name or mobile number of their person record, or a field of one of their licences
// (电子证照) — with a reason; an operator who checked the papers applies or rejects it. The
// proposed value is sealed (SM4-GCM, keyring.SealField, additional data
// "correction/<ID>/proposed"); the current value is kept only masked.

// Correction targets.
const (
	// CorrectionTargetPerson is the target of corrections of the person record: fields
	// CorrectionFieldName and CorrectionFieldPhone.
	CorrectionTargetPerson = "person"
	// CorrectionTargetLicence prefixes the storage ID of a licence of the person:
	// "licence:<licence ID>"; the field is one of the licence kind's fields
	// (credentials.FieldSpecs).
	CorrectionTargetLicence = "licence:"

	CorrectionFieldName  = "name"  // the registered name, rules as CreatePerson
	CorrectionFieldPhone = "phone" // the mobile number, rules as CreatePerson; re-indexed when applied
)

// Limits of corrections.
const (
	// MaxPendingCorrections is how many pending corrections one person may have at a time.
	MaxPendingCorrections = 5
	// DefaultCorrectionPage and MaxCorrectionPage are ListCorrections' default and largest
	// page size.
	DefaultCorrectionPage = 50
	MaxCorrectionPage     = 500
)

// Errors of corrections.
var (
	// ErrCorrectionTarget: the target is neither "person" nor "licence:<ID>" of a licence of
	// the person, or licence corrections are off (Config.Licences nil).
	ErrCorrectionTarget = errors.New("accounts: unknown correction target")
	// ErrCorrectionField: the field does not exist for the target.
	ErrCorrectionField = errors.New("accounts: unknown correction field")
	// ErrCorrectionValue: the proposed value breaks the field's rules (the wrapped error says
	// which: ErrInvalidName, ErrInvalidPhone, or the licence field's rule), or equals the
	// current value.
	ErrCorrectionValue = errors.New("accounts: invalid proposed value")
	// ErrTooManyCorrections: the person has MaxPendingCorrections pending corrections already.
	ErrTooManyCorrections = errors.New("accounts: too many pending corrections")
	// ErrCorrectionPending: the person has a pending correction of the same field already
	// (one at a time per field, so that an operator never applies two in a row).
	ErrCorrectionPending = errors.New("accounts: a correction of this field is pending")
	// ErrCorrectionNotFound: no correction with that ID.
	ErrCorrectionNotFound = errors.New("accounts: no such correction")
	// ErrCorrectionDecided: the correction was applied or rejected already.
	ErrCorrectionDecided = errors.New("accounts: correction decided already")
)

// LicenceFields reads and changes single fields of stored licences (电子证照) for corrections.
// Package wallet's *Service implements it (wallet/corrections.go). holder is the person's
// resident ID number or unified social credit code, in clear: an implementation answers only
// for a licence that holder holds.
type LicenceFields interface {
	// LicenceField returns the value of field of licence licenceID ("" when the field is not
	// set). Errors: one wrapping storage.ErrNotFound when there is no such licence of holder; one
	// wrapping credentials.ErrUnknownField when the licence's kind has no such field.
	LicenceField(ctx context.Context, holder, licenceID, field string) (string, error)
	// CheckLicenceField checks value for field of that licence with the rules of licence
	// import (credentials.Licence.Validate). Errors as LicenceField, and Validate's
	// (credentials.ErrInvalidField …) when value breaks a rule.
	CheckLicenceField(ctx context.Context, holder, licenceID, field, value string) error
	// SetLicenceField sets field of that licence to value (checked again) and stores it.
	// Errors as CheckLicenceField.
	SetLicenceField(ctx context.Context, holder, licenceID, field, value string) error
}

// CorrectionRequest is what a person files.
type CorrectionRequest struct {
	// Target is CorrectionTargetPerson or CorrectionTargetLicence followed by a licence ID.
	Target string
	// Field is the field to correct (CorrectionFieldName, CorrectionFieldPhone, or a
	// licence field name).
	Field string
	// Value is the proposed value.
	Value string
	// Reason is the person's explanation, 1 to MaxReasonLength characters.
	Reason string
}

// correctionAAD is the additional data of a correction's sealed proposed value.
func correctionAAD(id string) string { return "correction/" + id + "/proposed" }

// checkName applies CreatePerson's rules to a name and returns it trimmed.
// (textcheck.Name: 1 to 64 characters, no control, format or filler characters, no stacks of
// combining marks, which would let a name reverse or hide the text around it).
func checkName(name string) (string, error) {
	name, err := textcheck.Name(name, 64)
	if err != nil {
		return "", fmt.Errorf("%w: must be 1 to 64 printable characters (%v)", ErrInvalidName, err)
	}
	return name, nil
}

// maskText masks a licence field value for display: its first and last characters stay when
// it has more than 4, else all are starred.
func maskText(v string) string {
	r := []rune(v)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	return string(r[0]) + strings.Repeat("*", min(len(r)-2, 8)) + string(r[len(r)-1])
}

// licenceTarget returns the licence ID of a "licence:<ID>" target.
func licenceTarget(target string) (string, bool) {
	id, ok := strings.CutPrefix(target, CorrectionTargetLicence)
	return id, ok && id != ""
}

// correctionValue validates req's field and value for person p and returns the canonical
// proposed value and the masked current one.
func (s *Service) correctionValue(ctx context.Context, p storage.Person, req CorrectionRequest) (proposed, currentMasked string, err error) {
	if req.Target == CorrectionTargetPerson {
		switch req.Field {
		case CorrectionFieldName:
			v, err := checkName(req.Value)
			if err != nil {
				return "", "", fmt.Errorf("%w: %w", ErrCorrectionValue, err)
			}
			if v == p.Name {
				return "", "", fmt.Errorf("%w: same as the current name", ErrCorrectionValue)
			}
			return v, idnumber.MaskName(p.Name), nil
		case CorrectionFieldPhone:
			v, ok := normalizePhone(strings.TrimSpace(req.Value))
			if !ok {
				return "", "", fmt.Errorf("%w: %w: want 11 digits starting with 1, optionally prefixed by +86", ErrCorrectionValue, ErrInvalidPhone)
			}
			cur, err := s.PhoneNumber(p)
			if err != nil {
				return "", "", err
			}
			if v == cur {
				return "", "", fmt.Errorf("%w: same as the current mobile number", ErrCorrectionValue)
			}
			return v, MaskPhone(cur), nil
		}
		return "", "", fmt.Errorf("%w: %q (a person record has %q and %q)", ErrCorrectionField, req.Field, CorrectionFieldName, CorrectionFieldPhone)
	}
	id, ok := licenceTarget(req.Target)
	if !ok || s.cfg.Licences == nil {
		return "", "", fmt.Errorf("%w: %q", ErrCorrectionTarget, req.Target)
	}
	holder, err := s.IDNumber(p)
	if err != nil {
		return "", "", err
	}
	cur, err := s.cfg.Licences.LicenceField(ctx, holder, id, req.Field)
	if err != nil {
		return "", "", licenceErr(id, err)
	}
	v := strings.TrimSpace(req.Value)
	if err := s.cfg.Licences.CheckLicenceField(ctx, holder, id, req.Field, v); err != nil {
		return "", "", licenceErr(id, err)
	}
	if v == cur {
		return "", "", fmt.Errorf("%w: same as the current value", ErrCorrectionValue)
	}
	return v, maskText(cur), nil
}

// licenceErr maps an error of LicenceFields to the corrections' errors: no such licence of
// the person → ErrCorrectionTarget, no such field → ErrCorrectionField, a value that breaks
// the licence's rules → ErrCorrectionValue; others as they are.
func licenceErr(id string, err error) error {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("%w: no licence %q of the person", ErrCorrectionTarget, id)
	case errors.Is(err, credentials.ErrUnknownField):
		return fmt.Errorf("%w: %w", ErrCorrectionField, err)
	case errors.Is(err, credentials.ErrInvalidField), errors.Is(err, credentials.ErrMissingField),
		errors.Is(err, credentials.ErrInvalidDates), errors.Is(err, credentials.ErrInvalidNumber):
		return fmt.Errorf("%w: %w", ErrCorrectionValue, err)
	}
	return err
}

// FileCorrection files a person's correction: the target and field must exist, the value must
// follow the field's rules (those of registration for the name and mobile number, those of
// licence import for a licence field) and differ from the current value, the reason must be 1
// to MaxReasonLength characters, and the person may have at most MaxPendingCorrections pending.
// The proposed value is sealed; the current value is kept masked. Audited "correction.file"
// (actor the person, Detail the correction ID, target kind and field — no values).
//
// Errors: ErrPersonNotFound, ErrAccountClosed, ErrPersonDisabled, ErrCorrectionTarget,
// ErrCorrectionField, ErrCorrectionValue, ErrReasonRequired, ErrInvalidReason,
// ErrTooManyCorrections, storage errors.
func (s *Service) FileCorrection(ctx context.Context, personID string, req CorrectionRequest) (storage.Correction, error) {
	reason, err := checkReason(req.Reason, true)
	if err != nil {
		return storage.Correction{}, err
	}
	req.Target, req.Field = strings.TrimSpace(req.Target), strings.TrimSpace(req.Field)
	var c storage.Correction
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		p, err := s.activePerson(ctx, personID)
		if err != nil {
			return err
		}
		proposed, masked, err := s.correctionValue(ctx, p, req)
		if err != nil {
			return err
		}
		n, err := s.store.CountPendingCorrections(ctx, personID)
		if err != nil {
			return err
		}
		if n >= MaxPendingCorrections {
			return fmt.Errorf("%w: %d pending (at most %d)", ErrTooManyCorrections, n, MaxPendingCorrections)
		}
		pending, err := s.store.ListCorrections(ctx, storage.CorrectionQuery{Status: storage.CorrectionPending, PersonID: personID, Limit: MaxPendingCorrections})
		if err != nil {
			return err
		}
		for _, q := range pending {
			if q.Target == req.Target && q.Field == req.Field {
				return fmt.Errorf("%w: %s %s", ErrCorrectionPending, req.Target, req.Field)
			}
		}
		c = storage.Correction{ID: newID(), PersonID: personID, Target: req.Target, Field: req.Field,
			CurrentMasked: masked, Reason: reason, Status: storage.CorrectionPending, FiledAt: s.now().UTC()}
		if c.ProposedSealed, err = s.kr.SealField([]byte(proposed), correctionAAD(c.ID)); err != nil {
			return err
		}
		if err := s.store.CreateCorrection(ctx, c); err != nil {
			return err
		}
		return audit.Actor{ID: personID}.Record(ctx, s.store, c.FiledAt, "correction.file", personID, "", correctionDetail(c))
	})
	if err != nil {
		return storage.Correction{}, err
	}
	c.FiledAt = c.FiledAt.Truncate(time.Microsecond) // as storage keeps it (microseconds)
	return c, nil
}

// correctionDetail is the audit detail of a correction: its ID, target kind and field.
func correctionDetail(c storage.Correction) string {
	target := c.Target
	if _, ok := licenceTarget(target); ok {
		target = "licence"
	}
	return fmt.Sprintf("correction=%s target=%s field=%s", c.ID, target, c.Field)
}

// ListCorrections returns the corrections q selects, newest first. q.Limit 0 means
// DefaultCorrectionPage; it is capped at MaxCorrectionPage. Errors: storage errors.
func (s *Service) ListCorrections(ctx context.Context, q storage.CorrectionQuery) ([]storage.Correction, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultCorrectionPage
	}
	q.Limit = min(q.Limit, MaxCorrectionPage)
	q.Offset = max(q.Offset, 0)
	return s.store.ListCorrections(ctx, q)
}

// GetCorrection returns the correction with that ID. Errors: ErrCorrectionNotFound, storage
// errors.
func (s *Service) GetCorrection(ctx context.Context, id string) (storage.Correction, error) {
	c, err := s.store.GetCorrection(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return c, fmt.Errorf("%w: %q", ErrCorrectionNotFound, id)
	}
	return c, err
}

// ProposedValue opens a correction's sealed proposed value, to show it to the person who filed
// it and to the operator deciding it. Errors: the keyring's.
func (s *Service) ProposedValue(c storage.Correction) (string, error) {
	v, err := s.kr.OpenField(c.ProposedSealed, correctionAAD(c.ID))
	return string(v), err
}

// ApplyCorrection applies a pending correction: the person's name, or their mobile number
// (sealed and re-indexed: they log in with the new one, no longer with the old), or the
// licence field (Config.Licences); and marks it applied with note (optional, at most
// MaxReasonLength characters). Audited "correction.apply" (Subject the person) in the same
// transaction as the change.
//
// Errors: ErrCorrectionNotFound, ErrCorrectionDecided, ErrInvalidReason (note),
// ErrPersonExists (the new mobile number belongs to another person), ErrAccountClosed,
// ErrCorrectionTarget (licence corrections off or licence gone), ErrCorrectionValue (the
// value no longer passes the rules), storage errors.
func (s *Service) ApplyCorrection(ctx context.Context, actor audit.Actor, id, note string) error {
	note, err := checkReason(note, false)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.pendingCorrection(ctx, id)
		if err != nil {
			return err
		}
		p, err := s.getPerson(ctx, c.PersonID)
		if err != nil {
			return err
		}
		if closed(p) {
			return ErrAccountClosed
		}
		v, err := s.ProposedValue(c)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		switch {
		case c.Target == CorrectionTargetPerson && c.Field == CorrectionFieldName:
			if v, err = checkName(v); err != nil {
				return fmt.Errorf("%w: %w", ErrCorrectionValue, err)
			}
			err = s.store.UpdatePerson(ctx, p.ID, func(q *storage.Person) error {
				q.Name, q.UpdatedAt = v, now
				return nil
			})
		case c.Target == CorrectionTargetPerson && c.Field == CorrectionFieldPhone:
			phone, ok := normalizePhone(v)
			if !ok {
				return fmt.Errorf("%w: %w", ErrCorrectionValue, ErrInvalidPhone)
			}
			if other, err := s.store.GetPersonByPhoneIndex(ctx, s.kr.BlindIndex(phone)); err == nil && other.ID != p.ID {
				return fmt.Errorf("%w: the mobile number belongs to another person", ErrPersonExists)
			} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			sealed, err := s.kr.SealField([]byte(phone), personAAD(p.ID, sealPhone))
			if err != nil {
				return err
			}
			err = s.store.UpdatePerson(ctx, p.ID, func(q *storage.Person) error {
				q.PhoneSealed, q.PhoneIndex, q.UpdatedAt = sealed, s.kr.BlindIndex(phone), now
				return nil
			})
			if errors.Is(err, storage.ErrConflict) {
				return fmt.Errorf("%w: the mobile number belongs to another person", ErrPersonExists)
			}
		default:
			lid, ok := licenceTarget(c.Target)
			if !ok || s.cfg.Licences == nil {
				return fmt.Errorf("%w: %q", ErrCorrectionTarget, c.Target)
			}
			holder, herr := s.IDNumber(p)
			if herr != nil {
				return herr
			}
			if err = s.cfg.Licences.SetLicenceField(ctx, holder, lid, c.Field, v); err != nil {
				err = licenceErr(lid, err)
			}
		}
		if err != nil {
			return err
		}
		if err := s.decide(ctx, c.ID, storage.CorrectionApplied, now, actor, note); err != nil {
			return err
		}
		return actor.Record(ctx, s.store, now, "correction.apply", c.PersonID, "", correctionDetail(c))
	})
}

// RejectCorrection rejects a pending correction; reason (1 to MaxReasonLength characters) is
// shown to the person. Audited "correction.reject" (Subject the person) in the same
// transaction. Errors: ErrReasonRequired, ErrInvalidReason, ErrCorrectionNotFound,
// ErrCorrectionDecided, storage errors.
func (s *Service) RejectCorrection(ctx context.Context, actor audit.Actor, id, reason string) error {
	reason, err := checkReason(reason, true)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.pendingCorrection(ctx, id)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if err := s.decide(ctx, c.ID, storage.CorrectionRejected, now, actor, reason); err != nil {
			return err
		}
		return actor.Record(ctx, s.store, now, "correction.reject", c.PersonID, "", correctionDetail(c))
	})
}

// pendingCorrection returns the correction when it is pending.
func (s *Service) pendingCorrection(ctx context.Context, id string) (storage.Correction, error) {
	c, err := s.GetCorrection(ctx, id)
	if err != nil {
		return c, err
	}
	if c.Status != storage.CorrectionPending {
		return c, fmt.Errorf("%w: %s", ErrCorrectionDecided, c.Status)
	}
	return c, nil
}

// decide records the decision; a concurrent decider that won first gives ErrCorrectionDecided.
func (s *Service) decide(ctx context.Context, id string, status storage.CorrectionStatus, now time.Time, actor audit.Actor, note string) error {
	by := actor.ID
	if by == "" {
		by = audit.ShellOperator
	}
	err := s.store.DecideCorrection(ctx, id, status, now, by, note)
	if errors.Is(err, storage.ErrAlreadyUsed) {
		return ErrCorrectionDecided
	}
	return err
}
