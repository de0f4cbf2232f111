package accounts_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/accounts/accountstest"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/storage"
)

// lockEnv is a Service with a fixed clock (moved only by the test), the default delays,
// AccountLockThreshold 3, DeviceLockThreshold 3 and IPLockThreshold 6, and one person.
type lockEnv struct {
	svc   *accounts.Service
	store storage.Storage
	kr    *keyring.Keyring
	now   time.Time
	p     storage.Person
	num   string
	logs  *bytes.Buffer
	mu    sync.Mutex // guards logs
}

func (e *lockEnv) Write(b []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logs.Write(b)
}

func newLockEnv(t *testing.T) *lockEnv {
	t.Helper()
	e := &lockEnv{now: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC), logs: &bytes.Buffer{}}
	e.svc, e.store, e.kr = newService(t, accounts.Config{
		Now:                  func() time.Time { return e.now },
		Logger:               slog.New(slog.NewJSONHandler(e, nil)),
		AccountLockThreshold: 3,
		DeviceLockThreshold:  3,
		IPLockThreshold:      6,
	})
	e.num = accountstest.ResidentID(t)
	var err error
	e.p, err = e.svc.CreatePerson(context.Background(), accounts.NewPerson{
		IDNumber: e.num, Name: "孔三", Phone: "13900139001", Password: []byte(password)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *lockEnv) login(id, pw, ip string, dev accounts.Device) error {
	_, err := e.svc.AuthenticatePassword(context.Background(), accounts.PasswordLogin{
		Identifier: id, Password: []byte(pw), ClientIP: ip, Device: dev, ClientID: "app-1"})
	return err
}

func (e *lockEnv) failures(t *testing.T, key string) int {
	t.Helper()
	n, err := e.store.CountFailures(context.Background(), key, e.now, accounts.DefaultAccountLockWindow)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// loginErr returns err as a *LoginError, failing the test when it is not one wrapping want.
func loginErr(t *testing.T, err, want error) *accounts.LoginError {
	t.Helper()
	var le *accounts.LoginError
	if !errors.Is(err, want) || !errors.As(err, &le) {
		t.Fatalf("err = %v, want a *LoginError wrapping %v", err, want)
	}
	return le
}

func TestDelay(t *testing.T) {
	e := newLockEnv(t) // threshold 3, 1 s doubling, 15 min cap
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {2, 0}, {3, time.Second}, {4, 2 * time.Second}, {5, 4 * time.Second},
		{12, 512 * time.Second}, {13, 15 * time.Minute}, {14, 15 * time.Minute},
		{64, 15 * time.Minute}, {1 << 40, 15 * time.Minute},
	} {
		if got := e.svc.Delay(tc.failures); got != tc.want {
			t.Errorf("Delay(%d) = %v, want %v", tc.failures, got, tc.want)
		}
	}
	// A delay that overflows when shifted stays capped.
	svc, _, _ := newService(t, accounts.Config{AccountDelay: time.Hour, AccountMaxDelay: 1 << 62, AccountLockWindow: 1 << 62, AccountLockThreshold: 1})
	for _, n := range []int{30, 40, 61, 62, 63, 100} {
		if got := svc.Delay(n); got != 1<<62 {
			t.Errorf("Delay(%d) with a 1 h first delay = %v, want the cap", n, got)
		}
	}
}

func TestLockout(t *testing.T) {
	const attacker, owner = "127.0.0.2", "127.0.0.1"
	t.Run("ok/warns-before-pause", func(t *testing.T) {
		e := newLockEnv(t)
		for i, want := range []int{2, 1, 0} {
			le := loginErr(t, e.login(e.num, "wrong", attacker, accounts.Device{}), accounts.ErrLoginFailed)
			wantWait := time.Duration(0)
			if want == 0 {
				wantWait = time.Second
			}
			if le.Remaining != want || le.RetryAfter != wantWait {
				t.Errorf("failure %d: Remaining %d RetryAfter %v, want %d %v", i+1, le.Remaining, le.RetryAfter, want, wantWait)
			}
		}
	})
	t.Run("fail/paused-attempts-not-counted-against-account", func(t *testing.T) {
		e := newLockEnv(t)
		acct := "login-person:" + e.p.ID
		for range 3 {
			_ = e.login(e.num, "wrong", attacker, accounts.Device{})
		}
		// 1 s wait after 3 failures: attempts within it are refused unchecked, even the right
		// password, and do not count against the account — only against the address.
		for i := range 2 {
			le := loginErr(t, e.login(e.num, password, attacker, accounts.Device{}), accounts.ErrLoginThrottled)
			if le.RetryAfter != time.Second {
				t.Errorf("refusal %d: RetryAfter %v, want 1s", i+1, le.RetryAfter)
			}
		}
		e.now = e.now.Add(999 * time.Millisecond)
		le := loginErr(t, e.login(e.num, "wrong", attacker, accounts.Device{}), accounts.ErrLoginThrottled)
		if le.RetryAfter != time.Millisecond {
			t.Errorf("RetryAfter %v, want 1ms", le.RetryAfter)
		}
		if n := e.failures(t, acct); n != 3 {
			t.Errorf("account failures = %d, want 3 (refusals not counted)", n)
		}
		if n := e.failures(t, "login-ip:"+attacker); n != 6 {
			t.Errorf("address failures = %d, want 6 (3 failed + 3 refused)", n)
		}
		// The address is now locked: the next untrusted attempt from it is refused before
		// any work, and not counted again.
		e.now = e.now.Add(time.Second)
		le = loginErr(t, e.login(e.num, password, attacker, accounts.Device{}), accounts.ErrLoginLocked)
		if le.RetryAfter != accounts.DefaultIPLockWindow-1999*time.Millisecond {
			t.Errorf("locked address: RetryAfter %v", le.RetryAfter)
		}
		if n := e.failures(t, "login-ip:"+attacker); n != 6 {
			t.Errorf("address failures after a locked refusal = %d, want 6", n)
		}
		if n := e.failures(t, acct); n != 3 {
			t.Errorf("account failures after a locked refusal = %d, want 3", n)
		}
		// From another address, once the wait is over, the owner logs in (a pause, not a
		// wall). The account was paused, so its failures stay (with the success, counted
		// before the check): the guesser gains nothing from the owner's login.
		if err := e.login(e.num, password, owner, accounts.Device{}); err != nil {
			t.Fatalf("owner after the wait: %v", err)
		}
		if n := e.failures(t, acct); n != 4 {
			t.Errorf("account failures after a success while paused = %d, want 4", n)
		}
		le = loginErr(t, e.login(e.num, password, "198.51.100.99", accounts.Device{}), accounts.ErrLoginThrottled)
		if le.RetryAfter != 2*time.Second {
			t.Errorf("after the owner's success: RetryAfter %v, want 2s", le.RetryAfter)
		}
		logs := e.logs.String()
		for _, want := range []string{
			`"level":"WARN","msg":"login lockout: account paused for untrusted clients","client_id":"app-1","client_ip":"127.0.0.2","person_id":"` + e.p.ID,
			`"level":"WARN","msg":"login lockout: client address locked","client_id":"app-1","client_ip":"127.0.0.2"`,
		} {
			if !strings.Contains(logs, want) {
				t.Errorf("logs lack %s", want)
			}
		}
		if strings.Contains(logs, e.num) || strings.Contains(logs, "13900139001") {
			t.Error("personal data in the logs")
		}
	})
	t.Run("ok/progressive", func(t *testing.T) {
		e := newLockEnv(t)
		// Each failure past the threshold doubles the wait; an attempt exactly when the wait
		// is over is checked.
		var wait time.Duration
		for i := range 8 {
			e.now = e.now.Add(wait)
			ip := fmt.Sprintf("198.51.100.%d", 10+i) // below the address lock
			le := loginErr(t, e.login(e.num, "wrong", ip, accounts.Device{}), accounts.ErrLoginFailed)
			if want := e.svc.Delay(i + 1); le.RetryAfter != want {
				t.Errorf("failure %d: RetryAfter %v, want %v", i+1, le.RetryAfter, want)
			}
			wait = le.RetryAfter
		}
		if wait != 32*time.Second {
			t.Fatalf("after 8 failures the wait is %v, want 32s", wait)
		}
		e.now = e.now.Add(wait - time.Microsecond)
		loginErr(t, e.login(e.num, password, "198.51.100.2", accounts.Device{}), accounts.ErrLoginThrottled)
		e.now = e.now.Add(time.Microsecond)
		if err := e.login(e.num, password, "198.51.100.2", accounts.Device{}); err != nil {
			t.Errorf("at the end of the wait: %v", err)
		}
	})
	t.Run("ok/trusted-device-not-paused-by-others", func(t *testing.T) {
		e := newLockEnv(t)
		dev := accounts.Device{PersonID: e.p.ID, ID: "device-nonce-1"}
		for range 3 {
			_ = e.login(e.num, "wrong", attacker, accounts.Device{})
		}
		for range 6 { // the attacker keeps trying: paused, then its address is locked
			_ = e.login(e.num, "wrong", attacker, accounts.Device{})
		}
		for i, tc := range []struct {
			name string
			id   string
			ip   string
			dev  accounts.Device
			want error
		}{
			{"owner's device", e.num, owner, dev, nil},
			{"owner's device by phone", "13900139001", owner, dev, nil},
			{"owner's device from the locked address", e.num, attacker, dev, nil},
			{"no device", e.num, owner, accounts.Device{}, accounts.ErrLoginThrottled},
			{"device of another person", e.num, owner, accounts.Device{PersonID: "someone-else", ID: "x"}, accounts.ErrLoginThrottled},
			{"device for nobody", e.num, owner, accounts.Device{ID: "device-nonce-1"}, accounts.ErrLoginThrottled},
			{"owner's device, unknown identifier", accountstest.ResidentID(t), owner, dev, accounts.ErrLoginFailed},
		} {
			err := e.login(tc.id, password, tc.ip, tc.dev)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("%d %s: %v, want %v", i, tc.name, err, tc.want)
			}
		}
		// The owner's successes leave the attacker's failures in place.
		if n := e.failures(t, "login-person:"+e.p.ID); n != 3 {
			t.Errorf("account failures = %d, want 3", n)
		}
	})
	t.Run("fail/device-counter-overflow", func(t *testing.T) {
		e := newLockEnv(t)
		dev := accounts.Device{PersonID: e.p.ID, ID: "device-nonce-2"}
		for i, want := range []int{2, 1, 0} {
			le := loginErr(t, e.login(e.num, "wrong", owner, dev), accounts.ErrLoginFailed)
			if le.Remaining != want || le.RetryAfter != 0 {
				t.Errorf("device failure %d: Remaining %d RetryAfter %v, want %d 0", i+1, le.Remaining, le.RetryAfter, want)
			}
		}
		if n := e.failures(t, "login-person:"+e.p.ID); n != 0 {
			t.Errorf("a trusted device's failures counted against the account: %d", n)
		}
		// Past its limit the device is untrusted: its failures now count against the account
		// and the account's pause applies to it.
		for range 3 {
			loginErr(t, e.login(e.num, "wrong", owner, dev), accounts.ErrLoginFailed)
		}
		loginErr(t, e.login(e.num, password, "198.51.100.3", dev), accounts.ErrLoginThrottled)
		if n := e.failures(t, "login-device:device-nonce-2"); n != 3 {
			t.Errorf("device failures = %d, want 3 (not counted once untrusted)", n)
		}
		if !strings.Contains(e.logs.String(), `"level":"WARN","msg":"login lockout: device not trusted any more"`) {
			t.Error("device lockout not logged at WARN")
		}
		events, err := e.store.ListAudit(context.Background(), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var details []string
		for _, ev := range events {
			if ev.Action == "login.lockout" {
				details = append(details, ev.Detail)
				if ev.Subject != e.p.ID || ev.ClientID != "app-1" {
					t.Errorf("audited %+v", ev)
				}
			}
		}
		if strings.Join(details, ",") != "device_untrusted,untrusted_paused" {
			t.Errorf("login.lockout details %v", details)
		}
		// Once its failures leave the window the device is trusted again.
		e.now = e.now.Add(accounts.DefaultAccountLockWindow)
		if err := e.login(e.num, password, owner, dev); err != nil {
			t.Errorf("after the window: %v", err)
		}
	})
	t.Run("ok/unknown-identifier-like-known", func(t *testing.T) {
		e := newLockEnv(t)
		ghost := accountstest.ResidentID(t)
		var known, unknown []string
		for _, c := range []struct {
			id  string
			out *[]string
			ip  string
		}{{e.num, &known, "198.51.100.4"}, {ghost, &unknown, "198.51.100.5"}} {
			for range 5 {
				err := e.login(c.id, "wrong", c.ip, accounts.Device{})
				var le *accounts.LoginError
				errors.As(err, &le)
				*c.out = append(*c.out, err.Error())
				_ = le
			}
		}
		if strings.Join(known, "|") != strings.Join(unknown, "|") {
			t.Errorf("known %q\nunknown %q", known, unknown)
		}
	})
	t.Run("fail/concurrent-burst-one-guess", func(t *testing.T) {
		e := newLockEnv(t)
		for range 3 {
			_ = e.login(e.num, "wrong", "198.51.100.6", accounts.Device{})
		}
		e.now = e.now.Add(time.Second) // the wait is over: one guess may go
		// Every attempt of the burst reads the account's counter before any of them counts
		// itself (a barrier in FailureStats): the worst interleaving for the lockout.
		const burst = 8
		b := &barrierStore{Storage: e.store, prefix: "login-person:"}
		b.arrived.Add(burst)
		svc, err := accounts.New(accounts.Config{Store: b, Keyring: e.kr, PasswordParams: testPasswordParams,
			Now: func() time.Time { return e.now }, Logger: slog.New(slog.DiscardHandler),
			AccountLockThreshold: 3, DeviceLockThreshold: 3, IPLockThreshold: 6})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, burst)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = svc.AuthenticatePassword(context.Background(), accounts.PasswordLogin{
					Identifier: e.num, Password: []byte("wrong"), ClientIP: fmt.Sprintf("198.51.100.%d", 20+i)})
			})
		}
		wg.Wait()
		guesses := 0
		for _, err := range errs {
			switch {
			case errors.Is(err, accounts.ErrLoginFailed):
				guesses++
			case !errors.Is(err, accounts.ErrLoginThrottled):
				t.Errorf("unexpected %v", err)
			}
		}
		// At most one: two that count themselves at once may both be refused.
		if guesses > 1 {
			t.Errorf("%d of a burst of %d were checked, want at most 1", guesses, burst)
		}
	})
}

// barrierStore holds every FailureStats call on a key with prefix until arrived is done.
type barrierStore struct {
	storage.Storage
	prefix  string
	arrived sync.WaitGroup
}

func (b *barrierStore) FailureStats(ctx context.Context, key string, now time.Time, window time.Duration) (storage.FailureStats, error) {
	st, err := b.Storage.FailureStats(ctx, key, now, window)
	if strings.HasPrefix(key, b.prefix) {
		b.arrived.Done()
		b.arrived.Wait()
	}
	return st, err
}

// TestCheckAttempt: the API other login methods call when a wrong code or assertion is a guess.
func TestCheckAttempt(t *testing.T) {
	ctx := context.Background()
	e := newLockEnv(t)
	a := accounts.Attempt{PersonID: e.p.ID, ClientIP: "203.0.113.9", ClientID: "app-2", Method: "otp"}
	for i := range 3 {
		g, err := e.svc.CheckAttempt(ctx, a)
		if err != nil {
			t.Fatalf("guess %d: %v", i+1, err)
		}
		if g.Trusted() {
			t.Error("untrusted attempt judged trusted")
		}
		loginErr(t, g.Fail(ctx), accounts.ErrLoginFailed)
	}
	_, err := e.svc.CheckAttempt(ctx, a)
	loginErr(t, err, accounts.ErrLoginThrottled)
	// The password login shares the account's counter.
	loginErr(t, e.login(e.num, password, "203.0.113.10", accounts.Device{}), accounts.ErrLoginThrottled)
	// A trusted device goes on.
	a.Device = accounts.Device{PersonID: e.p.ID, ID: "dev-3"}
	g, err := e.svc.CheckAttempt(ctx, a)
	if err != nil || !g.Trusted() {
		t.Fatalf("trusted device: %v, %v", g, err)
	}
	g.Succeed(ctx)
	// A guess never reported stays a failure.
	e.now = e.now.Add(time.Second)
	a.Device = accounts.Device{}
	if _, err := e.svc.CheckAttempt(ctx, a); err != nil {
		t.Fatal(err)
	}
	if n := e.failures(t, "login-person:"+e.p.ID); n != 4 {
		t.Errorf("failures = %d, want 4", n)
	}
	// Unknown identifiers are keyed by their blind index, like AuthenticatePassword's.
	ghost := accountstest.ResidentID(t)
	for range 3 {
		_ = e.login(ghost, "wrong", "203.0.113.11", accounts.Device{})
	}
	_, err = e.svc.CheckAttempt(ctx, accounts.Attempt{Identifier: ghost, ClientIP: "203.0.113.12"})
	loginErr(t, err, accounts.ErrLoginThrottled)
}
