package qr

import (
	"fmt"
	"time"

	"github.com/tongban/tongban/credentials"
)

// DisplayProfile numbers the layout of the display claim: which fields a
// code shows (DESIGN §5, docs/formats/qr-payload.md).
type DisplayProfile uint8

const (
	// ProfileMaskedIdentity (1) is the default: one licence with masked
	// holder name, masked number and valid-until — an identity check.
	ProfileMaskedIdentity DisplayProfile = 1
	// ProfileFullRegistration (2) shows one licence in full: number,
	// holder, name, issuer, dates, status and the kind-specific fields the
	// holder chose. Only for a scene the holder picks.
	ProfileFullRegistration DisplayProfile = 2
	// ProfileBundle (3) is 多码合一: 2 to MaxBundle licences of one holder
	// under one signature, each as kind, status, valid-until, masked number.
	ProfileBundle DisplayProfile = 3
)

// Profiles lists the defined display profiles.
var Profiles = []DisplayProfile{ProfileMaskedIdentity, ProfileFullRegistration, ProfileBundle}

// MaxBundle is the largest number of licences in a ProfileBundle code.
const MaxBundle = 8

// DefaultValidity is the lifetime of a code: exp = iat + 60 s (DESIGN §5).
const DefaultValidity = 60 * time.Second

// Valid reports whether p is a defined profile.
func (p DisplayProfile) Valid() bool { return p >= 1 && p <= 3 }

// MaxValidity returns the longest exp − iat a verifier accepts for p:
// 60 s for every defined profile, 0 for an undefined one.
func (p DisplayProfile) MaxValidity() time.Duration {
	if !p.Valid() {
		return 0
	}
	return DefaultValidity
}

func (p DisplayProfile) String() string {
	switch p {
	case ProfileMaskedIdentity:
		return "masked-identity"
	case ProfileFullRegistration:
		return "full-registration"
	case ProfileBundle:
		return "bundle"
	}
	return fmt.Sprintf("DisplayProfile(%d)", uint8(p))
}

// Kind codes: the integer for each licence kind on the wire. 0 is reserved.
var kindCodes = map[credentials.Kind]uint64{
	credentials.ResidentID:       1,
	credentials.SocialSecurity:   2,
	credentials.MedicalInsurance: 3,
	credentials.DrivingLicence:   4,
	credentials.VehicleLicence:   5,
	credentials.BusinessLicence:  6,
	credentials.HealthCode:       7,
	credentials.TransitCode:      8,
}

// KindCode returns the wire code of k (1–8, docs/formats/qr-payload.md), or
// 0 for an unknown kind.
func KindCode(k credentials.Kind) uint64 { return kindCodes[k] }

// KindFromCode returns the kind with wire code c.
func KindFromCode(c uint64) (credentials.Kind, bool) {
	k, ok := kindsByCode[c]
	return k, ok
}

var kindsByCode = func() map[uint64]credentials.Kind {
	m := make(map[uint64]credentials.Kind, len(kindCodes))
	for k, c := range kindCodes {
		m[c] = k
	}
	return m
}()

// Status codes on the wire.
var statusCodes = []credentials.Status{
	credentials.StatusValid,     // 0
	credentials.StatusSuspended, // 1
	credentials.StatusRevoked,   // 2
	credentials.StatusExpired,   // 3
}

func statusCode(s credentials.Status) uint64 {
	for i, v := range statusCodes {
		if v == s {
			return uint64(i)
		}
	}
	return 0
}

// Health code colour codes on the wire.
var colourCodes = []string{credentials.ColourGreen, credentials.ColourYellow, credentials.ColourRed}

func colourCode(c string) (uint64, bool) {
	for i, v := range colourCodes {
		if v == c {
			return uint64(i), true
		}
	}
	return 0, false
}
