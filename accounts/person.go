package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tongban/tongban/idnumber"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// Person administration: used by `idp people add` and by tests. Validation failures wrap the
// Err* sentinels of errors.go (several problems are joined with errors.Join, so the message
// lists them all); other errors are storage or keyring failures.

// NewPerson is a person to register.
type NewPerson struct {
	// Kind is storage.NaturalPerson or storage.LegalPerson. Empty means: LegalPerson when
	// IDNumber is a valid unified social credit code (and not a resident ID number),
	// NaturalPerson otherwise.
	Kind storage.PersonKind
	// IDNumber is the 18-character resident ID number (natural person, GB 11643-1999) or
	// unified social credit code (legal person, GB 32100-2015). Spaces and full-width
	// characters are normalised; a lower-case x becomes X.
	IDNumber string
	// Name is the registered name, 1 to 64 characters.
	Name string
	// Phone is an optional mainland mobile number (11 digits, +86 / 0086 prefix allowed).
	Phone string
	// Password is the login password, 8 to 256 bytes. It is hashed with PBKDF2-HMAC-SM3.
	Password []byte
}

// CreatePerson validates p and stores a new person: a random opaque ID (also the public
// "sub"), the ID number sealed with SM4-GCM (keyring.SealField, additional data
// "person/<ID>/id_number"), its blind index keyring.BlindIndex(normalised number) and masked
// form ("640102********123X"), the phone number sealed ("person/<ID>/phone") and indexed the
// same way (blind index of the 11 digits), and the password hashed with
// Config.PasswordParams. It audits "person.create" (actor "operator").
//
// Errors: ErrInvalidPersonKind, ErrInvalidIDNumber (wrapping the idnumber error that names the
// failed rule), ErrInvalidName, ErrInvalidPhone, ErrInvalidPassword — joined when several
// apply; ErrPersonExists when the ID number or phone number is already registered.
func (s *Service) CreatePerson(ctx context.Context, p NewPerson) (storage.Person, error) {
	var problems []error
	kind := p.Kind
	if kind == "" {
		kind = storage.NaturalPerson
		if idnumber.ValidateResidentID(idnumber.NormalizeResidentID(p.IDNumber)) != nil &&
			idnumber.ValidateCreditCode(idnumber.NormalizeCreditCode(p.IDNumber)) == nil {
			kind = storage.LegalPerson
		}
	}
	var number, masked string
	switch kind {
	case storage.NaturalPerson:
		number = idnumber.NormalizeResidentID(p.IDNumber)
		if err := idnumber.ValidateResidentID(number); err != nil {
			problems = append(problems, fmt.Errorf("%w: resident ID number: %w", ErrInvalidIDNumber, err))
		}
		masked = idnumber.MaskResidentID(number)
	case storage.LegalPerson:
		number = idnumber.NormalizeCreditCode(p.IDNumber)
		if err := idnumber.ValidateCreditCode(number); err != nil {
			problems = append(problems, fmt.Errorf("%w: unified social credit code: %w", ErrInvalidIDNumber, err))
		}
		masked = idnumber.MaskCreditCode(number)
	default:
		problems = append(problems, fmt.Errorf("%w: %q (want %q or %q)", ErrInvalidPersonKind, kind, storage.NaturalPerson, storage.LegalPerson))
	}
	name, err := checkName(p.Name)
	if err != nil {
		problems = append(problems, err)
	}
	phone := ""
	if strings.TrimSpace(p.Phone) != "" {
		var ok bool
		if phone, ok = normalizePhone(strings.TrimSpace(p.Phone)); !ok {
			problems = append(problems, fmt.Errorf("%w: want 11 digits starting with 1, optionally prefixed by +86", ErrInvalidPhone))
		}
	}
	if len(p.Password) < 8 || len(p.Password) > 256 {
		problems = append(problems, fmt.Errorf("%w: must be 8 to 256 bytes", ErrInvalidPassword))
	}
	if len(problems) > 0 {
		return storage.Person{}, errors.Join(problems...)
	}
	hash, err := smcrypto.HashPassword(p.Password, s.cfg.PasswordParams)
	if err != nil {
		return storage.Person{}, err
	}
	person := storage.Person{
		ID:             newID(),
		Kind:           kind,
		Name:           name,
		IDNumberIndex:  s.kr.BlindIndex(number),
		IDNumberMasked: masked,
		PasswordHash:   hash,
	}
	if person.IDNumberSealed, err = s.kr.SealField([]byte(number), personAAD(person.ID, sealIDNumber)); err != nil {
		return storage.Person{}, err
	}
	if phone != "" {
		person.PhoneIndex = s.kr.BlindIndex(phone)
		if person.PhoneSealed, err = s.kr.SealField([]byte(phone), personAAD(person.ID, sealPhone)); err != nil {
			return storage.Person{}, err
		}
	}
	person.CreatedAt = s.now().UTC()
	person.UpdatedAt = person.CreatedAt
	if err := s.store.CreatePerson(ctx, person); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return storage.Person{}, fmt.Errorf("%w: ID number or phone number", ErrPersonExists)
		}
		return storage.Person{}, err
	}
	s.audit(ctx, storage.AuditEvent{Actor: "operator", Action: "person.create", Subject: person.ID})
	return person, nil
}

// Field-sealing labels: the additional data of keyring.SealField for each sealed person field
// is "person/<person ID>/<label>", binding the ciphertext to its row and column.
const (
	sealIDNumber = "id_number"
	sealPhone    = "phone"
	sealOTP      = "otp"
)

func personAAD(personID, label string) string { return "person/" + personID + "/" + label }

// IDNumber returns p's resident ID number or unified social credit code in full, opened from
// p.IDNumberSealed ("person/<ID>/id_number"). Errors: the keyring's (smcrypto.ErrDecrypt when
// the field was sealed under another key or for another person).
func (s *Service) IDNumber(p storage.Person) (string, error) {
	num, err := s.kr.OpenField(p.IDNumberSealed, personAAD(p.ID, sealIDNumber))
	return string(num), err
}

// PhoneNumber returns p's mobile number, its 11 digits without prefix, opened from
// p.PhoneSealed ("person/<ID>/phone"); "" when p has none. Errors as for IDNumber.
func (s *Service) PhoneNumber(p storage.Person) (string, error) {
	if p.PhoneSealed == nil {
		return "", nil
	}
	phone, err := s.kr.OpenField(p.PhoneSealed, personAAD(p.ID, sealPhone))
	return string(phone), err
}

// LookupPerson finds the person an operator means by ref: their opaque person ID (as
// CreatePerson returned it), or else their ID number or mobile number in any form
// NormalizeIdentifier accepts, looked up by blind index. Unlike a login it also finds a
// disabled person. It returns the identifier kind ref was taken as (IdentifierUnknown for a
// person ID) and its canonical form, so that a caller can mask it in messages.
//
// Errors: storage.ErrNotFound when no person matches; storage errors.
func (s *Service) LookupPerson(ctx context.Context, ref string) (p storage.Person, kind IdentifierKind, norm string, err error) {
	p, err = s.store.GetPerson(ctx, ref)
	if err == nil || !errors.Is(err, storage.ErrNotFound) {
		return p, IdentifierUnknown, "", err
	}
	norm, kind = NormalizeIdentifier(ref)
	p, err = s.personByIdentifier(ctx, norm, kind)
	return p, kind, norm, err
}

// personByIdentifier is the person whose ID number (kind IdentifierIDNumber) or phone number
// (IdentifierPhone) has the canonical form norm; storage.ErrNotFound for any other kind.
func (s *Service) personByIdentifier(ctx context.Context, norm string, kind IdentifierKind) (storage.Person, error) {
	switch kind {
	case IdentifierIDNumber:
		return s.store.GetPersonByIDNumberIndex(ctx, s.kr.BlindIndex(norm))
	case IdentifierPhone:
		return s.store.GetPersonByPhoneIndex(ctx, s.kr.BlindIndex(norm))
	}
	return storage.Person{}, storage.ErrNotFound
}
