package accounts

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// Store is the storage a Service works on: people, the lockout counters, one-time values
// (the TOTP time steps already used) and the audit log. A storage.Storage satisfies it.
type Store interface {
	storage.People
	storage.Throttle
	storage.Nonces
	storage.Audit
	storage.OTPDevices
	storage.LoginSessions // self-service: a password change or recovery ends sessions
	storage.Consents      // self-service: closing an account withdraws its consents
	storage.SelfService   // self-service: recovery codes, sessions and consents per person
	storage.Passkeys      // closing an account deletes its passkeys

	// People administration and corrections (admin.go, corrections.go).
	storage.Transactor     // every administrative change commits with its audit entry
	storage.Tokens         // disabling a person revokes their grants …
	storage.Revocations    // … and their sealed access tokens
	storage.PasswordResets // single-use password-reset links
	storage.Corrections    // corrections (纠错)

	agentStore // agents.go: legal representatives and agents
}

// Config configures a Service. The zero value of every optional field means the default given
// in its comment; only Store and Keyring are required. Only cmd/* reads files, flags and
// environment: this package takes a plain struct.
type Config struct {
	// Store persists people, lockout counters, used TOTP time steps and audit events. Required.
	Store Store

	// Keyring seals the ID number, phone number and TOTP secret of each person
	// (keyring.SealField) and computes the blind indexes they are found by
	// (keyring.BlindIndex). Required.
	Keyring *keyring.Keyring

	// Now returns the current time: lockout windows, TOTP steps, record and audit times. Nil
	// means time.Now.
	Now func() time.Time

	// Logger receives structured logs: opaque person IDs, reasons and counts — never names,
	// numbers, phone numbers, passwords or codes. Nil means slog.Default().
	Logger *slog.Logger

	// PasswordParams are the PBKDF2-HMAC-SM3 parameters for new password hashes and for the
	// dummy check run for unknown identifiers (so both cost the same). A hash made with other
	// parameters is re-hashed after a successful login. Zero means
	// smcrypto.DefaultPasswordParams (≈50 ms of one core).
	PasswordParams smcrypto.PasswordParams

	// AccountLockThreshold is the number of failed logins for one account (the person,
	// whichever identifier was typed, or an identifier nobody has) from untrusted clients —
	// clients without a trusted device cookie (Device) — within AccountLockWindow after which
	// each further attempt from an untrusted client must wait (Delay): a pause, not a wall.
	// Zero means DefaultAccountLockThreshold (5).
	AccountLockThreshold int
	// AccountLockWindow is how long a failure counts: the sliding window of
	// AccountLockThreshold and DeviceLockThreshold. It must be at least AccountMaxDelay, and
	// should be many times it so that waiting out the longest delay does not forget the
	// failures before it. Zero means DefaultAccountLockWindow (24 hours).
	AccountLockWindow time.Duration
	// AccountDelay is the first wait, after AccountLockThreshold failures; it doubles with
	// each further failure. Zero means DefaultAccountDelay (1 second).
	AccountDelay time.Duration
	// AccountMaxDelay caps the wait. Zero means DefaultAccountMaxDelay (15 minutes): with the
	// defaults an untrusted guesser gets at most about 100 guesses a day at one account.
	AccountMaxDelay time.Duration
	// DeviceLockThreshold is the number of failed logins from one trusted device (its own
	// counter) within AccountLockWindow after which its device cookie is no longer trusted.
	// Zero means DefaultDeviceLockThreshold (10).
	DeviceLockThreshold int
	// IPLockThreshold is the number of refused login attempts (failed, or refused because
	// the account was paused) from one client IP address within IPLockWindow after which
	// untrusted attempts from that address are refused. Zero means DefaultIPLockThreshold.
	IPLockThreshold int
	// IPLockWindow is the sliding window of IPLockThreshold. Zero means DefaultIPLockWindow.
	IPLockWindow time.Duration

	// PasswordResetURL is the absolute URL of the provider's password-reset page (package oidc:
	// the issuer followed by /account/reset), to which IssuePasswordReset adds the token. ""
	// means no reset links: IssuePasswordReset returns ErrResetLinkOff.
	PasswordResetURL string

	// Licences reaches the fields of licences (电子证照) for corrections whose target is a
	// licence (FileCorrection, ApplyCorrection). Nil means such corrections are refused with
	// ErrCorrectionTarget; person corrections work without it.
	Licences LicenceFields
	// Scopes are the scopes the provider supports (oidc.SupportedScopes): an agent
	// authorisation may name only these. Nil accepts any well-formed scope.
	Scopes []string

	// Notifier sends the one-time codes of access recovery (StartRecovery) to the person's
	// phone. Nil means recovery is off: StartRecovery returns ErrRecoveryOff.
	Notifier Notifier

	// RevokeGrant revokes every token of a grant (storage.TokenRecord.RequestID) when an
	// agent's authorisation is withdrawn (WithdrawAgent); the identity provider passes its
	// token store's revocation. Nil means the storage-level revocation: stored refresh and
	// access tokens inactive, and an entry of the revoked-grant list for sealed access tokens
	// (RevocationFallbackTTL).
	RevokeGrant func(ctx context.Context, requestID string) error

	// OnSessionsEnded is called after EndSessions or DisablePerson committed, with the person
	// whose SSO sessions ended: the identity provider sends the back-channel logout tokens of
	// those sessions (OpenID Connect Back-Channel Logout 1.0) and revokes their grants. It must
	// not block for long (it enqueues; delivery runs in the background). Nil means nothing.
	OnSessionsEnded func(ctx context.Context, personID string)
}

// Defaults of Config.
const (
	DefaultAccountLockThreshold = 5
	DefaultAccountLockWindow    = 24 * time.Hour
	DefaultAccountDelay         = time.Second
	DefaultAccountMaxDelay      = 15 * time.Minute
	DefaultDeviceLockThreshold  = 10
	DefaultIPLockThreshold      = 50
	DefaultIPLockWindow         = 15 * time.Minute
)

// Service administers people and checks their credentials. It is safe for concurrent use and
// keeps no state outside Store (the dummy password hash aside), so every replica of a server
// may have its own.
type Service struct {
	cfg       Config
	store     Store
	kr        *keyring.Keyring
	now       func() time.Time
	log       *slog.Logger
	dummyHash string // a hash with Config.PasswordParams, checked for unknown identifiers
}

// New validates cfg, applies the defaults documented on Config and makes the dummy password
// hash (one hash with Config.PasswordParams). Errors: ErrInvalidConfig listing every problem
// of cfg; for PasswordParams it also wraps smcrypto.ErrPasswordParams.
func New(cfg Config) (*Service, error) {
	var problems []string
	if cfg.Store == nil {
		problems = append(problems, "Store is required")
	}
	if cfg.Keyring == nil {
		problems = append(problems, "Keyring is required")
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"AccountLockWindow", &cfg.AccountLockWindow, DefaultAccountLockWindow},
		{"IPLockWindow", &cfg.IPLockWindow, DefaultIPLockWindow},
		{"AccountDelay", &cfg.AccountDelay, DefaultAccountDelay},
		{"AccountMaxDelay", &cfg.AccountMaxDelay, DefaultAccountMaxDelay},
	} {
		switch {
		case *d.v == 0:
			*d.v = d.def
		case *d.v < time.Second:
			problems = append(problems, fmt.Sprintf("%s %v is below one second", d.name, *d.v))
		}
	}
	if cfg.AccountLockThreshold == 0 {
		cfg.AccountLockThreshold = DefaultAccountLockThreshold
	}
	if cfg.IPLockThreshold == 0 {
		cfg.IPLockThreshold = DefaultIPLockThreshold
	}
	if cfg.DeviceLockThreshold == 0 {
		cfg.DeviceLockThreshold = DefaultDeviceLockThreshold
	}
	if cfg.AccountLockThreshold < 0 || cfg.IPLockThreshold < 0 || cfg.DeviceLockThreshold < 0 {
		problems = append(problems, "lock thresholds must be positive")
	}
	if cfg.AccountMaxDelay < cfg.AccountDelay {
		problems = append(problems, fmt.Sprintf("AccountMaxDelay %v is below AccountDelay %v", cfg.AccountMaxDelay, cfg.AccountDelay))
	}
	if cfg.AccountLockWindow < cfg.AccountMaxDelay && cfg.AccountLockWindow >= time.Second {
		problems = append(problems, fmt.Sprintf("AccountLockWindow %v is below AccountMaxDelay %v", cfg.AccountLockWindow, cfg.AccountMaxDelay))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(problems, "; "))
	}
	if cfg.PasswordParams == (smcrypto.PasswordParams{}) {
		cfg.PasswordParams = smcrypto.DefaultPasswordParams
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{cfg: cfg, store: cfg.Store, kr: cfg.Keyring, now: cfg.Now, log: cfg.Logger}
	var err error
	if s.dummyHash, err = smcrypto.HashPassword([]byte(newID()), cfg.PasswordParams); err != nil {
		return nil, fmt.Errorf("%w: PasswordParams: %w", ErrInvalidConfig, err)
	}
	return s, nil
}

// newID returns 128 random bits, base64url without padding (22 characters): the form of
// person and correction IDs. An ID never starts with "-", so that it can be given to a
// command as an argument (`idp corrections apply ID`) without being read as a flag: one draw
// in 64 is redrawn.
func newID() string {
	var b [16]byte
	for {
		_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
		if id := base64.RawURLEncoding.EncodeToString(b[:]); id[0] != '-' {
			return id
		}
	}
}

// audit appends an audit event stamped with the time. A failure is logged, not returned: the
// action it records has happened.
func (s *Service) audit(ctx context.Context, e storage.AuditEvent) {
	e.Time = s.now()
	if _, err := s.store.AppendAudit(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "audit append failed", "action", e.Action, "err", err)
	}
}
