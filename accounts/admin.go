package accounts

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/idnumber"
	"github.com/tongban/tongban/storage"
)

// People administration (issue 9, part C): what an operator does for a person at a service
// hall or on the console — find them, disable and enable their account, lift a lockout, hand
// over a single-use password-reset link, end their sessions. The `idp people` commands and the
// admin console both call these methods; each takes the audit.Actor who acts and writes its
// audit entry in the same transaction as the change.

// Errors of the people administration.
var (
	// ErrPersonNotFound: no person matches (FindPerson), or no person has that ID. It is
	// returned as a *PersonNotFoundError, which also matches storage.ErrNotFound.
	ErrPersonNotFound = errors.New("accounts: no such person")
	// ErrReasonRequired: an action that must say why (DisablePerson, RejectCorrection) got an
	// empty reason.
	ErrReasonRequired = errors.New("accounts: a reason is required")
	// ErrInvalidReason: a reason or note is longer than MaxReasonLength characters or has
	// control or format characters.
	ErrInvalidReason = errors.New("accounts: invalid reason")
	// ErrAccountClosed: the person closed their account (CloseAccount); it cannot be enabled,
	// reset or corrected.
	ErrAccountClosed = errors.New("accounts: account closed")
	// ErrPersonDisabled: the person is disabled; enable them first (IssuePasswordReset).
	ErrPersonDisabled = errors.New("accounts: person disabled")
	// ErrInvalidTTL: a reset link's lifetime is outside [MinResetLinkTTL, MaxResetLinkTTL].
	ErrInvalidTTL = errors.New("accounts: invalid link lifetime")
	// ErrResetLinkOff: Config.PasswordResetURL is not set, so no link can be made.
	ErrResetLinkOff = errors.New("accounts: password-reset links are not configured")
	// ErrResetLink: the password-reset token is unknown, expired or used already — one error
	// for all.
	ErrResetLink = errors.New("accounts: password-reset link invalid, expired or used")
)

// Limits of the people administration.
const (
	// MaxReasonLength is the most characters (runes) of a reason or decision note.
	MaxReasonLength = 200
	// DefaultResetLinkTTL is the lifetime of a password-reset link when none is given.
	DefaultResetLinkTTL = 24 * time.Hour
	// MinResetLinkTTL and MaxResetLinkTTL bound a password-reset link's lifetime.
	MinResetLinkTTL = 5 * time.Minute
	MaxResetLinkTTL = 7 * 24 * time.Hour
	// RevocationHold is how long DisablePerson keeps a revoked grant on the revoked-grant
	// list (storage.Revocations): longer than any access-token lifetime, so every sealed access
	// token the grant issued expires before the entry is purged.
	RevocationHold = 24 * time.Hour
)

// PersonNotFoundError is FindPerson's answer when no person matches. Desc says what was
// looked for, with any number masked ("no person with mobile number 138****8000"): it is safe
// to show to the operator. errors.Is matches ErrPersonNotFound and storage.ErrNotFound.
type PersonNotFoundError struct{ Desc string }

func (e *PersonNotFoundError) Error() string { return "accounts: " + e.Desc }

// Is reports whether target is ErrPersonNotFound or storage.ErrNotFound.
func (e *PersonNotFoundError) Is(target error) bool {
	return target == ErrPersonNotFound || target == storage.ErrNotFound
}

// FindPerson finds the person an operator means by identifier: their opaque person ID, or
// their resident ID number, unified social credit code or mobile number in any form
// NormalizeIdentifier accepts (full-width digits, spaces, hyphens, +86), looked up by blind
// index. It also finds disabled people.
//
// Errors: *PersonNotFoundError (ErrPersonNotFound, storage.ErrNotFound) when nobody matches,
// its Desc masking the number typed; storage errors.
func (s *Service) FindPerson(ctx context.Context, identifier string) (storage.Person, error) {
	p, kind, norm, err := s.LookupPerson(ctx, strings.TrimSpace(identifier))
	if !errors.Is(err, storage.ErrNotFound) {
		return p, err
	}
	switch kind {
	case IdentifierIDNumber:
		masked := idnumber.MaskResidentID(norm)
		if idnumber.ValidateResidentID(norm) != nil {
			masked = idnumber.MaskCreditCode(norm)
		}
		return p, &PersonNotFoundError{Desc: "no person with ID number " + masked}
	case IdentifierPhone:
		return p, &PersonNotFoundError{Desc: "no person with mobile number " + MaskPhone(norm)}
	}
	return p, &PersonNotFoundError{Desc: fmt.Sprintf("no person with person ID %q, and it is not a valid ID number or mobile number", identifier)}
}

// getPerson is GetPerson with ErrPersonNotFound for an unknown ID.
func (s *Service) getPerson(ctx context.Context, personID string) (storage.Person, error) {
	p, err := s.store.GetPerson(ctx, personID)
	if errors.Is(err, storage.ErrNotFound) {
		return p, &PersonNotFoundError{Desc: fmt.Sprintf("no person with person ID %q", personID)}
	}
	return p, err
}

// closed reports whether p closed their account (CloseAccount erased the ID number).
func closed(p storage.Person) bool { return p.Disabled && len(p.IDNumberIndex) == 0 }

// checkReason trims reason and checks it: required (ErrReasonRequired) when required, at most
// MaxReasonLength characters, no control or format characters (ErrInvalidReason).
func checkReason(reason string, required bool) (string, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "" && required:
		return "", ErrReasonRequired
	case utf8.RuneCountInString(reason) > MaxReasonLength || !utf8.ValidString(reason):
		return "", fmt.Errorf("%w: at most %d characters", ErrInvalidReason, MaxReasonLength)
	case strings.IndexFunc(reason, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0:
		return "", fmt.Errorf("%w: control or format characters", ErrInvalidReason)
	}
	return reason, nil
}

// DisablePerson disables a person's account: they can no longer log in (any method), every
// login session ends, every grant of theirs is revoked — refresh tokens and stored access
// tokens become inactive and sealed access tokens are refused through the revoked-grant list
// (kept RevocationHold) — and any password-reset link or recovery code goes. reason (1 to
// MaxReasonLength characters, no personal data: it goes into the audit log) says why.
// Disabling a disabled person revokes again and is audited again.
//
// Audited "person.disable" (Subject the person, Detail the counts and the reason) in the same
// transaction as the change. Errors: ErrReasonRequired, ErrInvalidReason, ErrPersonNotFound,
// storage errors.
func (s *Service) DisablePerson(ctx context.Context, actor audit.Actor, personID, reason string) error {
	reason, err := checkReason(reason, true)
	if err != nil {
		return err
	}
	var sessions int64
	var grants int
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.getPerson(ctx, personID); err != nil {
			return err
		}
		now := s.now().UTC()
		if err := s.store.UpdatePerson(ctx, personID, func(p *storage.Person) error {
			p.Disabled, p.UpdatedAt = true, now
			return nil
		}); err != nil {
			return err
		}
		var err error
		if sessions, err = s.store.DeleteLoginSessionsForPerson(ctx, personID); err != nil {
			return err
		}
		if grants, err = s.revokePersonGrants(ctx, personID, now); err != nil {
			return err
		}
		if _, err := s.store.DeletePasswordResets(ctx, personID); err != nil {
			return err
		}
		if err := s.store.DeleteAccessRecoveryCode(ctx, personID); err != nil {
			return err
		}
		return actor.Record(ctx, s.store, now, "person.disable", personID, "",
			fmt.Sprintf("sessions_ended=%d grants_revoked=%d reason=%q", sessions, grants, reason))
	})
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "person disabled", "person_id", personID, "actor", actor.ID, "sessions_ended", sessions, "grants_revoked", grants)
	s.sessionsEnded(ctx, personID)
	return nil
}

// revokePersonGrants revokes every grant of the person (storage.SelfService.ListGrants):
// the revoked-grant list first (sealed access tokens), then the stored refresh and access
// tokens — what package oidc's fositeadapter.Store.RevokeGrant does. It returns how many.
func (s *Service) revokePersonGrants(ctx context.Context, personID string, now time.Time) (int, error) {
	grants, err := s.store.ListGrants(ctx, personID, "", now)
	if err != nil {
		return 0, err
	}
	for _, g := range grants {
		if err := s.store.RevokeGrant(ctx, g, storage.RevokedAll, now.Add(RevocationHold)); err != nil {
			return 0, err
		}
		for _, kind := range []storage.TokenKind{storage.KindRefreshToken, storage.KindAccessToken} {
			if _, err := s.store.RevokeByRequestID(ctx, kind, g); err != nil {
				return 0, err
			}
		}
	}
	return len(grants), nil
}

// EnablePerson lets a disabled person log in again (their old sessions and tokens stay
// ended). Enabling an enabled person changes nothing and is audited all the same. Audited
// "person.enable". Errors: ErrPersonNotFound, ErrAccountClosed (a closed account stays
// closed), storage errors.
func (s *Service) EnablePerson(ctx context.Context, actor audit.Actor, personID string) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		p, err := s.getPerson(ctx, personID)
		if err != nil {
			return err
		}
		if closed(p) {
			return ErrAccountClosed
		}
		now := s.now().UTC()
		if err := s.store.UpdatePerson(ctx, personID, func(p *storage.Person) error {
			p.Disabled, p.UpdatedAt = false, now
			return nil
		}); err != nil {
			return err
		}
		return actor.Record(ctx, s.store, now, "person.enable", personID, "", "")
	})
}

// UnlockPerson clears the lockout of a person's account (CheckAttempt): the failures counted
// against the person from untrusted clients ("login-person:"+ID), against their ID number and
// phone number as identifiers, and the access-recovery throttle of the person — so the owner,
// who proved who they are at the counter, can log in at once. Failures counted against
// client addresses and devices stay (they are not the person's). Audited "person.unlock".
// Errors: ErrPersonNotFound, storage errors.
func (s *Service) UnlockPerson(ctx context.Context, actor audit.Actor, personID string) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		p, err := s.getPerson(ctx, personID)
		if err != nil {
			return err
		}
		keys := []string{keyPerson + p.ID, "recover-id:person:" + p.ID}
		for _, idx := range [][]byte{p.IDNumberIndex, p.PhoneIndex} {
			if len(idx) > 0 {
				keys = append(keys, keyIdentifier+hex.EncodeToString(idx), "recover-id:"+hex.EncodeToString(idx))
			}
		}
		for _, k := range keys {
			if err := s.store.ClearFailures(ctx, k); err != nil {
				return err
			}
		}
		return actor.Record(ctx, s.store, s.now().UTC(), "person.unlock", p.ID, "", "")
	})
}

// EndSessions ends every login session of the person on every device (they must log in
// again) and returns how many ended. After it committed, Config.OnSessionsEnded runs (the
// identity provider then revokes the sessions' grants and tells their apps, OpenID Connect
// Back-Channel Logout 1.0). Audited
// "person.sessions.end". Errors: ErrPersonNotFound, storage errors.
func (s *Service) EndSessions(ctx context.Context, actor audit.Actor, personID string) (int, error) {
	var n int64
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.getPerson(ctx, personID); err != nil {
			return err
		}
		var err error
		if n, err = s.store.DeleteLoginSessionsForPerson(ctx, personID); err != nil {
			return err
		}
		return actor.Record(ctx, s.store, s.now().UTC(), "person.sessions.end", personID, "", fmt.Sprintf("sessions_ended=%d", n))
	})
	if err == nil {
		s.sessionsEnded(ctx, personID)
	}
	return int(n), err
}

// sessionsEnded calls Config.OnSessionsEnded, if set.
func (s *Service) sessionsEnded(ctx context.Context, personID string) {
	if s.cfg.OnSessionsEnded != nil {
		s.cfg.OnSessionsEnded(ctx, personID)
	}
}

// resetTokenHash is the stored form of a password-reset token: HMAC-SM3 with the blind-index
// key over "password-reset/<token>" (keyring.BlindIndex).
func (s *Service) resetTokenHash(token string) []byte {
	return s.kr.BlindIndex("password-reset/" + token)
}

// IssuePasswordReset makes a single-use link at which the person sets a new password, for a
// service hall to hand over after checking the person's papers: Config.PasswordResetURL with
// the query parameter "token", 32 random bytes base64url (256 bits). Only a keyed hash of the
// token is stored; an earlier link of the person stops working. ttl is the link's lifetime:
// 0 means DefaultResetLinkTTL; otherwise MinResetLinkTTL to MaxResetLinkTTL. It returns the
// link and when it expires.
//
// Audited "person.reset_link" (Detail the expiry; never the link). Errors: ErrResetLinkOff,
// ErrInvalidTTL, ErrPersonNotFound, ErrPersonDisabled, ErrAccountClosed, storage errors.
func (s *Service) IssuePasswordReset(ctx context.Context, actor audit.Actor, personID string, ttl time.Duration) (link string, expiresAt time.Time, err error) {
	if s.cfg.PasswordResetURL == "" {
		return "", time.Time{}, ErrResetLinkOff
	}
	if ttl == 0 {
		ttl = DefaultResetLinkTTL
	}
	if ttl < MinResetLinkTTL || ttl > MaxResetLinkTTL {
		return "", time.Time{}, fmt.Errorf("%w: %v (want %v to %v)", ErrInvalidTTL, ttl, MinResetLinkTTL, MaxResetLinkTTL)
	}
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	token := base64.RawURLEncoding.EncodeToString(b[:])
	now := s.now().UTC()
	expiresAt = now.Add(ttl)
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.activePerson(ctx, personID); err != nil {
			return err
		}
		if err := s.store.PutPasswordReset(ctx, storage.PasswordReset{TokenHash: s.resetTokenHash(token), PersonID: personID,
			CreatedAt: now, ExpiresAt: expiresAt}); err != nil {
			return err
		}
		return actor.Record(ctx, s.store, now, "person.reset_link", personID, "", "expires="+expiresAt.Format(time.RFC3339))
	})
	if err != nil {
		return "", time.Time{}, err
	}
	u, err := url.Parse(s.cfg.PasswordResetURL)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%w: PasswordResetURL: %w", ErrInvalidConfig, err)
	}
	q := u.Query()
	q.Set("token", token)
	u.RawQuery = q.Encode()
	return u.String(), expiresAt, nil
}

// PasswordResetPerson returns the person a password-reset token is for, without using the
// link up (to show the page). Errors: ErrResetLink for an unknown, expired or used token, or
// a person disabled since; storage errors.
func (s *Service) PasswordResetPerson(ctx context.Context, token string) (storage.Person, error) {
	r, err := s.store.GetPasswordReset(ctx, s.resetTokenHash(token), s.now())
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrExpired) {
		return storage.Person{}, ErrResetLink
	}
	if err != nil {
		return storage.Person{}, err
	}
	p, err := s.store.GetPerson(ctx, r.PersonID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && p.Disabled {
		return storage.Person{}, ErrResetLink
	}
	return p, err
}

// FinishPasswordReset sets newPassword as the password of the person a reset token is for
// and uses the link up (single use: of concurrent attempts exactly one succeeds). The new
// password is checked first (CheckPasswordPolicy, with the person's own data as known words),
// so a weak one does not use the link up. Every session of the person ends and the lockout of
// the account is lifted (as after access recovery). Audited "password.reset" (actor the
// person) in the same transaction.
//
// Errors: ErrWeakPassword (wrapping the rule), ErrResetLink, storage errors.
func (s *Service) FinishPasswordReset(ctx context.Context, token string, newPassword []byte) error {
	p, err := s.PasswordResetPerson(ctx, token)
	if err != nil {
		return err
	}
	if err := CheckPasswordPolicy(newPassword, s.personInputs(p)...); err != nil {
		return err
	}
	var ended int
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		r, err := s.store.RedeemPasswordReset(ctx, s.resetTokenHash(token), s.now())
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrExpired) || err == nil && r.PersonID != p.ID {
			return ErrResetLink
		}
		if err != nil {
			return err
		}
		if err := s.setPassword(ctx, p.ID, newPassword); err != nil {
			return err
		}
		if ended, err = s.endSessions(ctx, p.ID, ""); err != nil {
			return err
		}
		if err := s.store.ClearFailures(ctx, keyPerson+p.ID); err != nil {
			return err
		}
		return audit.Actor{ID: p.ID}.Record(ctx, s.store, s.now().UTC(), "password.reset", p.ID, "", fmt.Sprintf("sessions_ended=%d", ended))
	})
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "password set by reset link", "person_id", p.ID, "sessions_ended", ended)
	return nil
}

// LockStatus is what the lockout holds against a person's account (lockout.go), for the
// admin console: Failures is the largest failure count in the window among the person's
// account keys (person ID, ID number, phone), PausedUntil when logins from untrusted clients
// are paused (zero when they are not). Browsers the person logged in with before (trusted
// device cookies) are not paused.
type LockStatus struct {
	Failures    int
	PausedUntil time.Time
}

// Locked reports whether logins from untrusted clients are paused now.
func (l LockStatus) Locked() bool { return !l.PausedUntil.IsZero() }

// LockStatus returns the lockout's state of the person's account, read only (no failure is
// counted). Errors: ErrPersonNotFound, storage errors.
func (s *Service) LockStatus(ctx context.Context, personID string) (LockStatus, error) {
	p, err := s.getPerson(ctx, personID)
	if err != nil {
		return LockStatus{}, err
	}
	keys := []string{keyPerson + p.ID}
	for _, idx := range [][]byte{p.IDNumberIndex, p.PhoneIndex} {
		if len(idx) > 0 {
			keys = append(keys, keyIdentifier+hex.EncodeToString(idx))
		}
	}
	now := s.now()
	var out LockStatus
	for _, k := range keys {
		st, err := s.store.FailureStats(ctx, k, now, s.cfg.AccountLockWindow)
		if err != nil {
			return LockStatus{}, err
		}
		out.Failures = max(out.Failures, st.Count)
		if wait := s.Delay(st.Count); wait > 0 && now.Before(st.Last.Add(wait)) && st.Last.Add(wait).After(out.PausedUntil) {
			out.PausedUntil = st.Last.Add(wait).UTC()
		}
	}
	return out, nil
}

// activePerson returns the person when they exist and may act: ErrPersonNotFound,
// ErrAccountClosed (closed by its owner) or ErrPersonDisabled (by an operator) otherwise.
func (s *Service) activePerson(ctx context.Context, personID string) (storage.Person, error) {
	p, err := s.getPerson(ctx, personID)
	switch {
	case err != nil:
		return p, err
	case closed(p):
		return p, ErrAccountClosed
	case p.Disabled:
		return p, ErrPersonDisabled
	}
	return p, nil
}
