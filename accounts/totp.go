package accounts

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/tongban/tongban/storage"
)

// totpOpts are the TOTP parameters (RFC 6238): 6 digits, 30-second steps, HMAC-SHA-1 — what
// authenticator apps implement — and one step of clock skew either way.
var totpOpts = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// totpSteps are the time steps, relative to now, a TOTP code may belong to (totpOpts.Skew).
var totpSteps = []int{0, -1, 1}

// nsTOTP is the storage.Nonces namespace of the TOTP time steps already used to log in.
const nsTOTP = "totp"

// EnrollTOTP gives the person a new TOTP secret (RFC 6238, see totpOpts) for the two-factor
// login (AuthenticatePassword with WantMFA; oidc's acr urn:tongban:acr:mfa), sealed in storage
// ("person/<ID>/otp"), and returns the otpauth:// URI to show as a QR code to the person once.
// The account name in the URI is the masked ID number. It replaces any earlier secret and
// audits "person.totp" (actor "operator").
//
// Errors: storage.ErrNotFound when there is no such person; storage or keyring errors.
func (s *Service) EnrollTOTP(ctx context.Context, personID string) (string, error) {
	p, err := s.store.GetPerson(ctx, personID)
	if err != nil {
		return "", err
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: "tongban", AccountName: p.IDNumberMasked, Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", err
	}
	sealed, err := s.kr.SealField([]byte(key.Secret()), personAAD(personID, sealOTP))
	if err != nil {
		return "", err
	}
	err = s.store.UpdatePerson(ctx, personID, func(q *storage.Person) error {
		q.OTPSecretSealed, q.UpdatedAt = sealed, s.now().UTC()
		return nil
	})
	if err != nil {
		return "", err
	}
	s.audit(ctx, storage.AuditEvent{Actor: "operator", Action: "person.totp", Subject: personID})
	return key.URL(), nil
}

// checkTOTP validates a 6-digit RFC 6238 code (30-second steps, ±1 step) and records the time
// step it matched as used (storage.Nonces, person ID ‖ step), so a step's code can log in once.
func (s *Service) checkTOTP(ctx context.Context, p storage.Person, code string, now time.Time) bool {
	if len(code) != 6 {
		return false
	}
	secret, err := s.kr.OpenField(p.OTPSecretSealed, personAAD(p.ID, sealOTP))
	if err != nil {
		s.log.ErrorContext(ctx, "open TOTP secret", "person_id", p.ID, "err", err)
		return false
	}
	// Check the steps of the window one by one (current first) so the nonce names the time
	// step the code matched: the same 6 digits can be the valid code of a later step too, and
	// must then be accepted again. A step's code logs in once.
	opts := totpOpts
	opts.Skew = 0
	period := time.Duration(totpOpts.Period) * time.Second
	for _, d := range totpSteps {
		t := now.Add(time.Duration(d) * period)
		if ok, err := totp.ValidateCustom(code, string(secret), t, opts); err != nil || !ok {
			continue
		}
		step := t.Unix() / int64(totpOpts.Period)
		err := s.store.UseNonce(ctx, nsTOTP, p.ID+":"+strconv.FormatInt(step, 10), now.Add(2*time.Minute))
		if err == nil {
			return true
		}
		if !errors.Is(err, storage.ErrAlreadyUsed) {
			s.log.ErrorContext(ctx, "record TOTP use", "person_id", p.ID, "err", err)
			return false
		}
	}
	return false
}
