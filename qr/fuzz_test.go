package qr

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tongban/tongban/credentials"
)

// goldenSeeds returns the golden code texts (from the checked-in files).
func goldenSeeds(f *testing.F) []string {
	var out []string
	for _, v := range goldenVectors {
		b, err := os.ReadFile(filepath.Join(goldenDir, v.name+".txt"))
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, strings.TrimSpace(string(b)))
	}
	return out
}

var verifySentinels = []error{ErrTooLong, ErrBadPrefix, ErrBadBase45, ErrBadCBOR, ErrWrongAlgorithm,
	ErrStaleTrustList, ErrUnknownKey, ErrBadSignature, ErrBadClaims, ErrKeyNotAllowed, ErrNotYetValid,
	ErrExpired, ErrValidityTooLong, ErrStatusListMissing, ErrStatusListStale, ErrStatusRevoked,
	ErrStatusSuspended, ErrReplayed}

// FuzzVerify: Verify never panics; it fails with exactly one sentinel, or
// returns exactly the view of its profile.
func FuzzVerify(f *testing.F) {
	for _, s := range goldenSeeds(f) {
		f.Add(s)
		f.Add(s[:len(s)/2])
		f.Add(strings.Replace(s, "0", "1", 1))
	}
	f.Add("LZ1:")
	f.Add("LZ1:" + strings.Repeat(":", 30))
	list := parsedGoldenList(f)
	f.Fuzz(func(t *testing.T, text string) {
		v := &Verifier{Trust: list, Now: fixedClock(goldenNow)}
		r, err := v.Verify(text)
		if err != nil {
			n := 0
			for _, s := range verifySentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 || r != nil {
				t.Fatalf("error %v matches %d sentinels", err, n)
			}
			return
		}
		views := 0
		for _, set := range []bool{r.Identity != nil, r.Registration != nil, r.Bundle != nil} {
			if set {
				views++
			}
		}
		if views != 1 {
			t.Fatalf("result %+v has %d views", r, views)
		}
	})
}

// FuzzDecodeClaims fuzzes the claims decoder directly (Verify reaches it
// only after a valid signature): no panic, and whatever it accepts
// re-encodes to the same claims; canonical input re-encodes to itself.
func FuzzDecodeClaims(f *testing.F) {
	for _, v := range goldenVectors {
		b, err := os.ReadFile(filepath.Join(goldenDir, v.name+".payload.hex"))
		if err != nil {
			f.Fatal(err)
		}
		p, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		c, err := decodeClaims(payload)
		if err != nil {
			return
		}
		out := mustCBOR(t, encodeClaims(c))
		c2, err := decodeClaims(out)
		if err != nil {
			t.Fatalf("re-encoded claims do not decode: %v", err)
		}
		if again := mustCBOR(t, encodeClaims(c2)); !bytes.Equal(again, out) {
			t.Fatalf("decode/encode not stable:\n%x\n%x", out, again)
		}
		var generic any
		if payloadMode.Unmarshal(payload, &generic) == nil && bytes.Equal(mustCBOR(t, generic), payload) && !bytes.Equal(out, payload) {
			t.Fatalf("canonical input %x re-encodes as %x", payload, out)
		}
	})
}

// encodeClaims is the inverse of decodeClaims, for the fuzz round trip.
func encodeClaims(c *claims) *claimsOut {
	out := &claimsOut{Iat: uint64(c.iat.Unix()), Exp: uint64(c.exp.Unix()), Cti: c.cti[:]}
	if c.hasStatus {
		out.Status = &statusClaim{Idx: c.statusIdx}
	}
	date := func(d *credentials.Date) any {
		if d == nil {
			return nil
		}
		return d.DaysSinceEpoch()
	}
	colour := func(s string) uint64 { n, _ := colourCode(s); return n }
	switch {
	case c.identity != nil:
		v := c.identity
		out.Display = []any{uint64(1), KindCode(v.Kind), v.MaskedName, v.MaskedNumber, date(v.ValidUntil)}
		if v.Kind == credentials.HealthCode {
			out.Display = append(out.Display, colour(v.Colour))
		}
	case c.registration != nil:
		l := c.registration
		a, _ := registrationArray(l)
		out.Display = a
	case c.bundle != nil:
		b := c.bundle
		entries := make([]any, len(b.Entries))
		for i, e := range b.Entries {
			a := []any{KindCode(e.Kind), statusCode(e.Status), date(e.ValidUntil)}
			switch e.Kind {
			case credentials.HealthCode:
				a = append(a, colour(e.Colour))
			case credentials.VehicleLicence:
				a = append(a, e.MaskedNumber)
			}
			entries[i] = a
		}
		out.Display = []any{uint64(3), b.MaskedName, b.MaskedHolder, entries}
	}
	return out
}

// FuzzParseTrustList: no panic; a parsed list satisfies the invariants.
func FuzzParseTrustList(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(goldenDir, "trustlist.cose.hex"))
	if err != nil {
		f.Fatal(err)
	}
	good, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte{0xd2, 0x84, 0x40, 0xa0, 0x40, 0x40})
	pins := []*ecdsa.PublicKey{&listKey(f).PublicKey}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseTrustList(data, pins)
		if err != nil {
			if !errors.Is(err, ErrBadTrustList) && !errors.Is(err, ErrUntrustedTrustList) && !errors.Is(err, ErrTrustListSignature) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if l.Sequence == 0 || !l.ExpiresAt.After(l.IssuedAt) {
			t.Fatalf("accepted %+v", l)
		}
		for _, k := range l.Keys {
			if k.PublicKey == nil || len(k.Kinds) == 0 || len(k.Profiles) == 0 {
				t.Fatalf("accepted key %+v", k)
			}
		}
	})
}
