package accounts

import (
	"context"
	"encoding/hex"
	"errors"
	"time"

	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// PasswordLogin is one attempt to log in with an identifier and a password, as typed on a
// login page.
type PasswordLogin struct {
	// Identifier is a resident ID number, unified social credit code or mainland mobile
	// number in any form NormalizeIdentifier accepts.
	Identifier string
	// Password is the password as typed, byte for byte.
	Password []byte
	// OTP is the 6-digit TOTP code (RFC 6238) as typed; it is checked only with WantMFA.
	OTP string
	// WantMFA asks for the second factor: a person with a TOTP secret (EnrollTOTP) must give
	// a valid OTP that was not used before. A person without one logs in with the password
	// alone (AMR ["pwd"]); the caller decides whether that is enough.
	WantMFA bool
	// ClientIP is the address the attempt came from, for the per-IP lockout.
	ClientIP string
}

// Authentication is the result of a successful login.
type Authentication struct {
	// Person is the person who logged in.
	Person storage.Person
	// AMR lists the authentication methods used (RFC 8176): ["pwd"] or ["pwd","otp"].
	AMR []string
}

// AuthenticatePassword authenticates a person by identifier and password (and a TOTP code when
// l.WantMFA and the person has one), with the lockouts of Config:
//
//   - every attempt counts against the account key — the person ("login-person:"+ID) when
//     the identifier resolves to one, whichever identifier was typed, else the blind index of
//     the identifier ("login:"+hex), so unknown identifiers are throttled exactly like known
//     ones — and a success clears it;
//     past AccountLockThreshold within AccountLockWindow attempts are refused (ErrLoginLocked)
//     before any password work;
//   - failures count against the client IP ("login-ip:"+l.ClientIP, in storage.Throttle, so
//     every replica sees them); at IPLockThreshold within IPLockWindow the IP is refused
//     (ErrLoginLocked) before any work.
//   - an unknown identifier, a disabled person or one without a password costs the same
//     password check (against a dummy hash made with Config.PasswordParams) and gives the
//     same ErrLoginFailed as a wrong password (no user enumeration).
//
// A failure of a registered person is audited ("login.failure", detail "bad_credentials"); a
// success re-hashes the password when its hash was made with other parameters than
// Config.PasswordParams. Other errors are storage failures.
func (s *Service) AuthenticatePassword(ctx context.Context, l PasswordLogin) (Authentication, error) {
	now := s.now()
	ip := l.ClientIP
	if m, err := s.store.CountFailures(ctx, "login-ip:"+ip, now, s.cfg.IPLockWindow); err != nil {
		return Authentication{}, err
	} else if m >= s.cfg.IPLockThreshold {
		s.log.InfoContext(ctx, "login refused: client IP locked", "failures", m)
		return Authentication{}, ErrLoginLocked
	}
	// Look the person up first (a cheap indexed read), so the account counter is keyed by
	// the person whatever identifier was typed (ID number or phone): otherwise the lock of
	// one identifier could be bypassed with the other. Unknown identifiers are keyed by their
	// blind index and throttled exactly the same way.
	norm, kind := NormalizeIdentifier(l.Identifier)
	var p storage.Person
	var err error
	found, known := false, false
	switch kind {
	case IdentifierIDNumber:
		p, err = s.store.GetPersonByIDNumberIndex(ctx, s.kr.BlindIndex(norm))
	case IdentifierPhone:
		p, err = s.store.GetPersonByPhoneIndex(ctx, s.kr.BlindIndex(norm))
	default:
		err = storage.ErrNotFound
	}
	switch {
	case err == nil:
		known = true
		found = !p.Disabled && p.PasswordHash != ""
	case !errors.Is(err, storage.ErrNotFound):
		return Authentication{}, err
	}
	acctKey := "login:" + hex.EncodeToString(s.kr.BlindIndex(norm))
	if known {
		acctKey = "login-person:" + p.ID
	}
	n, err := s.store.AddFailure(ctx, acctKey, now, s.cfg.AccountLockWindow)
	if err != nil {
		return Authentication{}, err
	}
	if n > s.cfg.AccountLockThreshold {
		if known {
			s.log.InfoContext(ctx, "login refused: account locked", "person_id", p.ID, "attempts", n)
		} else {
			s.log.InfoContext(ctx, "login refused: account locked", "attempts", n)
		}
		return Authentication{}, ErrLoginLocked
	}
	hash := s.dummyHash
	if found {
		hash = p.PasswordHash
	}
	perr := smcrypto.CheckPassword(hash, l.Password)
	if found && errors.Is(perr, smcrypto.ErrPasswordParams) {
		// An imported or tampered hash above smcrypto.MaxPasswordIterations: refused unchecked.
		s.log.ErrorContext(ctx, "stored password hash refused", "person_id", p.ID, "err", perr)
	}
	ok := perr == nil && found
	amr := []string{"pwd"}
	if ok && l.WantMFA && p.OTPSecretSealed != nil {
		ok = s.checkTOTP(ctx, p, l.OTP, now)
		amr = append(amr, "otp")
	}
	if !ok {
		reason := "unknown_user"
		if found {
			reason = "bad_credentials"
		}
		s.log.InfoContext(ctx, "login failed", "reason", reason)
		if _, err := s.store.AddFailure(ctx, "login-ip:"+ip, now, s.cfg.IPLockWindow); err != nil {
			s.log.ErrorContext(ctx, "record login failure", "err", err)
		}
		if found {
			s.audit(ctx, storage.AuditEvent{Actor: p.ID, Action: "login.failure", Subject: p.ID, Detail: reason})
		}
		return Authentication{}, ErrLoginFailed
	}
	if err := s.store.ClearFailures(ctx, acctKey); err != nil {
		s.log.ErrorContext(ctx, "clear login failures", "err", err)
	}
	if smcrypto.NeedsRehash(p.PasswordHash, s.cfg.PasswordParams) {
		if h, err := smcrypto.HashPassword(l.Password, s.cfg.PasswordParams); err == nil {
			err = s.store.UpdatePerson(ctx, p.ID, func(q *storage.Person) error {
				q.PasswordHash, q.UpdatedAt = h, now
				return nil
			})
			if err != nil {
				s.log.ErrorContext(ctx, "re-hash password", "person_id", p.ID, "err", err)
			}
		}
	}
	return Authentication{Person: p, AMR: amr}, nil
}

// PurgeFailures deletes the login failures recorded before now minus the longer lockout
// window (storage.Throttle.PurgeFailures): they no longer count towards any lock. It returns
// how many went. Run it periodically (oidc.Server.Purge does).
func (s *Service) PurgeFailures(ctx context.Context, now time.Time) (int64, error) {
	return s.store.PurgeFailures(ctx, now.Add(-max(s.cfg.AccountLockWindow, s.cfg.IPLockWindow)))
}
