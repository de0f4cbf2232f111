package oidc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/tongban/tongban/internal/browsertest"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage/storagetest"
)

// TestLockoutPageBrowser shows the login page in headless Chromium as an owner on a new
// device sees it while someone else's guesses have paused the account: the wait, in Chinese
// and English, at phone and desktop sizes (screenshots); then a warning before a pause.
func TestLockoutPageBrowser(t *testing.T) {
	b := browsertest.Start(t)
	fc := &fixedClock{now: time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)}
	e := newEnv(t, storagetest.SQLite(t), envOptions{mutate: func(c *tboidc.Config) { c.Now = fc.Now }})
	_, num := e.person("周十四", "")
	r := e.newRP(tboidc.NewClient{})
	pauseAccount(t, e, fc.Advance, r, e.browserFrom("127.0.0.2"), num)
	submit := func(name string, v browsertest.Viewport, u, id, pw string) (string, string) {
		ctx := b.Context(v, 60*time.Second)
		if err := chromedp.Do(ctx,
			chromedp.Navigate(u),
			chromedp.SendKeys(chromedp.ID("identifier"), id),
			chromedp.SendKeys(chromedp.ID("password"), pw),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`p.error`)),
		); err != nil {
			t.Fatal(err)
		}
		msg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("p.error").textContent`))
		if err != nil {
			t.Fatal(err)
		}
		return msg, b.Screenshot(ctx, name)
	}
	for _, tc := range []struct {
		name string
		v    browsertest.Viewport
		lang string
		want []string
	}{
		{"zh-phone", browsertest.Phone, "zh-CN", []string{"该账号登录失败次数过多", "秒后再试。", "在您以前登录过的设备上可以正常登录。"}},
		{"zh-desktop", browsertest.Desktop, "zh-CN", []string{"该账号登录失败次数过多"}},
		{"en-phone", browsertest.Phone, "en", []string{"Too many failed logins for this account", "seconds", "Devices you have logged in with before can still log in."}},
	} {
		u := r.authURL(oauth2.SetAuthURLParam("ui_locales", tc.lang)).url
		msg, shot := submit("login-paused-"+tc.name, tc.v, u, num, testPassword)
		t.Logf("%s: %q (%s)", tc.name, msg, shot)
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q lacks %q", tc.name, msg, w)
			}
		}
	}
	// A warning before a pause, for another person after three failures.
	_, num2 := e.person("吴十五", "")
	b3 := e.browserFrom("127.0.0.3")
	for range 2 {
		if p := b3.login(b3.get(r.authURL().url), num2, "wrong"); p.status != 401 {
			t.Fatalf("failure answered %d", p.status)
		}
	}
	msg, shot := submit("login-warning-zh-phone", browsertest.Phone, r.authURL().url, num2, "wrong")
	t.Logf("warning: %q (%s)", msg, shot)
	if msg != "证件号码、手机号或密码不正确。还可尝试 2 次，之后将暂停登录 1 秒（再输错，暂停时间逐次加倍，最长 15 分钟）。" {
		t.Errorf("warning %q", msg)
	}
}
