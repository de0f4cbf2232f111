package wallet

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/health"
)

// Defaults of ServiceConfig.
const (
	DefaultKeyIssuer         = "tongban wallet"
	DefaultTrustListPeriod   = 24 * time.Hour
	DefaultTrustListValidity = 7 * 24 * time.Hour
)

// Store is the part of storage.Storage the wallet service uses: licences, the audit log, the
// holder's code records and the counters.
type Store interface {
	storage.Licences
	storage.LicenceStatusIndexes
	storage.Audit
	storage.CodeRecords // the holder's record (record.go)
	storage.Counters    // counters and their receipts (counters.go)
}

// ServiceConfig configures a Service. Only Store and Keyring are required; the zero value of
// every other field means the default given in its comment.
type ServiceConfig struct {
	// Store persists licences, their status indexes and audit entries. Required.
	Store Store
	// Keyring seals licence fields (SM4-GCM), computes blind indexes (HMAC-SM3) and holds the
	// SM2 code-signing key (storage.PurposeQR) and trust-list signing key
	// (storage.PurposeTrustList); NewService creates both on first start. Required.
	Keyring *keyring.Keyring
	// Now is the clock for codes, licence status and trust lists. Nil means time.Now.
	Now func() time.Time
	// Rand supplies each code's cti and SM2 signing randomness. Nil means crypto/rand.Reader.
	Rand io.Reader
	// Logger receives operational logs without personal data. Nil means slog.Default().
	Logger *slog.Logger

	// KeyIssuer names the issuing system of the code-signing keys in the trust list
	// (TrustedKey.Issuer), at most credentials.MaxTextLength bytes. "" means
	// DefaultKeyIssuer.
	KeyIssuer string
	// Kinds are the licence kinds the code-signing key may sign, published as its scope in
	// the trust list; Mint refuses others with ErrOutOfScope. Nil means every kind.
	Kinds []credentials.Kind
	// Profiles are the display profiles the code-signing key may sign. Nil means every
	// profile (qr.Profiles).
	Profiles []qr.DisplayProfile
	// CodeValidity is exp − iat of a code, whole seconds from 1 s to 60 s. Zero means
	// qr.DefaultValidity (60 s).
	CodeValidity time.Duration
	// TrustListPeriod is how often the trust list is re-issued even when no key changed: its
	// issue time starts a new period every TrustListPeriod since the Unix epoch. Zero means
	// DefaultTrustListPeriod (24 h).
	TrustListPeriod time.Duration
	// TrustListValidity is how long after the start of its period a trust list stays fresh;
	// verifiers refuse every code once it has passed (qr.ErrStaleTrustList), so they must
	// fetch a new list within this time. At least TrustListPeriod. Zero means
	// DefaultTrustListValidity (7 days).
	TrustListValidity time.Duration
	// StatusListValidity is exp − iat of the status list (StatusList), whole seconds from 1 m
	// to 24 h. Pre-fetched codes are refused offline once the list a verifier holds is older
	// than this, so it bounds how long a revocation takes to reach an offline verifier that
	// refreshes its list. Zero means qr.DefaultStatusListValidity (1 h).
	StatusListValidity time.Duration
	// RecordRetention is how long the record of each code minted (the holder's record,
	// 亮证记录) and its counters' receipts are kept before PurgeRecords deletes them; at least
	// ReceiptMaxAge (30 days). Zero means DefaultRecordRetention (180 days).
	RecordRetention time.Duration
}

// Service is the wallet without HTTP: licences (import, list, status) and codes (mint, trust
// list). It is safe for concurrent use and keeps no state outside storage and the keyring, so
// any number of replicas may share one database.
type Service struct {
	store     Store
	kr        *keyring.Keyring
	now       func() time.Time
	rand      io.Reader
	log       *slog.Logger
	keyIssuer string
	kinds     []credentials.Kind
	profiles  []qr.DisplayProfile
	validity  time.Duration
	period    time.Duration
	listLife  time.Duration
	slLife    time.Duration
	retention time.Duration
}

// NewService checks cfg and creates the SM2 code-signing and trust-list signing keys that do
// not exist yet (keyring.EnsureSigningKeys). Errors: a message naming every invalid field of
// cfg, or the keyring's error.
func NewService(ctx context.Context, cfg ServiceConfig) (*Service, error) {
	s := &Service{
		store: cfg.Store, kr: cfg.Keyring, now: cfg.Now, rand: cfg.Rand, log: cfg.Logger,
		keyIssuer: cfg.KeyIssuer, kinds: cfg.Kinds, profiles: cfg.Profiles,
		validity: cfg.CodeValidity, period: cfg.TrustListPeriod, listLife: cfg.TrustListValidity,
		slLife: cfg.StatusListValidity, retention: cfg.RecordRetention,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.keyIssuer == "" {
		s.keyIssuer = DefaultKeyIssuer
	}
	if s.kinds == nil {
		s.kinds = slices.Clone(credentials.Kinds)
	}
	if s.profiles == nil {
		s.profiles = slices.Clone(qr.Profiles)
	}
	if s.validity == 0 {
		s.validity = qr.DefaultValidity
	}
	if s.period == 0 {
		s.period = DefaultTrustListPeriod
	}
	if s.listLife == 0 {
		s.listLife = DefaultTrustListValidity
	}
	if s.retention == 0 {
		s.retention = DefaultRecordRetention
	}
	if s.slLife == 0 {
		s.slLife = qr.DefaultStatusListValidity
	}
	var problems []string
	if cfg.Store == nil {
		problems = append(problems, "Store is required")
	}
	if cfg.Keyring == nil {
		problems = append(problems, "Keyring is required")
	}
	if len(s.keyIssuer) > credentials.MaxTextLength {
		problems = append(problems, fmt.Sprintf("KeyIssuer is longer than %d bytes", credentials.MaxTextLength))
	}
	if len(s.kinds) == 0 || len(s.profiles) == 0 {
		problems = append(problems, "Kinds and Profiles must not be empty (nil means all)")
	}
	for _, k := range s.kinds {
		if !k.Valid() {
			problems = append(problems, fmt.Sprintf("Kinds: unknown kind %q", k))
		}
	}
	for _, p := range s.profiles {
		if !p.Valid() {
			problems = append(problems, fmt.Sprintf("Profiles: unknown profile %d", p))
		}
	}
	if s.validity < time.Second || s.validity > qr.DefaultValidity || s.validity%time.Second != 0 {
		problems = append(problems, fmt.Sprintf("CodeValidity: want whole seconds from 1s to %s, got %s", qr.DefaultValidity, s.validity))
	}
	if s.period < time.Minute || s.period%time.Second != 0 {
		problems = append(problems, fmt.Sprintf("TrustListPeriod: want whole seconds, at least 1m, got %s", s.period))
	}
	if s.listLife < s.period || s.listLife%time.Second != 0 {
		problems = append(problems, fmt.Sprintf("TrustListValidity: want whole seconds, at least TrustListPeriod (%s), got %s", s.period, s.listLife))
	}
	if s.slLife < time.Minute || s.slLife > 24*time.Hour || s.slLife%time.Second != 0 {
		problems = append(problems, fmt.Sprintf("StatusListValidity: want whole seconds from 1m to 24h, got %s", s.slLife))
	}
	if s.retention < ReceiptMaxAge {
		problems = append(problems, fmt.Sprintf("RecordRetention: want at least %s, got %s", ReceiptMaxAge, s.retention))
	}
	if len(problems) > 0 {
		return nil, errors.New("wallet: invalid configuration: " + strings.Join(problems, "; "))
	}
	if err := s.kr.EnsureSigningKeys(ctx, storage.PurposeQR, keyring.AlgSM2); err != nil {
		return nil, fmt.Errorf("wallet: code-signing key: %w", err)
	}
	if err := s.kr.EnsureSigningKeys(ctx, storage.PurposeTrustList, keyring.AlgSM2); err != nil {
		return nil, fmt.Errorf("wallet: trust-list key: %w", err)
	}
	return s, nil
}

// Now returns the service's current time (ServiceConfig.Now): the time codes are minted at
// and licence status is judged at.
func (s *Service) Now() time.Time { return s.now() }

// CodeValidity returns exp − iat of the codes Mint signs without Prefetch
// (ServiceConfig.CodeValidity; 60 s by default).
func (s *Service) CodeValidity() time.Duration { return s.validity }

// Store returns the store the service works on (ServiceConfig.Store). The web side keeps its
// login sessions there when it implements storage.LoginSessions.
func (s *Service) Store() Store { return s.store }

// Keyring returns the service's keyring (ServiceConfig.Keyring). The web side derives its
// cookie keys from the keyring's token key, never from the field key that seals licences.
func (s *Service) Keyring() *keyring.Keyring { return s.kr }

// Actor says who acts, for the audit log: an opaque subject ("operator" for the command
// line) and the OAuth client it acts through, if any. Never a name or a number.
type Actor struct {
	Subject  string
	ClientID string
}

// Operator is the Actor of the command-line tools.
var Operator = Actor{Subject: "operator"}

// audit appends an audit event; a failure is logged, not returned: the action has happened.
// While the database refuses writes (storage.ErrUnavailable) it is logged at debug level: the
// store counts the refusal and the readiness monitor (storage/health) reports the count once
// per interval, rather than one ERROR line per request.
func (s *Service) audit(ctx context.Context, a Actor, action, subject, detail string) {
	_, err := s.store.AppendAudit(ctx, storage.AuditEvent{
		Time: s.now().UTC(), Actor: a.Subject, Action: action, Subject: subject, ClientID: a.ClientID, Detail: detail,
	})
	if err != nil {
		health.LogFailure(ctx, s.log, "audit append failed", err, "action", action, "subject", subject)
	}
}

// inTx runs fn in one transaction when the store is a storage.Transactor, else directly.
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if tx, ok := s.store.(storage.Transactor); ok {
		return tx.InTx(ctx, fn)
	}
	return fn(ctx)
}
