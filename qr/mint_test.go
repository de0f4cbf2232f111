package qr

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr/internal/base45"
)

func TestMintRefuses(t *testing.T) {
	ls := demoLicences(t)
	id := ls[credentials.ResidentID]
	with := func(l credentials.Licence, f func(*credentials.Licence)) credentials.Licence {
		l = l.Clone()
		f(&l)
		return l
	}
	other := with(ls[credentials.SocialSecurity], func(l *credentials.Licence) {
		l.Holder = "110102198805120131"
	})
	tests := []struct {
		name     string
		profile  DisplayProfile
		licences []credentials.Licence
		minter   func(m *Minter)
		want     error
	}{
		{"ok/identity", ProfileMaskedIdentity, []credentials.Licence{id}, nil, nil},
		{"ok/validity-30s", ProfileMaskedIdentity, []credentials.Licence{id}, func(m *Minter) { m.Validity = 30 * time.Second }, nil},
		{"ok/bundle-max", ProfileBundle, []credentials.Licence{id, id, id, id, id, id, id, id}, nil, nil},
		{"fail/revoked", ProfileMaskedIdentity, []credentials.Licence{with(ls[credentials.DrivingLicence], func(l *credentials.Licence) { l.Status = credentials.StatusRevoked })}, nil, credentials.ErrLicenceRevoked},
		{"fail/suspended", ProfileMaskedIdentity, []credentials.Licence{with(ls[credentials.DrivingLicence], func(l *credentials.Licence) { l.Status = credentials.StatusSuspended })}, nil, credentials.ErrLicenceSuspended},
		{"fail/suspended-in-bundle", ProfileBundle, []credentials.Licence{id, with(ls[credentials.DrivingLicence], func(l *credentials.Licence) { l.Status = credentials.StatusSuspended })}, nil, credentials.ErrLicenceSuspended},
		{"fail/expired-by-date", ProfileMaskedIdentity, []credentials.Licence{with(id, func(l *credentials.Licence) {
			d := credentials.NewDate(2026, 11, 30)
			l.ValidUntil = &d
		})}, nil, credentials.ErrLicenceExpired},
		{"fail/not-yet-valid", ProfileMaskedIdentity, []credentials.Licence{ls[credentials.HealthCode]}, func(m *Minter) {
			m.Now = fixedClock(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
		}, credentials.ErrLicenceNotYetValid},
		{"fail/invalid-licence", ProfileMaskedIdentity, []credentials.Licence{with(id, func(l *credentials.Licence) { l.Fields["sex"] = "男" })}, nil, credentials.ErrInvalidField},
		{"fail/no-licence", ProfileMaskedIdentity, nil, nil, ErrLicenceCount},
		{"fail/two-for-identity", ProfileMaskedIdentity, []credentials.Licence{id, id}, nil, ErrLicenceCount},
		{"fail/bundle-of-one", ProfileBundle, []credentials.Licence{id}, nil, ErrLicenceCount},
		{"fail/bundle-of-nine", ProfileBundle, []credentials.Licence{id, id, id, id, id, id, id, id, id}, nil, ErrLicenceCount},
		{"fail/mixed-holders", ProfileBundle, []credentials.Licence{id, other}, nil, ErrMixedHolders},
		{"fail/unknown-profile", 4, []credentials.Licence{id}, nil, ErrUnknownProfile},
		{"fail/validity-61s", ProfileMaskedIdentity, []credentials.Licence{id}, func(m *Minter) { m.Validity = 61 * time.Second }, ErrValidityTooLong},
		{"fail/no-key", ProfileMaskedIdentity, []credentials.Licence{id}, func(m *Minter) { m.Key = nil }, ErrNoKey},
		{"fail/too-long", ProfileFullRegistration, []credentials.Licence{with(ls[credentials.BusinessLicence], func(l *credentials.Licence) {
			l.Fields["business_scope"] = strings.Repeat("经", 80)
			l.Fields["address"] = strings.Repeat("址", 80)
		})}, nil, ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testMinter(t, goldenNow)
			if tt.minter != nil {
				tt.minter(m)
			}
			c, err := m.Mint(tt.profile, tt.licences...)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := testVerifier(t, goldenNow).Verify(c.Text); err != nil {
					t.Errorf("minted code does not verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Mint = %v, want %v", err, tt.want)
			}
			if c.Text != "" {
				t.Error("Mint returned a code with an error")
			}
		})
	}
}

func TestMintCode(t *testing.T) {
	ls := demoLicences(t)
	c, err := testMinter(t, goldenNow.Add(500*time.Millisecond)).Mint(ProfileMaskedIdentity, ls[credentials.ResidentID])
	if err != nil {
		t.Fatal(err)
	}
	if !c.IssuedAt.Equal(goldenNow) || !c.ExpiresAt.Equal(goldenNow.Add(time.Minute)) {
		t.Errorf("iat %s exp %s", c.IssuedAt, c.ExpiresAt)
	}
	if c.CTI != [CTISize]byte{0, 1, 2, 3, 4, 5, 6, 7} {
		t.Errorf("cti %x: not the first 8 bytes of Rand", c.CTI)
	}
	if !strings.HasPrefix(c.Text, Prefix) {
		t.Errorf("text %q", c.Text)
	}
	for _, r := range c.Text {
		if !strings.ContainsRune(base45.Alphabet, r) && r != 'L' && r != 'Z' {
			t.Fatalf("character %q is not QR alphanumeric", r)
		}
	}
}

func TestMintFullRegistrationShowsOnlyChosenFields(t *testing.T) {
	ls := demoLicences(t)
	id := ls[credentials.ResidentID].WithFields("ethnicity")
	c, err := testMinter(t, goldenNow).Mint(ProfileFullRegistration, id)
	if err != nil {
		t.Fatal(err)
	}
	r, err := testVerifier(t, goldenNow).Verify(c.Text)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Registration.Fields) != 1 || r.Registration.Fields["ethnicity"] != "汉" {
		t.Errorf("fields %v", r.Registration.Fields)
	}
	raw, _ := base45.Decode(strings.TrimPrefix(c.Text, Prefix))
	if strings.Contains(string(raw), "示例胡同") {
		t.Error("the address the holder did not choose is in the code")
	}
}
