package accounts_test

import (
	"context"
	"encoding/base32"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/accounts/accountstest"
	"github.com/tongban/tongban/sm-crypto/sm3otp"
	"github.com/tongban/tongban/storage"
)

// fixedClock is a clock the test moves by hand.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fixedClock) Set(t time.Time)         { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *fixedClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// otpFixture is a service on a fixed clock (the start of a 60-second period, so both TOTP's
// 30-second and SM3-OTP's 60-second steps start there) and one person.
type otpFixture struct {
	svc   *accounts.Service
	store storage.Storage
	clock *fixedClock
	p     storage.Person
	num   string
}

var otpT0 = time.Unix(1796000040, 0).UTC() // a multiple of 60 s, Dec 2026

func newOTPFixture(t *testing.T) *otpFixture {
	t.Helper()
	c := &fixedClock{t: otpT0}
	svc, store, _ := newService(t, accounts.Config{Now: c.Now, AccountLockThreshold: 1000})
	num := accountstest.ResidentID(t)
	p, err := svc.CreatePerson(context.Background(), accounts.NewPerson{IDNumber: num, Name: "乙", Password: []byte("password-1")})
	if err != nil {
		t.Fatal(err)
	}
	return &otpFixture{svc: svc, store: store, clock: c, p: p, num: num}
}

func secretBytes(t *testing.T, e accounts.OTPEnrolment) []byte {
	t.Helper()
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.Secret)
	if err != nil || len(b) != 20 {
		t.Fatalf("secret %q: %d bytes, %v", e.Secret, len(b), err)
	}
	return b
}

// code returns the device's code at at.
func code(t *testing.T, e accounts.OTPEnrolment, at time.Time) string {
	t.Helper()
	if e.Algorithm == storage.OTPAlgSM3 {
		c, err := sm3otp.Generate(secretBytes(t, e), at, sm3otp.Opts{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c, err := totp.GenerateCodeCustom(e.Secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrol enrols and confirms a device, returning it and the recovery codes.
func (f *otpFixture) enrol(t *testing.T, name, alg string) (accounts.OTPEnrolment, []string) {
	t.Helper()
	ctx := context.Background()
	e, err := f.svc.BeginOTPEnrolment(ctx, f.p.ID, name, alg)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.svc.ConfirmOTPDevice(ctx, f.p.ID, e.DeviceID, code(t, e, f.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	return e, codes
}

// login tries the password with code as second factor.
func (f *otpFixture) login(code string) (accounts.Authentication, error) {
	return f.svc.AuthenticatePassword(context.Background(), accounts.PasswordLogin{
		Identifier: f.num, Password: []byte("password-1"), OTP: code, WantMFA: true, ClientIP: "192.0.2.1"})
}

func TestOTPEnrolment(t *testing.T) {
	ctx := context.Background()
	for _, alg := range []string{storage.OTPAlgTOTP, storage.OTPAlgSM3} {
		t.Run(alg, func(t *testing.T) {
			f := newOTPFixture(t)
			e, err := f.svc.BeginOTPEnrolment(ctx, f.p.ID, " 我的手机 ", alg)
			if err != nil {
				t.Fatal(err)
			}
			if e.Name != "我的手机" || !e.ExpiresAt.Equal(otpT0.Add(accounts.OTPEnrolmentTTL)) {
				t.Errorf("enrolment %+v", e)
			}
			key, err := otp.NewKeyFromURL(e.URI)
			if err != nil || key.Secret() != e.Secret || key.Issuer() != "tongban" || key.AccountName() != f.p.IDNumberMasked {
				t.Fatalf("URI %q: %v", e.URI, err)
			}
			if strings.Contains(e.URI, f.num) || strings.Contains(e.URI, "乙") {
				t.Error("the otpauth URI carries personal data")
			}
			if alg == storage.OTPAlgSM3 && (key.Period() != 60 || !strings.Contains(e.URI, "algorithm=SM3")) {
				t.Errorf("SM3 URI %q", e.URI)
			}
			// Unconfirmed: the device is no second factor (the password alone logs in, amr pwd)
			// and its code does not count.
			a, err := f.login(code(t, e, otpT0))
			if err != nil || !slices.Equal(a.AMR, []string{"pwd"}) {
				t.Fatalf("login with an unconfirmed device: %v %v", a.AMR, err)
			}
			if devs, _ := f.svc.ListOTPDevices(ctx, f.p.ID); len(devs) != 0 {
				t.Errorf("unconfirmed device listed: %+v", devs)
			}
			// The page shown again has the same secret.
			again, err := f.svc.OTPEnrolment(ctx, f.p.ID, e.DeviceID)
			if err != nil || again.Secret != e.Secret {
				t.Fatalf("OTPEnrolment: %v", err)
			}
			if _, err := f.svc.ConfirmOTPDevice(ctx, f.p.ID, e.DeviceID, "000000"); !errors.Is(err, accounts.ErrOTPCodeWrong) {
				t.Errorf("wrong code: %v", err)
			}
			codes, err := f.svc.ConfirmOTPDevice(ctx, f.p.ID, e.DeviceID, code(t, e, otpT0.Add(5*time.Second)))
			if err != nil {
				t.Fatal(err)
			}
			if len(codes) != accounts.RecoveryCodeCount {
				t.Fatalf("%d recovery codes", len(codes))
			}
			seen := map[string]bool{}
			for _, c := range codes {
				if _, ok := accounts.NormalizeRecoveryCode(c); !ok || len(c) != 11 || c[5] != '-' || seen[c] {
					t.Errorf("recovery code %q malformed or repeated", c)
				}
				seen[c] = true
			}
			if _, err := f.svc.ConfirmOTPDevice(ctx, f.p.ID, e.DeviceID, code(t, e, otpT0)); !errors.Is(err, accounts.ErrOTPEnrolmentExpired) {
				t.Errorf("confirm twice: %v", err)
			}
			devs, err := f.svc.ListOTPDevices(ctx, f.p.ID)
			if err != nil || len(devs) != 1 || devs[0].ID != e.DeviceID || devs[0].Algorithm != alg || devs[0].LastUsed.IsZero() {
				t.Fatalf("devices %+v %v", devs, err)
			}
			// A second device brings no new recovery codes.
			_, more := f.enrol(t, "second", storage.OTPAlgTOTP)
			if more != nil {
				t.Errorf("second device made recovery codes again")
			}
			if n, _ := f.svc.RecoveryCodesLeft(ctx, f.p.ID); n != 10 {
				t.Errorf("recovery codes left %d", n)
			}
		})
	}
}

func TestOTPEnrolmentRefused(t *testing.T) {
	ctx := context.Background()
	f := newOTPFixture(t)
	for _, tc := range []struct {
		name, dev, alg string
		want           error
	}{
		{"fail/empty name", "  ", storage.OTPAlgTOTP, accounts.ErrInvalidOTPName},
		{"fail/long name", strings.Repeat("名", accounts.MaxOTPNameLen+1), storage.OTPAlgTOTP, accounts.ErrInvalidOTPName},
		{"fail/control character", "a\x00b", storage.OTPAlgTOTP, accounts.ErrInvalidOTPName},
		{"fail/bidi override", "a\u202eenohp", storage.OTPAlgTOTP, accounts.ErrInvalidOTPName},
		{"fail/zero-width space alone", "\u200b", storage.OTPAlgTOTP, accounts.ErrInvalidOTPName},
		{"fail/unknown algorithm", "x", "hotp", accounts.ErrInvalidOTPAlgorithm},
		{"ok/longest name", strings.Repeat("名", accounts.MaxOTPNameLen), storage.OTPAlgTOTP, nil},
	} {
		_, err := f.svc.BeginOTPEnrolment(ctx, f.p.ID, tc.dev, tc.alg)
		if (tc.want == nil && err != nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := f.svc.BeginOTPEnrolment(ctx, "nobody", "x", storage.OTPAlgTOTP); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown person: %v", err)
	}
	for range accounts.MaxOTPDevices - 1 {
		if _, err := f.svc.BeginOTPEnrolment(ctx, f.p.ID, "x", storage.OTPAlgTOTP); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.BeginOTPEnrolment(ctx, f.p.ID, "x", storage.OTPAlgTOTP); !errors.Is(err, accounts.ErrTooManyOTPDevices) {
		t.Errorf("device %d: %v", accounts.MaxOTPDevices+1, err)
	}
	// Expired pending devices no longer count, cannot be confirmed, and are purged.
	f.clock.Advance(accounts.OTPEnrolmentTTL)
	e, err := f.svc.BeginOTPEnrolment(ctx, f.p.ID, "new", storage.OTPAlgTOTP)
	if err != nil {
		t.Fatalf("after the pending ones expired: %v", err)
	}
	devs, _ := f.store.ListOTPDevices(ctx, f.p.ID)
	old := devs[0]
	if _, err := f.svc.ConfirmOTPDevice(ctx, f.p.ID, old.ID, "123456"); !errors.Is(err, accounts.ErrOTPEnrolmentExpired) {
		t.Errorf("confirm expired: %v", err)
	}
	if _, err := f.svc.OTPEnrolment(ctx, f.p.ID, old.ID); !errors.Is(err, accounts.ErrOTPEnrolmentExpired) {
		t.Errorf("show expired: %v", err)
	}
	n, err := f.svc.PurgeOTPEnrolments(ctx, f.clock.Now().Add(time.Second))
	if err != nil || n != accounts.MaxOTPDevices {
		t.Errorf("purged %d %v, want %d", n, err, accounts.MaxOTPDevices)
	}
	// Another person's pending device is not found.
	other, err := f.svc.CreatePerson(ctx, accounts.NewPerson{IDNumber: accountstest.ResidentID(t), Name: "丙", Password: []byte("password-2")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ConfirmOTPDevice(ctx, other.ID, e.DeviceID, code(t, e, f.clock.Now())); !errors.Is(err, accounts.ErrOTPDeviceNotFound) {
		t.Errorf("confirm another's device: %v", err)
	}
	if _, err := f.svc.OTPEnrolment(ctx, other.ID, e.DeviceID); !errors.Is(err, accounts.ErrOTPDeviceNotFound) {
		t.Errorf("show another's device: %v", err)
	}
	// Five wrong codes delete the pending device.
	for i := range 5 {
		_, err := f.svc.ConfirmOTPDevice(ctx, f.p.ID, e.DeviceID, "000000")
		want := accounts.ErrOTPCodeWrong
		if i == 4 {
			want = accounts.ErrOTPEnrolmentExpired
		}
		if !errors.Is(err, want) {
			t.Fatalf("wrong code %d: %v, want %v", i+1, err, want)
		}
	}
	if _, err := f.store.GetOTPDevice(ctx, e.DeviceID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("device after five wrong codes: %v", err)
	}
}

// TestOTPLogin: the second factor at login, with a fixed clock, for both algorithms and
// recovery codes — skew, reuse within a step, single use.
func TestOTPLogin(t *testing.T) {
	f := newOTPFixture(t)
	tot, codes := f.enrol(t, "phone", storage.OTPAlgTOTP)
	f.clock.Advance(2 * time.Minute) // past the confirming code's steps
	sm, _ := f.enrol(t, "token", storage.OTPAlgSM3)
	f.clock.Advance(2 * time.Minute)
	now := f.clock.Now()
	for _, tc := range []struct {
		name    string
		advance time.Duration
		code    string
		want    bool
	}{
		{"ok/totp current step", 0, code(t, tot, now), true},
		{"fail/totp same code again", 10 * time.Second, code(t, tot, now), false},
		{"ok/totp previous step (skew)", 0, code(t, tot, now.Add(10*time.Second-30*time.Second)), true},
		{"fail/totp two steps back", 0, code(t, tot, now.Add(10*time.Second-60*time.Second)), false},
		{"ok/sm3 current period", 0, code(t, sm, now.Add(10*time.Second)), true},
		{"fail/sm3 same code again", 5 * time.Second, code(t, sm, now.Add(10*time.Second)), false},
		{"ok/sm3 next period (skew)", 0, code(t, sm, now.Add(75*time.Second)), true},
		{"fail/sm3 two periods ahead", 0, code(t, sm, now.Add(135*time.Second)), false},
		{"fail/wrong digits", 0, "000000", false},
		{"fail/empty", 0, "", false},
		{"fail/letters", 0, "abcdef", false},
		{"ok/recovery code", 0, codes[0], true},
		{"fail/recovery code again", 0, codes[0], false},
		{"ok/recovery code lower case with spaces", 0, " " + strings.ToLower(strings.Replace(codes[1], "-", " ", 1)) + " ", true},
		{"fail/recovery code with a wrong character", 0, codes[2][:10] + string(flip(codes[2][10])), false},
	} {
		f.clock.Advance(tc.advance)
		a, err := f.login(tc.code)
		switch {
		case tc.want && (err != nil || !slices.Equal(a.AMR, []string{"pwd", "otp"})):
			t.Errorf("%s: %v %v, want success with amr pwd otp", tc.name, a.AMR, err)
		case !tc.want && !errors.Is(err, accounts.ErrLoginFailed):
			t.Errorf("%s: %v %v, want ErrLoginFailed", tc.name, a.AMR, err)
		}
	}
	if n, _ := f.svc.RecoveryCodesLeft(context.Background(), f.p.ID); n != 8 {
		t.Errorf("recovery codes left %d, want 8", n)
	}
	// Audited: enrolment, recovery code use and reuse.
	events, err := f.store.QueryAudit(context.Background(), storage.AuditQuery{Person: f.p.ID, Action: "otp.", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
		if strings.Contains(e.Detail, codes[0]) || strings.Contains(e.Detail, "phone") {
			t.Errorf("audit detail %q carries a code or a device name", e.Detail)
		}
	}
	want := []string{"otp.enrol", "otp.recovery_codes", "otp.enrol", "otp.recovery_use", "otp.recovery_reuse", "otp.recovery_use"}
	if !slices.Equal(actions, want) {
		t.Errorf("audit %v, want %v", actions, want)
	}
}

func flip(c byte) byte {
	if c == 'A' {
		return 'B'
	}
	return 'A'
}

// TestOTPTamperedSecret: a sealed secret with one byte changed, or moved to another device or
// person, opens nowhere, and the device's codes are refused.
func TestOTPTamperedSecret(t *testing.T) {
	ctx := context.Background()
	f := newOTPFixture(t)
	a, _ := f.enrol(t, "a", storage.OTPAlgTOTP)
	b, _ := f.enrol(t, "b", storage.OTPAlgSM3)
	f.clock.Advance(5 * time.Minute)
	da, _ := f.store.GetOTPDevice(ctx, a.DeviceID)
	db, _ := f.store.GetOTPDevice(ctx, b.DeviceID)
	// b carries a's sealed secret (sealed for device a): a's codes do not work through b.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.store.UpdateOTPDevice(ctx, b.DeviceID, func(d *storage.OTPDevice) error {
		d.SecretSealed, d.Algorithm = da.SecretSealed, storage.OTPAlgTOTP
		return nil
	}))
	must(f.store.DeleteOTPDevice(ctx, a.DeviceID))
	if _, err := f.login(code(t, a, f.clock.Now())); !errors.Is(err, accounts.ErrLoginFailed) {
		t.Errorf("secret moved to another device: %v", err)
	}
	// One byte of the ciphertext changed.
	for _, i := range []int{0, 12, len(db.SecretSealed) - 1} {
		sealed := slices.Clone(db.SecretSealed)
		sealed[i] ^= 0x01
		must(f.store.UpdateOTPDevice(ctx, b.DeviceID, func(d *storage.OTPDevice) error {
			d.SecretSealed, d.Algorithm = sealed, storage.OTPAlgSM3
			return nil
		}))
		f.clock.Advance(2 * time.Minute)
		if _, err := f.login(code(t, b, f.clock.Now())); !errors.Is(err, accounts.ErrLoginFailed) {
			t.Errorf("byte %d flipped: %v", i, err)
		}
	}
	// Restored, it works again: the refusals above were the tampering.
	must(f.store.UpdateOTPDevice(ctx, b.DeviceID, func(d *storage.OTPDevice) error {
		d.SecretSealed = db.SecretSealed
		return nil
	}))
	if _, err := f.login(code(t, b, f.clock.Now())); err != nil {
		t.Errorf("restored secret: %v", err)
	}
}

func TestOTPRemoveAndRegenerate(t *testing.T) {
	ctx := context.Background()
	f := newOTPFixture(t)
	if _, err := f.svc.RegenerateRecoveryCodes(ctx, f.p.ID); !errors.Is(err, accounts.ErrNoSecondFactor) {
		t.Errorf("regenerate without a device: %v", err)
	}
	// The operator-set secret (EnrollTOTP) is the legacy device.
	uri, err := f.svc.EnrollTOTP(ctx, f.p.ID)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := otp.NewKeyFromURL(uri)
	legacy := accounts.OTPEnrolment{Secret: key.Secret(), Algorithm: storage.OTPAlgTOTP}
	devs, _ := f.svc.ListOTPDevices(ctx, f.p.ID)
	if len(devs) != 1 || devs[0].ID != accounts.LegacyOTPDeviceID || !devs[0].Legacy {
		t.Fatalf("legacy device: %+v", devs)
	}
	if _, err := f.login(code(t, legacy, f.clock.Now())); err != nil {
		t.Fatalf("login with the legacy secret: %v", err)
	}
	first, err := f.svc.RegenerateRecoveryCodes(ctx, f.p.ID)
	if err != nil || len(first) != 10 {
		t.Fatalf("regenerate: %v", err)
	}
	e, none := f.enrol(t, "phone", storage.OTPAlgTOTP)
	if none != nil {
		t.Error("recovery codes made although the person has some")
	}
	second, err := f.svc.RegenerateRecoveryCodes(ctx, f.p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.login(first[0]); !errors.Is(err, accounts.ErrLoginFailed) {
		t.Errorf("a replaced recovery code: %v", err)
	}
	other, _ := f.svc.CreatePerson(ctx, accounts.NewPerson{IDNumber: accountstest.ResidentID(t), Name: "丁", Password: []byte("password-3")})
	if err := f.svc.RemoveOTPDevice(ctx, other.ID, e.DeviceID); !errors.Is(err, accounts.ErrOTPDeviceNotFound) {
		t.Errorf("remove another's device: %v", err)
	}
	if err := f.svc.RemoveOTPDevice(ctx, other.ID, accounts.LegacyOTPDeviceID); !errors.Is(err, accounts.ErrOTPDeviceNotFound) {
		t.Errorf("remove a legacy device one does not have: %v", err)
	}
	if err := f.svc.RemoveOTPDevice(ctx, f.p.ID, accounts.LegacyOTPDeviceID); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.svc.RecoveryCodesLeft(ctx, f.p.ID); n != 10 {
		t.Errorf("codes after removing one of two devices: %d", n)
	}
	if err := f.svc.RemoveOTPDevice(ctx, f.p.ID, e.DeviceID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RemoveOTPDevice(ctx, f.p.ID, e.DeviceID); !errors.Is(err, accounts.ErrOTPDeviceNotFound) {
		t.Errorf("remove twice: %v", err)
	}
	if n, _ := f.svc.RecoveryCodesLeft(ctx, f.p.ID); n != 0 {
		t.Errorf("codes after removing the last device: %d", n)
	}
	// No second factor left: the password alone, and a recovery code is no factor.
	f.clock.Advance(time.Minute)
	if a, err := f.login(second[0]); err != nil || !slices.Equal(a.AMR, []string{"pwd"}) {
		t.Errorf("after removal: %v %v", a.AMR, err)
	}
	events, _ := f.store.QueryAudit(ctx, storage.AuditQuery{Person: f.p.ID, Action: "otp.", Limit: 100})
	var actions []string
	for _, ev := range events {
		actions = append(actions, ev.Action+":"+strings.Fields(ev.Detail + " -")[0])
	}
	want := []string{"otp.recovery_codes:regenerated", "otp.enrol:device=" + e.DeviceID, "otp.recovery_codes:regenerated",
		"otp.remove:device=legacy", "otp.remove:device=" + e.DeviceID}
	if !slices.Equal(actions, want) {
		t.Errorf("audit %v, want %v", actions, want)
	}
}
