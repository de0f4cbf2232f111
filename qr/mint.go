package qr

import (
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr/internal/base45"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/sm-crypto/smcose"
)

// Minter signs codes. The zero value is not usable: Key is required.
type Minter struct {
	// Key is the code-signing SM2 private key; its public key must be in the
	// trust list with the kinds and profiles it signs.
	Key *sm2.PrivateKey
	// KeyID is the COSE kid. Zero means smcrypto.KeyID(&Key.PublicKey); a
	// certificate entry's kid is CertificateKeyID(der).
	KeyID [smcrypto.KeyIDSize]byte
	// Now is the clock; nil means time.Now. iat is Now truncated to the
	// second.
	Now func() time.Time
	// Rand supplies the 8-byte cti and then the SM2 signing randomness,
	// in that order; nil means crypto/rand.Reader.
	Rand io.Reader
	// Validity is exp − iat, in whole seconds. Zero means DefaultValidity
	// (60 s); more than the profile's MaxValidity is refused.
	Validity time.Duration
	// StatusIndex, when set, makes a pre-fetched code: the code carries ClaimStatus with this
	// index into the status list, and Validity may reach PrefetchMaxValidity (24 h). Only
	// ProfileMaskedIdentity codes may be pre-fetched (ErrPrefetchProfile).
	StatusIndex *uint64
}

// Code is a minted code.
type Code struct {
	// Text is the QR text: Prefix followed by Base45 (uppercase, QR
	// alphanumeric mode).
	Text string
	// Profile is the display profile.
	Profile DisplayProfile
	// IssuedAt and ExpiresAt are iat and exp.
	IssuedAt, ExpiresAt time.Time
	// CTI is the code's random 8-byte identifier.
	CTI [CTISize]byte
	// StatusIndex is the status-list index of a pre-fetched code; nil for ordinary codes.
	StatusIndex *uint64
}

// Mint signs a code of profile p showing licences: exactly one for
// ProfileMaskedIdentity and ProfileFullRegistration (whose Fields are shown
// as given — pass Licence.WithFields to show only the holder's choice),
// 2 to MaxBundle sharing one Holder for ProfileBundle.
//
// Every licence must pass Licence.Validate (profile 2 excepted for
// required kind-specific fields the holder chose not to show) and be
// showable now: a revoked, suspended, expired or not-yet-valid licence gets
// no code (credentials.ErrLicenceRevoked, ErrLicenceSuspended,
// ErrLicenceExpired, ErrLicenceNotYetValid, wrapped). Other errors:
// ErrNoKey, ErrUnknownProfile, ErrLicenceCount, ErrMixedHolders,
// ErrValidityTooLong, ErrTooLong, or an error from Rand.
func (m *Minter) Mint(p DisplayProfile, licences ...credentials.Licence) (Code, error) {
	if m.Key == nil {
		return Code{}, ErrNoKey
	}
	if !p.Valid() {
		return Code{}, fmt.Errorf("%w: %d", ErrUnknownProfile, p)
	}
	validity := m.Validity
	if validity == 0 {
		validity = DefaultValidity
	}
	maxValidity := p.MaxValidity()
	if m.StatusIndex != nil {
		if p != ProfileMaskedIdentity {
			return Code{}, fmt.Errorf("%w: profile %d", ErrPrefetchProfile, p)
		}
		if *m.StatusIndex >= MaxStatusEntries {
			return Code{}, fmt.Errorf("%w: status index %d, limit %d", ErrBadStatusList, *m.StatusIndex, MaxStatusEntries)
		}
		maxValidity = PrefetchMaxValidity
	}
	if validity > maxValidity || validity < time.Second {
		return Code{}, fmt.Errorf("%w: %s, profile %d allows 1s..%s", ErrValidityTooLong, validity, p, maxValidity)
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	t := now()
	if err := checkLicences(p, licences, t); err != nil {
		return Code{}, err
	}

	var display []any
	var err error
	switch p {
	case ProfileMaskedIdentity:
		display, err = identityArray(&licences[0])
	case ProfileFullRegistration:
		display, err = registrationArray(&licences[0])
	case ProfileBundle:
		display, err = bundleArray(licences)
	}
	if err != nil {
		return Code{}, fmt.Errorf("qr: %w", err)
	}

	r := m.Rand
	if r == nil {
		r = rand.Reader
	}
	code := Code{Profile: p, IssuedAt: time.Unix(t.Unix(), 0), StatusIndex: m.StatusIndex}
	code.ExpiresAt = code.IssuedAt.Add(validity.Truncate(time.Second))
	if _, err := io.ReadFull(r, code.CTI[:]); err != nil {
		return Code{}, fmt.Errorf("qr: reading cti: %w", err)
	}
	payload, err := encMode.Marshal(&claimsOut{
		Exp:     uint64(code.ExpiresAt.Unix()),
		Iat:     uint64(code.IssuedAt.Unix()),
		Cti:     code.CTI[:],
		Display: display,
		Status:  statusOf(m.StatusIndex),
	})
	if err != nil {
		return Code{}, fmt.Errorf("qr: encoding claims: %w", err)
	}
	signer, err := smcose.NewSigner(m.Key)
	if err != nil {
		return Code{}, fmt.Errorf("qr: %w", err)
	}
	kid := m.KeyID
	if kid == ([smcrypto.KeyIDSize]byte{}) {
		kid = smcrypto.KeyID(&m.Key.PublicKey)
	}
	msg, err := sign1(signer, kid, "", payload, r)
	if err != nil {
		return Code{}, fmt.Errorf("qr: signing: %w", err)
	}
	text := make([]byte, 0, len(Prefix)+base45.EncodedLen(len(msg)))
	text = base45.AppendEncode(append(text, Prefix...), msg)
	if len(text) > MaxTextLength {
		return Code{}, fmt.Errorf("%w: %d characters, limit %d", ErrTooLong, len(text), MaxTextLength)
	}
	code.Text = string(text)
	return code, nil
}

// checkLicences applies Mint's rules on count, holders, validity and
// status.
func checkLicences(p DisplayProfile, ls []credentials.Licence, now time.Time) error {
	switch {
	case p == ProfileBundle && (len(ls) < 2 || len(ls) > MaxBundle):
		return fmt.Errorf("%w: profile 3 takes 2 to %d, got %d", ErrLicenceCount, MaxBundle, len(ls))
	case p != ProfileBundle && len(ls) != 1:
		return fmt.Errorf("%w: profile %d takes 1, got %d", ErrLicenceCount, p, len(ls))
	}
	for i := range ls {
		l := &ls[i]
		if err := validateForMint(p, l); err != nil {
			return fmt.Errorf("qr: licence %d: %w", i, err)
		}
		if err := l.CheckShowable(now); err != nil {
			return fmt.Errorf("qr: cannot mint: %w", err)
		}
		if l.Holder != ls[0].Holder {
			return fmt.Errorf("%w: licence %d", ErrMixedHolders, i)
		}
	}
	return nil
}

// validateForMint runs Licence.Validate, or for profile 2 (which shows only
// the fields the holder chose) Licence.ValidateSelection.
func validateForMint(p DisplayProfile, l *credentials.Licence) error {
	if p == ProfileFullRegistration {
		return l.ValidateSelection()
	}
	return l.Validate()
}

func statusOf(idx *uint64) *statusClaim {
	if idx == nil {
		return nil
	}
	return &statusClaim{Idx: *idx}
}
