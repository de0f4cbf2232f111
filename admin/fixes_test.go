package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tongban/tongban/admin"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// The fixes of the fresh-user trial of the console (issue 9's second round), end to end on the
// same harness as e2e_test.go.

func TestConsoleTrialFixesSQLite(t *testing.T) {
	runTrialFixes(t, func(t testing.TB) storage.Storage { return storagetest.SQLite(t) })
}

func TestConsoleTrialFixesPostgres(t *testing.T) {
	runTrialFixes(t, func(t testing.TB) storage.Storage { return storagetest.Postgres(t) })
}

func runTrialFixes(t *testing.T, open func(testing.TB) storage.Storage) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, *env)
	}{
		{"fail/json-types", testJSONTypes},
		{"fail/permission-before-body", testPermissionBeforeBody},
		{"fail/cursor-and-query-limits", testCursorAndQuery},
		{"fail/form-shown-again", testFormShownAgain},
		{"ok/reason-on-two-lines", testReasonLines},
		{"ok/app-actions-by-state", testAppActionsByState},
		{"fail/not-found-pages", testNotFoundPages},
		{"fail/iat-limits", testIATLimits},
		{"fail/disable-twice", testDisableTwice},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, newEnv(t, open(t))) })
	}
}

// csrfToken returns the session's CSRF token from GET /me.
func (b *browser) csrfToken() string {
	b.t.Helper()
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	if p := b.get("/admin/api/v1/me"); json.Unmarshal([]byte(p.body), &me) != nil || me.CSRF == "" {
		b.t.Fatalf("me: %d %s", p.status, p.body)
	}
	return me.CSRF
}

func testJSONTypes(t *testing.T, e *env) {
	e.apps.add(admin.App{ID: "app-json", Name: "甲", Status: admin.StatusPendingReview, Department: "shebao", CreatedAt: t0})
	op := e.newPerson("郑运维", false, storage.RoleOperator, storage.RoleReviewer)
	b := e.browser()
	b.adminLogin(op)
	tok := b.csrfToken()
	for _, tc := range []struct{ path, body, want string }{
		{"/admin/api/v1/apps/app-json/reject", `{"reason":123}`, "reason must be a string"},
		{"/admin/api/v1/apps/app-json/reject", `{"reason":true}`, "reason must be a string"},
		{"/admin/api/v1/apps/app-json/reject", `{"reason":0}`, "reason must be a string"},
		{"/admin/api/v1/apps/app-json/reject", `{"reason":null}`, "reason must be a string"},
		{"/admin/api/v1/apps/app-json/reject", `{"reason":["a"]}`, "reason must be a string"},
		{"/admin/api/v1/apps/app-json/reject", `["reason"]`, "the body must be a JSON object"},
		{"/admin/api/v1/apps/app-json/reject", `{"reason":"a"} {"reason":"b"}`, "the body must be one JSON object"},
		{"/admin/api/v1/apps/app-json/reject", ``, "the body must be a JSON object"},
		{"/admin/api/v1/initial-access-tokens", `{"department":"shebao","ttl_hours":"24"}`, "ttl_hours must be a whole number"},
		{"/admin/api/v1/initial-access-tokens", `{"department":"shebao","ttl_hours":2.5}`, "ttl_hours must be a whole number"},
		{"/admin/api/v1/initial-access-tokens", `{"department":7}`, "department must be a string"},
	} {
		p := b.postJSON(tc.path, tc.body, tok)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, `"error":"invalid_request"`) || !strings.Contains(p.body, tc.want) {
			t.Errorf("%s %s: %d %s, want 400 %q", tc.path, tc.body, p.status, p.body, tc.want)
		}
		for _, leak := range []string{"Go ", "struct", "map[", "unmarshal", "json:"} {
			if strings.Contains(p.body, leak) {
				t.Errorf("%s %s: %s names Go internals (%q)", tc.path, tc.body, p.body, leak)
			}
		}
	}
	if a, _ := e.apps.GetApp(context.Background(), "app-json"); a.Status != admin.StatusPendingReview {
		t.Errorf("the app changed on bad input: %s", a.Status)
	}
	if es := e.auditEntries("client.reject"); len(es) != 0 {
		t.Errorf("audited a refused input: %+v", es)
	}
	if p := b.postJSON("/admin/api/v1/initial-access-tokens", `{"department":"shebao","ttl_hours":24}`, tok); p.status != http.StatusOK {
		t.Errorf("ttl_hours as a number: %d %s", p.status, p.body)
	}
}

func testPermissionBeforeBody(t *testing.T, e *env) {
	e.apps.add(admin.App{ID: "app-perm", Name: "甲", Status: admin.StatusPendingReview, Department: "shebao", CreatedAt: t0})
	aud := e.newPerson("冯审计", false, storage.RoleAuditor)
	b := e.browser()
	b.adminLogin(aud)
	tok := b.csrfToken()
	for _, body := range []string{``, `{"reason":123}`, `not json`} {
		p := b.postJSON("/admin/api/v1/apps/app-perm/reject", body, tok)
		if p.status != http.StatusForbidden || !strings.Contains(p.body, `"error":"forbidden"`) {
			t.Errorf("auditor rejects with body %q: %d %s, want 403", body, p.status, p.body)
		}
	}
	es := e.auditEntries("admin.denied")
	if len(es) != 3 || !strings.Contains(es[0].Detail, "attempt=client.reject reason=role") || es[0].ClientID != "app-perm" {
		t.Errorf("denied entries: %+v", es)
	}
	// With the permission, a bad body without the CSRF token is refused as CSRF, not as input.
	op := e.newPerson("郑审核", false, storage.RoleReviewer)
	b2 := e.browser()
	b2.adminLogin(op)
	if p := b2.postJSON("/admin/api/v1/apps/app-perm/reject", `{"reason":1}`, ""); p.status != http.StatusForbidden || !strings.Contains(p.body, "csrf_invalid") {
		t.Errorf("bad body without CSRF token: %d %s", p.status, p.body)
	}
}

func testCursorAndQuery(t *testing.T, e *env) {
	op := e.newPerson("陈运维", false, storage.RoleOperator)
	b := e.browser()
	b.adminLogin(op)
	for _, tc := range []struct{ path, want string }{
		{"/admin/api/v1/apps?after=" + url.QueryEscape("no such/cursor!"), "after must be a cursor from next"},
		{"/admin/api/v1/apps?after=" + strings.Repeat("a", 129), "after must be a cursor from next"},
		{"/admin/api/v1/audit?after=x", "after must be a cursor from next"},
		{"/admin/api/v1/people?q=" + strings.Repeat("1", 100), "q must be at most 64 characters"},
		{"/admin/api/v1/people?q=", "q (an ID number"},
	} {
		if p := b.get(tc.path); p.status != http.StatusBadRequest || !strings.Contains(p.body, tc.want) {
			t.Errorf("%s: %d %s, want 400 %q", tc.path, p.status, p.body, tc.want)
		}
	}
	if p := b.get("/admin/api/v1/apps?after=app-a.b_c~d-1"); p.status != http.StatusOK {
		t.Errorf("a client ID cursor: %d %s", p.status, p.body)
	}
	if p := b.get("/admin/apps?after=" + url.QueryEscape("<x>")); p.status != http.StatusBadRequest || !strings.Contains(p.body, "after must be a cursor from next") {
		t.Errorf("console apps with a bad cursor: %d %s", p.status, p.body)
	}
	// The console's search says so too, without searching.
	p := b.get("/admin/people")
	action, vals := p.form(t, "/people")
	vals.Set("q", strings.Repeat("1", 100))
	if p := b.post(action, vals); p.status != http.StatusOK || !strings.Contains(p.body, "请输入有效的") {
		t.Errorf("console search with 100 digits: %d %s", p.status, p.body)
	}
}

func testFormShownAgain(t *testing.T, e *env) {
	e.apps.add(admin.App{ID: "app-form", Name: "甲", Status: admin.StatusPendingReview, Department: "shebao", CreatedAt: t0})
	rev := e.newPerson("钱审核", false, storage.RoleReviewer)
	b := e.browser()
	b.adminLogin(rev)
	p := b.get("/admin/apps/app-form")
	action, vals := p.form(t, "/reject")
	typed := strings.Repeat("材", admin.MaxReasonLen) + "料不全"
	vals.Set("reason", typed)
	p = b.post(action, vals)
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "reason must be 1 to 500 characters") ||
		!strings.Contains(p.body, `name="reason" required maxlength="500" rows="2">`+typed+`</textarea>`) || !strings.Contains(p.body, "驳回原因") {
		t.Fatalf("too long a reason: %d\n%s", p.status, p.body)
	}
	// The error sits in the reject block, not in another one.
	if i, j := strings.Index(p.body, `id="block-reject"`), strings.Index(p.body, "reason must be"); i < 0 || j < i {
		t.Errorf("the message is not in the reject block")
	}
	vals.Set("reason", "材料不全")
	if p := b.post(action, vals); p.status != http.StatusOK || !strings.Contains(p.body, "已驳回") {
		t.Fatalf("reject: %d %s", p.status, p.body)
	}
	// Rejecting again (a second tab): 409 on the app page, with what is wrong.
	p = b.post(action, vals)
	if p.status != http.StatusConflict || !strings.Contains(p.body, `id="alert"`) || !strings.Contains(p.body, "已驳回") {
		t.Errorf("reject twice: %d %s", p.status, p.body)
	}
	if es := e.auditEntries("client.reject"); len(es) != 1 {
		t.Errorf("client.reject entries: %d", len(es))
	}
	// A person action's confirm page keeps the typed reason too.
	op := e.newPerson("孙运维", false, storage.RoleOperator)
	citizen := e.newPerson("周市民", true)
	b2 := e.browser()
	b2.adminLogin(op)
	p = b2.get("/admin/people/" + citizen.id + "/confirm?action=disable")
	action, vals = p.form(t, "/disable")
	vals.Set("reason", "ok\u202e")
	p = b2.post(action, vals)
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "reason contains a control character") || !strings.Contains(p.body, ">ok\u202e</textarea>") {
		t.Errorf("disable with a bidi override: %d %s", p.status, p.body)
	}
}

func testReasonLines(t *testing.T, e *env) {
	e.apps.add(admin.App{ID: "app-lines", Name: "甲", Status: admin.StatusPublished, Department: "shebao", CreatedAt: t0})
	op := e.newPerson("孙运维", false, storage.RoleOperator)
	b := e.browser()
	b.adminLogin(op)
	p := b.get("/admin/apps/app-lines")
	action, vals := p.form(t, "/suspend")
	vals.Set("reason", "接到投诉\r\n\r\n暂停核查\t待复核")
	if p := b.post(action, vals); p.status != http.StatusOK || !strings.Contains(p.body, "已暂停该应用") {
		t.Fatalf("suspend with a reason on lines: %d %s", p.status, p.body)
	}
	if a, _ := e.apps.GetApp(context.Background(), "app-lines"); a.Status != admin.StatusSuspended || a.StatusReason != "接到投诉 暂停核查 待复核" {
		t.Errorf("app %s %q", a.Status, a.StatusReason)
	}
	// The API the same; the reason shows on the page and in status_reason.
	p = b.postJSON("/admin/api/v1/apps/app-lines/retire", `{"reason":"下线\n原因"}`, b.csrfToken())
	if p.status != http.StatusOK || !strings.Contains(p.body, `"status_reason":"下线 原因"`) {
		t.Errorf("retire: %d %s", p.status, p.body)
	}
	if p := b.get("/admin/apps/app-lines"); !strings.Contains(p.body, "下线 原因") {
		t.Errorf("the reason is not on the app page")
	}
}

func testAppActionsByState(t *testing.T, e *env) {
	for id, st := range map[string]string{"app-p": admin.StatusPendingReview, "app-pub": admin.StatusPublished,
		"app-sus": admin.StatusSuspended, "app-rej": admin.StatusRejected, "app-ret": admin.StatusRetired} {
		e.apps.add(admin.App{ID: id, Name: "甲", Status: st, Department: "shebao", CreatedAt: t0, AuthMethod: "client_secret_basic",
			StatusReason: map[bool]string{true: "材料不全"}[st == admin.StatusRejected]})
	}
	e.apps.add(admin.App{ID: "app-pub-public", Name: "乙", Status: admin.StatusPublished, Department: "shebao", CreatedAt: t0, AuthMethod: "none"})
	op := e.newPerson("孙运维", false, storage.RoleOperator, storage.RoleReviewer)
	b := e.browser()
	b.adminLogin(op)
	all := []string{"approve", "reject", "suspend", "resume", "retire", "rotate"}
	for _, tc := range []struct {
		id   string
		want []string
	}{
		{"app-p", []string{"approve", "reject"}},
		{"app-pub", []string{"suspend", "retire", "rotate"}},
		{"app-pub-public", []string{"suspend", "retire"}},
		{"app-sus", []string{"resume", "retire", "rotate"}},
		{"app-rej", []string{"retire"}},
		{"app-ret", nil},
	} {
		p := b.get("/admin/apps/" + tc.id)
		for _, a := range all {
			want := strings.Contains(strings.Join(tc.want, " "), a)
			if got := strings.Contains(p.body, `id="block-`+a+`"`); got != want {
				t.Errorf("%s: block %s shown %v, want %v", tc.id, a, got, want)
			}
		}
		if tc.want == nil && (strings.Contains(p.body, "将记入审计日志") || strings.Contains(p.body, "<h3>操作</h3>")) {
			t.Errorf("%s: an actions section or orphaned hint without actions", tc.id)
		}
		if strings.Count(p.body, `name="reason"`) != strings.Count(p.body, `<label for="reason-`) {
			t.Errorf("%s: a reason field without its own label", tc.id)
		}
	}
	p := b.get("/admin/apps/app-pub?ui_locales=en")
	for _, want := range []string{"Reason for suspending", "Reason for retiring", "I confirm the rotation"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("English app page lacks %q", want)
		}
	}
	if p := b.get("/admin/apps/app-rej"); !strings.Contains(p.body, "材料不全") {
		t.Errorf("the rejected app's reason is not shown")
	}
	// Rotation without ticking the confirm box changes nothing.
	p = b.get("/admin/apps/app-pub")
	action, vals := p.form(t, "/rotate-secret")
	vals.Del("confirm")
	if p := b.post(action, vals); p.status != http.StatusBadRequest || !strings.Contains(p.body, "confirm the rotation") {
		t.Errorf("rotate without confirming: %d %s", p.status, p.body)
	}
	if es := e.auditEntries("client.secret.rotate"); len(es) != 0 {
		t.Errorf("rotated without confirming")
	}
}

func testNotFoundPages(t *testing.T, e *env) {
	b := e.browser()
	for _, tc := range []struct{ path, want string }{
		{"/admin/nothing-here", "页面不存在"},
		{"/admin/apps/a/b/c", "页面不存在"},
		{"/admin/nothing-here?ui_locales=en", "Page not found"},
	} {
		p := b.get(tc.path)
		if p.status != http.StatusNotFound || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") ||
			!strings.Contains(p.body, tc.want) || !strings.Contains(p.body, "/admin/assets/admin.css") {
			t.Errorf("%s: %d %s %s", tc.path, p.status, p.header.Get("Content-Type"), p.body)
		}
	}
	p := b.get("/admin/api/v1/nothing-here")
	if p.status != http.StatusNotFound || !strings.Contains(p.body, `"error":"not_found"`) || !strings.HasPrefix(p.header.Get("Content-Type"), "application/json") {
		t.Errorf("API unknown path: %d %s", p.status, p.body)
	}
	// A route's path with a method it does not answer: 405 with Allow, not 404.
	for _, m := range []string{http.MethodDelete, http.MethodPatch} {
		req, _ := http.NewRequest(m, e.issuer+"/admin/api/v1/apps/some-app/approve", nil)
		if p := b.do(req); p.status != http.StatusMethodNotAllowed || p.header.Get("Allow") != "POST" || !strings.Contains(p.body, "method_not_allowed") {
			t.Errorf("%s on a POST route: %d %q %s", m, p.status, p.header.Get("Allow"), p.body)
		}
	}
}

func testIATLimits(t *testing.T, e *env) {
	op := e.newPerson("褚运维", false, storage.RoleOperator)
	b := e.browser()
	b.adminLogin(op)
	p := b.get("/admin/initial-access-tokens")
	if !strings.Contains(p.body, `value="24" min="1" max="720"`) {
		t.Errorf("IAT form: %s", p.body)
	}
	action, vals := p.form(t, "/initial-access-tokens")
	vals.Set("department", "shebao")
	vals.Set("ttl_hours", "721")
	p = b.post(action, vals)
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "ttl_hours must be a whole number from 1 to 720") || !strings.Contains(p.body, `value="721"`) {
		t.Errorf("721 hours: %d %s", p.status, p.body)
	}
	vals.Set("ttl_hours", "720")
	if p := b.post(action, vals); p.status != http.StatusOK {
		t.Errorf("720 hours: %d", p.status)
	}
}

func testDisableTwice(t *testing.T, e *env) {
	op := e.newPerson("孙运维", false, storage.RoleOperator)
	citizen := e.newPerson("周市民", true)
	b := e.browser()
	b.adminLogin(op)
	tok := b.csrfToken()
	path := "/admin/api/v1/people/" + citizen.id
	if p := b.postJSON(path+"/enable", `{}`, tok); p.status != http.StatusConflict {
		t.Errorf("enable an enabled person: %d %s", p.status, p.body)
	}
	if p := b.postJSON(path+"/disable", `{"reason":"本人申请"}`, tok); p.status != http.StatusOK {
		t.Fatalf("disable: %d %s", p.status, p.body)
	}
	if p := b.postJSON(path+"/disable", `{"reason":"本人申请"}`, tok); p.status != http.StatusConflict {
		t.Errorf("disable twice: %d %s", p.status, p.body)
	}
	if es := e.auditEntries("person.disable"); len(es) != 1 {
		t.Errorf("person.disable entries: %d", len(es))
	}
	if es := e.auditEntries("person.enable"); len(es) != 0 {
		t.Errorf("person.enable entries: %d", len(es))
	}
}
