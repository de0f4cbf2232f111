package accounts

import (
	"context"
	"time"

	"github.com/tongban/tongban/storage"
)

// Internals for the tests of package accounts_test.

// CheckTOTP is Service.checkTOTP.
func CheckTOTP(s *Service, ctx context.Context, p storage.Person, code string, now time.Time) bool {
	return s.checkTOTP(ctx, p, code, now)
}

// DummyHash is the hash unknown identifiers are checked against.
func DummyHash(s *Service) string { return s.dummyHash }

// SealOTP seals a TOTP secret for person ID id as EnrollTOTP does.
func SealOTP(s *Service, id, secret string) ([]byte, error) {
	return s.kr.SealField([]byte(secret), personAAD(id, sealOTP))
}

// NewID is newID.
func NewID() string { return newID() }
