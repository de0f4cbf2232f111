package qr

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/tongban/tongban/credentials"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/sm-crypto/smcose"
)

// testStatusList signs statuses with the code key, issued at iat, valid 1 h, and parses it
// back against the golden trust list.
func testStatusList(t testing.TB, iat time.Time, statuses ...uint8) (*StatusList, []byte) {
	t.Helper()
	data, err := SignStatusList(&StatusList{
		IssuedAt: iat, ExpiresAt: iat.Add(time.Hour), TTL: 5 * time.Minute,
		Bits: StatusBits, Statuses: statuses,
	}, codeKey(t), [8]byte{}, &countingReader{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := ParseStatusList(data, parsedGoldenList(t))
	if err != nil {
		t.Fatal(err)
	}
	return l, data
}

func prefetchMinter(t testing.TB, now time.Time, idx uint64, validity time.Duration) *Minter {
	m := testMinter(t, now)
	m.StatusIndex, m.Validity = &idx, validity
	return m
}

func TestStatusListRoundTrip(t *testing.T) {
	st := []uint8{0, 1, 2, 0, 0, 2, 1, 0, 0}
	l, data := testStatusList(t, goldenNow, st...)
	if l.Bits != 2 || l.TTL != 5*time.Minute || !l.IssuedAt.Equal(goldenNow) {
		t.Fatalf("list %+v", l)
	}
	for i, want := range st {
		if got, ok := l.Status(uint64(i)); !ok || got != want {
			t.Errorf("index %d: %d %v, want %d", i, got, ok, want)
		}
	}
	// Packed in whole bytes: 9 entries → 3 bytes → 12 indexes, the padding valid.
	if _, ok := l.Status(12); ok {
		t.Error("index 12 covered")
	}
	// 1 bit per entry.
	data1, err := SignStatusList(&StatusList{IssuedAt: goldenNow, ExpiresAt: goldenNow.Add(time.Hour), Bits: 1,
		Statuses: []uint8{0, 1, 1}}, codeKey(t), [8]byte{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	l1, err := ParseStatusList(data1, parsedGoldenList(t))
	if err != nil || l1.Bits != 1 || l1.Statuses[1] != StatusInvalid || l1.Statuses[0] != StatusValid {
		t.Fatalf("1-bit list: %v %+v", err, l1)
	}
	if _, err := SignStatusList(&StatusList{IssuedAt: goldenNow, ExpiresAt: goldenNow.Add(time.Hour), Bits: 1,
		Statuses: []uint8{2}}, codeKey(t), [8]byte{}, nil); !errors.Is(err, ErrBadStatusList) {
		t.Errorf("suspended in a 1-bit list: %v", err)
	}
	// A status list is neither a trust list nor a code, and vice versa.
	if _, err := ParseTrustList(data, nil); !errors.Is(err, ErrBadTrustList) {
		t.Errorf("status list as trust list: %v", err)
	}
	tl, _ := SignTrustList(goldenList(t), listKey(t), nil)
	if _, err := ParseStatusList(tl, parsedGoldenList(t)); !errors.Is(err, ErrBadStatusList) {
		t.Errorf("trust list as status list: %v", err)
	}
	// Signed by a key outside the trust list (the trust-list key itself).
	other, _ := SignStatusList(&StatusList{IssuedAt: goldenNow, ExpiresAt: goldenNow.Add(time.Hour), Bits: 2,
		Statuses: st}, listKey(t), [8]byte{}, nil)
	if _, err := ParseStatusList(other, parsedGoldenList(t)); !errors.Is(err, ErrUntrustedStatusList) {
		t.Errorf("foreign signer: %v", err)
	}
	// Tampered byte.
	bad := bytes.Clone(data)
	bad[len(bad)-1] ^= 1
	if _, err := ParseStatusList(bad, parsedGoldenList(t)); !errors.Is(err, ErrStatusListSignature) {
		t.Errorf("tampered: %v", err)
	}
}

func TestPrefetchedCode(t *testing.T) {
	lic := demoLicences(t)[credentials.ResidentID]
	code, err := prefetchMinter(t, goldenNow, 5, 24*time.Hour).Mint(ProfileMaskedIdentity, lic)
	if err != nil {
		t.Fatal(err)
	}
	later := goldenNow.Add(20 * time.Hour)
	valid, _ := testStatusList(t, later.Add(-10*time.Minute), 0, 0, 0, 0, 0, 0)
	v := testVerifier(t, later)
	v.Status = valid
	r, err := v.Verify(code.Text)
	if err != nil || r.StatusIndex == nil || *r.StatusIndex != 5 {
		t.Fatalf("valid: %v %+v", err, r)
	}
	cases := []struct {
		name string
		src  StatusSource
		now  time.Time
		want error
	}{
		{"no list", nil, later, ErrStatusListMissing},
		{"revoked after minting", mustList(testStatusList(t, later.Add(-time.Minute), 0, 0, 0, 0, 0, 1)), later, ErrStatusRevoked},
		{"suspended", mustList(testStatusList(t, later.Add(-time.Minute), 0, 0, 0, 0, 0, 2)), later, ErrStatusSuspended},
		{"stale list", mustList(testStatusList(t, later.Add(-2*time.Hour), 0, 0, 0, 0, 0, 0)), later, ErrStatusListStale},
		{"list from the future", mustList(testStatusList(t, later.Add(time.Hour), 0, 0, 0, 0, 0, 0)), later, ErrStatusListStale},
		{"index not covered", mustList(testStatusList(t, later.Add(-time.Minute), 0)), later, ErrStatusListMissing},
		{"code expired", valid, goldenNow.Add(25 * time.Hour), ErrExpired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := testVerifier(t, tc.now)
			v.Status = tc.src
			if _, err := v.Verify(code.Text); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// The status list's signer must still be in the trust list the code is checked with: a
	// list signed by a second key that was listed when the status list was loaded and is gone
	// now is refused.
	wide := goldenList(t)
	wide.Keys = append(wide.Keys, allKindsKey(&listKey(t).PublicKey))
	data, err := SignStatusList(&StatusList{IssuedAt: later, ExpiresAt: later.Add(time.Hour), Bits: 2,
		Statuses: make([]uint8, 8)}, listKey(t), [8]byte{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	byOther, err := ParseStatusList(data, wide)
	if err != nil {
		t.Fatal(err)
	}
	v = testVerifier(t, later)
	v.Status = byOther
	if _, err := v.Verify(code.Text); !errors.Is(err, ErrStatusListMissing) {
		t.Fatalf("signer no longer listed: %v", err)
	}
	v = testVerifier(t, later)
	v.Trust, v.Status = wide, byOther
	if _, err := v.Verify(code.Text); err != nil {
		t.Fatalf("signer listed: %v", err)
	}
}

func mustList(l *StatusList, _ []byte) *StatusList { return l }

func TestOrdinaryCodeIgnoresStatusList(t *testing.T) {
	lic := demoLicences(t)[credentials.ResidentID]
	code, err := testMinter(t, goldenNow).Mint(ProfileMaskedIdentity, lic)
	if err != nil {
		t.Fatal(err)
	}
	if code.StatusIndex != nil {
		t.Fatal("ordinary code has a status index")
	}
	// A list that marks every index revoked, and one that is stale: neither matters.
	revoked, _ := testStatusList(t, goldenNow.Add(-3*time.Hour), 1, 1, 1, 1)
	for _, src := range []StatusSource{nil, revoked} {
		v := testVerifier(t, goldenNow)
		v.Status = src
		r, err := v.Verify(code.Text)
		if err != nil || r.StatusIndex != nil {
			t.Fatalf("%v %+v", err, r)
		}
	}
}

func TestPrefetchLimits(t *testing.T) {
	ls := demoLicences(t)
	lic := ls[credentials.ResidentID]
	if _, err := prefetchMinter(t, goldenNow, 1, 24*time.Hour+time.Second).Mint(ProfileMaskedIdentity, lic); !errors.Is(err, ErrValidityTooLong) {
		t.Errorf("25 h: %v", err)
	}
	if _, err := prefetchMinter(t, goldenNow, 1, time.Hour).Mint(ProfileBundle, lic, ls[credentials.DrivingLicence]); !errors.Is(err, ErrPrefetchProfile) {
		t.Errorf("bundle: %v", err)
	}
	// Without a status index the 60 s rule stays.
	m := testMinter(t, goldenNow)
	m.Validity = time.Hour
	if _, err := m.Mint(ProfileMaskedIdentity, lic); !errors.Is(err, ErrValidityTooLong) {
		t.Errorf("1 h ordinary code: %v", err)
	}
	// A forged long ordinary code (no status claim) is refused even with a good signature.
	c := &claimsOut{Exp: uint64(goldenNow.Add(time.Hour).Unix()), Iat: uint64(goldenNow.Unix()), Cti: make([]byte, 8)}
	c.Display, _ = identityArray(&lic)
	v := testVerifier(t, goldenNow)
	if _, err := v.Verify(signClaims(t, c)); !errors.Is(err, ErrValidityTooLong) {
		t.Errorf("forged 1 h code: %v", err)
	}
	// A status claim on a bundle is refused as bad claims.
	c.Exp = uint64(goldenNow.Add(time.Minute).Unix())
	c.Display, _ = bundleArray([]credentials.Licence{lic, ls[credentials.DrivingLicence]})
	c.Status = &statusClaim{Idx: 1}
	if _, err := v.Verify(signClaims(t, c)); !errors.Is(err, ErrBadClaims) {
		t.Errorf("bundle with status: %v", err)
	}
}

func signClaims(t *testing.T, c *claimsOut) string {
	t.Helper()
	payload, err := encMode.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := smcose.NewSigner(codeKey(t))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := sign1(signer, smcrypto.KeyID(&codeKey(t).PublicKey), "", payload, nil)
	if err != nil {
		t.Fatal(err)
	}
	return codeText(msg)
}

func FuzzParseStatusList(f *testing.F) {
	_, good := testStatusList(f, goldenNow, 0, 1, 2, 0)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{0xd2, 0x84})
	list := parsedGoldenList(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseStatusList(data, list)
		if err != nil {
			n := 0
			for _, s := range []error{ErrBadStatusList, ErrUntrustedStatusList, ErrStatusListSignature} {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 || l != nil {
				t.Fatalf("error %v matches %d sentinels", err, n)
			}
			return
		}
		if l.Bits != 1 && l.Bits != 2 || len(l.Statuses) > MaxStatusEntries {
			t.Fatalf("accepted %+v", l)
		}
	})
}

// FuzzUnpackStatuses: the decompressor never panics nor exceeds its cap.
func FuzzUnpackStatuses(f *testing.F) {
	lst, _ := packStatuses([]uint8{0, 1, 2, 1}, 2)
	f.Add(lst, 2)
	f.Add(lst, 1)
	f.Add([]byte{0x78, 0x9c}, 2)
	f.Fuzz(func(t *testing.T, lst []byte, bits int) {
		if bits != 1 && bits != 2 {
			return
		}
		st, err := unpackStatuses(lst, bits)
		if err == nil && len(st) > MaxStatusEntries {
			t.Fatalf("%d entries", len(st))
		}
	})
}
