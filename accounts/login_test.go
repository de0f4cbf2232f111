package accounts_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/accounts/accountstest"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

const password = "correct horse battery staple"

// loginEnv is a Service with a settable clock and small lockout thresholds (3 attempts per
// account, 5 failures per IP), and one registered person with a phone number.
type loginEnv struct {
	svc   *accounts.Service
	store storage.Storage
	kr    *keyring.Keyring
	now   time.Time
	p     storage.Person
	num   string
}

func newLoginEnv(t *testing.T) *loginEnv {
	t.Helper()
	e := &loginEnv{now: time.Now().Truncate(time.Microsecond)} // as storage keeps it
	e.svc, e.store, e.kr = newService(t, accounts.Config{
		Now:                  func() time.Time { return e.now },
		AccountLockThreshold: 3,
		IPLockThreshold:      5,
	})
	e.num = accountstest.ResidentID(t)
	var err error
	e.p, err = e.svc.CreatePerson(context.Background(), accounts.NewPerson{
		IDNumber: e.num, Name: "孔一", Phone: "13900139000", Password: []byte(password)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *loginEnv) login(identifier, pw, ip string) (accounts.Authentication, error) {
	return e.svc.AuthenticatePassword(context.Background(), accounts.PasswordLogin{
		Identifier: identifier, Password: []byte(pw), ClientIP: ip})
}

func TestAuthenticatePassword(t *testing.T) {
	ctx := context.Background()
	t.Run("ok/id-number-and-phone", func(t *testing.T) {
		e := newLoginEnv(t)
		for _, id := range []string{e.num, "+86 139-0013-9000"} {
			a, err := e.login(id, password, "192.0.2.1")
			if err != nil || a.Person.ID != e.p.ID || !slices.Equal(a.AMR, []string{"pwd"}) {
				t.Errorf("login as %q = %+v, %v", id, a, err)
			}
		}
	})
	t.Run("fail/no-enumeration", func(t *testing.T) {
		e := newLoginEnv(t)
		disabled := accountstest.ResidentID(t)
		d, err := e.svc.CreatePerson(ctx, accounts.NewPerson{IDNumber: disabled, Name: "孔二", Password: []byte(password)})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.UpdatePerson(ctx, d.ID, func(p *storage.Person) error { p.Disabled = true; return nil }); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ name, id, pw string }{
			{"wrong-password", e.num, "wrong password"},
			{"unknown-number", accountstest.ResidentID(t), password},
			{"not-an-identifier", "alice", password},
			{"disabled-wrong-password", disabled, "wrong password"},
		} {
			if _, err := e.login(tc.id, tc.pw, "192.0.2.2"); !errors.Is(err, accounts.ErrLoginFailed) {
				t.Errorf("%s: err = %v, want ErrLoginFailed", tc.name, err)
			}
		}
		// Only the right password learns that the account is disabled (then, told so, its
		// owner goes to the service hall instead of retrying).
		if _, err := e.login(disabled, password, "192.0.2.2"); !errors.Is(err, accounts.ErrLoginDisabled) {
			t.Errorf("disabled, right password: err = %v, want ErrLoginDisabled", err)
		}
		events, err := e.store.ListAudit(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		failures := 0
		for _, ev := range events {
			if ev.Action == "login.failure" {
				failures++
				if (ev.Subject != e.p.ID || ev.Detail != "bad_credentials") && (ev.Subject != d.ID || ev.Detail != "bad_credentials" && ev.Detail != "disabled") {
					t.Errorf("audited %+v", ev)
				}
			}
		}
		if failures != 3 {
			t.Errorf("%d login.failure events, want 3 (the registered people's wrong passwords, the disabled login)", failures)
		}
	})
	t.Run("fail/account-paused-across-identifiers", func(t *testing.T) {
		e := newLoginEnv(t)
		for i := 0; i < 3; i++ {
			if _, err := e.login(e.num, "wrong password", "192.0.2.3"); !errors.Is(err, accounts.ErrLoginFailed) {
				t.Fatalf("attempt %d: %v", i+1, err)
			}
		}
		// The fourth attempt within the wait is refused whatever the password, with the phone
		// number too, and says how long to wait.
		_, err := e.login("13900139000", password, "192.0.2.4")
		var le *accounts.LoginError
		if !errors.Is(err, accounts.ErrLoginThrottled) || !errors.As(err, &le) || le.RetryAfter != time.Second {
			t.Fatalf("after 3 failures: %v, want ErrLoginThrottled with RetryAfter 1s", err)
		}
		// A pause, not a wall: once the wait is over the right password logs in.
		e.now = e.now.Add(le.RetryAfter)
		if _, err := e.login(e.num, password, "192.0.2.3"); err != nil {
			t.Errorf("after the wait: %v", err)
		}
	})
	t.Run("fail/unknown-identifier-paused", func(t *testing.T) {
		e := newLoginEnv(t)
		unknown := accountstest.ResidentID(t)
		var err error
		for i := 0; i < 4; i++ {
			_, err = e.login(unknown, password, "192.0.2.5")
		}
		if !errors.Is(err, accounts.ErrLoginThrottled) {
			t.Errorf("fourth attempt for an unknown identifier: %v, want ErrLoginThrottled", err)
		}
	})
	t.Run("ok/success-clears-account-count", func(t *testing.T) {
		e := newLoginEnv(t)
		for round := 0; round < 3; round++ {
			ip := fmt.Sprintf("198.51.100.%d", round) // below the IP lock
			for i := 0; i < 2; i++ {
				_, _ = e.login(e.num, "wrong password", ip)
			}
			if _, err := e.login(e.num, password, ip); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	})
	t.Run("fail/ip-locked", func(t *testing.T) {
		e := newLoginEnv(t)
		for i := 0; i < 5; i++ {
			_, _ = e.login(accountstest.ResidentID(t), password, "192.0.2.7")
		}
		if _, err := e.login(e.num, password, "192.0.2.7"); !errors.Is(err, accounts.ErrLoginLocked) {
			t.Errorf("IP with 5 failures: %v, want ErrLoginLocked", err)
		}
		if _, err := e.login(e.num, password, "192.0.2.8"); err != nil {
			t.Errorf("another IP: %v", err)
		}
		// Purged once the windows have passed, the failures no longer count.
		e.now = e.now.Add(accounts.DefaultAccountLockWindow + time.Second)
		if n, err := e.svc.PurgeFailures(ctx, e.now); err != nil || n < 5 {
			t.Errorf("PurgeFailures = %d, %v; want at least 5", n, err)
		}
		if _, err := e.login(e.num, password, "192.0.2.7"); err != nil {
			t.Errorf("after the purge: %v", err)
		}
	})
	t.Run("ok/totp-once-per-step", func(t *testing.T) {
		e := newLoginEnv(t)
		uri, err := e.svc.EnrollTOTP(ctx, e.p.ID)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(uri)
		code, err := totp.GenerateCode(u.Query().Get("secret"), e.now)
		if err != nil {
			t.Fatal(err)
		}
		mfa := func(otp string, want bool) accounts.PasswordLogin {
			return accounts.PasswordLogin{Identifier: e.num, Password: []byte(password), OTP: otp, WantMFA: want, ClientIP: "192.0.2.9"}
		}
		if a, err := e.svc.AuthenticatePassword(ctx, mfa("", false)); err != nil || len(a.AMR) != 1 {
			t.Errorf("without MFA: %+v, %v", a.AMR, err)
		}
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		if _, err := e.svc.AuthenticatePassword(ctx, mfa(wrong, true)); !errors.Is(err, accounts.ErrLoginFailed) {
			t.Errorf("wrong code: %v", err)
		}
		if a, err := e.svc.AuthenticatePassword(ctx, mfa(code, true)); err != nil || !slices.Equal(a.AMR, []string{"pwd", "otp"}) {
			t.Errorf("right code: %+v, %v", a.AMR, err)
		}
		if _, err := e.svc.AuthenticatePassword(ctx, mfa(code, true)); !errors.Is(err, accounts.ErrLoginFailed) {
			t.Errorf("same code again: %v, want ErrLoginFailed", err)
		}
	})
	t.Run("ok/rehash-after-login", func(t *testing.T) {
		e := newLoginEnv(t)
		stronger := smcrypto.PasswordParams{Iterations: 2000, SaltLen: 16, KeyLen: 32}
		svc2, err := accounts.New(accounts.Config{Store: e.store, Keyring: e.kr, PasswordParams: stronger})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc2.AuthenticatePassword(ctx, accounts.PasswordLogin{Identifier: e.num, Password: []byte(password)}); err != nil {
			t.Fatal(err)
		}
		p, _ := e.store.GetPerson(ctx, e.p.ID)
		if smcrypto.NeedsRehash(p.PasswordHash, stronger) || smcrypto.CheckPassword(p.PasswordHash, []byte(password)) != nil {
			t.Errorf("hash %q not re-made with %+v", p.PasswordHash, stronger)
		}
	})
}
