package qr

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr/internal/base45"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/sm-crypto/smcose"
)

// Prefix starts every code's text: "LZ1:" (亮证, format version 1). All
// four characters are in the QR alphanumeric set.
const Prefix = "LZ1:"

// MaxTextLength is the longest code text Verify (and Mint) accepts, in
// characters (bytes): up to 797 bytes of COSE_Sign1, QR version 23 at level
// M — well beyond the largest full-registration code (about 650
// characters, version 16).
const MaxTextLength = 1200

// DefaultClockSkew is the clock difference Verify tolerates between minter
// and verifier when ClockSkew is zero.
const DefaultClockSkew = 30 * time.Second

// Verifier checks codes offline: it makes no network calls and keeps no
// state except through Replay.
type Verifier struct {
	// Trust supplies the trust list; required. A *TrustList or a
	// *TrustStore.
	Trust TrustSource
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ClockSkew is tolerated each way on iat and exp. Zero means
	// DefaultClockSkew (30 s); negative means none.
	ClockSkew time.Duration
	// Replay remembers accepted cti values; nil skips the replay check
	// (e.g. a verifier that only displays). A cti is recorded only when
	// every other check has passed, until exp + ClockSkew.
	Replay ReplayCache
	// Status supplies the status list for pre-fetched codes (those carrying ClaimStatus); a
	// *StatusList made by ParseStatusList. Nil: pre-fetched codes fail with
	// ErrStatusListMissing. Codes without ClaimStatus never consult it.
	Status StatusSource
}

// StatusSource gives a Verifier the status list to use for one verification. *StatusList
// implements it; CurrentStatusList may return nil when no list is held.
type StatusSource interface {
	CurrentStatusList() *StatusList
}

// CurrentStatusList returns l itself, so a *StatusList is a StatusSource.
func (l *StatusList) CurrentStatusList() *StatusList { return l }

// Result is what a valid code says. Exactly one of Identity, Registration
// and Bundle is set, according to Profile; nothing outside the profile's
// fields is shown.
type Result struct {
	Profile DisplayProfile
	// KeyID and KeyIssuer identify the signing key from the trust list.
	KeyID     [smcrypto.KeyIDSize]byte
	KeyIssuer string
	// IssuedAt and ExpiresAt are iat and exp (whole seconds).
	IssuedAt, ExpiresAt time.Time
	// CTI is the code's unique identifier (8 bytes).
	CTI [CTISize]byte
	// StatusIndex is the status-list index of a pre-fetched code (checked against the
	// status list); nil for ordinary codes.
	StatusIndex *uint64

	Identity     *IdentityCheck       // ProfileMaskedIdentity
	Registration *credentials.Licence // ProfileFullRegistration (Fields: only those shown; no Agents)
	Bundle       *Bundle              // ProfileBundle
}

// Kinds returns the licence kinds the code shows, in order.
func (r *Result) Kinds() []credentials.Kind {
	c := claims{identity: r.Identity, registration: r.Registration, bundle: r.Bundle}
	return c.kinds()
}

// Verify checks a code's text in the order of DESIGN §5 and returns what it
// shows. The error wraps exactly one of, in order of the checks:
// ErrTooLong, ErrBadPrefix, ErrBadBase45, ErrBadCBOR, ErrWrongAlgorithm,
// ErrStaleTrustList, ErrUnknownKey, ErrBadSignature, ErrBadClaims,
// ErrKeyNotAllowed, ErrNotYetValid, ErrExpired, ErrValidityTooLong, (pre-fetched codes
// only: ErrStatusListMissing, ErrStatusListStale, ErrStatusRevoked, ErrStatusSuspended),
// ErrReplayed — or is the Replay cache's own error. Nothing from the
// payload is used before the signature has verified.
func (v *Verifier) Verify(text string) (*Result, error) {
	// 1. Length and prefix.
	if len(text) > MaxTextLength {
		return nil, fmt.Errorf("%w: %d characters, limit %d", ErrTooLong, len(text), MaxTextLength)
	}
	if !strings.HasPrefix(text, Prefix) {
		return nil, ErrBadPrefix
	}
	// 2. Strict Base45.
	raw, err := base45.Decode(text[len(Prefix):])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadBase45, err)
	}
	// 3. Strict CBOR: a tagged COSE_Sign1 with {alg, kid}.
	env, err := parseEnvelope(raw, envelopeMode, payloadMode, false)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCBOR, err)
	}
	// 4. alg is the SM2 value; no negotiation.
	if env.alg != smcose.AlgorithmSM2 {
		return nil, fmt.Errorf("%w: alg %d", ErrWrongAlgorithm, int64(env.alg))
	}
	// 5. Key known in a fresh trust list.
	now := v.now()
	var list *TrustList
	if v.Trust != nil {
		list = v.Trust.CurrentTrustList()
	}
	if list == nil {
		return nil, fmt.Errorf("%w: no trust list", ErrStaleTrustList)
	}
	if now.After(list.ExpiresAt) {
		return nil, fmt.Errorf("%w: list %d expired at %s", ErrStaleTrustList, list.Sequence, list.ExpiresAt.UTC().Format(time.RFC3339))
	}
	key := list.Key(env.kid)
	if key == nil {
		return nil, fmt.Errorf("%w: kid %x", ErrUnknownKey, env.kid)
	}
	// 6. Signature.
	cv, err := key.coseVerifier()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownKey, err)
	}
	if err := env.verify(cv); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	// 7. Claims, strictly.
	c, err := decodeClaims(env.msg.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadClaims, err)
	}
	// 8. Key scope: profile, every kind, usage window.
	for _, k := range c.kinds() {
		if !key.Allows(c.profile, k) {
			return nil, fmt.Errorf("%w: key %x may not sign profile %d for %s", ErrKeyNotAllowed, env.kid, c.profile, k)
		}
	}
	if !key.UsableAt(c.iat) {
		return nil, fmt.Errorf("%w: iat outside the usage window of key %x", ErrKeyNotAllowed, env.kid)
	}
	// 9. Time: iat and exp within skew; window no longer than the profile's.
	skew := v.skew()
	if c.iat.After(now.Add(skew)) {
		if d, ok := gap(c.iat, now); ok {
			return nil, fmt.Errorf("%w: issued %s in the future", ErrNotYetValid, d)
		}
		return nil, fmt.Errorf("%w: issued at %s, after the verification time %s", ErrNotYetValid, rfc3339(c.iat), rfc3339(now))
	}
	if now.After(c.exp.Add(skew)) {
		if d, ok := gap(now, c.exp); ok {
			return nil, fmt.Errorf("%w: %s ago", ErrExpired, d)
		}
		return nil, fmt.Errorf("%w: expired at %s, before the verification time %s", ErrExpired, rfc3339(c.exp), rfc3339(now))
	}
	maxValidity := c.profile.MaxValidity()
	if c.hasStatus {
		maxValidity = PrefetchMaxValidity
	}
	if w := c.exp.Sub(c.iat); w > maxValidity {
		return nil, fmt.Errorf("%w: %s, profile %d allows %s", ErrValidityTooLong, w, c.profile, maxValidity)
	}
	// 9a. Status of a pre-fetched code, from a fresh status list signed by a listed key.
	var statusIdx *uint64
	if c.hasStatus {
		if err := v.checkStatus(list, key, c, now, skew); err != nil {
			return nil, err
		}
		statusIdx = &c.statusIdx
	}
	// 10. Replay.
	if v.Replay != nil {
		seen, err := v.Replay.Seen(c.cti, c.exp.Add(skew))
		if err != nil {
			return nil, fmt.Errorf("qr: replay cache: %w", err)
		}
		if seen {
			return nil, fmt.Errorf("%w: cti %x", ErrReplayed, c.cti)
		}
	}
	// 11. Only the profile's fields.
	return &Result{
		Profile:      c.profile,
		KeyID:        env.kid,
		KeyIssuer:    key.Issuer,
		IssuedAt:     c.iat,
		ExpiresAt:    c.exp,
		CTI:          c.cti,
		StatusIndex:  statusIdx,
		Identity:     c.identity,
		Registration: c.registration,
		Bundle:       c.bundle,
	}, nil
}

// checkStatus looks the code's status index up in the verifier's status list: it must be
// held, signed by a key still in the current trust list that belongs to the issuer of the
// code's key and may sign this code's profile and kinds (status indexes are per wallet: a
// list of another issuer in the same trust list says nothing about this code), fresh
// (iat ≤ now + skew ≤ …, now ≤ exp + skew) and cover the index; the status must be VALID.
func (v *Verifier) checkStatus(trust *TrustList, codeKey *TrustedKey, c *claims, now time.Time, skew time.Duration) error {
	idx := c.statusIdx
	var sl *StatusList
	if v.Status != nil {
		sl = v.Status.CurrentStatusList()
	}
	if sl == nil {
		return fmt.Errorf("%w: the code is pre-fetched (status index %d); load a status list", ErrStatusListMissing, idx)
	}
	slKey := trust.Key(sl.SignerKID)
	if slKey == nil {
		return fmt.Errorf("%w: its signer %x is no longer in the trust list", ErrStatusListMissing, sl.SignerKID)
	}
	if slKey.Issuer != codeKey.Issuer {
		return fmt.Errorf("%w: the status list is from another issuer than the code (signer %x)", ErrStatusListMissing, sl.SignerKID)
	}
	for _, k := range c.kinds() {
		if !slKey.Allows(c.profile, k) {
			return fmt.Errorf("%w: its signer %x may not sign profile %d for %s", ErrStatusListMissing, sl.SignerKID, c.profile, k)
		}
	}
	if now.After(sl.ExpiresAt.Add(skew)) {
		return fmt.Errorf("%w: expired at %s", ErrStatusListStale, rfc3339(sl.ExpiresAt))
	}
	if sl.IssuedAt.After(now.Add(skew)) {
		return fmt.Errorf("%w: issued at %s, after the verification time", ErrStatusListStale, rfc3339(sl.IssuedAt))
	}
	st, ok := sl.Status(idx)
	if !ok {
		return fmt.Errorf("%w: the list does not cover index %d", ErrStatusListMissing, idx)
	}
	switch st {
	case StatusValid:
		return nil
	case StatusSuspended:
		return fmt.Errorf("%w: status index %d", ErrStatusSuspended, idx)
	}
	return fmt.Errorf("%w: status index %d", ErrStatusRevoked, idx)
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) skew() time.Duration {
	switch {
	case v.ClockSkew == 0:
		return DefaultClockSkew
	case v.ClockSkew < 0:
		return 0
	}
	return v.ClockSkew
}

// gap returns later − earlier, and false when it does not fit a time.Duration (about 292
// years, e.g. a verification time of year 0): then the caller prints the two times rather
// than an overflowed duration.
func gap(later, earlier time.Time) (time.Duration, bool) {
	d := later.Sub(earlier)
	return d, d != math.MaxInt64 && d != math.MinInt64 && earlier.Add(d).Equal(later)
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
