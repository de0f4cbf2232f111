package oidc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/tongban/tongban/idnumber"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// Person administration: used by `idp people add` and by tests. They work on
// storage directly and need no running Server. Validation failures wrap the Err* sentinels of
// errors.go (several problems are joined with errors.Join, so the message lists them all);
// other errors are storage or keyring failures.

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
// same way (blind index of the 11 digits), and the password hashed with params (zero =
// smcrypto.DefaultPasswordParams).
//
// Errors: ErrInvalidPersonKind, ErrInvalidIDNumber (wrapping the idnumber error that names the
// failed rule), ErrInvalidName, ErrInvalidPhone, ErrInvalidPassword — joined when several
// apply; ErrPersonExists when the ID number or phone number is already registered.
func CreatePerson(ctx context.Context, store storage.Storage, kr *keyring.Keyring, p NewPerson, params smcrypto.PasswordParams) (storage.Person, error) {
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
	name := strings.TrimSpace(p.Name)
	if n := utf8.RuneCountInString(name); n == 0 || n > 64 || !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		problems = append(problems, fmt.Errorf("%w: must be 1 to 64 printable characters", ErrInvalidName))
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
	if params == (smcrypto.PasswordParams{}) {
		params = smcrypto.DefaultPasswordParams
	}
	hash, err := smcrypto.HashPassword(p.Password, params)
	if err != nil {
		return storage.Person{}, err
	}
	person := storage.Person{
		ID:             randomString(16),
		Kind:           kind,
		Name:           name,
		IDNumberIndex:  kr.BlindIndex(number),
		IDNumberMasked: masked,
		PasswordHash:   hash,
	}
	if person.IDNumberSealed, err = kr.SealField([]byte(number), personAAD(person.ID, sealIDNumber)); err != nil {
		return storage.Person{}, err
	}
	if phone != "" {
		person.PhoneIndex = kr.BlindIndex(phone)
		if person.PhoneSealed, err = kr.SealField([]byte(phone), personAAD(person.ID, sealPhone)); err != nil {
			return storage.Person{}, err
		}
	}
	person.CreatedAt = timeNow().UTC()
	person.UpdatedAt = person.CreatedAt
	if err := store.CreatePerson(ctx, person); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return storage.Person{}, fmt.Errorf("%w: ID number or phone number", ErrPersonExists)
		}
		return storage.Person{}, err
	}
	appendAdminAudit(ctx, store, "person.create", person.ID, "")
	return person, nil
}

// totpOpts are the TOTP parameters (RFC 6238): 6 digits, 30-second steps, HMAC-SHA-1 — what
// authenticator apps implement — and one step of clock skew either way.
var totpOpts = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// EnrollTOTP gives the person a new TOTP secret (RFC 6238, see totpOpts) for the
// multi-factor login (acr urn:tongban:acr:mfa), sealed in storage ("person/<ID>/otp"), and
// returns the otpauth:// URI to show as a QR code to the person once. The account name in the
// URI is the masked ID number. It replaces any earlier secret.
//
// Errors: storage.ErrNotFound when there is no such person; storage or keyring errors.
func EnrollTOTP(ctx context.Context, store storage.Storage, kr *keyring.Keyring, personID string) (string, error) {
	p, err := store.GetPerson(ctx, personID)
	if err != nil {
		return "", err
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: "tongban", AccountName: p.IDNumberMasked, Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", err
	}
	sealed, err := kr.SealField([]byte(key.Secret()), personAAD(personID, sealOTP))
	if err != nil {
		return "", err
	}
	err = store.UpdatePerson(ctx, personID, func(q *storage.Person) error {
		q.OTPSecretSealed, q.UpdatedAt = sealed, timeNow().UTC()
		return nil
	})
	if err != nil {
		return "", err
	}
	appendAdminAudit(ctx, store, "person.totp", personID, "")
	return key.URL(), nil
}
