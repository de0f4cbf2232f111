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
	// OTP is the 6-digit code of one of the person's OTP devices (TOTP, RFC 6238, or
	// SM3-OTP, GM/T 0021-2012) or one of their recovery codes, as typed; it is checked only
	// with WantMFA (otp.go, recovery.go).
	OTP string
	// WantMFA asks for the second factor: a person with a TOTP secret (EnrollTOTP) must give
	// a valid OTP that was not used before. A person without one logs in with the password
	// alone (AMR ["pwd"]); the caller decides whether that is enough.
	WantMFA bool
	// ClientIP is the address the attempt came from, for the per-address lock.
	ClientIP string
	// Device is what the client's valid device cookie names (zero when it has none): a
	// device that logged in to this person before is judged by its own failures (CheckAttempt).
	Device Device
	// ClientID is the OAuth client the login is for ("" when none); only for logs and audit.
	ClientID string
}

// Authentication is the result of a successful login.
type Authentication struct {
	// Person is the person who logged in.
	Person storage.Person
	// AMR lists the authentication methods used (RFC 8176): ["pwd"] or ["pwd","otp"].
	AMR []string
}

// AuthenticatePassword authenticates a person by identifier and password (and a TOTP code when
// l.WantMFA and the person has one) under the lockout of CheckAttempt:
//
//   - the identifier is resolved first (an indexed read), so the account is the person
//     whichever identifier was typed ("login-person:"+ID); an identifier nobody has is
//     counted under its blind index ("login:"+hex) and throttled exactly like a registered
//     one;
//   - a client with a trusted device cookie for that person (l.Device) is judged by its
//     device's own failures; any other client by the address lock and the account's
//     progressive delay, refused before any password work with a *LoginError wrapping
//     ErrLoginLocked or ErrLoginThrottled and saying how long to wait;
//   - an unknown identifier, a disabled person or one without a password costs the same
//     password check (against a dummy hash made with Config.PasswordParams) and gives the
//     same ErrLoginFailed as a wrong password (no user enumeration); the *LoginError also
//     says how many failures are left before a pause.
//
// A failure of a registered person is audited ("login.failure", detail "bad_credentials"); a
// success re-hashes the password when its hash was made with other parameters than
// Config.PasswordParams. Other errors are storage failures.
func (s *Service) AuthenticatePassword(ctx context.Context, l PasswordLogin) (Authentication, error) {
	// Look the person up first (a cheap indexed read), so the account counter is keyed by
	// the person whatever identifier was typed (ID number or phone): otherwise the lock of
	// one identifier could be bypassed with the other.
	norm, kind := NormalizeIdentifier(l.Identifier)
	index := s.kr.BlindIndex(norm)
	var p storage.Person
	var err error
	switch kind {
	case IdentifierIDNumber:
		p, err = s.store.GetPersonByIDNumberIndex(ctx, index)
	case IdentifierPhone:
		p, err = s.store.GetPersonByPhoneIndex(ctx, index)
	default:
		err = storage.ErrNotFound
	}
	found, known := false, false
	switch {
	case err == nil:
		known = true
		found = p.PasswordHash != "" // a disabled person's password is checked too (ErrLoginDisabled)
	case !errors.Is(err, storage.ErrNotFound):
		return Authentication{}, err
	}
	a := Attempt{ClientIP: l.ClientIP, Device: l.Device, ClientID: l.ClientID, Method: "password"}
	acctKey := keyIdentifier + hex.EncodeToString(index)
	if known {
		a.PersonID, acctKey = p.ID, keyPerson+p.ID
	}
	g, err := s.checkAttempt(ctx, a, acctKey)
	if err != nil {
		return Authentication{}, err
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
	if ok && l.WantMFA {
		var enrolled bool // otp.go: any confirmed OTP device, or a recovery code
		if enrolled, ok = s.checkSecondFactor(ctx, p, l.OTP, s.now()); enrolled {
			amr = append(amr, "otp")
		}
	}
	if !ok {
		reason := "unknown_user"
		if found {
			reason = "bad_credentials"
		}
		s.log.InfoContext(ctx, "login failed", "reason", reason, "trusted_device", g.Trusted())
		ferr := g.Fail(ctx)
		if found {
			s.audit(ctx, storage.AuditEvent{Actor: p.ID, Action: "login.failure", Subject: p.ID, ClientID: l.ClientID, Detail: reason})
		}
		return Authentication{}, ferr
	}
	if p.Disabled {
		// Right credentials for a disabled account: say so (the owner should go to the service
		// hall); not a guessing failure, so the attempt's count is cleared as for a success.
		g.Succeed(ctx)
		s.log.InfoContext(ctx, "login refused: person disabled", "trusted_device", g.Trusted())
		s.audit(ctx, storage.AuditEvent{Actor: p.ID, Action: "login.failure", Subject: p.ID, ClientID: l.ClientID, Detail: "disabled"})
		return Authentication{}, &LoginError{Err: ErrLoginDisabled}
	}
	g.Succeed(ctx)
	if smcrypto.NeedsRehash(p.PasswordHash, s.cfg.PasswordParams) {
		if h, err := smcrypto.HashPassword(l.Password, s.cfg.PasswordParams); err == nil {
			err = s.store.UpdatePerson(ctx, p.ID, func(q *storage.Person) error {
				q.PasswordHash, q.UpdatedAt = h, s.now()
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
