package qr

import (
	"crypto/ecdsa"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr/internal/base45"
)

func TestVerifyTable(t *testing.T) {
	ls := demoLicences(t)
	id := ls[credentials.ResidentID]
	identity, err := identityArray(&id)
	if err != nil {
		t.Fatal(err)
	}
	good := func(t testing.TB) string {
		c, err := testMinter(t, goldenNow).Mint(ProfileMaskedIdentity, id)
		if err != nil {
			t.Fatal(err)
		}
		return c.Text
	}
	goodCOSE := func(t testing.TB) []byte {
		raw, err := base45.Decode(strings.TrimPrefix(good(t), Prefix))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	payload := func(t testing.TB, display any) []byte {
		return mustCBOR(t, claimsAt(goldenNow, time.Minute, display))
	}
	f := forge{t: t}
	other := mustKey(t, []byte("another code key for the tests!!"))

	// narrow is a trust list whose only key may sign profile 1 for resident-id.
	narrow := goldenList(t)
	narrow.Keys[0].Kinds = []credentials.Kind{credentials.ResidentID}
	narrow.Keys[0].Profiles = []DisplayProfile{ProfileMaskedIdentity}

	tests := []struct {
		name  string
		text  func(t testing.TB) string
		now   time.Time     // zero: goldenNow
		trust TrustSource   // nil: goldenList
		skew  time.Duration // zero: default
		want  error
	}{
		{name: "ok/masked-identity", text: good},
		{name: "ok/late-within-skew", text: good, now: goldenNow.Add(time.Minute + 30*time.Second)},
		{name: "ok/early-within-skew", text: good, now: goldenNow.Add(-30 * time.Second)},
		{name: "ok/narrow-key", text: good, trust: narrow},

		{name: "fail/too-long", text: func(testing.TB) string { return Prefix + strings.Repeat("0", MaxTextLength) }, want: ErrTooLong},
		{name: "fail/prefix-version", text: func(t testing.TB) string { return "LZ2:" + strings.TrimPrefix(good(t), Prefix) }, want: ErrBadPrefix},
		{name: "fail/prefix-lowercase", text: func(t testing.TB) string { return "lz1:" + strings.TrimPrefix(good(t), Prefix) }, want: ErrBadPrefix},
		{name: "fail/empty", text: func(testing.TB) string { return "" }, want: ErrBadPrefix},
		{name: "fail/base45-lowercase", text: func(t testing.TB) string { g := good(t); return g[:4] + strings.ToLower(g[4:]) }, want: ErrBadBase45},
		{name: "fail/base45-char", text: func(t testing.TB) string { g := good(t); return g[:10] + "#" + g[11:] }, want: ErrBadBase45},
		{name: "fail/base45-dangling", text: func(t testing.TB) string { return good(t) + "0" }, want: ErrBadBase45},
		{name: "fail/base45-overflow", text: func(t testing.TB) string { return good(t) + ":::" }, want: ErrBadBase45},
		{name: "fail/cbor-untagged", text: func(t testing.TB) string { return codeText(goodCOSE(t)[1:]) }, want: ErrBadCBOR},
		{name: "fail/cbor-trailing", text: func(t testing.TB) string { return codeText(append(goodCOSE(t), 0x00)) }, want: ErrBadCBOR},
		{name: "fail/cbor-truncated", text: func(t testing.TB) string { c := goodCOSE(t); return codeText(c[:len(c)-2]) }, want: ErrBadCBOR},
		{name: "fail/cbor-not-cose", text: func(t testing.TB) string { return codeText(mustCBOR(t, claimsAt(goldenNow, time.Minute, identity))) }, want: ErrBadCBOR},
		{name: "fail/cbor-indefinite-payload", text: func(t testing.TB) string {
			p := payload(t, identity)
			p[0] = 0xbf // indefinite-length map …
			return f.text(append(p, 0xff))
		}, want: ErrBadCBOR},
		{name: "fail/cbor-duplicate-claim", text: func(t testing.TB) string {
			p := payload(t, identity)
			p[0]++ // one more pair: exp again
			return f.text(append(p, 0x04, 0x01))
		}, want: ErrBadCBOR},
		{name: "fail/cbor-too-deep", text: func(t testing.TB) string {
			return f.text(payload(t, []any{1, []any{[]any{[]any{[]any{1}}}}}))
		}, want: ErrBadCBOR},
		{name: "fail/cbor-too-many-elements", text: func(t testing.TB) string {
			return f.text(payload(t, make([]any, maxCodeItems+1)))
		}, want: ErrBadCBOR},
		{name: "fail/cbor-tag-in-payload", text: func(t testing.TB) string {
			return f.text(payload(t, cbor.Tag{Number: 100, Content: 1}))
		}, want: ErrBadCBOR},
		{name: "fail/cbor-extra-header", text: func(t testing.TB) string {
			g := forge{t: t, extra: cose.ProtectedHeader{cose.HeaderLabelContentType: "application/cbor"}}
			return g.text(payload(t, identity))
		}, want: ErrBadCBOR},
		{name: "fail/cbor-kid-length", text: func(t testing.TB) string {
			return forge{t: t, kid: []byte{1, 2, 3}}.text(payload(t, identity))
		}, want: ErrBadCBOR},
		{name: "fail/cbor-unprotected-header", text: func(t testing.TB) string {
			var m cose.Sign1Message
			if err := m.UnmarshalCBOR(goodCOSE(t)); err != nil {
				t.Fatal(err)
			}
			m.Headers.RawUnprotected = nil
			m.Headers.Unprotected = cose.UnprotectedHeader{cose.HeaderLabelContentType: "application/cbor"}
			b, err := m.MarshalCBOR()
			if err != nil {
				t.Fatal(err)
			}
			return codeText(b)
		}, want: ErrBadCBOR},
		{name: "fail/alg-es256", text: func(t testing.TB) string {
			return forge{t: t, alg: cose.AlgorithmES256}.text(payload(t, identity))
		}, want: ErrWrongAlgorithm},
		{name: "fail/stale-trust-list", text: good, now: goldenNow.Add(7*24*time.Hour + time.Second), want: ErrStaleTrustList},
		{name: "fail/no-trust-list", text: good, trust: (*TrustStore)(NewTrustStore(nil, nil)), want: ErrStaleTrustList},
		{name: "fail/unknown-key", text: func(t testing.TB) string {
			return forge{t: t, key: other}.text(payload(t, identity))
		}, want: ErrUnknownKey},
		{name: "fail/signature-by-other-key", text: func(t testing.TB) string {
			kid := goldenList(t).Keys[0].KID
			return forge{t: t, key: other, kid: kid[:]}.text(payload(t, identity))
		}, want: ErrBadSignature},
		{name: "fail/signature-bit", text: func(t testing.TB) string {
			c := goodCOSE(t)
			c[len(c)-1] ^= 0x01
			return codeText(c)
		}, want: ErrBadSignature},
		{name: "fail/payload-byte", text: func(t testing.TB) string {
			c := goodCOSE(t)
			c[len(c)-64-2-1] ^= 0x01 // last byte of the payload (the valid-until day count)
			return codeText(c)
		}, want: ErrBadSignature},
		{name: "fail/claims-missing-cti", text: func(t testing.TB) string {
			m := claimsAt(goldenNow, time.Minute, identity)
			delete(m, ClaimCti)
			return f.text(mustCBOR(t, m))
		}, want: ErrBadClaims},
		{name: "fail/claims-short-cti", text: func(t testing.TB) string {
			m := claimsAt(goldenNow, time.Minute, identity)
			m[ClaimCti] = []byte{1, 2, 3, 4, 5, 6, 7}
			return f.text(mustCBOR(t, m))
		}, want: ErrBadClaims},
		{name: "fail/claims-extra", text: func(t testing.TB) string {
			m := claimsAt(goldenNow, time.Minute, identity)
			m[1] = "https://issuer.example"
			return f.text(mustCBOR(t, m))
		}, want: ErrBadClaims},
		{name: "fail/claims-float-iat", text: func(t testing.TB) string {
			m := claimsAt(goldenNow, time.Minute, identity)
			m[ClaimIat] = float64(goldenNow.Unix())
			return f.text(mustCBOR(t, m))
		}, want: ErrBadClaims},
		{name: "fail/claims-exp-before-iat", text: func(t testing.TB) string {
			return f.text(mustCBOR(t, claimsAt(goldenNow, -time.Minute, identity)))
		}, want: ErrBadClaims},
		{name: "fail/claims-payload-not-map", text: func(t testing.TB) string {
			return f.text(mustCBOR(t, identity))
		}, want: ErrBadClaims},
		{name: "fail/claims-unknown-profile", text: func(t testing.TB) string {
			return f.text(payload(t, []any{9, 1, "林*彤"}))
		}, want: ErrBadClaims},
		{name: "fail/claims-unknown-kind", text: func(t testing.TB) string {
			return f.text(payload(t, []any{1, 99, "林*彤", "110101********002X", nil}))
		}, want: ErrBadClaims},
		{name: "fail/claims-extra-element", text: func(t testing.TB) string {
			return f.text(payload(t, append(append([]any(nil), identity...), 0)))
		}, want: ErrBadClaims},
		{name: "fail/claims-name-as-bytes", text: func(t testing.TB) string {
			return f.text(payload(t, []any{1, 1, []byte("林*彤"), "110101********002X", nil}))
		}, want: ErrBadClaims},
		{name: "fail/claims-bundle-of-one", text: func(t testing.TB) string {
			return f.text(payload(t, []any{3, "林*彤", "110101********002X", []any{[]any{1, 0, nil}}}))
		}, want: ErrBadClaims},
		{name: "fail/scope-kind", text: func(t testing.TB) string {
			c, err := testMinter(t, goldenNow).Mint(ProfileMaskedIdentity, ls[credentials.DrivingLicence])
			if err != nil {
				t.Fatal(err)
			}
			return c.Text
		}, trust: narrow, want: ErrKeyNotAllowed},
		{name: "fail/scope-profile", text: func(t testing.TB) string {
			c, err := testMinter(t, goldenNow).Mint(ProfileFullRegistration, id)
			if err != nil {
				t.Fatal(err)
			}
			return c.Text
		}, trust: narrow, want: ErrKeyNotAllowed},
		{name: "fail/scope-one-kind-of-bundle", text: func(t testing.TB) string {
			c, err := testMinter(t, goldenNow).Mint(ProfileBundle, id, ls[credentials.HealthCode])
			if err != nil {
				t.Fatal(err)
			}
			return c.Text
		}, trust: func() TrustSource { // profile 3 allowed, health-code not
			l := goldenList(t)
			l.Keys[0].Kinds = []credentials.Kind{credentials.ResidentID}
			return l
		}(), want: ErrKeyNotAllowed},
		{name: "fail/scope-key-window", text: func(t testing.TB) string {
			c, err := testMinter(t, time.Date(2028, 1, 2, 0, 0, 0, 0, time.UTC)).Mint(ProfileMaskedIdentity, id)
			if err != nil {
				t.Fatal(err)
			}
			return c.Text
		}, now: time.Date(2028, 1, 2, 0, 0, 10, 0, time.UTC), trust: func() TrustSource {
			l := goldenList(t)
			l.ExpiresAt = time.Date(2028, 2, 1, 0, 0, 0, 0, time.UTC)
			return l
		}(), want: ErrKeyNotAllowed},
		{name: "fail/not-yet-valid", text: good, now: goldenNow.Add(-31 * time.Second), want: ErrNotYetValid},
		{name: "fail/expired", text: good, now: goldenNow.Add(time.Minute + 31*time.Second), want: ErrExpired},
		{name: "fail/expired-no-skew", text: good, now: goldenNow.Add(time.Minute + time.Second), skew: -1, want: ErrExpired},
		{name: "fail/validity-too-long", text: func(t testing.TB) string {
			return f.text(mustCBOR(t, claimsAt(goldenNow, 61*time.Second, identity)))
		}, want: ErrValidityTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = goldenNow
			}
			trust := tt.trust
			if trust == nil {
				trust = goldenList(t)
			}
			v := &Verifier{Trust: trust, Now: fixedClock(now), ClockSkew: tt.skew, Replay: &MemoryReplayCache{Now: fixedClock(now)}}
			res, err := v.Verify(tt.text(t))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if res.Identity == nil || res.Registration != nil || res.Bundle != nil {
					t.Errorf("Result = %+v, want only Identity", res)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if res != nil {
				t.Errorf("Verify returned a result with error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "qr: ") {
				t.Errorf("error %q lacks the qr: prefix", err)
			}
			if strings.Contains(err.Error(), "林") || strings.Contains(err.Error(), id.Holder) {
				t.Errorf("error %q carries personal data", err)
			}
		})
	}
}

// TestOneSentinelPerFailure: every verification sentinel is distinct and
// prefixed.
func TestOneSentinelPerFailure(t *testing.T) {
	all := []error{ErrTooLong, ErrBadPrefix, ErrBadBase45, ErrBadCBOR, ErrWrongAlgorithm, ErrStaleTrustList,
		ErrUnknownKey, ErrBadSignature, ErrBadClaims, ErrKeyNotAllowed, ErrNotYetValid, ErrExpired,
		ErrValidityTooLong, ErrReplayed, ErrBadTrustList, ErrUntrustedTrustList, ErrTrustListSignature,
		ErrTrustListRollback}
	seen := map[string]bool{}
	for _, e := range all {
		if !strings.HasPrefix(e.Error(), "qr: ") || seen[e.Error()] {
			t.Errorf("sentinel %q", e)
		}
		seen[e.Error()] = true
		for _, o := range all {
			if o != e && errors.Is(e, o) {
				t.Errorf("%v is %v", e, o)
			}
		}
	}
}

func TestReplay(t *testing.T) {
	ls := demoLicences(t)
	m := testMinter(t, goldenNow)
	c1, err := m.Mint(ProfileMaskedIdentity, ls[credentials.ResidentID])
	if err != nil {
		t.Fatal(err)
	}
	c2, err := m.Mint(ProfileMaskedIdentity, ls[credentials.ResidentID])
	if err != nil {
		t.Fatal(err)
	}
	if c1.CTI == c2.CTI {
		t.Fatal("two codes share a cti")
	}
	v := testVerifier(t, goldenNow)
	if _, err := v.Verify(c1.Text); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(c1.Text); !errors.Is(err, ErrReplayed) {
		t.Errorf("second scan: %v, want ErrReplayed", err)
	}
	if _, err := v.Verify(c2.Text); err != nil {
		t.Errorf("another code: %v", err)
	}
	// A code that fails a check does not use up its cti.
	late := testVerifier(t, goldenNow.Add(2*time.Minute))
	late.Replay = v.Replay
	if _, err := late.Verify(c2.Text); !errors.Is(err, ErrExpired) && !errors.Is(err, ErrReplayed) {
		t.Errorf("late scan: %v", err)
	}
	fresh := testVerifier(t, goldenNow)
	if _, err := fresh.Verify(c1.Text); err != nil {
		t.Errorf("another verifier: %v", err)
	}
	// Without a replay cache, scanning twice is fine.
	v.Replay = nil
	if _, err := v.Verify(c1.Text); err != nil {
		t.Errorf("no replay cache: %v", err)
	}
}

func TestReplayDoesNotRecordFailures(t *testing.T) {
	ls := demoLicences(t)
	c, err := testMinter(t, goldenNow).Mint(ProfileMaskedIdentity, ls[credentials.ResidentID])
	if err != nil {
		t.Fatal(err)
	}
	cache := &MemoryReplayCache{Now: fixedClock(goldenNow)}
	early := &Verifier{Trust: goldenList(t), Now: fixedClock(goldenNow.Add(-time.Minute)), Replay: cache}
	if _, err := early.Verify(c.Text); !errors.Is(err, ErrNotYetValid) {
		t.Fatalf("early: %v", err)
	}
	if cache.Len() != 0 {
		t.Errorf("a failed code was recorded")
	}
	onTime := &Verifier{Trust: goldenList(t), Now: fixedClock(goldenNow), Replay: cache}
	if _, err := onTime.Verify(c.Text); err != nil {
		t.Errorf("on time: %v", err)
	}
}

func TestMemoryReplayCacheForgets(t *testing.T) {
	now := goldenNow
	c := &MemoryReplayCache{Now: func() time.Time { return now }}
	var cti [CTISize]byte
	for i := range 3000 {
		cti[0], cti[1] = byte(i), byte(i>>8)
		if seen, _ := c.Seen(cti, now.Add(time.Minute)); seen {
			t.Fatalf("fresh cti %d seen", i)
		}
	}
	cti[0], cti[1] = 0, 0
	if seen, _ := c.Seen(cti, now.Add(time.Minute)); !seen {
		t.Error("cti 0 forgotten too early")
	}
	now = now.Add(2 * time.Minute)
	if seen, _ := c.Seen(cti, now.Add(time.Minute)); seen {
		t.Error("expired cti still seen")
	}
	for i := range 5000 {
		cti[0], cti[1] = byte(i), byte(i>>8)|0x80
		c.Seen(cti, now.Add(time.Minute))
	}
	if c.Len() > 5001 {
		t.Errorf("cache holds %d entries; expired ones were not pruned", c.Len())
	}
}

// TestTamperOneCharacter changes each character of a code in turn; no
// change may verify.
func TestTamperOneCharacter(t *testing.T) {
	ls := demoLicences(t)
	c, err := testMinter(t, goldenNow).Mint(ProfileBundle, ls[credentials.ResidentID], ls[credentials.DrivingLicence], ls[credentials.HealthCode])
	if err != nil {
		t.Fatal(err)
	}
	v := &Verifier{Trust: parsedGoldenList(t), Now: fixedClock(goldenNow)}
	if _, err := v.Verify(c.Text); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for i := range len(c.Text) {
		b := []byte(c.Text)
		j := strings.IndexByte(base45.Alphabet, b[i])
		b[i] = base45.Alphabet[(j+1)%len(base45.Alphabet)]
		_, err := v.Verify(string(b))
		if err == nil {
			t.Fatalf("changing character %d (%q → %q) still verifies", i, c.Text[i], b[i])
		}
		counts[sentinelName(err)]++
	}
	t.Logf("one-character changes of a %d-character code: %v", len(c.Text), counts)
	if counts["ErrBadSignature"] == 0 {
		t.Error("no change reached the signature check")
	}
}

func sentinelName(err error) string {
	for name, e := range map[string]error{
		"ErrBadPrefix": ErrBadPrefix, "ErrBadBase45": ErrBadBase45, "ErrBadCBOR": ErrBadCBOR,
		"ErrWrongAlgorithm": ErrWrongAlgorithm, "ErrUnknownKey": ErrUnknownKey, "ErrBadSignature": ErrBadSignature,
		"ErrBadClaims": ErrBadClaims,
	} {
		if errors.Is(err, e) {
			return name
		}
	}
	return err.Error()
}

func TestExpiryWithInjectedClock(t *testing.T) {
	ls := demoLicences(t)
	c, err := testMinter(t, goldenNow).Mint(ProfileMaskedIdentity, ls[credentials.ResidentID])
	if err != nil {
		t.Fatal(err)
	}
	if c.ExpiresAt.Sub(c.IssuedAt) != DefaultValidity {
		t.Errorf("validity %s", c.ExpiresAt.Sub(c.IssuedAt))
	}
	for _, tc := range []struct {
		after time.Duration
		want  error
	}{
		{0, nil},
		{59 * time.Second, nil},
		{90 * time.Second, nil}, // exp + 30 s skew, inclusive
		{90*time.Second + time.Nanosecond, ErrExpired},
		{time.Hour, ErrExpired},
	} {
		v := &Verifier{Trust: goldenList(t), Now: fixedClock(goldenNow.Add(tc.after))}
		_, err := v.Verify(c.Text)
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("at iat+%s: %v, want %v", tc.after, err, tc.want)
		}
	}
}

func TestVerifyProfiles(t *testing.T) {
	ls := demoLicences(t)
	m := testMinter(t, goldenNow)
	v := testVerifier(t, goldenNow)

	hc, err := m.Mint(ProfileMaskedIdentity, ls[credentials.HealthCode])
	if err != nil {
		t.Fatal(err)
	}
	r, err := v.Verify(hc.Text)
	if err != nil {
		t.Fatal(err)
	}
	if r.Identity.Kind != credentials.HealthCode || r.Identity.Colour != credentials.ColourGreen || r.Identity.MaskedNumber != "****002X" {
		t.Errorf("health code: %+v", r.Identity)
	}

	biz := ls[credentials.BusinessLicence].WithFields("legal_representative", "entity_type")
	full, err := m.Mint(ProfileFullRegistration, biz)
	if err != nil {
		t.Fatal(err)
	}
	r, err = v.Verify(full.Text)
	if err != nil {
		t.Fatal(err)
	}
	got := r.Registration
	if got == nil || got.Number != biz.Number || got.HolderName != biz.HolderName || got.Issuer != biz.Issuer ||
		got.ValidFrom != biz.ValidFrom || got.ValidUntil != nil || got.Status != credentials.StatusValid ||
		len(got.Fields) != 2 || got.Fields["legal_representative"] != "周明远" {
		t.Errorf("registration: %+v", got)
	}
	if r.Identity != nil || r.Bundle != nil || len(got.Agents) != 0 {
		t.Errorf("result shows more than profile 2: %+v", r)
	}
	if k := r.Kinds(); len(k) != 1 || k[0] != credentials.BusinessLicence {
		t.Errorf("Kinds = %v", k)
	}

	b, err := m.Mint(ProfileBundle, ls[credentials.ResidentID], ls[credentials.VehicleLicence], ls[credentials.HealthCode], ls[credentials.MedicalInsurance])
	if err != nil {
		t.Fatal(err)
	}
	r, err = v.Verify(b.Text)
	if err != nil {
		t.Fatal(err)
	}
	e := r.Bundle.Entries
	if len(e) != 4 || e[0].MaskedNumber != "" || e[1].MaskedNumber != "京A***26" ||
		e[2].Colour != credentials.ColourGreen || e[3].ValidUntil != nil || r.Bundle.MaskedName != "林*彤" ||
		r.Bundle.MaskedHolder != "110101********002X" {
		t.Errorf("bundle: %+v", r.Bundle)
	}
}

func TestVerifyWithTrustStore(t *testing.T) {
	store := NewTrustStore([]*ecdsa.PublicKey{&listKey(t).PublicKey}, fixedClock(goldenNow))
	data, err := SignTrustList(goldenList(t), listKey(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Update(data); err != nil {
		t.Fatal(err)
	}
	ls := demoLicences(t)
	c, err := testMinter(t, goldenNow).Mint(ProfileMaskedIdentity, ls[credentials.ResidentID])
	if err != nil {
		t.Fatal(err)
	}
	v := &Verifier{Trust: store, Now: fixedClock(goldenNow)}
	if _, err := v.Verify(c.Text); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyFarTimesNoOverflow(t *testing.T) {
	ls := demoLicences(t)
	c, err := testMinter(t, goldenNow).Mint(ProfileMaskedIdentity, ls[credentials.ResidentID])
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)} {
		v := &Verifier{Trust: goldenList(t), Now: fixedClock(at)}
		_, err := v.Verify(c.Text)
		if err == nil {
			t.Fatalf("%v: verified", at)
		}
		if !errors.Is(err, ErrNotYetValid) && !errors.Is(err, ErrExpired) {
			continue // e.g. the trust list is stale first
		}
		if strings.Contains(err.Error(), "2562047h") || !strings.Contains(err.Error(), "verification time") {
			t.Errorf("%v: %v", at, err)
		}
	}
}

func TestGapOverflow(t *testing.T) {
	a, b := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, ok := gap(b, a); ok {
		t.Error("a 2026-year gap fits a Duration")
	}
	if d, ok := gap(b, b.Add(-time.Hour)); !ok || d != time.Hour {
		t.Errorf("gap = %v %v", d, ok)
	}
}
