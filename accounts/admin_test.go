package accounts_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/accounts/accountstest"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/storage"
)

const adminPassword = "correct horse battery staple"

// adminEnv is a service with a fixed clock, reset links configured, and one person.
type adminEnv struct {
	*loginEnv
}

var console = audit.Actor{ID: "admin-person", Role: "operator", Address: "192.0.2.10"}

func newAdminEnv(t *testing.T) *adminEnv {
	t.Helper()
	e := &adminEnv{&loginEnv{now: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)}}
	e.svc, e.store, e.kr = newService(t, accounts.Config{Now: func() time.Time { return e.now },
		AccountLockThreshold: 3, PasswordResetURL: "https://idp.example/account/reset"})
	e.num = accountstest.ResidentID(t)
	var err error
	e.p, err = e.svc.CreatePerson(t.Context(), accounts.NewPerson{IDNumber: e.num, Name: "孔一", Phone: "13900139000", Password: []byte(adminPassword)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *adminEnv) login(t *testing.T, pw string) error {
	t.Helper()
	_, err := e.svc.AuthenticatePassword(t.Context(), accounts.PasswordLogin{Identifier: e.num, Password: []byte(pw), ClientIP: "198.51.100.7"})
	return err
}

// lastAudit returns the newest audit entry whose action is action.
func (e *adminEnv) lastAudit(t *testing.T, action string) storage.AuditEvent {
	t.Helper()
	ev, err := e.store.QueryAudit(t.Context(), storage.AuditQuery{Action: action, Limit: 1, Descending: true})
	if err != nil || len(ev) == 0 {
		t.Fatalf("audit %s: %v, %d entries", action, err, len(ev))
	}
	return ev[0]
}

func TestFindPerson(t *testing.T) {
	e := newAdminEnv(t)
	for _, tc := range []struct {
		name, ref string
		wantErr   error
		wantMsg   string
	}{
		{"ok/person ID", e.p.ID, nil, ""},
		{"ok/ID number", e.num, nil, ""},
		{"ok/ID number lower-case x and spaces", " " + strings.ToLower(e.num[:6]) + " " + e.num[6:] + " ", nil, ""},
		{"ok/phone", "13900139000", nil, ""},
		{"ok/full-width phone with +86", "＋８６ １３９００１３９０００", nil, ""},
		{"fail/unknown phone is masked", "13800138000", accounts.ErrPersonNotFound, "138****8000"},
		{"fail/unknown ID number is masked", accountstest.ResidentID(t), accounts.ErrPersonNotFound, "********"},
		{"fail/nothing", "nobody", storage.ErrNotFound, `"nobody"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := e.svc.FindPerson(t.Context(), tc.ref)
			if tc.wantErr == nil {
				if err != nil || p.ID != e.p.ID {
					t.Fatalf("FindPerson = %q, %v; want %q", p.ID, err, e.p.ID)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("FindPerson: %v, want %v containing %q", err, tc.wantErr, tc.wantMsg)
			}
			if strings.Contains(err.Error(), tc.ref) && tc.ref != "nobody" {
				t.Errorf("message %q shows the number in full", err)
			}
		})
	}
}

func TestDisableEnablePerson(t *testing.T) {
	e := newAdminEnv(t)
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.store.CreateClient(ctx, storage.Client{ID: "app", Name: "App", RedirectURIs: []string{"https://app.example/cb"}, CreatedAt: e.now}))
	must(e.store.CreateLoginSession(ctx, storage.LoginSession{ID: "s1", PersonID: e.p.ID, AuthTime: e.now, CreatedAt: e.now, ExpiresAt: e.now.Add(time.Hour)}))
	must(e.store.CreateToken(ctx, storage.TokenRecord{Kind: storage.KindRefreshToken, Signature: "rt", RequestID: "grant-1", ClientID: "app",
		Subject: e.p.ID, Active: true, RequestedAt: e.now, ExpiresAt: e.now.Add(time.Hour)}))
	must(e.store.CreateToken(ctx, storage.TokenRecord{Kind: storage.KindAccessToken, Signature: "at", RequestID: "grant-1", ClientID: "app",
		Subject: e.p.ID, Active: true, RequestedAt: e.now, ExpiresAt: e.now.Add(time.Hour)}))

	for _, tc := range []struct {
		name, reason string
		wantErr      error
	}{
		{"fail/no reason", "  ", accounts.ErrReasonRequired},
		{"fail/control character", "fraud\x1b[2J", accounts.ErrInvalidReason},
		{"fail/too long", strings.Repeat("长", accounts.MaxReasonLength+1), accounts.ErrInvalidReason},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.svc.DisablePerson(ctx, console, e.p.ID, tc.reason); !errors.Is(err, tc.wantErr) {
				t.Fatalf("DisablePerson: %v, want %v", err, tc.wantErr)
			}
		})
	}
	if err := e.svc.DisablePerson(ctx, console, "nobody", "x"); !errors.Is(err, accounts.ErrPersonNotFound) {
		t.Fatalf("DisablePerson(nobody): %v", err)
	}
	if p, _ := e.store.GetPerson(ctx, e.p.ID); p.Disabled {
		t.Fatal("refused DisablePerson disabled the person")
	}

	must(e.svc.DisablePerson(ctx, console, e.p.ID, "ticket 2026-17"))
	if err := e.login(t, adminPassword); !errors.Is(err, accounts.ErrLoginDisabled) {
		t.Errorf("login of a disabled person: %v, want ErrLoginDisabled", err)
	}
	if _, err := e.store.GetLoginSession(ctx, "s1", e.now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("session after disable: %v, want ErrNotFound", err)
	}
	for _, k := range []storage.TokenKind{storage.KindRefreshToken, storage.KindAccessToken} {
		sig := map[storage.TokenKind]string{storage.KindRefreshToken: "rt", storage.KindAccessToken: "at"}[k]
		if r, err := e.store.GetToken(ctx, k, sig); err != nil || r.Active {
			t.Errorf("%s after disable: active %v, %v", k, r.Active, err)
		}
	}
	if g, err := e.store.GrantRevokedBelow(ctx, "grant-1"); err != nil || g != storage.RevokedAll {
		t.Errorf("GrantRevokedBelow = %d, %v; want RevokedAll", g, err)
	}
	ev := e.lastAudit(t, "person.disable")
	if ev.Actor != console.ID || ev.Subject != e.p.ID || !strings.Contains(ev.Detail, "role=operator from=192.0.2.10") ||
		!strings.Contains(ev.Detail, "sessions_ended=1 grants_revoked=1") || !strings.Contains(ev.Detail, `reason="ticket 2026-17"`) {
		t.Errorf("audit entry %+v", ev)
	}
	if _, _, err := e.svc.IssuePasswordReset(ctx, console, e.p.ID, 0); !errors.Is(err, accounts.ErrPersonDisabled) {
		t.Errorf("IssuePasswordReset of a disabled person: %v, want ErrPersonDisabled", err)
	}

	must(e.svc.EnablePerson(ctx, audit.Shell, e.p.ID))
	if err := e.login(t, adminPassword); err != nil {
		t.Errorf("login after enable: %v", err)
	}
	if ev := e.lastAudit(t, "person.enable"); ev.Actor != audit.ShellOperator || ev.Subject != e.p.ID {
		t.Errorf("audit entry %+v", ev)
	}

	// A closed account stays closed.
	must(e.svc.CloseAccount(ctx, e.p.ID))
	if err := e.svc.EnablePerson(ctx, audit.Shell, e.p.ID); !errors.Is(err, accounts.ErrAccountClosed) {
		t.Errorf("EnablePerson of a closed account: %v, want ErrAccountClosed", err)
	}
}

func TestUnlockPerson(t *testing.T) {
	e := newAdminEnv(t)
	for range 3 {
		_ = e.login(t, "wrong password")
	}
	e.now = e.now.Add(500 * time.Millisecond)
	if err := e.login(t, adminPassword); !errors.Is(err, accounts.ErrLoginThrottled) {
		t.Fatalf("login while paused: %v, want ErrLoginThrottled", err)
	}
	st, err := e.svc.LockStatus(t.Context(), e.p.ID)
	if err != nil || !st.Locked() || st.Failures < 3 || !st.PausedUntil.After(e.now) {
		t.Fatalf("LockStatus while paused: %+v, %v", st, err)
	}
	if err := e.svc.UnlockPerson(t.Context(), console, e.p.ID); err != nil {
		t.Fatal(err)
	}
	if st, err := e.svc.LockStatus(t.Context(), e.p.ID); err != nil || st.Locked() || st.Failures != 0 {
		t.Fatalf("LockStatus after unlock: %+v, %v", st, err)
	}
	if err := e.login(t, adminPassword); err != nil {
		t.Fatalf("login after unlock: %v", err)
	}
	if ev := e.lastAudit(t, "person.unlock"); ev.Actor != console.ID || ev.Subject != e.p.ID {
		t.Errorf("audit entry %+v", ev)
	}
}

func TestEndSessions(t *testing.T) {
	e := newAdminEnv(t)
	for _, id := range []string{"s1", "s2"} {
		if err := e.store.CreateLoginSession(t.Context(), storage.LoginSession{ID: id, PersonID: e.p.ID, AuthTime: e.now, CreatedAt: e.now, ExpiresAt: e.now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := e.svc.EndSessions(t.Context(), console, e.p.ID)
	if err != nil || n != 2 {
		t.Fatalf("EndSessions = %d, %v; want 2", n, err)
	}
	if ev := e.lastAudit(t, "person.sessions.end"); !strings.HasSuffix(ev.Detail, "sessions_ended=2") {
		t.Errorf("audit entry %+v", ev)
	}
	if _, err := e.svc.EndSessions(t.Context(), console, "nobody"); !errors.Is(err, accounts.ErrPersonNotFound) {
		t.Errorf("EndSessions(nobody): %v", err)
	}
}

func TestPasswordReset(t *testing.T) {
	e := newAdminEnv(t)
	ctx := t.Context()
	for _, tc := range []struct {
		name    string
		ttl     time.Duration
		wantErr error
	}{
		{"fail/too short", time.Minute, accounts.ErrInvalidTTL},
		{"fail/too long", 8 * 24 * time.Hour, accounts.ErrInvalidTTL},
		{"fail/negative", -time.Hour, accounts.ErrInvalidTTL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := e.svc.IssuePasswordReset(ctx, console, e.p.ID, tc.ttl); !errors.Is(err, tc.wantErr) {
				t.Fatalf("IssuePasswordReset: %v, want %v", err, tc.wantErr)
			}
		})
	}
	first, _, err := e.svc.IssuePasswordReset(ctx, console, e.p.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	link, exp, err := e.svc.IssuePasswordReset(ctx, console, e.p.ID, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(e.now.Add(2 * time.Hour)) {
		t.Errorf("expiresAt %v", exp)
	}
	token := func(link string) string {
		u, err := url.Parse(link)
		if err != nil || !strings.HasPrefix(link, "https://idp.example/account/reset?token=") {
			t.Fatalf("link %q: %v", link, err)
		}
		return u.Query().Get("token")
	}
	tok := token(link)
	if len(tok) != 43 {
		t.Errorf("token %d characters, want 43 (256 bits)", len(tok))
	}
	if ev := e.lastAudit(t, "person.reset_link"); strings.Contains(ev.Detail, tok) || ev.Actor != console.ID {
		t.Errorf("audit entry %+v", ev)
	}
	if _, err := e.svc.PasswordResetPerson(ctx, token(first)); !errors.Is(err, accounts.ErrResetLink) {
		t.Errorf("first link after a second: %v, want ErrResetLink", err)
	}
	// A weak password does not use the link up.
	if err := e.svc.FinishPasswordReset(ctx, tok, []byte("password123")); !errors.Is(err, accounts.ErrWeakPassword) {
		t.Fatalf("weak password: %v", err)
	}
	// A tampered token is refused.
	bad := []byte(tok)
	bad[5] ^= 1
	if err := e.svc.FinishPasswordReset(ctx, string(bad), []byte("Kq7#vLp2!xWz-new")); !errors.Is(err, accounts.ErrResetLink) {
		t.Fatalf("tampered token: %v", err)
	}
	if err := e.svc.FinishPasswordReset(ctx, tok, []byte("Kq7#vLp2!xWz-new")); err != nil {
		t.Fatal(err)
	}
	if err := e.login(t, "Kq7#vLp2!xWz-new"); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
	if err := e.svc.FinishPasswordReset(ctx, tok, []byte("Another#Strong-pw9")); !errors.Is(err, accounts.ErrResetLink) {
		t.Errorf("second use: %v, want ErrResetLink", err)
	}
	if ev := e.lastAudit(t, "password.reset"); ev.Actor != e.p.ID {
		t.Errorf("audit entry %+v", ev)
	}
	// Expiry.
	link, _, err = e.svc.IssuePasswordReset(ctx, console, e.p.ID, accounts.MinResetLinkTTL)
	if err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(accounts.MinResetLinkTTL)
	if err := e.svc.FinishPasswordReset(ctx, token(link), []byte("Another#Strong-pw9")); !errors.Is(err, accounts.ErrResetLink) {
		t.Errorf("expired link: %v, want ErrResetLink", err)
	}

	off, _, _ := newService(t, accounts.Config{})
	if _, _, err := off.IssuePasswordReset(ctx, console, "x", 0); !errors.Is(err, accounts.ErrResetLinkOff) {
		t.Errorf("without PasswordResetURL: %v", err)
	}
}
