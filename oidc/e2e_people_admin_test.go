package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/audit"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// People administration and corrections (issue 9, part C) end to end over HTTPS with go-oidc,
// x/oauth2 and the cookie-jar browser: an operator (the same accounts functions the `idp`
// commands and the console call) disables a person — their login is refused, their tokens are
// inactive at introspection and UserInfo, their sessions gone — lifts a lockout, hands over a
// single-use reset link; a citizen files corrections on the account page and sees them
// applied or rejected.

func TestPeopleAdminSQLite(t *testing.T) {
	runPeopleAdmin(t, func(t testing.TB) storage.Storage { return storagetest.SQLite(t) })
}

func TestPeopleAdminPostgres(t *testing.T) {
	runPeopleAdmin(t, func(t testing.TB) storage.Storage { return storagetest.Postgres(t) })
}

// peopleEnv is a selfEnv with an operator's accounts.Service (reset links on the provider).
type peopleEnv struct {
	*selfEnv
	ops *accounts.Service
}

// operator is the console actor of these tests.
var operator = audit.Actor{ID: "op-person", Role: "operator", Address: "192.0.2.8"}

func runPeopleAdmin(t *testing.T, newStore func(testing.TB) storage.Storage) {
	e := &peopleEnv{selfEnv: &selfEnv{env: newEnv(t, newStore(t), envOptions{mutate: func(c *tboidc.Config) {
		// A pause after 3 failures that lasts: the lockout test does not depend on timing.
		c.AccountLockThreshold, c.AccountDelay, c.AccountMaxDelay = 3, time.Hour, time.Hour
	}}), out: &lockedBuffer{}}}
	var err error
	e.ops, err = accounts.New(accounts.Config{Store: e.store, Keyring: e.kr, PasswordParams: testPasswordParams,
		Now: e.clock.Now, PasswordResetURL: e.issuer + "/account/reset"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		test func(*testing.T, *peopleEnv)
	}{
		{"ok/disable-ends-everything", testAdminDisable},
		{"ok/unlock-lets-the-owner-in", testAdminUnlock},
		{"ok/reset-link-once", testAdminResetLink},
		{"ok/correction-applied", testCorrectionApplied},
		{"ok/correction-rejected", testCorrectionRejected},
		{"ok/logs-without-personal-data", func(t *testing.T, e *peopleEnv) { testLogs(t, e.env) }},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, e) })
	}
}

// lastAudit returns the newest audit entry about person with action.
func (e *peopleEnv) lastAudit(t *testing.T, personID, action string) storage.AuditEvent {
	t.Helper()
	ev, err := e.store.QueryAudit(context.Background(), storage.AuditQuery{Person: personID, Action: action, Limit: 1, Descending: true})
	if err != nil || len(ev) != 1 {
		t.Fatalf("audit %s of %s: %v %v", action, personID, ev, err)
	}
	return ev[0]
}

func testAdminDisable(t *testing.T, e *peopleEnv) {
	person, num := e.person("禁用", "")
	app := e.newRP(tboidc.NewClient{})
	b := e.uaBrowser(uaAndroid)
	b.account(num, testPassword)
	tok := app.login(t, b.browser, num)
	if !active(e.introspect(app, tok.AccessToken)) {
		t.Fatal("access token inactive before disable")
	}
	if status, _ := e.userinfo(tok.AccessToken); status != http.StatusOK {
		t.Fatalf("userinfo before disable: %d", status)
	}

	if err := e.ops.DisablePerson(context.Background(), operator, person.ID, "ticket 2026-7"); err != nil {
		t.Fatal(err)
	}
	if active(e.introspect(app, tok.AccessToken)) {
		t.Error("access token active at introspection after disable")
	}
	if active(e.introspect(app, tok.RefreshToken)) {
		t.Error("refresh token active at introspection after disable")
	}
	if status, _ := e.userinfo(tok.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("userinfo after disable: %d, want 401", status)
	}
	if _, err := app.oauth.TokenSource(e.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Error("refresh after disable succeeded")
	}
	if list, err := e.store.ListLoginSessionsForPerson(context.Background(), person.ID, e.clock.Now()); err != nil || len(list) != 0 {
		t.Errorf("sessions after disable: %d, %v", len(list), err)
	}
	if p := b.get(e.issuer + "/account"); !p.isLogin() {
		t.Errorf("account page after disable: %d, not the login page", p.status)
	}
	b2 := e.uaBrowser(uaIPhone)
	p := b2.get(e.issuer + "/account")
	action, vals := p.form(t)
	vals.Set("identifier", num)
	vals.Set("password", testPassword)
	got := b2.post(action, vals)
	if got.status != http.StatusForbidden || !got.isLoginForm() || !strings.Contains(got.body, "此账户已被停用") {
		t.Fatalf("login of a disabled person with the right password: %d, want 403 saying the account is disabled", got.status)
	}
	// A wrong password says nothing about the account's state.
	action, vals = got.form(t)
	vals.Set("identifier", num)
	vals.Set("password", "not the password")
	if got := b2.post(action, vals); got.status != http.StatusUnauthorized || strings.Contains(got.body, "停用") {
		t.Errorf("wrong password for a disabled person: %d", got.status)
	}
	ev := e.lastAudit(t, person.ID, "person.disable")
	if ev.Actor != operator.ID || !strings.Contains(ev.Detail, "role=operator from=192.0.2.8") || !strings.Contains(ev.Detail, "grants_revoked=1") {
		t.Errorf("audit entry %+v", ev)
	}

	if err := e.ops.EnablePerson(context.Background(), operator, person.ID); err != nil {
		t.Fatal(err)
	}
	if active(e.introspect(app, tok.AccessToken)) {
		t.Error("a revoked access token is active again after enable")
	}
	e.uaBrowser(uaIPhone).account(num, testPassword) // logs in again
	if ev := e.lastAudit(t, person.ID, "person.enable"); ev.Actor != operator.ID {
		t.Errorf("audit entry %+v", ev)
	}
}

func testAdminUnlock(t *testing.T, e *peopleEnv) {
	person, num := e.person("解锁", "")
	b := e.uaBrowserFrom(uaAndroid, "203.0.113.9")
	login := func(pw string) page {
		p := b.get(e.issuer + "/account")
		action, vals := p.form(t)
		vals.Set("identifier", num)
		vals.Set("password", pw)
		return b.post(action, vals)
	}
	for range 3 {
		if got := login("wrong password 1"); got.status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", got.status)
		}
	}
	if got := login(testPassword); got.status != http.StatusTooManyRequests {
		t.Fatalf("the owner while paused: %d, want 429", got.status)
	}
	if err := e.ops.UnlockPerson(context.Background(), operator, person.ID); err != nil {
		t.Fatal(err)
	}
	if got := login(testPassword); got.status != http.StatusOK || got.url.Path != "/account" {
		t.Fatalf("the owner after unlock: %d %s", got.status, got.url)
	}
	if ev := e.lastAudit(t, person.ID, "person.unlock"); ev.Actor != operator.ID {
		t.Errorf("audit entry %+v", ev)
	}
}

func testAdminResetLink(t *testing.T, e *peopleEnv) {
	person, num := e.person("重置", "")
	old := e.uaBrowser(uaAndroid)
	old.account(num, testPassword)
	link, _, err := e.ops.IssuePasswordReset(context.Background(), operator, person.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, e.issuer+"/account/reset?token=") {
		t.Fatalf("link %q", link)
	}
	b := e.uaBrowser(uaIPhone)

	// A token with one character changed is refused.
	u, _ := url.Parse(link)
	tok := u.Query().Get("token")
	bad := []byte(tok)
	bad[10] = map[bool]byte{true: 'A', false: 'B'}[bad[10] != 'A']
	if p := b.get(e.issuer + "/account/reset?token=" + string(bad)); p.status != http.StatusGone || strings.Contains(p.body, `name="new"`) {
		t.Errorf("tampered token: %d", p.status)
	}

	p := b.get(link)
	if p.status != http.StatusOK || !strings.Contains(p.body, "设置新密码") || p.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("reset page: %d %v\n%.1500s", p.status, p.header, p.body)
	}
	// A weak password is refused and does not use the link up.
	if got := b.submit(p, "/account/reset", "new", "password1234", "new2", "password1234"); got.status != http.StatusBadRequest {
		t.Fatalf("weak password: %d", got.status)
	}
	// Without the CSRF token nothing happens.
	action, vals := formWith(t, p, "/account/reset")
	vals.Del("csrf")
	vals.Set("new", selfNewPassword)
	vals.Set("new2", selfNewPassword)
	if got := b.post(action, vals); got.status != http.StatusForbidden {
		t.Fatalf("without CSRF: %d", got.status)
	}
	got := b.submit(p, "/account/reset", "new", selfNewPassword, "new2", selfNewPassword)
	if got.status != http.StatusOK || !strings.Contains(got.body, "新密码已设置") {
		t.Fatalf("reset: %d\n%.1500s", got.status, got.body)
	}
	// Once only.
	if again := b.submit(p, "/account/reset", "new", selfNewPassword+"2", "new2", selfNewPassword+"2"); again.status != http.StatusGone {
		t.Errorf("second use: %d, want 410", again.status)
	}
	if again := b.get(link); again.status != http.StatusGone {
		t.Errorf("link after use: %d, want 410", again.status)
	}
	// The old browser's session ended; the new password works, the old does not.
	if p := old.get(e.issuer + "/account"); !p.isLogin() {
		t.Error("the old session survived the reset")
	}
	e.uaBrowser(uaAndroid).account(num, selfNewPassword)
	if ev := e.lastAudit(t, person.ID, "person.reset_link"); ev.Actor != operator.ID || strings.Contains(ev.Detail, tok) {
		t.Errorf("audit entry %+v", ev)
	}
	if ev := e.lastAudit(t, person.ID, "password.reset"); ev.Actor != person.ID {
		t.Errorf("audit entry %+v", ev)
	}
}

// fileCorrection submits the corrections form of the account page p.
func fileCorrection(b *uaBrowser, p page, field, value, reason string) page {
	b.t.Helper()
	return b.submit(p, "/account/corrections", "field", field, "value", value, "reason", reason)
}

func testCorrectionApplied(t *testing.T, e *peopleEnv) {
	person, num := e.person("孔纠", "13700137001")
	b := e.uaBrowser(uaAndroid)
	p := b.account(num, testPassword)
	if !strings.Contains(p.body, "信息纠错") || !strings.Contains(p.body, "您还没有提交过纠错申请") {
		t.Fatalf("account page without the corrections section:\n%.3000s", p.body)
	}
	for _, tc := range []struct {
		name, field, value, reason string
		status                     int
		want                       string
	}{
		{"fail/no reason", "name", "孔正", "", http.StatusBadRequest, "请填写说明"},
		{"fail/same name", "name", "孔纠", "r", http.StatusBadRequest, "与现登记的相同"},
		{"fail/bad phone", "phone", "12345", "r", http.StatusBadRequest, "11 位手机号码"},
		{"fail/unknown field", "id_number", "x", "r", http.StatusBadRequest, "无法更正该项信息"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := fileCorrection(b, p, tc.field, tc.value, tc.reason)
			if got.status != tc.status || !strings.Contains(got.body, tc.want) {
				t.Fatalf("status %d, want %d with %q:\n%.2000s", got.status, tc.status, tc.want, got.body)
			}
			// The message is at the form (in the section), and what was typed stays.
			section := got.body[strings.Index(got.body, `id="corrections"`):]
			if !strings.Contains(section, tc.want) || (tc.value != "" && !strings.Contains(section, `value="`+tc.value+`"`)) {
				t.Errorf("the refused form lost its message or its input:\n%.3000s", section)
			}
		})
	}
	t.Run("fail/CSRF missing", func(t *testing.T) {
		action, vals := formWith(t, p, "/account/corrections")
		vals.Del("csrf")
		vals.Set("field", "name")
		vals.Set("value", "孔正")
		vals.Set("reason", "r")
		if got := b.post(action, vals); got.status != http.StatusForbidden {
			t.Fatalf("without CSRF: %d", got.status)
		}
	})
	if n, _ := e.store.CountPendingCorrections(context.Background(), person.ID); n != 0 {
		t.Fatalf("refused forms filed %d corrections", n)
	}

	got := fileCorrection(b, p, "name", "孔正", "户口簿已更正")
	if got.status != http.StatusOK || got.url.Query().Get("done") != "corrFiled" || !strings.Contains(got.body, "纠错申请已提交") ||
		!strings.Contains(got.body, `data-status="pending"`) || !strings.Contains(got.body, "孔正") || !strings.Contains(got.body, "*纠") {
		t.Fatalf("after filing: %d %s\n%.3000s", got.status, got.url, got.body)
	}
	en := b.get(e.issuer + "/account?ui_locales=en")
	if !strings.Contains(en.body, "Correct my records") || !strings.Contains(en.body, "Pending") {
		t.Errorf("English page:\n%.3000s", en.body)
	}

	// The operator lists and applies it (as `idp corrections apply` does).
	list, err := e.ops.ListCorrections(context.Background(), storage.CorrectionQuery{Status: storage.CorrectionPending, PersonID: person.ID})
	if err != nil || len(list) != 1 {
		t.Fatalf("pending: %v %v", list, err)
	}
	if err := e.ops.ApplyCorrection(context.Background(), audit.Shell, list[0].ID, "已核户口簿"); err != nil {
		t.Fatal(err)
	}
	got = b.get(e.issuer + "/account")
	if !strings.Contains(got.body, `data-status="applied"`) || !strings.Contains(got.body, "已更正") || !strings.Contains(got.body, "已核户口簿") ||
		!strings.Contains(got.body, "<strong>孔正</strong>") {
		t.Errorf("after apply:\n%.3000s", got.body)
	}
	if p, _ := e.store.GetPerson(context.Background(), person.ID); p.Name != "孔正" {
		t.Errorf("name after apply %q", p.Name)
	}
	e.pii = append(e.pii, "孔正")
	if ev := e.lastAudit(t, person.ID, "correction.apply"); ev.Actor != audit.ShellOperator {
		t.Errorf("audit entry %+v", ev)
	}
	if ev := e.lastAudit(t, person.ID, "correction.file"); ev.Actor != person.ID || strings.Contains(ev.Detail, "孔正") {
		t.Errorf("audit entry %+v", ev)
	}

	// Filing needs a fresh login.
	e.clock.Advance(10 * time.Minute)
	p = b.get(e.issuer + "/account")
	if got := fileCorrection(b, p, "phone", "13700137002", "换号"); !got.isLoginForm() {
		t.Errorf("filing with an old login: %d, not the login page", got.status)
	}
}

func testCorrectionRejected(t *testing.T, e *peopleEnv) {
	person, num := e.person("孔驳", "")
	b := e.uaBrowser(uaIPhone)
	p := b.account(num, testPassword)
	if got := fileCorrection(b, p, "phone", "+86 137 0013 7003", "新号码"); got.status != http.StatusOK {
		t.Fatalf("file: %d", got.status)
	}
	e.pii = append(e.pii, "13700137003")
	list, err := e.ops.ListCorrections(context.Background(), storage.CorrectionQuery{PersonID: person.ID})
	if err != nil || len(list) != 1 {
		t.Fatal(list, err)
	}
	if err := e.ops.RejectCorrection(context.Background(), operator, list[0].ID, ""); err == nil {
		t.Fatal("reject without a reason succeeded")
	}
	if err := e.ops.RejectCorrection(context.Background(), operator, list[0].ID, "请携带实名登记证明到大厅办理"); err != nil {
		t.Fatal(err)
	}
	got := b.get(e.issuer + "/account")
	if !strings.Contains(got.body, `data-status="rejected"`) || !strings.Contains(got.body, "未予更正") || !strings.Contains(got.body, "请携带实名登记证明到大厅办理") {
		t.Errorf("after reject:\n%.3000s", got.body)
	}
	if p, _ := e.store.GetPerson(context.Background(), person.ID); p.PhoneIndex != nil {
		t.Error("a rejected correction set the phone")
	}
	if ev := e.lastAudit(t, person.ID, "correction.reject"); ev.Actor != operator.ID || !strings.Contains(ev.Detail, "role=operator") {
		t.Errorf("audit entry %+v", ev)
	}
}
