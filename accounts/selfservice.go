package accounts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"

	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// Self-service of the citizen's account page (issue 10, part 4): changing the password,
// recovering access through a one-time code sent by a Notifier, and closing the account.
// Package oidc renders the pages; the rules live here.

// Password policy of a new password (ChangePassword, FinishRecovery). The strength estimate is
// zxcvbn's (github.com/trustelem/zxcvbn, a port of Dropbox's zxcvbn): it matches the password
// against the frequency lists it ships (common passwords, English words, names), keyboard
// patterns, sequences, repeats and dates, and scores the guesses needed from 0 (< 10³) to 4
// (≥ 10¹⁰).
const (
	// MinPasswordLength is the fewest characters (runes) a new password may have.
	MinPasswordLength = 10
	// MaxPasswordBytes is the most bytes a password may have (as CreatePerson).
	MaxPasswordBytes = 256
	// MinPasswordScore is the lowest zxcvbn score a new password may have: 3 means about 10⁸
	// guesses or more ("safely unguessable: moderate protection from offline slow-hash
	// scenario" in zxcvbn's terms), above every password of its frequency lists.
	MinPasswordScore = 3
	// passwordScoreRunes is how much of a password zxcvbn looks at: its matching is
	// quadratic in the length, and a password that long is not weak by its first 64
	// characters alone unless they are.
	passwordScoreRunes = 64
)

// Errors of the self-service.
var (
	// ErrWeakPassword: a new password breaks the policy; the wrapped message says which rule
	// (too short, too long, too common or too guessable, the same twice).
	ErrWeakPassword = errors.New("accounts: password too weak")
	// ErrPasswordTooShort, ErrPasswordTooCommon and ErrPasswordUnchanged are wrapped with
	// ErrWeakPassword and say which rule a new password broke.
	ErrPasswordTooShort = errors.New("accounts: password too short")
	// ErrPasswordCharacters: the password has control characters or is not valid UTF-8.
	ErrPasswordCharacters = errors.New("accounts: password has characters that cannot be typed")
	ErrPasswordTooLong    = errors.New("accounts: password too long")
	ErrPasswordTooCommon  = errors.New("accounts: password too common or too easy to guess")
	ErrPasswordUnchanged  = errors.New("accounts: new password is the old one")
	// ErrWrongPassword: the current password given to ChangePassword is wrong (counted
	// against the account's lockout like a failed login).
	ErrWrongPassword = errors.New("accounts: wrong password")
	// ErrRecoveryOff: no Notifier is configured, so access cannot be recovered by a code.
	ErrRecoveryOff = errors.New("accounts: access recovery is not available")
	// ErrRecoveryThrottled: too many codes asked for this identifier or from this address, or
	// too many wrong codes from this address, within the recovery window (the longer lockout
	// window).
	ErrRecoveryThrottled = errors.New("accounts: too many recovery attempts")
	// ErrRecoveryCode: the recovery code is wrong, expired, already used or dead after
	// RecoveryMaxAttempts wrong tries — or the identifier is not registered: one error for all,
	// so the answer does not tell whether an identifier is registered.
	ErrRecoveryCode = errors.New("accounts: recovery code wrong or expired")
	// ErrNoPhone: the person has no mobile number to send a code to.
	ErrNoPhone = errors.New("accounts: no phone number")
)

// Access recovery settings.
const (
	// RecoveryCodeDigits is the length of a recovery code: 8 decimal digits, uniform.
	RecoveryCodeDigits = 8
	// RecoveryCodeLifetime is how long a recovery code works.
	RecoveryCodeLifetime = 10 * time.Minute
	// RecoveryMaxAttempts is how many wrong codes kill a code.
	RecoveryMaxAttempts = 5
	// RecoveryCodesPerIdentifier is how many codes one identifier may be sent within the
	// recovery window (recoveryWindow: the longer lockout window, 15 minutes by default) —
	// registered or not: unknown identifiers are throttled the same way.
	RecoveryCodesPerIdentifier = 3
	// RecoveryRequestsPerIP is how many codes one client address may ask for within the
	// recovery window.
	RecoveryRequestsPerIP = 10
	// RecoveryFailuresPerIP is how many wrong codes one client address may try within the
	// recovery window.
	RecoveryFailuresPerIP = 20
)

// CheckPasswordPolicy checks a new password against the policy: MinPasswordLength characters
// to MaxPasswordBytes bytes, valid UTF-8, and a zxcvbn score of MinPasswordScore or more, with
// userInputs (the person's ID number, phone number, birth date…) counted as known words. The
// error wraps ErrWeakPassword and one of ErrPasswordTooShort, ErrPasswordTooLong,
// ErrPasswordTooCommon.
func CheckPasswordPolicy(pw []byte, userInputs ...string) error {
	switch {
	case len(pw) > MaxPasswordBytes:
		return fmt.Errorf("%w: %w: at most %d bytes", ErrWeakPassword, ErrPasswordTooLong, MaxPasswordBytes)
	case !utf8.Valid(pw) || strings.IndexFunc(string(pw), unicode.IsControl) >= 0:
		// Control characters (NUL included: PBKDF2 input ends there for some clients) and
		// invalid UTF-8 cannot be typed into a password field and would not be the same
		// password on another device.
		return fmt.Errorf("%w: %w", ErrWeakPassword, ErrPasswordCharacters)
	case utf8.RuneCount(pw) < MinPasswordLength:
		return fmt.Errorf("%w: %w: at least %d characters", ErrWeakPassword, ErrPasswordTooShort, MinPasswordLength)
	case strings.TrimFunc(string(pw), unicode.IsSpace) == "":
		return fmt.Errorf("%w: %w: only spaces", ErrWeakPassword, ErrPasswordTooCommon)
	}
	for _, in := range userInputs {
		// The person's own data as a long run inside the password (a name repeated, the ID
		// number's first digits): zxcvbn matches user inputs only as whole tokens.
		if in = strings.ToLower(strings.TrimSpace(in)); utf8.RuneCountInString(in) >= 3 &&
			strings.Count(strings.ToLower(string(pw)), in)*utf8.RuneCountInString(in)*2 >= utf8.RuneCount(pw) {
			return fmt.Errorf("%w: %w: built from the person's own data", ErrWeakPassword, ErrPasswordTooCommon)
		}
	}
	s := string(pw)
	if r := []rune(s); len(r) > passwordScoreRunes {
		s = string(r[:passwordScoreRunes])
	}
	var inputs []string
	for _, in := range userInputs {
		if in = strings.TrimSpace(in); in != "" {
			inputs = append(inputs, strings.ToLower(in))
		}
	}
	if score := zxcvbn.PasswordStrength(s, inputs).Score; score < MinPasswordScore {
		return fmt.Errorf("%w: %w: strength %d of 4, want %d", ErrWeakPassword, ErrPasswordTooCommon, score, MinPasswordScore)
	}
	return nil
}

// personInputs are the person's own data a password must not be built from: the name, the ID
// number and its runs (the region and birth date of a resident ID number: characters 1–6,
// 7–14, 11–14, and the first 14) and the phone number.
func (s *Service) personInputs(p storage.Person) []string {
	var in []string
	if p.Name != "" {
		in = append(in, p.Name)
	}
	if num, err := s.IDNumber(p); err == nil && num != "" {
		in = append(in, num)
		if p.Kind == storage.NaturalPerson && len(num) == 18 {
			in = append(in, num[:14], num[:6], num[6:14], num[10:14])
		}
	}
	if phone, err := s.PhoneNumber(p); err == nil && phone != "" {
		in = append(in, phone)
	}
	return in
}

// verifyPassword checks a person's current password with the login lockout, for actions of a
// logged-in person that re-ask for it (ChangePassword): a wrong password is a guess and counts
// like a failed login. ErrWrongPassword, ErrLoginLocked, or a storage error.
//
// It goes through AuthenticatePassword with the person's own ID number as identifier, so it
// gets exactly the lockout rules of a login (CheckAttempt: the device's own counter for a
// browser with the person's device cookie, else the account's progressive delays; the address
// counter; audit "login.failure"), and the owner's known device is not locked out of changing
// the password by an attacker elsewhere. A refusal without a check (paused account, locked
// address) is returned as is: a *LoginError wrapping ErrLoginThrottled or ErrLoginLocked.
func (s *Service) verifyPassword(ctx context.Context, p storage.Person, pw []byte, clientIP string, dev Device) error {
	num, err := s.IDNumber(p)
	if err != nil {
		return err
	}
	_, err = s.AuthenticatePassword(ctx, PasswordLogin{Identifier: num, Password: pw, ClientIP: clientIP, Device: dev})
	if errors.Is(err, ErrLoginFailed) {
		return ErrWrongPassword
	}
	return err
}

// PasswordChange is a logged-in person's request to change their password.
type PasswordChange struct {
	PersonID string
	Old, New []byte
	ClientIP string
	// Device is what the browser's device cookie names (zero when none), for the lockout of
	// the old-password check (verifyPassword).
	Device Device
	// KeepSession is the ID of the login session the change is made from: every other session
	// of the person ends. "" ends them all.
	KeepSession string
}

// ChangePassword checks c.Old with the login lockout (verifyPassword), c.New against the
// policy (CheckPasswordPolicy, with the person's ID number, birth date and phone number as
// known words; the old password again is refused), stores the new hash and ends every other
// session of the person. Audited "password.change" (actor the person).
//
// Errors: ErrWrongPassword, ErrLoginLocked, ErrWeakPassword (wrapping the rule), storage
// errors; storage.ErrNotFound when there is no such person.
func (s *Service) ChangePassword(ctx context.Context, c PasswordChange) error {
	p, err := s.store.GetPerson(ctx, c.PersonID)
	if err != nil {
		return err
	}
	if err := s.verifyPassword(ctx, p, c.Old, c.ClientIP, c.Device); err != nil {
		return err
	}
	if string(c.Old) == string(c.New) {
		return fmt.Errorf("%w: %w", ErrWeakPassword, ErrPasswordUnchanged)
	}
	if err := CheckPasswordPolicy(c.New, s.personInputs(p)...); err != nil {
		return err
	}
	if err := s.setPassword(ctx, p.ID, c.New); err != nil {
		return err
	}
	ended, err := s.endSessions(ctx, p.ID, c.KeepSession)
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "password changed", "person_id", p.ID, "sessions_ended", ended)
	s.audit(ctx, storage.AuditEvent{Actor: p.ID, Action: "password.change", Subject: p.ID,
		Detail: fmt.Sprintf("sessions_ended=%d", ended)})
	return nil
}

// setPassword hashes pw with Config.PasswordParams and stores it.
func (s *Service) setPassword(ctx context.Context, personID string, pw []byte) error {
	hash, err := smcrypto.HashPassword(pw, s.cfg.PasswordParams)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	return s.store.UpdatePerson(ctx, personID, func(q *storage.Person) error {
		q.PasswordHash, q.UpdatedAt = hash, now
		return nil
	})
}

// endSessions ends every login session of the person but keep ("" = all) and returns how many
// ended.
func (s *Service) endSessions(ctx context.Context, personID, keep string) (int, error) {
	if keep == "" {
		n, err := s.store.DeleteLoginSessionsForPerson(ctx, personID)
		return int(n), err
	}
	list, err := s.store.ListLoginSessionsForPerson(ctx, personID, s.now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ls := range list {
		if ls.ID == keep {
			continue
		}
		if err := s.store.DeleteLoginSession(ctx, ls.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return n, err
		}
		n++
	}
	return n, nil
}

// findPerson resolves a login identifier (NormalizeIdentifier) to a person who may log in:
// found false for an unknown identifier, a disabled or closed person. It also returns the
// throttle key of the identifier: the blind index of its canonical form, the same whether or
// not it is registered.
func (s *Service) findPerson(ctx context.Context, identifier string) (p storage.Person, found bool, key string, err error) {
	norm, kind := NormalizeIdentifier(identifier)
	key = hex.EncodeToString(s.kr.BlindIndex(norm))
	p, err = s.personByIdentifier(ctx, norm, kind)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Person{}, false, key, nil
	}
	if err != nil {
		return storage.Person{}, false, key, err
	}
	return p, !p.Disabled, key, nil
}

// recoveryCodeHash is the keyed hash of a recovery code as stored: HMAC-SM3 with the
// blind-index key over "recovery-code/<person ID>/<code>" (keyring.BlindIndex; its other
// inputs, normalised ID and phone numbers, never contain "/").
func (s *Service) recoveryCodeHash(personID, code string) []byte {
	return s.kr.BlindIndex("recovery-code/" + personID + "/" + code)
}

// newAccessRecoveryCode returns RecoveryCodeDigits uniform decimal digits from crypto/rand.
func newAccessRecoveryCode() string {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(RecoveryCodeDigits), nil)
	n, _ := rand.Int(rand.Reader, limit) // crypto/rand never fails (Go 1.24+)
	return fmt.Sprintf("%0*d", RecoveryCodeDigits, n)
}

// recoveryWindow is the window of the recovery throttles: Config.IPLockWindow (15 minutes by
// default), which PurgeFailures keeps (it keeps the longer lockout window), since the
// throttles count in storage.Throttle too. (Not the account window: that is 24 hours by
// default, and a person who asked for three codes would wait a day.)
func (s *Service) recoveryWindow() time.Duration { return s.cfg.IPLockWindow }

// RecoveryWindow is how long a throttled access recovery waits (ErrRecoveryThrottled): the
// window its throttles count in.
func (s *Service) RecoveryWindow() time.Duration { return s.recoveryWindow() }

// throttle records one event of key and reports whether more than limit happened within
// recoveryWindow.
func (s *Service) throttle(ctx context.Context, key string, limit int) (bool, error) {
	n, err := s.store.AddFailure(ctx, key, s.now(), s.recoveryWindow())
	return n > limit, err
}

// StartRecovery starts access recovery for the person an identifier (ID number, credit code
// or mobile number, as typed) names: it makes a one-time code of RecoveryCodeDigits digits,
// valid RecoveryCodeLifetime, stores its keyed hash (replacing an earlier code) and sends it
// with Config.Notifier to the person's mobile number. Audited "recovery.start".
//
// The answer does not tell whether the identifier is registered: an unknown identifier, a
// disabled person and one without a phone number get nil like a registered one (nothing is
// sent), and every identifier is throttled alike (RecoveryCodesPerIdentifier), as is the client
// address (RecoveryRequestsPerIP). A Notifier error is logged and also answered with nil.
//
// Errors: ErrRecoveryOff without a Notifier; ErrRecoveryThrottled; storage errors.
func (s *Service) StartRecovery(ctx context.Context, identifier, clientIP string) error {
	if s.cfg.Notifier == nil {
		return ErrRecoveryOff
	}
	if over, err := s.throttle(ctx, "recover-ip:"+clientIP, RecoveryRequestsPerIP); err != nil || over {
		if over {
			s.log.InfoContext(ctx, "recovery refused: client address throttled")
			return ErrRecoveryThrottled
		}
		return err
	}
	p, found, key, err := s.findPerson(ctx, identifier)
	if err != nil {
		return err
	}
	if found {
		key = "person:" + p.ID // one count whichever identifier of the person was typed
	}
	if over, err := s.throttle(ctx, "recover-id:"+key, RecoveryCodesPerIdentifier); err != nil || over {
		if over {
			s.log.InfoContext(ctx, "recovery refused: identifier throttled")
			return ErrRecoveryThrottled
		}
		return err
	}
	if !found || p.PhoneSealed == nil {
		s.log.InfoContext(ctx, "recovery asked for an identifier that cannot recover")
		return nil
	}
	code := newAccessRecoveryCode()
	now := s.now().UTC()
	exp := now.Add(RecoveryCodeLifetime)
	if err := s.store.PutAccessRecoveryCode(ctx, storage.AccessRecoveryCode{PersonID: p.ID, CodeHash: s.recoveryCodeHash(p.ID, code),
		CreatedAt: now, ExpiresAt: exp}); err != nil {
		return err
	}
	msg := Message{Kind: MessageRecoveryCode, Code: code, Expires: exp,
		Text: fmt.Sprintf("【统一身份认证】您正在找回账户，验证码 %s，%d 分钟内有效。如非本人操作，请忽略本短信，切勿告诉他人。", code, int(RecoveryCodeLifetime/time.Minute))}
	if err := s.cfg.Notifier.Send(ctx, Recipient{PersonID: p.ID, sealed: p.PhoneSealed, kr: s.kr}, msg); err != nil {
		s.log.ErrorContext(ctx, "recovery code not sent", "person_id", p.ID, "err", err)
		s.audit(ctx, storage.AuditEvent{Actor: p.ID, Action: "recovery.start", Subject: p.ID, Detail: "send_failed"})
		return nil
	}
	s.log.InfoContext(ctx, "recovery code sent", "person_id", p.ID)
	s.audit(ctx, storage.AuditEvent{Actor: p.ID, Action: "recovery.start", Subject: p.ID, Detail: "code_sent"})
	return nil
}

// Recovery is the second step of access recovery: the identifier given in the first step, the
// code received, and the new password.
type Recovery struct {
	Identifier string
	Code       string
	New        []byte
	ClientIP   string
}

// FinishRecovery checks r.Code against the person's live recovery code — single use, at most
// RecoveryMaxAttempts wrong tries, RecoveryCodeLifetime — and sets r.New as the password
// (CheckPasswordPolicy with the identifier as known word: the person's own data is not used,
// so the policy's answer does not tell whether the identifier is registered). Every session of
// the person ends. Audited "recovery.finish" on success, "recovery.failure" (detail wrong,
// expired, used, exhausted) on a wrong code of a registered person.
//
// The new password is checked before the code, so a weak one does not use the code up.
//
// Errors: ErrWeakPassword; ErrRecoveryCode (also for an unknown identifier); ErrRecoveryThrottled
// past RecoveryFailuresPerIP wrong codes from the address; storage errors.
func (s *Service) FinishRecovery(ctx context.Context, r Recovery) error {
	now := s.now()
	ipKey := "recover-fail-ip:" + r.ClientIP
	if n, err := s.store.CountFailures(ctx, ipKey, now, s.recoveryWindow()); err != nil {
		return err
	} else if n >= RecoveryFailuresPerIP {
		s.log.InfoContext(ctx, "recovery refused: client address throttled")
		return ErrRecoveryThrottled
	}
	norm, _ := NormalizeIdentifier(r.Identifier)
	if err := CheckPasswordPolicy(r.New, norm); err != nil {
		return err
	}
	p, found, _, err := s.findPerson(ctx, r.Identifier)
	if err != nil {
		return err
	}
	code := strings.TrimSpace(r.Code)
	fail := func(detail string) error {
		if _, err := s.store.AddFailure(ctx, ipKey, now, s.recoveryWindow()); err != nil {
			s.log.ErrorContext(ctx, "record recovery failure", "err", err)
		}
		if found {
			s.log.InfoContext(ctx, "recovery code refused", "person_id", p.ID, "reason", detail)
			s.audit(ctx, storage.AuditEvent{Actor: p.ID, Action: "recovery.failure", Subject: p.ID, Detail: detail})
		} else {
			s.log.InfoContext(ctx, "recovery code refused", "reason", "unknown_identifier")
		}
		return ErrRecoveryCode
	}
	if !found {
		return fail("unknown")
	}
	if len(code) != RecoveryCodeDigits || strings.Trim(code, "0123456789") != "" {
		code = "" // still counts as a try, against a hash no code has
	}
	err = s.store.CheckAccessRecoveryCode(ctx, p.ID, s.recoveryCodeHash(p.ID, code), now, RecoveryMaxAttempts)
	switch {
	case errors.Is(err, storage.ErrWrongCode):
		return fail("wrong")
	case errors.Is(err, storage.ErrExpired):
		return fail("expired")
	case errors.Is(err, storage.ErrAlreadyUsed):
		return fail("exhausted")
	case errors.Is(err, storage.ErrNotFound):
		return fail("used")
	case err != nil:
		return err
	}
	if err := s.setPassword(ctx, p.ID, r.New); err != nil {
		return err
	}
	ended, err := s.endSessions(ctx, p.ID, "")
	if err != nil {
		return err
	}
	// The owner has just proved control of the phone and set a new password: the account's
	// pause for untrusted clients (CheckAttempt) ends, so the owner can log in from a new device
	// at once; guesses made before were against the old password.
	if err := s.store.ClearFailures(ctx, keyPerson+p.ID); err != nil {
		s.log.ErrorContext(ctx, "clear login failures after recovery", "err", err)
	}
	s.log.InfoContext(ctx, "password reset by recovery code", "person_id", p.ID, "sessions_ended", ended)
	s.audit(ctx, storage.AuditEvent{Actor: p.ID, Action: "recovery.finish", Subject: p.ID,
		Detail: fmt.Sprintf("sessions_ended=%d", ended)})
	return nil
}

// CloseAccount closes a person's account (PIPL art. 47, docs/citizens/retention.md): login is
// disabled for good, every session ends, every remembered consent is withdrawn, the recovery
// code goes, and the personal data of the person record is erased — name, sealed and indexed
// ID number and phone number, masked ID number, password hash and TOTP secret — leaving the
// opaque person ID as the pseudonym that the audit log and the issuers' licence records may
// still name. The ID number and phone number can then be registered again.
//
// The person's passkeys, OTP devices and recovery codes are deleted (closeCredentials). The caller revokes the person's tokens first (package oidc revokes every
// grant of the person). Audited "account.close" (actor the person).
// Errors: storage.ErrNotFound for an unknown person; storage errors.
func (s *Service) CloseAccount(ctx context.Context, personID string) error {
	now := s.now().UTC()
	err := s.store.UpdatePerson(ctx, personID, func(q *storage.Person) error {
		q.Name = ""
		q.IDNumberSealed, q.IDNumberIndex, q.IDNumberMasked = nil, nil, ""
		q.PhoneSealed, q.PhoneIndex = nil, nil
		q.PasswordHash, q.OTPSecretSealed = "", nil
		q.Disabled, q.UpdatedAt = true, now
		return nil
	})
	if err != nil {
		return err
	}
	ended, err := s.store.DeleteLoginSessionsForPerson(ctx, personID)
	if err != nil {
		return err
	}
	consents, err := s.store.ListConsents(ctx, personID)
	if err != nil {
		return err
	}
	for _, c := range consents {
		if err := s.store.DeleteConsent(ctx, personID, c.ClientID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
	}
	if err := s.store.DeleteAccessRecoveryCode(ctx, personID); err != nil {
		return err
	}
	if err := s.closeCredentials(ctx, personID); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "account closed", "person_id", personID)
	s.audit(ctx, storage.AuditEvent{Actor: personID, Action: "account.close", Subject: personID,
		Detail: fmt.Sprintf("sessions_ended=%d consents_withdrawn=%d", ended, len(consents))})
	return nil
}

// PurgeAccessRecoveryCodes deletes the recovery codes that expired before now; returns how many.
// Run it periodically with PurgeFailures.
func (s *Service) PurgeAccessRecoveryCodes(ctx context.Context, now time.Time) (int64, error) {
	return s.store.PurgeAccessRecoveryCodes(ctx, now)
}

// closeCredentials deletes a closing account's credentials besides the password: its
// passkeys, OTP devices and recovery codes.
func (s *Service) closeCredentials(ctx context.Context, personID string) error {
	pks, err := s.store.ListPasskeys(ctx, personID)
	if err != nil {
		return err
	}
	for _, pk := range pks {
		if err := s.store.DeletePasskey(ctx, personID, pk.CredentialID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
	}
	devs, err := s.store.ListOTPDevices(ctx, personID)
	if err != nil {
		return err
	}
	for _, d := range devs {
		if err := s.store.DeleteOTPDevice(ctx, d.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
	}
	_, err = s.store.DeleteRecoveryCodes(ctx, personID)
	return err
}
