package accounts

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tongban/tongban/storage"
)

// Recovery codes stand in for the OTP code when the person's device is lost: ten codes of
// RecoveryCodeLen characters from RecoveryCodeAlphabet (50 bits each), shown once as
// "XXXXX-XXXXX", each usable once. Storage keeps only a keyed hash of each: HMAC-SM3 under
// the keyring's blind-index key of "otp-recovery/<person ID>/<code>" — the prefix keeps the
// hashes apart from the blind indexes of ID and phone numbers, and the person ID makes the
// same code of two people hash differently. The codes are random and long enough that a keyed
// hash suffices (no slow password hash): guessing one is 1 in 2^50 per try, and every try is
// a counted login failure.

// RecoveryCodeCount is how many recovery codes a person gets at a time.
const RecoveryCodeCount = 10

// RecoveryCodeLen is the length of a recovery code without its hyphen.
const RecoveryCodeLen = 10

// RecoveryCodeAlphabet are the characters of recovery codes: digits and capital letters
// without 0, 1, I and O, which are easily confused. 32 characters: 5 bits each.
const RecoveryCodeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// NormalizeRecoveryCode returns code as stored: capitals, without spaces and hyphens; ok is
// false when the result is not RecoveryCodeLen characters of RecoveryCodeAlphabet.
func NormalizeRecoveryCode(code string) (norm string, ok bool) {
	norm = strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(code))
	if len(norm) != RecoveryCodeLen {
		return "", false
	}
	for i := 0; i < len(norm); i++ {
		if strings.IndexByte(RecoveryCodeAlphabet, norm[i]) < 0 {
			return "", false
		}
	}
	return norm, true
}

// recoveryHash is the stored form of a normalised code.
func (s *Service) recoveryHash(personID, norm string) []byte {
	return s.kr.BlindIndex("otp-recovery/" + personID + "/" + norm)
}

// newRecoveryCode returns a random code formatted "XXXXX-XXXXX" and its normalised form.
func newRecoveryCode() (shown, norm string) {
	var b [RecoveryCodeLen]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	for i := range b {
		b[i] = RecoveryCodeAlphabet[b[i]&31] // 256 is a multiple of 32: uniform
	}
	norm = string(b[:])
	return norm[:5] + "-" + norm[5:], norm
}

// newRecoveryCodes replaces the person's recovery codes with RecoveryCodeCount new ones and
// returns them formatted for showing; audited "otp.recovery_codes" with the reason.
func (s *Service) newRecoveryCodes(ctx context.Context, personID, reason string) ([]string, error) {
	shown := make([]string, 0, RecoveryCodeCount)
	hashes := make([][]byte, 0, RecoveryCodeCount)
	seen := map[string]bool{}
	for len(shown) < RecoveryCodeCount {
		c, norm := newRecoveryCode()
		if seen[norm] {
			continue
		}
		seen[norm] = true
		shown = append(shown, c)
		hashes = append(hashes, s.recoveryHash(personID, norm))
	}
	if err := s.store.SetRecoveryCodes(ctx, personID, hashes, s.now().UTC()); err != nil {
		return nil, err
	}
	s.audit(ctx, storage.AuditEvent{Actor: personID, Action: "otp.recovery_codes", Subject: personID, Detail: reason})
	return shown, nil
}

// RegenerateRecoveryCodes replaces the person's recovery codes, used or not, with
// RecoveryCodeCount new ones and returns them formatted "XXXXX-XXXXX" — the only time they
// are seen in clear. Audited "otp.recovery_codes" (detail "regenerated"). The caller asks for
// a fresh login first.
//
// Errors: ErrNoSecondFactor when the person has no confirmed OTP device; storage errors.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, personID string) ([]string, error) {
	devs, err := s.ListOTPDevices(ctx, personID)
	if err != nil {
		return nil, err
	}
	if len(devs) == 0 {
		return nil, ErrNoSecondFactor
	}
	return s.newRecoveryCodes(ctx, personID, "regenerated")
}

// RecoveryCodesLeft returns how many of the person's recovery codes are unused.
func (s *Service) RecoveryCodesLeft(ctx context.Context, personID string) (int, error) {
	return s.store.CountRecoveryCodes(ctx, personID)
}

// useRecoveryCode uses up the person's recovery code code (any case, spaces and hyphens
// ignored). A code used before, or not theirs, is refused; a used or refused well-formed
// code is audited, so the person and auditors see recovery-code use and reuse.
func (s *Service) useRecoveryCode(ctx context.Context, personID, code string, now time.Time) bool {
	norm, ok := NormalizeRecoveryCode(code)
	if !ok {
		return false
	}
	err := s.store.UseRecoveryCode(ctx, personID, s.recoveryHash(personID, norm), now.UTC())
	switch {
	case err == nil:
		left, cerr := s.store.CountRecoveryCodes(ctx, personID)
		if cerr != nil {
			s.log.ErrorContext(ctx, "count recovery codes", "err", cerr)
		}
		s.log.InfoContext(ctx, "recovery code used", "person_id", personID, "left", left)
		s.audit(ctx, storage.AuditEvent{Actor: personID, Action: "otp.recovery_use", Subject: personID,
			Detail: "left=" + strconv.Itoa(left)})
		return true
	case errors.Is(err, storage.ErrAlreadyUsed):
		s.log.InfoContext(ctx, "recovery code reused", "person_id", personID)
		s.audit(ctx, storage.AuditEvent{Actor: personID, Action: "otp.recovery_reuse", Subject: personID})
	case !errors.Is(err, storage.ErrNotFound):
		s.log.ErrorContext(ctx, "use recovery code", "person_id", personID, "err", err)
	}
	return false
}
