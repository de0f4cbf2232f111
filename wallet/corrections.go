package wallet

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/idnumber"
	"github.com/tongban/tongban/storage"
)

// Corrections (纠错) of a licence field, asked for by its holder on the provider's account page
// and applied by an operator (issue 9, part C). These three methods make *Service an
// accounts.LicenceFields (the provider's Config.Licences), without package wallet importing
// accounts.

// holderLicence returns licence id when holder (resident ID number or credit code, any case)
// holds it; otherwise an error wrapping ErrNotFound and storage.ErrNotFound, the same whether
// the licence is missing or someone else's.
func (s *Service) holderLicence(ctx context.Context, holder, id string) (Record, error) {
	r, err := s.LicenceByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Record{}, fmt.Errorf("%w: %w", ErrNotFound, storage.ErrNotFound)
	}
	if err != nil {
		return Record{}, err
	}
	want := idnumber.NormalizeResidentID(holder)
	if subtle.ConstantTimeCompare([]byte(idnumber.NormalizeResidentID(r.Licence.Holder)), []byte(want)) != 1 {
		return Record{}, fmt.Errorf("%w: %w", ErrNotFound, storage.ErrNotFound)
	}
	return r, nil
}

// LicenceField returns the value of field of licence id held by holder ("" when not set).
// Errors: ErrNotFound (also storage.ErrNotFound) when holder holds no such licence;
// credentials.ErrUnknownField when the licence's kind has no such field; storage and keyring
// errors.
func (s *Service) LicenceField(ctx context.Context, holder, id, field string) (string, error) {
	r, err := s.holderLicence(ctx, holder, id)
	if err != nil {
		return "", err
	}
	if _, ok := credentials.FieldSpecByName(r.Licence.Kind, field); !ok {
		return "", fmt.Errorf("%w: %s has no field %q", credentials.ErrUnknownField, r.Licence.Kind, field)
	}
	return r.Licence.Fields[field], nil
}

// withField returns licence id of holder with field set to value, validated as licence import
// validates (credentials.Licence.Validate). Errors as LicenceField, and Validate's
// (credentials.ErrInvalidField, credentials.ErrMissingField …).
func (s *Service) withField(ctx context.Context, holder, id, field, value string) (credentials.Licence, error) {
	r, err := s.holderLicence(ctx, holder, id)
	if err != nil {
		return credentials.Licence{}, err
	}
	if _, ok := credentials.FieldSpecByName(r.Licence.Kind, field); !ok {
		return credentials.Licence{}, fmt.Errorf("%w: %s has no field %q", credentials.ErrUnknownField, r.Licence.Kind, field)
	}
	l := r.Licence.Clone()
	if l.Fields == nil {
		l.Fields = map[string]string{}
	}
	l.Fields[field] = value
	if err := l.Validate(); err != nil {
		return credentials.Licence{}, err
	}
	return l, nil
}

// CheckLicenceField checks value for field of licence id held by holder with the rules of
// licence import. Errors as withField.
func (s *Service) CheckLicenceField(ctx context.Context, holder, id, field, value string) error {
	_, err := s.withField(ctx, holder, id, field, value)
	return err
}

// SetLicenceField sets field of licence id held by holder to value and stores the licence
// (Put: audited "licence.update", actor Operator; a revoked licence stays revoked). Errors as
// withField, and Put's.
func (s *Service) SetLicenceField(ctx context.Context, holder, id, field, value string) error {
	l, err := s.withField(ctx, holder, id, field, value)
	if err != nil {
		return err
	}
	_, err = s.Put(ctx, l, Operator)
	return err
}
