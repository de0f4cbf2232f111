package accounts_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/accounts/accountstest"
	"github.com/tongban/tongban/storage"
)

func TestEnrollTOTP(t *testing.T) {
	svc, store, _ := newService(t, accounts.Config{})
	ctx := context.Background()
	num := accountstest.ResidentID(t)
	p, err := svc.CreatePerson(ctx, accounts.NewPerson{IDNumber: num, Name: "甲", Password: []byte("password-1")})
	if err != nil {
		t.Fatal(err)
	}
	uri, err := svc.EnrollTOTP(ctx, p.ID)
	if err != nil || !strings.HasPrefix(uri, "otpauth://totp/") || !strings.Contains(uri, "secret=") {
		t.Fatalf("%q %v", uri, err)
	}
	if strings.Contains(uri, "甲") || strings.Contains(uri, num) || strings.Contains(uri, p.ID) {
		t.Error("otpauth URI carries personal data")
	}
	got, _ := store.GetPerson(ctx, p.ID)
	if got.OTPSecretSealed == nil {
		t.Error("secret not stored")
	}
	if _, err := svc.EnrollTOTP(ctx, "nobody"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown person: %v", err)
	}
}

// TestTOTPRepeatedCode: the same 6 digits can be the code of two nearby time steps; each
// step's code logs in once, so the second step's must be accepted (the nonce names the step,
// not the digits), and each refused when used again.
func TestTOTPRepeatedCode(t *testing.T) {
	// For this secret the codes of steps 59903457 and 59903459 (Dec 2026) are both 156051.
	const secret, code = "ORXW4Z3CMFXC25DPORYC25DFON2C223FPEWTEMA", "156051"
	step1, step2 := time.Unix(59903457*30+5, 0), time.Unix(59903459*30+5, 0)
	for _, at := range []time.Time{step1, step2} {
		if c, _ := totp.GenerateCode(secret, at); c != code {
			t.Fatalf("code at %v = %s, want %s", at, c, code)
		}
	}
	if c, _ := totp.GenerateCode(secret, step1.Add(30*time.Second)); c == code {
		t.Fatal("the step in between has the same code too")
	}
	ctx := context.Background()
	s, _, _ := newService(t, accounts.Config{})
	sealed, err := accounts.SealOTP(s, "person-1", secret)
	if err != nil {
		t.Fatal(err)
	}
	p := storage.Person{ID: "person-1", OTPSecretSealed: sealed}
	for _, tc := range []struct {
		name string
		at   time.Time
		want bool
	}{
		{"ok/first-step", step1, true},
		{"fail/same-step-again", step1.Add(10 * time.Second), false},
		{"ok/later-step-same-digits", step2, true},
		{"fail/later-step-again", step2.Add(5 * time.Second), false},
		{"fail/step-between-both-used", step1.Add(30 * time.Second), false},
	} {
		if got := accounts.CheckTOTP(s, ctx, p, code, tc.at); got != tc.want {
			t.Errorf("%s: checkTOTP at %v = %v, want %v", tc.name, tc.at, got, tc.want)
		}
	}
}
