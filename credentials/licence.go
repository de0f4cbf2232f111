package credentials

import (
	"errors"
	"fmt"
	"maps"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tongban/tongban/idnumber"
)

// Licence is one licence (证照) of one holder. Its JSON form is the import
// format (one object per line, see ParseImport and
// docs/formats/licences.md).
type Licence struct {
	// Kind of licence.
	Kind Kind `json:"kind"`
	// Number is the licence number as printed (证件号码/证号/号牌号码). For
	// resident-id and driving-licence it equals Holder (the ID number); for
	// business-licence it equals Holder (the credit code); for
	// vehicle-licence it is the plate number (号牌号码, e.g. 京A12345); for
	// the other kinds 6–32 characters 0-9 A-Z.
	Number string `json:"number"`
	// Issuer is the issuing authority (发证机关/签发机关/登记机关), e.g.
	// 北京市公安局东城分局.
	Issuer string `json:"issuer"`
	// Holder is the holder's resident ID number (18 characters, GB 11643-1999)
	// or, for business-licence, unified social credit code (18 characters,
	// GB 32100-2015). It links the licence to its holder (一证通办).
	Holder string `json:"holder"`
	// HolderName is the holder's name (姓名) or, for a business licence, the
	// registered name (名称).
	HolderName string `json:"holder_name"`
	// ValidFrom is the first day of validity (有效期限起始/发证日期).
	ValidFrom Date `json:"valid_from"`
	// ValidUntil is the last day of validity, inclusive; nil means long-term
	// (长期), allowed only where Kind.LongTermAllowed.
	ValidUntil *Date `json:"valid_until,omitempty"`
	// Status is the issuing authority's status for the licence.
	Status Status `json:"status"`
	// Fields holds the kind-specific fields, keyed by FieldSpec.Name; see
	// FieldSpecs for each kind's list and rules.
	Fields map[string]string `json:"fields,omitempty"`
	// Agents are the resident ID numbers of the persons authorised to show a
	// business licence for its holder (授权经办人). Only business-licence
	// may have agents.
	Agents []string `json:"agents,omitempty"`
}

// MaxTextLength is the longest accepted Number, Issuer or HolderName, in
// bytes of UTF-8.
const MaxTextLength = 128

// Validate checks l against its kind's rules: known kind and status, a
// holder number valid per idnumber for the kind's HolderType, the number
// format, non-empty issuer and holder name, valid dates with ValidUntil not
// before ValidFrom (and present unless the kind allows 长期), the
// kind-specific fields (FieldSpecs: none unknown, required ones present,
// each value's rule) and agents. It reports every problem at once, as
// errors.Join of errors each wrapping one of ErrUnknownKind,
// ErrUnknownStatus, ErrInvalidHolder, ErrInvalidNumber, ErrMissingField,
// ErrUnknownField, ErrInvalidField, ErrInvalidDates; nil when l is valid.
func (l *Licence) Validate() error { return l.validate(true) }

// ValidateSelection is Validate except that required kind-specific fields
// may be absent: it checks a licence reduced by WithFields to the fields a
// holder chose to show.
func (l *Licence) ValidateSelection() error { return l.validate(false) }

func (l *Licence) validate(requireFields bool) error {
	if !l.Kind.Valid() {
		return fmt.Errorf("%w: %q", ErrUnknownKind, string(l.Kind))
	}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if !l.Status.Valid() {
		add(fmt.Errorf("%w: %q", ErrUnknownStatus, string(l.Status)))
	}
	add(l.validateHolder())
	add(checkText("number", l.Number))
	if l.Number != "" {
		add(l.validateNumber())
	}
	add(checkText("issuer", l.Issuer))
	add(checkText("holder_name", l.HolderName))
	add(l.validateDates())
	errs = append(errs, l.validateFields(requireFields)...)
	add(l.validateAgents())
	return errors.Join(errs...)
}

func (l *Licence) validateHolder() error {
	if l.Holder == "" {
		return fmt.Errorf("%w: holder", ErrMissingField)
	}
	var err error
	if l.Kind.HolderType() == LegalPerson {
		err = idnumber.ValidateCreditCode(l.Holder)
	} else {
		err = idnumber.ValidateResidentID(l.Holder)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidHolder, err)
	}
	return nil
}

func (l *Licence) validateNumber() error {
	switch l.Kind {
	case ResidentID, DrivingLicence, BusinessLicence:
		if l.Number != l.Holder {
			return fmt.Errorf("%w: a %s number must equal its holder number", ErrInvalidNumber, l.Kind)
		}
	case VehicleLicence:
		if !plateRe.MatchString(l.Number) {
			return fmt.Errorf("%w: not a plate number (province, letter, 4–6 characters 0-9 A-Z)", ErrInvalidNumber)
		}
	default:
		if !genericNumberRe.MatchString(l.Number) {
			return fmt.Errorf("%w: %s number must be 6–32 characters 0-9 A-Z", ErrInvalidNumber, l.Kind)
		}
	}
	return nil
}

func (l *Licence) validateDates() error {
	if l.ValidFrom.IsZero() {
		return fmt.Errorf("%w: valid_from", ErrMissingField)
	}
	if !l.ValidFrom.Valid() {
		return fmt.Errorf("%w: valid_from is not a date in 1900–2199", ErrInvalidDates)
	}
	if l.ValidUntil == nil {
		if !l.Kind.LongTermAllowed() {
			return fmt.Errorf("%w: a %s cannot be long-term; valid_until is required", ErrInvalidDates, l.Kind)
		}
		return nil
	}
	if !l.ValidUntil.Valid() {
		return fmt.Errorf("%w: valid_until is not a date in 1900–2199", ErrInvalidDates)
	}
	if l.ValidUntil.Before(l.ValidFrom) {
		return fmt.Errorf("%w: valid_until is before valid_from", ErrInvalidDates)
	}
	return nil
}

func (l *Licence) validateFields(requireFields bool) []error {
	var errs []error
	for name, v := range l.Fields {
		spec, ok := FieldSpecByName(l.Kind, name)
		if !ok {
			errs = append(errs, fmt.Errorf("%w: %s has no field %q", ErrUnknownField, l.Kind, name))
			continue
		}
		if err := checkText(name, v); err != nil { // empty → ErrMissingField
			errs = append(errs, err)
			continue
		}
		if spec.check != nil {
			if err := spec.check(l, v); err != nil {
				errs = append(errs, fmt.Errorf("%w: %s: %v", ErrInvalidField, name, err))
			}
		}
	}
	if requireFields {
		for _, spec := range fieldSpecs[l.Kind] {
			if _, present := l.Fields[spec.Name]; spec.Required && !present {
				errs = append(errs, fmt.Errorf("%w: %s (%s)", ErrMissingField, spec.Name, spec.Label))
			}
		}
	}
	return errs
}

func (l *Licence) validateAgents() error {
	if len(l.Agents) == 0 {
		return nil
	}
	if l.Kind != BusinessLicence {
		return fmt.Errorf("%w: agents: only a business-licence has agents", ErrUnknownField)
	}
	for _, a := range l.Agents {
		if err := idnumber.ValidateResidentID(a); err != nil {
			return fmt.Errorf("%w: agent: %w", ErrInvalidHolder, err)
		}
	}
	return nil
}

// checkText: non-empty, valid UTF-8, no control characters, bounded length.
func checkText(name, v string) error {
	max := MaxTextLength
	if name != "number" && name != "issuer" && name != "holder_name" {
		max = MaxFieldLength
	}
	switch {
	case v == "":
		return fmt.Errorf("%w: %s", ErrMissingField, name)
	case len(v) > max:
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrInvalidField, name, max)
	case !utf8.ValidString(v):
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidField, name)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: %s contains a control character", ErrInvalidField, name)
		}
	}
	return nil
}

// EffectiveStatus returns l.Status, except that a valid licence whose
// ValidUntil day has ended in ChinaStandardTime at now is StatusExpired.
func (l *Licence) EffectiveStatus(now time.Time) Status {
	if l.Status == StatusValid && l.ValidUntil != nil && DateOf(now).After(*l.ValidUntil) {
		return StatusExpired
	}
	return l.Status
}

// CheckShowable reports whether a code may show l at now: nil, or
// ErrLicenceRevoked, ErrLicenceSuspended, ErrLicenceExpired (by status or
// past ValidUntil), ErrLicenceNotYetValid (before ValidFrom), or
// ErrUnknownStatus. It does not run Validate.
func (l *Licence) CheckShowable(now time.Time) error {
	switch l.EffectiveStatus(now) {
	case StatusValid:
	case StatusRevoked:
		return fmt.Errorf("%w: %s", ErrLicenceRevoked, l.Kind)
	case StatusSuspended:
		return fmt.Errorf("%w: %s", ErrLicenceSuspended, l.Kind)
	case StatusExpired:
		return fmt.Errorf("%w: %s", ErrLicenceExpired, l.Kind)
	default:
		return fmt.Errorf("%w: %q", ErrUnknownStatus, string(l.Status))
	}
	if DateOf(now).Before(l.ValidFrom) {
		return fmt.Errorf("%w: %s", ErrLicenceNotYetValid, l.Kind)
	}
	return nil
}

// WithFields returns a copy of l whose Fields keep only the named ones —
// the fields a holder chose to show. Names l does not have are ignored.
func (l Licence) WithFields(names ...string) Licence {
	kept := make(map[string]string, len(names))
	for _, n := range names {
		if v, ok := l.Fields[n]; ok {
			kept[n] = v
		}
	}
	l.Fields = kept
	l.Agents = nil
	return l
}

// Clone returns a deep copy of l.
func (l Licence) Clone() Licence {
	l.Fields = maps.Clone(l.Fields)
	l.Agents = append([]string(nil), l.Agents...)
	if l.ValidUntil != nil {
		d := *l.ValidUntil
		l.ValidUntil = &d
	}
	return l
}
