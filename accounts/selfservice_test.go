package accounts_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/accounts/accountstest"
	"github.com/tongban/tongban/storage"
)

func TestCheckPasswordPolicy(t *testing.T) {
	const idNumber = "110101196001010011"
	for _, tc := range []struct {
		name    string
		pw      string
		inputs  []string
		wantErr error
	}{
		{"ok/passphrase", "correct horse battery staple", nil, nil},
		{"ok/random", "Kq7#vLp2!xWz", nil, nil},
		{"ok/mixed Chinese", "bj-地铁4号线-换乘", nil, nil},
		{"ok/ten Chinese characters", "山河远阔人间烟火长明", nil, nil},
		{"ok/256 bytes", strings.Repeat("Kq7#vLp2!xWz", 21) + "abcd", nil, nil},
		{"fail/too short", "Kq7#vLp2!", nil, accounts.ErrPasswordTooShort},
		{"fail/eight Chinese characters are too short", "山河远阔人间烟火", nil, accounts.ErrPasswordTooShort},
		{"fail/too long", strings.Repeat("Kq7#vLp2!xWz", 22), nil, accounts.ErrPasswordTooLong},
		{"fail/not UTF-8", "Kq7#vLp2!x\xff\xfe", nil, accounts.ErrPasswordCharacters},
		{"fail/a line break", "Kq7#vLp2!x\nWz", nil, accounts.ErrPasswordCharacters},
		{"fail/a trailing NUL", "Kq7#vLp2!xWz\x00", nil, accounts.ErrPasswordCharacters},
		{"fail/ideographic spaces only", strings.Repeat("\u3000", 12), nil, accounts.ErrPasswordTooCommon},
		{"fail/own name repeated", strings.Repeat("林晓彤", 4), []string{"林晓彤"}, accounts.ErrPasswordTooCommon},
		{"fail/first digits of the ID number", idNumber[:16], []string{idNumber[:14]}, accounts.ErrPasswordTooCommon},
		{"fail/common password", "password123", nil, accounts.ErrPasswordTooCommon},
		{"fail/common with a symbol", "Password1!", nil, accounts.ErrPasswordTooCommon},
		{"fail/digit run", "1234567890", nil, accounts.ErrPasswordTooCommon},
		{"fail/keyboard row", "qwertyuiop", nil, accounts.ErrPasswordTooCommon},
		{"fail/common phrase", "iloveyou12345", nil, accounts.ErrPasswordTooCommon},
		{"fail/own ID number", idNumber, []string{idNumber}, accounts.ErrPasswordTooCommon},
		{"fail/own ID number with x", idNumber + "x", []string{idNumber}, accounts.ErrPasswordTooCommon},
		{"fail/own phone number", "13900139000", []string{"13900139000"}, accounts.ErrPasswordTooCommon},
		{"fail/long but weak, scored on its first 64 characters", strings.Repeat("a1", 100), nil, accounts.ErrPasswordTooCommon},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := accounts.CheckPasswordPolicy([]byte(tc.pw), tc.inputs...)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("CheckPasswordPolicy: %v", err)
				}
				return
			}
			if !errors.Is(err, accounts.ErrWeakPassword) || !errors.Is(err, tc.wantErr) {
				t.Fatalf("CheckPasswordPolicy: %v, want ErrWeakPassword and %v", err, tc.wantErr)
			}
		})
	}
}

// selfEnv is a loginEnv with a console notifier writing into a buffer.
type selfEnv struct {
	*loginEnv
	out *bytes.Buffer
}

func newSelfEnv(t *testing.T, notifier bool) *selfEnv {
	t.Helper()
	e := &selfEnv{loginEnv: &loginEnv{now: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)}, out: &bytes.Buffer{}}
	cfg := accounts.Config{Now: func() time.Time { return e.now }, AccountLockThreshold: 3, IPLockThreshold: 50}
	if notifier {
		cfg.Notifier = &accounts.ConsoleNotifier{W: e.out}
	}
	e.svc, e.store, e.kr = newService(t, cfg)
	e.num = accountstest.ResidentID(t)
	var err error
	e.p, err = e.svc.CreatePerson(t.Context(), accounts.NewPerson{
		IDNumber: e.num, Name: "孔一", Phone: "13900139000", Password: []byte(password)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var codeLine = regexp.MustCompile(`^notifier: to 139\*\*\*\*9000 \(person ([^)]+)\): .*验证码 ([0-9]{8})，10 分钟内有效`)

// lastCode returns the code of the last message the console notifier wrote, and how many it
// wrote.
func (e *selfEnv) lastCode(t *testing.T) (string, int) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(e.out.String()), "\n")
	if e.out.Len() == 0 {
		return "", 0
	}
	m := codeLine.FindStringSubmatch(lines[len(lines)-1])
	if m == nil || m[1] != e.p.ID {
		t.Fatalf("notifier wrote %q", lines[len(lines)-1])
	}
	return m[2], len(lines)
}

func (e *selfEnv) auditActions(t *testing.T, prefix string) []string {
	t.Helper()
	ev, err := e.store.QueryAudit(t.Context(), storage.AuditQuery{Person: e.p.ID, Action: prefix, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range ev {
		out = append(out, a.Action+":"+a.Detail)
	}
	return out
}

func (e *selfEnv) session(t *testing.T, id string) {
	t.Helper()
	if err := e.store.CreateLoginSession(t.Context(), storage.LoginSession{ID: id, PersonID: e.p.ID, AuthTime: e.now,
		CreatedAt: e.now, ExpiresAt: e.now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

func (e *selfEnv) sessions(t *testing.T) int {
	t.Helper()
	l, err := e.store.ListLoginSessionsForPerson(t.Context(), e.p.ID, e.now)
	if err != nil {
		t.Fatal(err)
	}
	return len(l)
}

const newPassword = "bj-地铁4号线-换乘-东单"

func TestChangePassword(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		old     string
		new     string
		wantErr error
	}{
		{"ok/changed", password, newPassword, nil},
		{"fail/wrong old password", "wrong password", newPassword, accounts.ErrWrongPassword},
		{"fail/common new password", password, "password1234", accounts.ErrPasswordTooCommon},
		{"fail/own ID number", password, "<id>", accounts.ErrPasswordTooCommon},
		{"fail/own phone number plus", password, "13900139000a", accounts.ErrPasswordTooCommon},
		{"fail/unchanged", password, password, accounts.ErrPasswordUnchanged},
		{"fail/too short", password, "Kq7#vLp", accounts.ErrPasswordTooShort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSelfEnv(t, false)
			e.session(t, "here")
			e.session(t, "elsewhere")
			nw := strings.ReplaceAll(tc.new, "<id>", e.num)
			err := e.svc.ChangePassword(ctx, accounts.PasswordChange{PersonID: e.p.ID, Old: []byte(tc.old), New: []byte(nw),
				ClientIP: "203.0.113.7", KeepSession: "here"})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("ChangePassword: %v, want %v", err, tc.wantErr)
			}
			_, oldErr := e.login(e.num, password, "198.51.100.1")
			_, newErr := e.login(e.num, nw, "198.51.100.1")
			if tc.wantErr != nil {
				if oldErr != nil || e.sessions(t) != 2 {
					t.Errorf("after a refused change: old password %v, %d sessions; want it working and 2", oldErr, e.sessions(t))
				}
				return
			}
			if oldErr == nil || newErr != nil {
				t.Errorf("after the change: old password %v, new %v; want the old refused and the new working", oldErr, newErr)
			}
			if got, err := e.store.ListLoginSessionsForPerson(ctx, e.p.ID, e.now); err != nil || len(got) != 1 || got[0].ID != "here" {
				t.Errorf("sessions after the change: %+v %v, want only this one", got, err)
			}
			if a := e.auditActions(t, "password."); len(a) != 1 || a[0] != "password.change:sessions_ended=1" {
				t.Errorf("audit %v", a)
			}
		})
	}
	t.Run("fail/wrong old passwords pause like logins", func(t *testing.T) {
		e := newSelfEnv(t, false)
		var err error
		for range 4 {
			err = e.svc.ChangePassword(ctx, accounts.PasswordChange{PersonID: e.p.ID, Old: []byte("guess"), New: []byte(newPassword)})
		}
		if !errors.Is(err, accounts.ErrLoginThrottled) {
			t.Fatalf("fourth wrong old password: %v, want ErrLoginThrottled (threshold 3: a pause)", err)
		}
		if err := e.svc.ChangePassword(ctx, accounts.PasswordChange{PersonID: e.p.ID, Old: []byte(password), New: []byte(newPassword)}); !errors.Is(err, accounts.ErrLoginThrottled) {
			t.Fatalf("right old password while paused: %v, want ErrLoginThrottled", err)
		}
		if a := e.auditActions(t, "login.failure"); len(a) != 3 {
			t.Errorf("audit of wrong old passwords: %v, want 3 login.failure", a)
		}
	})
}

func TestRecovery(t *testing.T) {
	ctx := context.Background()
	const ip = "203.0.113.9"
	start := func(t *testing.T, e *selfEnv, id string) string {
		t.Helper()
		if err := e.svc.StartRecovery(ctx, id, ip); err != nil {
			t.Fatalf("StartRecovery: %v", err)
		}
		c, _ := e.lastCode(t)
		return c
	}
	finish := func(e *selfEnv, id, code, pw string) error {
		return e.svc.FinishRecovery(ctx, accounts.Recovery{Identifier: id, Code: code, New: []byte(pw), ClientIP: ip})
	}
	// wrongCode is a well-formed code other than c.
	wrongCode := func(c string) string {
		b := []byte(c)
		b[3] = '0' + (b[3]-'0'+1)%10
		return string(b)
	}

	t.Run("ok/by phone number, then log in with the new password", func(t *testing.T) {
		e := newSelfEnv(t, true)
		e.session(t, "a")
		e.session(t, "b")
		code := start(t, e, "139 0013 9000")
		e.now = e.now.Add(RecoveryAlmost)
		if err := finish(e, "+86 13900139000", code, newPassword); err != nil {
			t.Fatalf("FinishRecovery: %v", err)
		}
		if _, err := e.login(e.num, newPassword, ip); err != nil {
			t.Errorf("login with the new password: %v", err)
		}
		if n := e.sessions(t); n != 0 {
			t.Errorf("%d sessions left, want all ended", n)
		}
		if a := e.auditActions(t, "recovery."); strings.Join(a, " ") != "recovery.start:code_sent recovery.finish:sessions_ended=2" {
			t.Errorf("audit %v", a)
		}
	})
	t.Run("fail/replayed code", func(t *testing.T) {
		e := newSelfEnv(t, true)
		code := start(t, e, e.num)
		if err := finish(e, e.num, code, newPassword); err != nil {
			t.Fatal(err)
		}
		if err := finish(e, e.num, code, newPassword+"2"); !errors.Is(err, accounts.ErrRecoveryCode) {
			t.Fatalf("replayed code: %v, want ErrRecoveryCode", err)
		}
		if a := e.auditActions(t, "recovery.failure"); len(a) != 1 || a[0] != "recovery.failure:used" {
			t.Errorf("audit %v", a)
		}
	})
	t.Run("fail/expired code", func(t *testing.T) {
		e := newSelfEnv(t, true)
		code := start(t, e, e.num)
		e.now = e.now.Add(accounts.RecoveryCodeLifetime)
		if err := finish(e, e.num, code, newPassword); !errors.Is(err, accounts.ErrRecoveryCode) {
			t.Fatalf("expired code: %v, want ErrRecoveryCode", err)
		}
		if _, err := e.login(e.num, password, ip); err != nil {
			t.Errorf("the old password must still work: %v", err)
		}
		if a := e.auditActions(t, "recovery.failure"); len(a) != 1 || a[0] != "recovery.failure:expired" {
			t.Errorf("audit %v", a)
		}
	})
	t.Run("fail/five wrong codes kill the code", func(t *testing.T) {
		e := newSelfEnv(t, true)
		code := start(t, e, e.num)
		for i := range accounts.RecoveryMaxAttempts {
			if err := finish(e, e.num, wrongCode(code), newPassword); !errors.Is(err, accounts.ErrRecoveryCode) {
				t.Fatalf("wrong code %d: %v", i, err)
			}
		}
		if err := finish(e, e.num, code, newPassword); !errors.Is(err, accounts.ErrRecoveryCode) {
			t.Fatalf("right code after %d wrong ones: %v, want ErrRecoveryCode", accounts.RecoveryMaxAttempts, err)
		}
		a := e.auditActions(t, "recovery.failure")
		if len(a) != 6 || a[0] != "recovery.failure:wrong" || a[5] != "recovery.failure:exhausted" {
			t.Errorf("audit %v", a)
		}
	})
	t.Run("fail/malformed code counts as a try", func(t *testing.T) {
		e := newSelfEnv(t, true)
		code := start(t, e, e.num)
		for _, bad := range []string{"", "12", code + "0", "abcdefgh"} {
			if err := finish(e, e.num, bad, newPassword); !errors.Is(err, accounts.ErrRecoveryCode) {
				t.Fatalf("code %q: %v", bad, err)
			}
		}
		if err := finish(e, e.num, " "+code+" ", newPassword); err != nil {
			t.Fatalf("right code with spaces after 4 bad tries: %v", err)
		}
	})
	t.Run("fail/weak new password keeps the code", func(t *testing.T) {
		e := newSelfEnv(t, true)
		code := start(t, e, e.num)
		if err := finish(e, e.num, code, "password1234"); !errors.Is(err, accounts.ErrPasswordTooCommon) {
			t.Fatalf("weak password: %v", err)
		}
		if err := finish(e, e.num, code, newPassword); err != nil {
			t.Fatalf("then a good one: %v", err)
		}
	})
	t.Run("ok/unknown identifier answers alike and sends nothing", func(t *testing.T) {
		e := newSelfEnv(t, true)
		other := accountstest.ResidentID(t)
		for _, id := range []string{other, "13800000000", "not an identifier"} {
			if err := e.svc.StartRecovery(ctx, id, ip); err != nil {
				t.Errorf("StartRecovery(%q): %v, want nil", id, err)
			}
			if err := finish(e, id, "12345678", newPassword); !errors.Is(err, accounts.ErrRecoveryCode) {
				t.Errorf("FinishRecovery(%q): %v, want ErrRecoveryCode", id, err)
			}
		}
		if e.out.Len() != 0 {
			t.Errorf("notifier wrote %q", e.out.String())
		}
		// The policy judges the new password by the identifier as typed, not by the person's
		// data, so its answer is the same whether or not the identifier is registered.
		for _, id := range []string{e.num, other} {
			if err := finish(e, id, "12345678", id+"Kq"); !errors.Is(err, accounts.ErrPasswordTooCommon) {
				t.Errorf("identifier as the new password: %v, want ErrPasswordTooCommon", err)
			}
		}
	})
	t.Run("fail/throttled per identifier, known or not", func(t *testing.T) {
		e := newSelfEnv(t, true)
		other := accountstest.ResidentID(t)
		for _, id := range []string{e.num, other} {
			for i := range accounts.RecoveryCodesPerIdentifier {
				if err := e.svc.StartRecovery(ctx, id, "198.51.100."+string(rune('1'+i))); err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
			}
			if err := e.svc.StartRecovery(ctx, id, "198.51.100.9"); !errors.Is(err, accounts.ErrRecoveryThrottled) {
				t.Errorf("request %d for %s: %v, want ErrRecoveryThrottled", accounts.RecoveryCodesPerIdentifier+1, id[:6], err)
			}
		}
		// The phone number is the same person: throttled too.
		if err := e.svc.StartRecovery(ctx, "13900139000", "198.51.100.9"); !errors.Is(err, accounts.ErrRecoveryThrottled) {
			t.Errorf("by phone after the ID number's limit: %v", err)
		}
		e.now = e.now.Add(accounts.DefaultAccountLockWindow)
		if err := e.svc.StartRecovery(ctx, e.num, "198.51.100.9"); err != nil {
			t.Errorf("after the window: %v", err)
		}
	})
	t.Run("fail/throttled per address", func(t *testing.T) {
		e := newSelfEnv(t, true)
		for i := range accounts.RecoveryRequestsPerIP {
			if err := e.svc.StartRecovery(ctx, accountstest.ResidentID(t), ip); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		}
		if err := e.svc.StartRecovery(ctx, e.num, ip); !errors.Is(err, accounts.ErrRecoveryThrottled) {
			t.Errorf("request past the address limit: %v", err)
		}
	})
	t.Run("fail/wrong codes throttled per address", func(t *testing.T) {
		e := newSelfEnv(t, true)
		for range accounts.RecoveryFailuresPerIP {
			_ = finish(e, accountstest.ResidentID(t), "12345678", newPassword)
		}
		if err := finish(e, e.num, "12345678", newPassword); !errors.Is(err, accounts.ErrRecoveryThrottled) {
			t.Errorf("past the address limit: %v", err)
		}
	})
	t.Run("fail/no notifier: recovery off", func(t *testing.T) {
		e := newSelfEnv(t, false)
		if err := e.svc.StartRecovery(ctx, e.num, ip); !errors.Is(err, accounts.ErrRecoveryOff) {
			t.Errorf("StartRecovery: %v, want ErrRecoveryOff", err)
		}
	})
}

// RecoveryAlmost is a moment before a recovery code expires.
const RecoveryAlmost = accounts.RecoveryCodeLifetime - time.Second

func TestCloseAccount(t *testing.T) {
	ctx := context.Background()
	e := newSelfEnv(t, true)
	e.session(t, "a")
	if err := e.store.PutAccessRecoveryCode(ctx, storage.AccessRecoveryCode{PersonID: e.p.ID, CodeHash: make([]byte, 32), CreatedAt: e.now, ExpiresAt: e.now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.CloseAccount(ctx, e.p.ID); err != nil {
		t.Fatalf("CloseAccount: %v", err)
	}
	p, err := e.store.GetPerson(ctx, e.p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Disabled || p.Name != "" || p.IDNumberSealed != nil || p.IDNumberIndex != nil || p.IDNumberMasked != "" ||
		p.PhoneSealed != nil || p.PhoneIndex != nil || p.PasswordHash != "" || p.OTPSecretSealed != nil {
		t.Errorf("closed person still holds data: %+v", p)
	}
	if _, err := e.login(e.num, password, "203.0.113.1"); !errors.Is(err, accounts.ErrLoginFailed) {
		t.Errorf("login after closing: %v, want ErrLoginFailed", err)
	}
	if n := e.sessions(t); n != 0 {
		t.Errorf("%d sessions left", n)
	}
	if err := e.store.CheckAccessRecoveryCode(ctx, e.p.ID, make([]byte, 32), e.now, 5); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("recovery code after closing: %v", err)
	}
	if err := e.svc.StartRecovery(ctx, e.num, "203.0.113.1"); err != nil || e.out.Len() != 0 {
		t.Errorf("recovery of a closed account: %v, sent %q", err, e.out.String())
	}
	// The ID number and phone number are free again.
	if _, err := e.svc.CreatePerson(ctx, accounts.NewPerson{IDNumber: e.num, Name: "孔一", Phone: "13900139000", Password: []byte(password)}); err != nil {
		t.Errorf("registering the numbers again: %v", err)
	}
	if a := e.auditActions(t, "account."); len(a) != 1 || a[0] != "account.close:sessions_ended=1 consents_withdrawn=0" {
		t.Errorf("audit %v", a)
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{"13900139000": "139****9000", "1234567": "*******", "": ""} {
		if got := accounts.MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}
