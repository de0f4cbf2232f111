package admin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tongban/tongban/internal/browsertest"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// TestConsoleRegisterAppBrowser: a department administrator registers an app in headless
// Chromium at 1280×800 and 390×844 — a bad redirect URI first (the form comes back with the
// problem and everything typed), then a good one (the secret once) — and opens the change
// form of the app. Every page must fit its viewport. Screenshots go to $TONGBAN_SCREENSHOTS.
func TestConsoleRegisterAppBrowser(t *testing.T) {
	e := newEnv(t, storagetest.SQLite(t))
	b := browsertest.Start(t)
	for _, v := range []browsertest.Viewport{browsertest.Desktop, browsertest.Phone} {
		name := map[int64]string{390: "phone", 1280: "desktop"}[v.Width]
		t.Run(name, func(t *testing.T) {
			da := e.newPerson("吴部门", false, storage.RoleDepartmentAdmin+"@gongan")
			ctx := b.Context(v, 60*time.Second)
			login(t, e, ctx, da, "/admin/register")
			if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#submit-app"))); err != nil {
				t.Fatalf("register form: %v", err)
			}
			b.Screenshot(ctx, "register-"+name)
			browsertest.CheckFits(t, ctx, v)
			id := "gongan-hj-" + name
			if err := chromedp.Do(ctx,
				chromedp.SendKeys(chromedp.CSS("input[name=id]"), id),
				chromedp.SendKeys(chromedp.CSS("input[name=name]"), "户籍证明在线开具"),
				chromedp.SendKeys(chromedp.CSS("input[name=logo_uri]"), "https://hj.gongan.example.gov.cn/logo.png"),
			); err != nil {
				t.Fatal(err)
			}
			// No redirect URI: the test backend refuses it (as the provider does).
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#submit-app")), chromedp.WaitVisible(chromedp.CSS("#problem"))); err != nil {
				t.Fatalf("bad input: %v", err)
			}
			b.Screenshot(ctx, "register-problem-"+name)
			browsertest.CheckFits(t, ctx, v)
			if kept, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("input[name=id]").value`)); err != nil || kept != id {
				t.Errorf("the form lost the ID: %q %v", kept, err)
			}
			if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("textarea[name=redirect_uris]"), "https://hj.gongan.example.gov.cn/callback"),
				chromedp.Click(chromedp.CSS("#submit-app")), chromedp.WaitVisible(chromedp.CSS("#once-value"))); err != nil {
				t.Fatalf("register: %v", err)
			}
			b.Screenshot(ctx, "register-secret-"+name)
			browsertest.CheckFits(t, ctx, v)
			a, err := e.apps.GetApp(context.Background(), id)
			if err != nil || a.Status != "pending_review" || a.Department != "gongan" {
				t.Fatalf("registered: %+v %v", a, err)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(e.issuer+"/admin/apps/"+id+"/change"), chromedp.WaitVisible(chromedp.CSS("#submit-app"))); err != nil {
				t.Fatalf("change form: %v", err)
			}
			b.Screenshot(ctx, "change-"+name)
			browsertest.CheckFits(t, ctx, v)
			text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
			if err != nil || !strings.Contains(text, "修改立即生效") {
				t.Errorf("change form of a pending app: %v\n%s", err, text)
			}
		})
	}
}
