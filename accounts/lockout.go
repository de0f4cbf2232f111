package accounts

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/tongban/tongban/storage"
)

// Throttle keys (storage.Throttle) of the lockout.
const (
	keyPerson     = "login-person:" // + person ID: failures from untrusted clients
	keyIdentifier = "login:"        // + hex blind index of an identifier nobody has
	keyDevice     = "login-device:" // + Device.ID: failures of one trusted device
	keyIP         = "login-ip:"     // + client address: refused attempts from it
)

// Device is a client that has logged in to a person's account before: what a valid device
// cookie names (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"). Package
// accounts never sees the cookie: the caller (package oidc) checks its MAC and age and passes
// what it names. The zero Device means the client presented no valid cookie.
type Device struct {
	// PersonID is the opaque ID of the person the cookie was issued to after a successful
	// login. An attempt for another person ignores the device.
	PersonID string
	// ID is the cookie's random nonce (base64url, at least 128 bits): the key of the device's
	// own failure counter ("login-device:"+ID).
	ID string
}

// Attempt is one guess at a secret of an account — a password, a TOTP or recovery code, a
// passkey assertion, a device user code — as CheckAttempt judges it. Fill PersonID when the
// guess is about a known person, else Identifier.
type Attempt struct {
	// PersonID is the opaque ID of the person the guess is about; "" when the typed
	// identifier resolves to nobody.
	PersonID string
	// Identifier is the identifier as typed (any form NormalizeIdentifier accepts), used
	// only when PersonID is "": its blind index keys the counter, so identifiers nobody has
	// are throttled exactly like registered ones.
	Identifier string
	// ClientIP is the source address of the attempt ("login-ip:"+ClientIP).
	ClientIP string
	// Device is what a valid device cookie of the client names; zero when it has none.
	Device Device
	// ClientID is the OAuth client the login is for, "" when none; only for logs and audit.
	ClientID string
	// Method names what is guessed ("password", "otp", "recovery_code", "passkey",
	// "user_code"); only for logs.
	Method string
}

// Guess is an attempt CheckAttempt let through: report its outcome with exactly one of Fail
// or Succeed. It is counted as a failure before the secret is checked, so a guess whose
// outcome is never reported stays a failure, and concurrent guesses cannot slip past a
// threshold.
type Guess struct {
	s       *Service
	a       Attempt
	key     string // the counter this guess is judged by
	trusted bool   // judged by the device's counter
	n       int    // failures of key including this guess
	now     time.Time
}

// Trusted reports whether the guess is judged by a trusted device's own counter rather than
// by the account's counter for untrusted clients.
func (g *Guess) Trusted() bool { return g.trusted }

// CheckAttempt judges an attempt before its secret is checked (OWASP device cookies, with
// progressive delays instead of a hard lock for untrusted clients):
//
//   - A trusted device — a.Device names a.PersonID and its own counter
//     ("login-device:"+ID) holds fewer than Config.DeviceLockThreshold failures within
//     Config.AccountLockWindow — is judged by that counter alone: neither the account's
//     failures from elsewhere nor the lock of its address refuse it. Past the threshold the
//     device is no longer trusted (its cookie is ignored) until its failures leave the window.
//   - Any other client is untrusted. Its address must be below Config.IPLockThreshold
//     refused attempts within Config.IPLockWindow, else ErrLoginLocked (not counted again).
//     The account's failures from untrusted clients ("login-person:"+ID, or "login:"+hex
//     blind index for an identifier nobody has) within Config.AccountLockWindow set a wait:
//     none below Config.AccountLockThreshold, then Config.AccountDelay doubling with each
//     further failure up to Config.AccountMaxDelay (Delay), counted from the newest failure.
//     An attempt before the wait is over gets ErrLoginThrottled with the time left and is not
//     counted against the account — only against its address.
//
// An attempt let through is counted as a failure of its counter at once (so racing attempts
// see each other); the returned Guess's Succeed may clear it. Refusals are *LoginError values
// (errors.Is ErrLoginLocked or ErrLoginThrottled, RetryAfter set); other errors come from
// storage.
func (s *Service) CheckAttempt(ctx context.Context, a Attempt) (*Guess, error) {
	key := keyPerson + a.PersonID
	if a.PersonID == "" {
		norm, _ := NormalizeIdentifier(a.Identifier)
		key = keyIdentifier + hex.EncodeToString(s.kr.BlindIndex(norm))
	}
	return s.checkAttempt(ctx, a, key)
}

// checkAttempt is CheckAttempt with the account's counter key already made.
func (s *Service) checkAttempt(ctx context.Context, a Attempt, acctKey string) (*Guess, error) {
	now := s.now()
	g := &Guess{s: s, a: a, now: now}
	if a.Device.ID != "" && a.PersonID != "" && a.Device.PersonID == a.PersonID {
		devKey := keyDevice + a.Device.ID
		st, err := s.store.FailureStats(ctx, devKey, now, s.cfg.AccountLockWindow)
		if err != nil {
			return nil, err
		}
		if st.Count < s.cfg.DeviceLockThreshold {
			n, err := s.store.AddFailure(ctx, devKey, now, s.cfg.AccountLockWindow)
			if err != nil {
				return nil, err
			}
			if n <= s.cfg.DeviceLockThreshold {
				g.key, g.trusted, g.n = devKey, true, n
				return g, nil
			}
			// Concurrent guesses of one device took it past its limit: untrusted from here.
		}
		s.log.InfoContext(ctx, "login: device not trusted any more (too many failures)", a.logAttrs()...)
	}
	ip, err := s.store.FailureStats(ctx, keyIP+a.ClientIP, now, s.cfg.IPLockWindow)
	if err != nil {
		return nil, err
	}
	if ip.Count >= s.cfg.IPLockThreshold {
		s.log.InfoContext(ctx, "login refused: client address locked", append(a.logAttrs(), "failures", ip.Count)...)
		return nil, &LoginError{Err: ErrLoginLocked, RetryAfter: max(ip.First.Add(s.cfg.IPLockWindow).Sub(now), time.Second)}
	}
	st, err := s.store.FailureStats(ctx, acctKey, now, s.cfg.AccountLockWindow)
	if err != nil {
		return nil, err
	}
	if wait := s.Delay(st.Count); wait > 0 && now.Before(st.Last.Add(wait)) {
		return nil, g.throttled(ctx, st.Last.Add(wait).Sub(now), st.Count)
	}
	n, err := s.store.AddFailure(ctx, acctKey, now, s.cfg.AccountLockWindow)
	if err != nil {
		return nil, err
	}
	if n > st.Count+1 && s.Delay(n-1) > 0 {
		// Another attempt was counted between our read and our write: only one of a burst
		// may guess. (Ours stays counted; the burst's senders wait the longer.)
		return nil, g.throttled(ctx, s.Delay(n), n)
	}
	g.key, g.n = acctKey, n
	return g, nil
}

// throttled counts a refused attempt against its address and returns the ErrLoginThrottled
// error with the time left.
func (g *Guess) throttled(ctx context.Context, left time.Duration, failures int) error {
	g.s.log.InfoContext(ctx, "login refused: account paused for untrusted clients",
		append(g.a.logAttrs(), "failures", failures, "retry_after_s", seconds(left))...)
	g.s.countIP(ctx, g.a, g.now)
	return &LoginError{Err: ErrLoginThrottled, RetryAfter: left}
}

// Fail records that the guess was wrong. It counts a refused attempt against the address
// (Config.IPLockThreshold), logs at WARN when a wait starts or grows, when a device stops being
// trusted and when an address becomes locked, and audits "login.lockout" for a registered
// person when a wait starts or a device stops being trusted. It returns a *LoginError
// wrapping ErrLoginFailed that says how many failures are left before a pause (Remaining) and
// the wait now in force for untrusted clients (RetryAfter, 0 when none).
func (g *Guess) Fail(ctx context.Context) error {
	s := g.s
	s.countIP(ctx, g.a, g.now)
	e := &LoginError{Err: ErrLoginFailed}
	if g.trusted {
		e.Remaining = max(s.cfg.DeviceLockThreshold-g.n, 0)
		if e.Remaining == 0 {
			s.log.WarnContext(ctx, "login lockout: device not trusted any more", append(g.a.logAttrs(), "failures", g.n)...)
			g.auditLockout(ctx, "device_untrusted")
		}
		return e
	}
	e.Remaining = max(s.cfg.AccountLockThreshold-g.n, 0)
	if e.RetryAfter = s.Delay(g.n); e.RetryAfter > 0 {
		s.log.WarnContext(ctx, "login lockout: account paused for untrusted clients",
			append(g.a.logAttrs(), "failures", g.n, "wait_s", seconds(e.RetryAfter))...)
		if g.n == s.cfg.AccountLockThreshold {
			g.auditLockout(ctx, "untrusted_paused")
		}
	}
	return e
}

// Succeed records that the guess was right. A trusted device's success clears the device's
// counter and leaves the account's failures from elsewhere in place. An untrusted client's
// success clears the account's counter only when it was below Config.AccountLockThreshold
// (the owner's own typos); once the account is paused the failures stay — and this attempt,
// counted before the check, with them — so that a guesser gains no fresh attempts from the
// owner's logins (the owner's browser gets a device cookie and is trusted from then on).
func (g *Guess) Succeed(ctx context.Context) {
	if !g.trusted && g.n-1 >= g.s.cfg.AccountLockThreshold {
		return
	}
	if err := g.s.store.ClearFailures(ctx, g.key); err != nil {
		g.s.log.ErrorContext(ctx, "clear login failures", "err", err)
	}
}

// countIP counts a refused attempt against a's address and logs at WARN when that locks it.
func (s *Service) countIP(ctx context.Context, a Attempt, now time.Time) {
	n, err := s.store.AddFailure(ctx, keyIP+a.ClientIP, now, s.cfg.IPLockWindow)
	if err != nil {
		s.log.ErrorContext(ctx, "record login failure", "err", err)
		return
	}
	if n == s.cfg.IPLockThreshold {
		s.log.WarnContext(ctx, "login lockout: client address locked", append(a.logAttrs(), "failures", n)...)
	}
}

// auditLockout audits "login.lockout" for a registered person (detail the kind of lock).
func (g *Guess) auditLockout(ctx context.Context, detail string) {
	if g.a.PersonID != "" {
		g.s.audit(ctx, storage.AuditEvent{Actor: g.a.PersonID, Action: "login.lockout", Subject: g.a.PersonID,
			ClientID: g.a.ClientID, Detail: detail})
	}
}

// logAttrs are the log attributes of an attempt: the opaque person ID (when known), client,
// address and method — never the identifier.
func (a Attempt) logAttrs() []any {
	attrs := []any{slog.String("client_id", a.ClientID), slog.String("client_ip", a.ClientIP)}
	if a.PersonID != "" {
		attrs = append(attrs, slog.String("person_id", a.PersonID))
	}
	if a.Method != "" {
		attrs = append(attrs, slog.String("method", a.Method))
	}
	return attrs
}

// Delay returns the wait an untrusted client must observe after the newest of failures
// failures of an account within Config.AccountLockWindow: 0 below Config.AccountLockThreshold,
// then Config.AccountDelay × 2^(failures − AccountLockThreshold), at most
// Config.AccountMaxDelay. With the defaults: 5 failures → 1 s, 6 → 2 s, 7 → 4 s … 15 → 15 min.
func (s *Service) Delay(failures int) time.Duration {
	k := failures - s.cfg.AccountLockThreshold
	if k < 0 {
		return 0
	}
	if k >= 62 { // a shift that far would overflow
		return s.cfg.AccountMaxDelay
	}
	d := s.cfg.AccountDelay << k
	if d <= 0 || d > s.cfg.AccountMaxDelay || d>>k != s.cfg.AccountDelay {
		return s.cfg.AccountMaxDelay
	}
	return d
}

// seconds is d in whole seconds, rounded up: the unit of Retry-After (RFC 9110 §10.2.3).
func seconds(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }

// LoginError is a failed or refused login attempt. Err is ErrLoginFailed, ErrLoginThrottled
// or ErrLoginLocked (errors.Is works through Unwrap).
type LoginError struct {
	Err error
	// RetryAfter: for ErrLoginThrottled and ErrLoginLocked, how long until an attempt is
	// considered again; for ErrLoginFailed, the wait that now applies to untrusted clients
	// before the account's next attempt (0 when none). Round up to whole seconds for a
	// Retry-After header (RFC 9110 §10.2.3).
	RetryAfter time.Duration
	// Remaining (ErrLoginFailed only) is how many more failures are allowed before a wait
	// starts (untrusted clients) or before the device is no longer trusted; 0 when none.
	Remaining int
}

func (e *LoginError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%v (retry after %ds)", e.Err, seconds(e.RetryAfter))
	}
	return e.Err.Error()
}

func (e *LoginError) Unwrap() error { return e.Err }
