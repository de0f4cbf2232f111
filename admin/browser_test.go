package admin_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tongban/tongban/admin"
	"github.com/tongban/tongban/internal/browsertest"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// TestConsoleBrowser drives the console in headless Chromium at 1280×800 and 390×844, in
// Chinese and English: an operator (who also reviews) logs in with password and TOTP, approves
// an app, disables a person through the confirm step, reads the audit log; a department
// administrator is refused another department's app and the refusal is in the log. Every page
// must fit its viewport (no horizontal scrolling). Screenshots go to $TONGBAN_SCREENSHOTS.
func TestConsoleBrowser(t *testing.T) {
	e := newEnv(t, storagetest.SQLite(t))
	b := browsertest.Start(t)
	op := e.newPerson("王运维", false, storage.RoleOperator, storage.RoleReviewer)
	da := e.newPerson("吴部门", false, storage.RoleDepartmentAdmin+"@gongan")
	e.apps.add(admin.App{ID: "app-shebao-main", Name: "社保卡服务", Status: admin.StatusPublished, Department: "shebao",
		RedirectURIs: []string{"https://shebao.example.gov.cn/oidc/callback"}, Scopes: []string{"openid", "profile"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, CreatedAt: t0})
	for _, v := range []browsertest.Viewport{browsertest.Desktop, browsertest.Phone} {
		for _, lang := range []string{"zh-CN", "en"} {
			size := map[int64]string{390: "phone", 1280: "desktop"}[v.Width]
			name := size + "-" + lang
			t.Run(name, func(t *testing.T) {
				appID := "app-gongan-" + name
				e.apps.add(admin.App{ID: appID, Name: "户籍证明在线开具", Status: admin.StatusPublished, Department: "gongan",
					RedirectURIs: []string{"https://hj.gongan.example.gov.cn/callback"}, Scopes: []string{"openid", "profile", "id_number"},
					GrantTypes: []string{"authorization_code"}, AuthMethod: "client_secret_basic", CreatedAt: t0,
					Pending: &admin.AppChange{Name: "户籍证明在线开具（新版）", RedirectURIs: []string{"https://hj.gongan.example.gov.cn/callback", "https://hj.gongan.example.gov.cn/v2/callback"},
						Scopes: []string{"openid", "profile", "id_number"}, GrantTypes: []string{"authorization_code"}, RequestedAt: t0.Add(time.Hour)}})
				citizen := e.newPerson("张三丰", true)
				ctx := b.Context(v, 90*time.Second)
				page := func(shot, url string, wait string) {
					t.Helper()
					if err := chromedp.Do(ctx, chromedp.Navigate(e.issuer+url), chromedp.WaitVisible(chromedp.CSS(wait))); err != nil {
						t.Fatalf("%s: %v", url, err)
					}
					b.Screenshot(ctx, shot+"-"+name)
					browsertest.CheckFits(t, ctx, v)
				}
				login(t, e, ctx, op, "/admin/?ui_locales="+lang)
				if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#pending-apps"))); err != nil {
					t.Fatalf("overview: %v", err)
				}
				b.Screenshot(ctx, "overview-"+name)
				browsertest.CheckFits(t, ctx, v)
				page("apps", "/admin/apps", "table.list")
				pendingID := "app-pending-" + name
				e.apps.add(admin.App{ID: pendingID, Name: "不动产登记查询", Status: admin.StatusPendingReview, Department: "ziranziyuan",
					RedirectURIs: []string{"https://bdc.example.gov.cn/callback"}, Scopes: []string{"openid"}, GrantTypes: []string{"authorization_code"}, CreatedAt: t0})
				page("app-pending", "/admin/apps/"+pendingID, "#block-reject")
				page("app-published", "/admin/apps/app-shebao-main", "#block-suspend")
				page("app", "/admin/apps/"+appID, "#approve")
				if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#approve")), chromedp.WaitVisible(chromedp.CSS(".notice"))); err != nil {
					t.Fatalf("approve: %v", err)
				}
				b.Screenshot(ctx, "app-approved-"+name)
				browsertest.CheckFits(t, ctx, v)
				if a, _ := e.apps.GetApp(context.Background(), appID); a.Pending != nil || a.Name != "户籍证明在线开具（新版）" {
					t.Errorf("after approve: %+v", a)
				}
				if err := chromedp.Do(ctx, chromedp.Navigate(e.issuer+"/admin/people"), chromedp.WaitVisible(chromedp.CSS("#q")),
					chromedp.SendKeys(chromedp.CSS("#q"), citizen.number), chromedp.Submit(chromedp.CSS("#q")),
					chromedp.WaitVisible(chromedp.CSS(".items"))); err != nil {
					t.Fatalf("people search: %v", err)
				}
				b.Screenshot(ctx, "people-"+name)
				browsertest.CheckFits(t, ctx, v)
				page("person", "/admin/people/"+citizen.id, "#disable")
				if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#disable")), chromedp.WaitVisible(chromedp.CSS("textarea[name=reason]")),
					chromedp.SendKeys(chromedp.CSS("textarea[name=reason]"), "本人申请停用")); err != nil {
					t.Fatalf("confirm step: %v", err)
				}
				b.Screenshot(ctx, "confirm-"+name)
				browsertest.CheckFits(t, ctx, v)
				if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#confirm")), chromedp.WaitVisible(chromedp.CSS(".notice"))); err != nil {
					t.Fatalf("disable: %v", err)
				}
				b.Screenshot(ctx, "person-disabled-"+name)
				if sp, _ := e.store.GetPerson(context.Background(), citizen.id); !sp.Disabled {
					t.Errorf("the person is not disabled")
				}
				page("audit", "/admin/audit", "table.audit")
				text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(text, "person.disable") || !strings.Contains(text, "role=operator") {
					t.Errorf("the audit page lacks the disable entry:\n%s", text)
				}

				// The department administrator, in a browser of their own.
				dctx := b.Context(v, 60*time.Second)
				login(t, e, dctx, da, "/admin/apps/app-shebao-main?ui_locales="+lang)
				if err := chromedp.Do(dctx, chromedp.WaitVisible(chromedp.CSS("p.error"))); err != nil {
					t.Fatalf("department admin: %v", err)
				}
				b.Screenshot(dctx, "denied-"+name)
				browsertest.CheckFits(t, dctx, v)
				found := false
				for _, ev := range e.auditEntries("admin.denied") {
					found = found || (ev.Actor == da.id && ev.ClientID == "app-shebao-main")
				}
				if !found {
					t.Errorf("no admin.denied entry for the department administrator")
				}
			})
		}
	}
}

// login logs who in through the login page the console sends ctx's browser to from path.
func login(t *testing.T, e *env, ctx context.Context, who person, path string) {
	t.Helper()
	code := e.code(who)
	e.clock.Advance(30 * time.Second)
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.issuer+path),
		chromedp.WaitVisible(chromedp.CSS("#otp")),
		chromedp.SendKeys(chromedp.CSS("#identifier"), who.number),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.SendKeys(chromedp.CSS("#otp"), code),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS("header.top")),
	)
	if err != nil {
		t.Fatal(fmt.Errorf("login at %s: %w", path, err))
	}
}
