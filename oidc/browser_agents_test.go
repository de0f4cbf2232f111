package oidc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/internal/browsertest"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// TestAgentsBrowser, in headless Chromium at phone and desktop size, zh-CN: the representative
// authorises an agent in "我的企业" on the account page (the page fits the screen), and the
// agent, logging in to an app, chooses the company on the acting page and reaches the consent
// page that names it. Screenshots of both pages.
func TestAgentsBrowser(t *testing.T) {
	e := newEnv(t, storagetest.SQLite(t), envOptions{})
	ctx0 := context.Background()
	co, err := e.accounts.CreatePerson(ctx0, accounts.NewPerson{Kind: storage.LegalPerson, IDNumber: agentsCreditCode,
		Name: agentsCompany, Password: []byte(testPassword)})
	if err != nil {
		t.Fatal(err)
	}
	rep, repNum := e.person("王法人", "")
	if err := e.accounts.SetRepresentative(ctx0, audit.Shell, co.ID, rep.ID); err != nil {
		t.Fatal(err)
	}
	app := e.newRP(tboidc.NewClient{Name: "企业登记"})
	b := browsertest.Start(t)
	for _, v := range []browsertest.Viewport{browsertest.Phone, browsertest.Desktop} {
		size := map[int64]string{390: "phone", 1280: "desktop"}[v.Width]
		_, agentNum := e.person("李经办", "")
		ctx := b.Context(v, 60*time.Second)
		id := "#ag-id-" + co.ID
		err := chromedp.Do(ctx,
			chromedp.Navigate(e.issuer+"/account?ui_locales=zh-CN"),
			chromedp.WaitVisible(chromedp.CSS("#password")),
			chromedp.SendKeys(chromedp.CSS("#identifier"), repNum),
			chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
			chromedp.Submit(chromedp.CSS("#password")),
			chromedp.WaitVisible(chromedp.CSS("#companies")),
			chromedp.SendKeys(chromedp.CSS(id), agentNum),
			chromedp.SendKeys(chromedp.CSS("#ag-name-"+co.ID), "李经办"),
			chromedp.Submit(chromedp.CSS(id)),
			chromedp.WaitVisible(chromedp.CSS(".notice")),
		)
		if err != nil {
			t.Fatal(err)
		}
		notice, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".notice").textContent`))
		if err != nil || !strings.Contains(notice, "已授权经办人") {
			t.Fatalf("notice %q, %v", notice, err)
		}
		browsertest.CheckFits(t, ctx, v)
		b.Screenshot(ctx, "agents-account-"+size)

		// The agent, in another browser, logs in to the app and chooses the company.
		actx := b.Context(v, 60*time.Second)
		err = chromedp.Do(actx,
			chromedp.Navigate(app.authURL().url+"&ui_locales=zh-CN"),
			chromedp.WaitVisible(chromedp.CSS("#password")),
			chromedp.SendKeys(chromedp.CSS("#identifier"), agentNum),
			chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
			chromedp.Submit(chromedp.CSS("#password")),
			chromedp.WaitVisible(chromedp.CSS(`input[name="choice"][value="`+co.ID+`"]`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		browsertest.CheckFits(t, actx, v)
		b.Screenshot(actx, "agents-acting-"+size)
		err = chromedp.Do(actx,
			chromedp.Click(chromedp.CSS(`input[name="choice"][value="`+co.ID+`"]`)),
			chromedp.Submit(chromedp.CSS(`input[name="choice"]`)),
			chromedp.WaitVisible(chromedp.CSS(`button[name="decision"]`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		body, err := chromedp.Run(actx, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil || !strings.Contains(body, agentsCompany) || !strings.Contains(body, "代表企业登录") {
			t.Fatalf("consent page does not name the company: %q %v", body, err)
		}
		browsertest.CheckFits(t, actx, v)
		b.Screenshot(actx, "agents-consent-"+size)
	}
}
