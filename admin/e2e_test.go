package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/admin"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// The console and API end to end: a real provider (oidc.Server) over HTTPS with the console
// mounted at /admin, real logins with password and TOTP, a real store (SQLite file or
// PostgreSQL), the test backends of adapters_test.go.

func TestConsoleEndToEndSQLite(t *testing.T) {
	runConsoleSuite(t, func(t testing.TB) storage.Storage { return storagetest.SQLite(t) })
}

func TestConsoleEndToEndPostgres(t *testing.T) {
	runConsoleSuite(t, func(t testing.TB) storage.Storage { return storagetest.Postgres(t) })
}

func runConsoleSuite(t *testing.T, open func(testing.TB) storage.Storage) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, *env)
	}{
		{"fail/not-logged-in", testNotLoggedIn},
		{"fail/no-second-factor", testNoSecondFactor},
		{"fail/step-up", testStepUp},
		{"fail/no-role", testNoRole},
		{"ok/operator-disables-person", testOperatorDisables},
		{"ok/reviewer-approves-app", testReviewerApproves},
		{"fail/csrf", testCSRF},
		{"fail/department-admin-other-department", testDepartmentAdmin},
		{"fail/stale-login", testStaleLogin},
		{"ok/api-read", testAPIRead},
		{"ok/shown-once", testShownOnce},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, newEnv(t, open(t))) })
	}
}

func testNotLoggedIn(t *testing.T, e *env) {
	b := e.browser()
	p := b.get("/admin/apps?status=pending_review")
	if p.status != http.StatusOK || !strings.Contains(p.body, `name="password"`) || !strings.HasSuffix(p.url.Path, "/login") {
		t.Fatalf("page without a session: %d %s, want the login page", p.status, p.url)
	}
	if !strings.Contains(p.body, `name="otp"`) {
		t.Errorf("the login page for the console does not ask for the second factor")
	}
	api := b.get("/admin/api/v1/me")
	if api.status != http.StatusUnauthorized || !strings.Contains(api.body, `"error":"login_required"`) {
		t.Errorf("API without a session: %d %s", api.status, api.body)
	}
	if p.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", p.header.Get("Cache-Control"))
	}
	if csp := api.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
}

func testNoSecondFactor(t *testing.T, e *env) {
	op := e.newPerson("王运维", true, storage.RoleOperator)
	b := e.browser()
	p := b.adminLogin(op)
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "/account") || !strings.Contains(p.body, "第二因素") {
		t.Fatalf("operator without a second factor: %d %s\n%s", p.status, p.url, p.body)
	}
	es := e.auditEntries("admin.denied")
	if len(es) != 1 || es[0].Actor != op.id || !strings.Contains(es[0].Detail, "reason=no_second_factor") {
		t.Errorf("audit %+v", es)
	}
}

func testStepUp(t *testing.T, e *env) {
	op := e.newPerson("李运维", false, storage.RoleOperator)
	b := e.browser()
	// A password-only login at the account page (which asks no second factor)...
	p := b.get("/account")
	p = b.login(p, op, false)
	if p.status != http.StatusOK || !strings.HasSuffix(p.url.Path, "/account") {
		t.Fatalf("account login: %d %s", p.status, p.url)
	}
	// ...is stepped up for the console: the login page asks for the code.
	p = b.get("/admin/")
	if !strings.Contains(p.body, `name="otp"`) {
		t.Fatalf("console after a password-only login: %d %s, want the login page with the code", p.status, p.url)
	}
	if api := b.get("/admin/api/v1/me"); api.status != http.StatusUnauthorized || !strings.Contains(api.body, "mfa_required") {
		t.Errorf("API after a password-only login: %d %s", api.status, api.body)
	}
	p = b.login(p, op, true)
	if p.status != http.StatusOK || p.url.Path != "/admin/" || !strings.Contains(p.body, `id="pending-apps"`) {
		t.Fatalf("after the step-up: %d %s\n%s", p.status, p.url, p.body)
	}
}

func testNoRole(t *testing.T, e *env) {
	nobody := e.newPerson("赵市民", false)
	b := e.browser()
	p := b.adminLogin(nobody)
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "没有管理控制台的角色") {
		t.Fatalf("no role: %d %s", p.status, p.url)
	}
	if es := e.auditEntries("admin.denied"); len(es) != 1 || es[0].Actor != nobody.id || !strings.Contains(es[0].Detail, "reason=no_role") ||
		!strings.Contains(es[0].Detail, "attempt=console.overview") || !strings.Contains(es[0].Detail, "from=127.0.0.1") {
		t.Errorf("audit %+v", es)
	}
}

func testOperatorDisables(t *testing.T, e *env) {
	op := e.newPerson("王运维", false, storage.RoleOperator)
	citizen := e.newPerson("张三丰", true)
	b := e.browser()
	p := b.adminLogin(op)
	if p.status != http.StatusOK {
		t.Fatalf("console: %d %s", p.status, p.url)
	}
	p = b.get("/admin/people")
	search, sv := p.form(t, "/admin/people")
	sv.Set("q", citizen.number)
	p = b.post(search, sv)
	if !strings.Contains(p.body, "/admin/people/"+citizen.id) {
		t.Fatalf("search: %d\n%s", p.status, p.body)
	}
	if strings.Contains(p.body, citizen.number) && !strings.Contains(p.body, `value="`+citizen.number+`"`) {
		t.Errorf("the full ID number appears in the results")
	}
	p = b.get("/admin/people/" + citizen.id)
	if strings.Contains(p.body, citizen.number) || strings.Contains(p.body, "张三丰") {
		t.Errorf("the person page shows the full ID number or name")
	}
	p = b.get("/admin/people/" + citizen.id + "/confirm?action=disable")
	action, vals := p.form(t, "/disable")
	vals.Set("reason", "冒用身份，依申请停用")
	p = b.post(action, vals)
	if p.status != http.StatusOK || !strings.Contains(p.body, "已停用该账户") || p.url.Path != "/admin/people/"+citizen.id {
		t.Fatalf("disable: %d %s\n%s", p.status, p.url, p.body)
	}
	sp, err := e.store.GetPerson(context.Background(), citizen.id)
	if err != nil || !sp.Disabled {
		t.Fatalf("person after disable: %+v %v", sp.Disabled, err)
	}
	es := e.auditEntries("person.disable")
	if len(es) != 1 || es[0].Actor != op.id || es[0].Subject != citizen.id || !strings.Contains(es[0].Detail, "role=operator") || !strings.Contains(es[0].Detail, "from=127.0.0.1") {
		t.Errorf("audit %+v", es)
	}
	// The audit log page shows it to the operator (who may read it).
	p = b.get("/admin/audit?action=person.")
	if !strings.Contains(p.body, "person.disable") || !strings.Contains(p.body, "role=operator") {
		t.Errorf("audit page:\n%s", p.body)
	}
	// Disabling again is a conflict and changes nothing.
	p = b.post(action, vals)
	if p.status != http.StatusConflict {
		t.Errorf("second disable: %d", p.status)
	}
}

func testReviewerApproves(t *testing.T, e *env) {
	e.apps.add(admin.App{ID: "app-shebao-1", Name: "社保查询", Status: admin.StatusPendingReview, Department: "shebao",
		RedirectURIs: []string{"https://shebao.example/cb"}, Scopes: []string{"openid"}, CreatedAt: t0})
	rev := e.newPerson("钱审核", false, storage.RoleReviewer)
	b := e.browser()
	b.adminLogin(rev)
	p := b.get("/admin/apps/app-shebao-1")
	action, vals := p.form(t, "/approve")
	p = b.post(action, vals)
	if p.status != http.StatusOK || !strings.Contains(p.body, "已批准") {
		t.Fatalf("approve: %d %s\n%s", p.status, p.url, p.body)
	}
	if a, _ := e.apps.GetApp(context.Background(), "app-shebao-1"); a.Status != admin.StatusPublished {
		t.Errorf("status %s", a.Status)
	}
	es := e.auditEntries("client.approve")
	if len(es) != 1 || es[0].Actor != rev.id || es[0].ClientID != "app-shebao-1" || !strings.Contains(es[0].Detail, "role=reviewer") {
		t.Errorf("audit %+v", es)
	}
	// A reviewer does not manage people.
	if p := b.get("/admin/people"); p.status != http.StatusForbidden {
		t.Errorf("reviewer at /people: %d", p.status)
	}
}

func testCSRF(t *testing.T, e *env) {
	op := e.newPerson("孙运维", false, storage.RoleOperator)
	citizen := e.newPerson("周市民", true)
	b := e.browser()
	b.adminLogin(op)
	p := b.get("/admin/people/" + citizen.id + "/confirm?action=disable")
	action, vals := p.form(t, "/disable")
	vals.Set("reason", "test")
	good := vals.Get("csrf")
	tampered := []byte(good)
	tampered[5] ^= 1
	for _, tc := range []struct {
		name    string
		csrf    string
		headers []string
	}{
		{"missing", "", nil},
		{"wrong", string(tampered), nil},
		{"other-session", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", nil},
		{"cross-site-fetch", good, []string{"Sec-Fetch-Site", "cross-site"}},
		{"other-origin", good, []string{"Origin", "https://evil.example"}},
	} {
		v := url.Values{"reason": {"test"}}
		if tc.csrf != "" {
			v.Set("csrf", tc.csrf)
		}
		p := b.post(action, v, tc.headers...)
		if p.status != http.StatusForbidden {
			t.Errorf("%s: %d", tc.name, p.status)
		}
	}
	if api := b.postJSON("/admin/api/v1/people/"+citizen.id+"/disable", `{"reason":"x"}`, ""); api.status != http.StatusForbidden || !strings.Contains(api.body, "csrf_invalid") {
		t.Errorf("API without a token: %d %s", api.status, api.body)
	}
	if sp, _ := e.store.GetPerson(context.Background(), citizen.id); sp.Disabled {
		t.Fatal("a forged request disabled the person")
	}
	if es := e.auditEntries("person.disable"); len(es) != 0 {
		t.Errorf("audit of a forged request: %+v", es)
	}
	if es := e.auditEntries("admin.denied"); len(es) != 6 {
		t.Errorf("%d admin.denied entries, want 6", len(es))
	}
	// The session's token in the header works for the API.
	api := b.postJSON("/admin/api/v1/people/"+citizen.id+"/disable", `{"reason":"依申请停用"}`, good)
	if api.status != http.StatusOK || !strings.Contains(api.body, `"disabled":true`) {
		t.Errorf("API with the token: %d %s", api.status, api.body)
	}
	// Another session's token is refused: log in again in a second browser.
	b2 := e.browser()
	b2.adminLogin(op)
	p2 := b2.get("/admin/people/" + citizen.id + "/confirm?action=enable")
	_, vals2 := p2.form(t, "/enable")
	if vals2.Get("csrf") == good {
		t.Fatal("two sessions have the same CSRF token")
	}
	if p := b.post("/admin/people/"+citizen.id+"/enable", url.Values{"csrf": {vals2.Get("csrf")}}); p.status != http.StatusForbidden {
		t.Errorf("another session's token: %d", p.status)
	}
}

func testDepartmentAdmin(t *testing.T, e *env) {
	e.apps.add(admin.App{ID: "app-gongan", Name: "户政", Status: admin.StatusPendingReview, Department: "gongan", CreatedAt: t0})
	e.apps.add(admin.App{ID: "app-shebao", Name: "社保", Status: admin.StatusPublished, Department: "shebao", CreatedAt: t0})
	da := e.newPerson("吴部门", false, storage.RoleDepartmentAdmin+"@gongan")
	b := e.browser()
	b.adminLogin(da)
	me := b.get("/admin/api/v1/me")
	var m struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal([]byte(me.body), &m); err != nil || m.CSRF == "" {
		t.Fatalf("me: %s %v", me.body, err)
	}
	for _, tc := range []struct {
		name, method, path string
		want               int
	}{
		{"ok/own app", "GET", "/admin/api/v1/apps/app-gongan", http.StatusOK},
		{"ok/own list", "GET", "/admin/api/v1/apps", http.StatusOK},
		{"ok/own figures", "GET", "/admin/api/v1/apps/app-gongan/stats", http.StatusOK},
		{"ok/own secret", "POST", "/admin/api/v1/apps/app-gongan/rotate-secret", http.StatusOK},
		{"fail/never approves", "POST", "/admin/api/v1/apps/app-gongan/approve", http.StatusForbidden},
		{"fail/other app", "GET", "/admin/api/v1/apps/app-shebao", http.StatusForbidden},
		{"fail/other app page", "GET", "/admin/apps/app-shebao", http.StatusForbidden},
		{"fail/other secret", "POST", "/admin/api/v1/apps/app-shebao/rotate-secret", http.StatusForbidden},
		{"fail/other suspend", "POST", "/admin/api/v1/apps/app-shebao/suspend", http.StatusForbidden},
		{"fail/other list", "GET", "/admin/api/v1/apps?department=shebao", http.StatusForbidden},
		{"fail/missing app", "GET", "/admin/api/v1/apps/nope", http.StatusForbidden},
		{"fail/people", "GET", "/admin/api/v1/people?q=x", http.StatusForbidden},
		{"fail/audit", "GET", "/admin/api/v1/audit", http.StatusForbidden},
	} {
		var p page
		if tc.method == "GET" {
			p = b.get(tc.path)
		} else {
			p = b.postJSON(tc.path, `{"reason":"x"}`, m.CSRF)
		}
		if p.status != tc.want {
			t.Errorf("%s: %s %s = %d %s, want %d", tc.name, tc.method, tc.path, p.status, p.body, tc.want)
		}
		if tc.want == http.StatusForbidden && tc.method == "GET" && strings.Contains(tc.path, "/api/") && !strings.Contains(p.body, `"error":"forbidden"`) {
			t.Errorf("%s: body %s", tc.name, p.body)
		}
	}
	var found bool
	for _, ev := range e.auditEntries("admin.denied") {
		if ev.Actor == da.id && ev.ClientID == "app-shebao" && ev.Subject == "app-shebao" && strings.Contains(ev.Detail, "role=department-admin") &&
			strings.Contains(ev.Detail, "attempt=apps.read") && strings.Contains(ev.Detail, "from=127.0.0.1") {
			found = true
		}
	}
	if !found {
		t.Errorf("no admin.denied entry for reading app-shebao: %+v", e.auditEntries("admin.denied"))
	}
	if n := len(e.auditEntries("admin.denied")); n != 9 {
		t.Errorf("%d admin.denied entries, want 9", n)
	}
	if a, _ := e.apps.GetApp(context.Background(), "app-shebao"); a.Status != admin.StatusPublished {
		t.Errorf("other department's app changed: %s", a.Status)
	}
	// The list is the department's only.
	if p := b.get("/admin/apps"); !strings.Contains(p.body, "app-gongan") || strings.Contains(p.body, "app-shebao") {
		t.Errorf("department list:\n%s", p.body)
	}
}

func testStaleLogin(t *testing.T, e *env) {
	e.apps.add(admin.App{ID: "app-1", Name: "甲", Status: admin.StatusPublished, CreatedAt: t0})
	op := e.newPerson("郑运维", false, storage.RoleOperator)
	b := e.browser()
	b.adminLogin(op)
	p := b.get("/admin/apps/app-1")
	action, vals := p.form(t, "/suspend")
	vals.Set("reason", "安全检查")
	e.clock.Advance(10 * time.Minute) // past FreshLogin (5 minutes)
	if p := b.get("/admin/apps/app-1"); p.status != http.StatusOK {
		t.Errorf("read with an older login: %d", p.status)
	}
	if api := b.postJSON("/admin/api/v1/apps/app-1/suspend", `{"reason":"x"}`, vals.Get("csrf")); api.status != http.StatusUnauthorized || !strings.Contains(api.body, "fresh_login_required") {
		t.Errorf("API change with an older login: %d %s", api.status, api.body)
	}
	p = b.post(action, vals)
	if !strings.Contains(p.body, `name="otp"`) {
		t.Fatalf("console change with an older login: %d %s, want the login page", p.status, p.url)
	}
	if a, _ := e.apps.GetApp(context.Background(), "app-1"); a.Status != admin.StatusPublished {
		t.Errorf("changed without a fresh login: %s", a.Status)
	}
	p = b.login(p, op, true)
	if p.url.Path != "/admin/apps/app-1" {
		t.Errorf("after the fresh login: %s", p.url)
	}
}

func testAPIRead(t *testing.T, e *env) {
	for i := 0; i < 5; i++ {
		e.apps.add(admin.App{ID: "app-" + string(rune('a'+i)), Name: "应用", Status: admin.StatusPublished, Department: "shebao", CreatedAt: t0})
	}
	aud := e.newPerson("冯审计", false, storage.RoleAuditor)
	op := e.newPerson("陈运维", false, storage.RoleOperator)
	b := e.browser()
	b.adminLogin(op)
	var page admin.AppPage
	p := b.get("/admin/api/v1/apps?limit=2")
	if err := json.Unmarshal([]byte(p.body), &page); err != nil || len(page.Apps) != 2 || page.Next == "" {
		t.Fatalf("first page: %s %v", p.body, err)
	}
	p = b.get("/admin/api/v1/apps?limit=2&after=" + url.QueryEscape(page.Next))
	if err := json.Unmarshal([]byte(p.body), &page); err != nil || len(page.Apps) != 2 || page.Apps[0].ID != "app-c" {
		t.Fatalf("second page: %s %v", p.body, err)
	}
	for _, tc := range []struct{ path, code string }{
		{"/admin/api/v1/apps?limit=0", "invalid_request"},
		{"/admin/api/v1/apps?status=bogus", "invalid_request"},
		{"/admin/api/v1/apps/none", "not_found"},
		{"/admin/api/v1/audit?since=yesterday", "invalid_request"},
		{"/admin/api/v1/corrections", "not_available"},
		{"/admin/api/v1/nothing", "not_found"},
	} {
		if p := b.get(tc.path); !strings.Contains(p.body, `"error":"`+tc.code+`"`) {
			t.Errorf("%s: %d %s, want %s", tc.path, p.status, p.body, tc.code)
		}
	}
	b2 := e.browser()
	b2.adminLogin(aud)
	p = b2.get("/admin/api/v1/audit?action=admin.role.&limit=1")
	var au struct {
		Entries []admin.AuditEntry `json:"entries"`
		Next    string             `json:"next"`
	}
	if err := json.Unmarshal([]byte(p.body), &au); err != nil || len(au.Entries) != 1 || au.Entries[0].Action != "admin.role.grant" || au.Next == "" {
		t.Fatalf("audit: %s %v", p.body, err)
	}
	if p := b2.get("/admin/api/v1/apps"); p.status != http.StatusForbidden {
		t.Errorf("auditor reads apps: %d", p.status)
	}
}

func testShownOnce(t *testing.T, e *env) {
	e.apps.add(admin.App{ID: "app-conf", Name: "乙", Status: admin.StatusPublished, Department: "shebao", CreatedAt: t0})
	op := e.newPerson("褚运维", false, storage.RoleOperator)
	citizen := e.newPerson("卫市民", true)
	b := e.browser()
	b.adminLogin(op)
	p := b.get("/admin/apps/app-conf")
	action, vals := p.form(t, "/rotate-secret")
	p = b.post(action, vals)
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="once-value">new-secret-app-conf<`) || p.header.Get("Cache-Control") != "no-store" {
		t.Errorf("rotate: %d %s", p.status, p.body)
	}
	p = b.get("/admin/initial-access-tokens")
	action, vals = p.form(t, "/initial-access-tokens")
	vals.Set("department", "shebao")
	vals.Set("ttl_hours", "48")
	p = b.post(action, vals)
	if p.status != http.StatusOK || !strings.Contains(p.body, "iat-shebao") {
		t.Errorf("issue: %d %s", p.status, p.body)
	}
	vals.Set("department", "Not A Code")
	if p := b.post(action, vals); p.status != http.StatusBadRequest {
		t.Errorf("issue for a bad department: %d", p.status)
	}
	p = b.get("/admin/people/" + citizen.id + "/confirm?action=reset-link")
	action, vals = p.form(t, "/reset-link")
	p = b.post(action, vals)
	if p.status != http.StatusOK || !strings.Contains(p.body, "recover?t=test-"+citizen.id) {
		t.Errorf("reset link: %d %s", p.status, p.body)
	}
	for _, a := range []string{"client.secret.rotate", "iat.issue", "person.reset_link"} {
		if es := e.auditEntries(a); len(es) != 1 || es[0].Actor != op.id || !strings.Contains(es[0].Detail, "role=operator") {
			t.Errorf("%s audit %+v", a, es)
		}
	}
	// A reason that is too long or holds a bidirectional override is refused and changes nothing.
	p = b.get("/admin/apps/app-conf")
	action, vals = p.form(t, "/suspend")
	vals.Set("reason", "ok\u202e")
	if p := b.post(action, vals); p.status != http.StatusBadRequest {
		t.Errorf("suspend with a bad reason: %d", p.status)
	}
	if a, _ := e.apps.GetApp(context.Background(), "app-conf"); a.Status != admin.StatusPublished {
		t.Errorf("suspended with a bad reason")
	}
}
