package oidc_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/internal/browsertest"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// TestSelfServiceBrowser logs in to the account page in headless Chromium at phone and desktop
// sizes, with sessions on three devices and two apps allowed, checks that nothing overflows
// the phone's width and takes screenshots of the account, recovery and closing pages.
func TestSelfServiceBrowser(t *testing.T) {
	out := &lockedBuffer{}
	e := &selfEnv{env: newEnv(t, storagetest.SQLite(t), envOptions{mutate: func(c *tboidc.Config) {
		c.Notifier = &accounts.ConsoleNotifier{W: out}
		c.ClientIP = func(r *http.Request) string {
			if ip := r.Header.Get("X-Test-Client-IP"); ip != "" {
				return ip
			}
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			return host
		}
	}}), out: out}
	person, num := e.person("张小明", "13800138000")
	e.uaBrowserFrom(uaAndroid, "203.0.113.45").account(num, testPassword)
	e.uaBrowserFrom(uaIPhone, "2001:db8:1:2::7").account(num, testPassword)
	for _, name := range []string{"社会保险网上服务平台", "住房公积金管理中心"} {
		r := e.newRP(tboidc.NewClient{Name: name})
		if err := e.store.SaveConsent(context.Background(), storage.Consent{PersonID: person.ID, ClientID: r.client.ID,
			Scopes: []string{"openid", "profile", "phone", "offline_access"}, GrantedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}

	b := browsertest.Start(t)
	for _, v := range []browsertest.Viewport{browsertest.Phone, browsertest.Desktop} {
		ctx := b.Context(v, 60*time.Second)
		if err := chromedp.Do(ctx,
			chromedp.Navigate(e.issuer+"/account"),
			chromedp.WaitVisible(chromedp.CSS("#identifier")),
		); err != nil {
			t.Fatal(err)
		}
		b.Screenshot(ctx, fmt.Sprintf("login-%d", v.Width))
		if err := chromedp.Do(ctx,
			chromedp.SetValue(chromedp.CSS("#identifier"), num),
			chromedp.SetValue(chromedp.CSS("#password"), testPassword),
			chromedp.Submit(chromedp.CSS("#password")),
			chromedp.WaitVisible(chromedp.CSS("#sessions")),
		); err != nil {
			t.Fatal(err)
		}
		browsertest.CheckFits(t, ctx, v)
		b.Screenshot(ctx, fmt.Sprintf("account-%d", v.Width))
		if err := chromedp.Do(ctx,
			chromedp.Navigate(e.issuer+"/account?ui_locales=en"),
			chromedp.WaitVisible(chromedp.CSS("#sessions")),
		); err != nil {
			t.Fatal(err)
		}
		browsertest.CheckFits(t, ctx, v)
		b.Screenshot(ctx, fmt.Sprintf("account-en-%d", v.Width))
		if err := chromedp.Do(ctx,
			chromedp.Navigate(e.issuer+"/account/close"),
			chromedp.WaitVisible(chromedp.CSS("#confirm")),
		); err != nil {
			t.Fatal(err)
		}
		browsertest.CheckFits(t, ctx, v)
		b.Screenshot(ctx, fmt.Sprintf("close-%d", v.Width))
		if err := chromedp.Do(ctx,
			chromedp.Navigate(e.issuer+"/account/recover"),
			chromedp.WaitVisible(chromedp.CSS("#identifier")),
			chromedp.SetValue(chromedp.CSS("#identifier"), "13800138000"),
			chromedp.Submit(chromedp.CSS("#identifier")),
			chromedp.WaitVisible(chromedp.CSS("#code")),
		); err != nil {
			t.Fatal(err)
		}
		browsertest.CheckFits(t, ctx, v)
		b.Screenshot(ctx, fmt.Sprintf("recover-code-%d", v.Width))
	}
}
