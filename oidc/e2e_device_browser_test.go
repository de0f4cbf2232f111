package oidc_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tongban/tongban/internal/browsertest"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage/storagetest"
)

// TestDevicePageBrowser drives the user-code page in headless Chromium as the phone (390×844)
// and a computer (1280×800): the QR's verification_uri_complete, the login, the confirmation,
// allow, and the device then gets its tokens; the code-entry page too. Screenshots of each step
// go to $TONGBAN_SCREENSHOTS.
func TestDevicePageBrowser(t *testing.T) {
	b := browsertest.Start(t)
	e := newEnv(t, storagetest.SQLite(t), envOptions{mutate: func(c *tboidc.Config) { c.DevicePollInterval = devicePoll }})
	_, id := e.person("林晓", "")
	r, tvCtx := e.deviceRP()
	for _, v := range []browsertest.Viewport{browsertest.Phone, browsertest.Desktop} {
		name := fmt.Sprintf("%d", v.Width)
		da, err := r.oauth.DeviceAuth(tvCtx)
		if err != nil {
			t.Fatal(err)
		}
		ctx := b.Context(v, 60*time.Second)
		if err := chromedp.Do(ctx,
			chromedp.Navigate(da.VerificationURIComplete),
			chromedp.WaitVisible(chromedp.CSS("#identifier")),
			chromedp.SendKeys(chromedp.CSS("#identifier"), id),
			chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
			chromedp.Click(chromedp.CSS("button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("#user-code")),
		); err != nil {
			t.Fatal(err)
		}
		shown, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#user-code")))
		if err != nil || strings.TrimSpace(shown) != da.UserCode {
			t.Fatalf("confirmation shows %q, want %q (%v)", shown, da.UserCode, err)
		}
		browsertest.CheckFits(t, ctx, v)
		b.Screenshot(ctx, "device-confirm-"+name)
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("button[value=allow]")),
			chromedp.WaitVisible(chromedp.CSS("p.notice")),
		); err != nil {
			t.Fatal(err)
		}
		b.Screenshot(ctx, "device-done-"+name)
		e.clock.Advance(2 * devicePoll)
		if _, err := r.oauth.DeviceAccessToken(tvCtx, da); err != nil {
			t.Fatalf("the TV after approval: %v", err)
		}

		// The code-entry page, with a wrong code typed, in English on the computer.
		lang := "zh-CN"
		if !v.Mobile {
			lang = "en"
		}
		if err := chromedp.Do(ctx,
			chromedp.Navigate(e.issuer+"/device?"+url.Values{"ui_locales": {lang}}.Encode()),
			chromedp.WaitVisible(chromedp.CSS("#user_code")),
		); err != nil {
			t.Fatal(err)
		}
		b.Screenshot(ctx, "device-enter-"+name)
		if err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS("#user_code"), "bcdf-ghjk"),
			chromedp.Click(chromedp.CSS("button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("p.error")),
		); err != nil {
			t.Fatal(err)
		}
		browsertest.CheckFits(t, ctx, v)
		b.Screenshot(ctx, "device-wrong-code-"+name)
	}
}
