package qr

import (
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/tongban/tongban/credentials"
)

// Claim keys of a code payload. iat, exp and cti are the CWT claims of
// RFC 8392 §3.1.6, §3.1.4 and §3.1.7; ClaimDisplay is tongban's one private
// claim.
const (
	ClaimExp = 4 // exp: expiry, NumericDate (integer seconds since 1970-01-01T00:00:00Z)
	ClaimIat = 6 // iat: issued at, NumericDate
	ClaimCti = 7 // cti: 8 random bytes, the replay key
	// ClaimDisplay holds the display array [profile, …layout…]. It is the
	// first value of the private-use range of the IANA "CBOR Web Token
	// (CWT) Claims" registry (less than -65536, RFC 8392 §9.1); being the
	// only private claim and inside a COSE_Sign1 with tongban's own alg, it
	// needs no more distinctive value. CBOR: 0x3a 0x00 0x01 0x00 0x00.
	ClaimDisplay = -65537
	// ClaimStatus marks a pre-fetched code: {1: idx}, the licence's index into the wallet's
	// status list (docs/formats/qr-payload.md §15). Absent from ordinary codes. The second
	// private-use value; CBOR: 0x3a 0x00 0x01 0x00 0x01.
	ClaimStatus = -65538
)

// statusClaim is the value of ClaimStatus.
type statusClaim struct {
	Idx uint64 `cbor:"1,keyasint"`
}

// CTISize is the length of the cti claim in bytes.
const CTISize = 8

// maxNumericDate bounds iat and exp (2^33 s ≈ year 2242).
const maxNumericDate = 1 << 33

// claimsOut is the payload as minted; with deterministic encoding the keys
// come out in the order 4, 6, 7, -65537.
type claimsOut struct {
	Exp     uint64 `cbor:"4,keyasint"`
	Iat     uint64 `cbor:"6,keyasint"`
	Cti     []byte `cbor:"7,keyasint"`
	Display []any  `cbor:"-65537,keyasint"`
	// Status is nil (absent) except in pre-fetched codes.
	Status *statusClaim `cbor:"-65538,keyasint,omitempty"`
}

// claims is the payload as verified.
type claims struct {
	iat, exp     time.Time
	cti          [CTISize]byte
	profile      DisplayProfile
	identity     *IdentityCheck
	registration *credentials.Licence
	bundle       *Bundle
	// hasStatus and statusIdx: ClaimStatus, present in pre-fetched codes only.
	hasStatus bool
	statusIdx uint64
}

// kinds returns the licence kinds the code shows.
func (c *claims) kinds() []credentials.Kind {
	switch {
	case c.identity != nil:
		return []credentials.Kind{c.identity.Kind}
	case c.registration != nil:
		return []credentials.Kind{c.registration.Kind}
	case c.bundle != nil:
		ks := make([]credentials.Kind, len(c.bundle.Entries))
		for i, e := range c.bundle.Entries {
			ks[i] = e.Kind
		}
		return ks
	}
	return nil
}

// decodeClaims decodes a signed payload strictly. Errors are plain; the
// caller wraps them in ErrBadClaims.
func decodeClaims(payload []byte) (*claims, error) {
	if major(payload) != majorMap {
		return nil, fmt.Errorf("payload: want map")
	}
	var m map[int64]cbor.RawMessage
	if err := payloadMode.Unmarshal(payload, &m); err != nil {
		return nil, fmt.Errorf("payload: %v", err)
	}
	for k := range m {
		switch k {
		case ClaimExp, ClaimIat, ClaimCti, ClaimDisplay, ClaimStatus:
		default:
			return nil, fmt.Errorf("payload: unexpected claim %d", k)
		}
	}
	_, hasStatus := m[ClaimStatus]
	if want := 4 + btoi(hasStatus); len(m) != want {
		return nil, fmt.Errorf("payload: %d claims, want iat, exp, cti, display and optionally status", len(m))
	}
	var c claims
	if hasStatus {
		idx, err := decodeStatusClaim(m[ClaimStatus])
		if err != nil {
			return nil, err
		}
		c.hasStatus, c.statusIdx = true, idx
	}
	iat, err := decodeUint(m[ClaimIat], "iat")
	if err != nil {
		return nil, err
	}
	exp, err := decodeUint(m[ClaimExp], "exp")
	if err != nil {
		return nil, err
	}
	if iat == 0 || iat >= maxNumericDate || exp >= maxNumericDate || exp <= iat {
		return nil, fmt.Errorf("iat %d, exp %d: want 0 < iat < exp < 2^33", iat, exp)
	}
	c.iat, c.exp = time.Unix(int64(iat), 0), time.Unix(int64(exp), 0)
	cti, err := decodeBytes(m[ClaimCti], "cti", CTISize)
	if err != nil {
		return nil, err
	}
	copy(c.cti[:], cti)

	a, err := decodeArray(m[ClaimDisplay], "display")
	if err != nil {
		return nil, err
	}
	if len(a) == 0 {
		return nil, fmt.Errorf("display: empty")
	}
	p, err := decodeUint(a[0], "profile")
	if err != nil {
		return nil, err
	}
	c.profile = DisplayProfile(p)
	switch {
	case p == uint64(ProfileMaskedIdentity):
		c.identity, err = decodeIdentity(a)
	case p == uint64(ProfileFullRegistration):
		c.registration, err = decodeRegistration(a)
	case p == uint64(ProfileBundle):
		c.bundle, err = decodeBundle(a)
	default:
		err = fmt.Errorf("profile: unknown %d", p)
	}
	if err != nil {
		return nil, err
	}
	if c.hasStatus && c.profile != ProfileMaskedIdentity {
		return nil, fmt.Errorf("status: only profile %d codes may carry it", ProfileMaskedIdentity)
	}
	return &c, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// decodeStatusClaim decodes ClaimStatus: exactly {1: uint}, idx < MaxStatusEntries.
func decodeStatusClaim(raw cbor.RawMessage) (uint64, error) {
	if major(raw) != majorMap {
		return 0, fmt.Errorf("status: want map")
	}
	var m map[int64]cbor.RawMessage
	if err := payloadMode.Unmarshal(raw, &m); err != nil {
		return 0, fmt.Errorf("status: %v", err)
	}
	if len(m) != 1 {
		return 0, fmt.Errorf("status: want exactly {1: idx}")
	}
	v, ok := m[1]
	if !ok {
		return 0, fmt.Errorf("status: want exactly {1: idx}")
	}
	idx, err := decodeUint(v, "status idx")
	if err != nil {
		return 0, err
	}
	if idx >= MaxStatusEntries {
		return 0, fmt.Errorf("status idx %d: limit %d", idx, MaxStatusEntries)
	}
	return idx, nil
}
