package oidc_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/internal/browsertest"
	"github.com/tongban/tongban/internal/citizenui"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// TestCitizenPagesBrowser is the browser matrix of the provider's citizen pages (issue 11): every
// page at 390×844 (phone) and 1280×800 (desktop), normal and 长辈模式, zh-CN and en — no
// horizontal scrolling (CheckFits), no serious or critical axe-core violation (CheckA11y, with
// 7:1 contrast in elder mode), tap targets of 48 px in elder mode (CheckTargets) — and at
// 320 px with 200 % text. One Chromium; one browser context per viewport, logged in once per
// language and mode through the real login form. Screenshots go to $TONGBAN_SCREENSHOTS.
func TestCitizenPagesBrowser(t *testing.T) {
	b := browsertest.Start(t)
	e := newEnv(t, storagetest.SQLite(t), envOptions{})
	ctx := context.Background()
	me, num := e.person("欧阳长辈", "13800138123")
	co, err := e.accounts.CreatePerson(ctx, accounts.NewPerson{Kind: storage.LegalPerson, IDNumber: agentsCreditCode,
		Name: agentsCompany, Password: []byte(testPassword)})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.accounts.SetRepresentative(ctx, audit.Shell, co.ID, me.ID); err != nil {
		t.Fatal(err)
	}
	app := e.newRP(tboidc.NewClient{Name: "社保服务"})
	// An app I have authorised: the account page lists it with its 撤回授权 button (the widest
	// row at 320 px and 200 % text).
	granted := e.newRP(tboidc.NewClient{Name: "住房公积金管理中心网上服务平台"})
	if err := e.store.SaveConsent(ctx, storage.Consent{PersonID: me.ID, ClientID: granted.client.ID,
		Scopes: []string{"openid", "profile", "phone", "offline_access"}, GrantedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	// Another company's representative authorises me as its agent: the login asks who I am.
	co2, err := e.accounts.CreatePerson(ctx, accounts.NewPerson{Kind: storage.LegalPerson, IDNumber: agentsOtherCode,
		Name: "杭州某某贸易有限公司", Password: []byte(testPassword)})
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := e.person("王法人", "")
	if err := e.accounts.SetRepresentative(ctx, audit.Shell, co2.ID, rep.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.accounts.AuthoriseAgent(ctx, audit.Actor{ID: rep.ID}, co2.ID, accounts.AgentGrant{IDNumber: num, Name: "欧阳长辈",
		Until: e.clock.Now().AddDate(0, 1, 0)}); err != nil {
		t.Fatal(err)
	}
	tv, _ := e.deviceRP()
	computer := e.browser() // starts the scan-to-login codes the phone pages confirm

	type pageCase struct {
		name    string
		url     func(lang string) string // nil: the page the previous step left
		do      func(c context.Context, lang string) error
		desktop bool // also checked at the desktop size (every page is checked on the phone)
	}
	lq := func(lang string) string { return "ui_locales=" + lang }
	var pages = []pageCase{
		{"error", func(lang string) string { return e.issuer + "/login?authz=expired&" + lq(lang) }, nil, true},
		{"login", func(lang string) string {
			return app.authURL(oauth2.SetAuthURLParam("ui_locales", lang)).url
		}, nil, true},
		{"login-failed", nil, func(c context.Context, lang string) error {
			err := chromedp.Do(c, chromedp.SendKeys(chromedp.ID("identifier"), num),
				chromedp.SendKeys(chromedp.ID("password"), "wrong password"),
				chromedp.Click(chromedp.CSS(`form.stack button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS(`p.error`)))
			if err != nil {
				return err
			}
			// The ID number stays in its field; the password does not.
			kept, err := chromedp.Run(c, chromedp.Evaluate[[]string](`[document.getElementById("identifier").value, document.getElementById("password").value]`))
			if err == nil && (kept[0] != num || kept[1] != "") {
				err = fmt.Errorf("after a wrong password the fields hold %q", kept)
			}
			return err
		}, true},
		{"acting", nil, func(c context.Context, lang string) error {
			return chromedp.Do(c, chromedp.SendKeys(chromedp.ID("password"), testPassword),
				chromedp.Click(chromedp.CSS(`form.stack button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS(`input[name=choice]`)))
		}, true},
		{"consent", nil, func(c context.Context, lang string) error {
			return chromedp.Do(c, chromedp.Click(chromedp.CSS(`button.primary`)),
				chromedp.WaitVisible(chromedp.CSS(`button[value=allow]`)))
		}, true},
		{"account", func(lang string) string { return e.issuer + "/account?" + lq(lang) }, nil, true},
		{"otp-enrol", func(lang string) string { return e.issuer + "/account/otp/new?" + lq(lang) }, nil, false},
		{"close-account", func(lang string) string { return e.issuer + "/account/close?" + lq(lang) }, nil, false},
		{"recover", func(lang string) string { return e.issuer + "/account/recover?" + lq(lang) }, nil, false},
		{"reset-invalid", func(lang string) string { return e.issuer + "/account/reset?token=nothing&" + lq(lang) }, nil, false},
		{"device", func(lang string) string { return e.issuer + "/device?" + lq(lang) }, nil, false},
		{"device-confirm", func(lang string) string {
			_, code := e.startDevice(tv.client.ID, "openid profile")
			return e.issuer + "/device?user_code=" + code + "&" + lq(lang)
		}, nil, true},
		{"scan-confirm", func(lang string) string {
			s := e.startScan(t, computer, app.authURL(oauth2.SetAuthURLParam("ui_locales", lang)))
			return s.link + "&" + lq(lang)
		}, nil, false},
		{"not-found", func(lang string) string { return e.issuer + "/nosuchpage?" + lq(lang) }, nil, false},
		{"logout", func(lang string) string { return e.issuer + "/logout?" + lq(lang) }, nil, true},
		{"logged-out", nil, func(c context.Context, lang string) error {
			return chromedp.Do(c, chromedp.Click(chromedp.CSS(`form.actions button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS(`p.notice`)))
		}, true},
	}
	// Screenshots of every page in these combinations (of the others only the pages in
	// shotPages), when TONGBAN_SCREENSHOTS asks for them, and of any page that fails a check.
	keep := os.Getenv("TONGBAN_SCREENSHOTS") != ""
	shots := map[string]bool{"phone-zh-normal": true, "phone-zh-elder": true}
	shotPages := map[string]bool{"login": true, "consent": true, "account": true, "logout": true, "error": true}
	setElder := func(c context.Context, on bool) {
		t.Helper()
		var err error
		if on {
			_, err = chromedp.Call(c, network.SetCookie, network.SetCookieParams{Name: citizenui.CookieName, Value: "1", URL: e.issuer})
		} else {
			_, err = chromedp.Call(c, network.DeleteCookies, network.DeleteCookiesParams{Name: citizenui.CookieName, URL: e.issuer})
		}
		// The login of the previous round saved elder mode in the account (elder.go): start
		// each round from the account's "off".
		if err == nil {
			err = e.store.UpdatePerson(ctx, me.ID, func(p *storage.Person) error { p.ElderMode = false; return nil })
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	visit := func(c context.Context, p pageCase, lang string) {
		t.Helper()
		var err error
		if p.url != nil {
			err = chromedp.Do(c, chromedp.Navigate(p.url(lang)))
		}
		if err == nil && p.do != nil {
			err = p.do(c, lang)
		}
		if err != nil {
			t.Fatalf("%s (%s): %v", p.name, lang, err)
		}
	}
	// The phone at 390 × 844 CSS px as browsertest.Phone, drawn at one device pixel per CSS
	// pixel: the same layout, a third of the raster work per page.
	phone := browsertest.Phone
	phone.Scale = 1
	start := time.Now()
	for _, v := range []struct {
		name string
		vp   browsertest.Viewport
	}{{"phone", phone}, {"desktop", browsertest.Desktop}} {
		c := b.Context(v.vp, 10*time.Minute)
		for _, lang := range []string{"zh-CN", "en"} {
			for _, elder := range []bool{false, true} {
				mode := map[bool]string{false: "normal", true: "elder"}[elder]
				combo := fmt.Sprintf("%s-%s-%s", v.name, strings.TrimSuffix(lang, "-CN"), mode)
				setElder(c, elder)
				t0 := time.Now()
				n := 0
				for _, p := range pages {
					if v.name == "desktop" && !p.desktop {
						continue
					}
					visit(c, p, lang)
					name := combo + "/" + p.name
					// axe-core on every phone page, and on the desktop in Chinese (the
					// layout is one centred card; contrast does not depend on the size).
					failed := checkCitizenPage(t, c, name, v.vp, lang, elder, v.name == "phone" || lang == "zh-CN")
					if failed || keep && (shots[combo] || shotPages[p.name]) {
						b.Screenshot(c, combo+"-"+p.name)
					}
					n++
				}
				t.Logf("%s: %d pages in %v", combo, n, time.Since(t0).Round(time.Millisecond))
			}
		}
	}
	matrix := time.Since(start)

	// 320 px wide, 200 % text (WCAG 1.4.10 reflow, 1.4.4 resize): nothing wider than the screen.
	narrow := browsertest.Viewport{Width: 320, Height: 640, Scale: 1, Mobile: true}
	c := b.Context(narrow, 10*time.Minute)
	if err := browsertest.TextZoom(c, 200); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	for _, elder := range []bool{true, false} {
		setElder(c, elder)
		for _, lang := range []string{"zh-CN", "en"} {
			if !elder && lang == "en" {
				continue // elder English is the widest text; normal is checked in Chinese
			}
			for _, p := range pages {
				visit(c, p, lang)
				name := fmt.Sprintf("320-200pct-%s-%s-%s", strings.TrimSuffix(lang, "-CN"), map[bool]string{false: "normal", true: "elder"}[elder], p.name)
				ft := &failures{TB: t}
				browsertest.CheckFits(ft, c, narrow)
				browsertest.CheckLines(ft, c, name)
				browsertest.CheckWords(ft, c, name)
				if len(ft.errs) > 0 || keep && lang == "zh-CN" && shotPages[p.name] {
					b.Screenshot(c, name)
				}
			}
		}
	}
	t.Logf("matrix %v, 320 px at 200 %% text %v", matrix.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
}

// failures is a testing.TB that also keeps its errors, so that a page that fails gets its
// screenshot.
type failures struct {
	testing.TB
	errs []string
}

func (f *failures) Errorf(format string, args ...any) {
	f.TB.Helper()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
	f.TB.Errorf(format, args...)
}

// checkCitizenPage runs the checks of one page of the matrix: it fits, axe-core finds nothing
// serious (7:1 contrast in elder mode; only when axe), elder mode is on exactly when asked and
// has 48 px targets and 24 px text, the language is the one asked, the switch and the readout
// content are there, and an error or end page has a way on. It reports whether a check failed.
func checkCitizenPage(t *testing.T, c context.Context, name string, v browsertest.Viewport, lang string, elder, axe bool) bool {
	t.Helper()
	ft := &failures{TB: t}
	browsertest.CheckFits(ft, c, v)
	if axe {
		browsertest.CheckA11y(ft, c, name, browsertest.A11yOptions{Enhanced: elder})
	}
	if elder {
		browsertest.CheckTargets(ft, c, name, 48)
	}
	facts, err := chromedp.Run(c, chromedp.Evaluate[map[string]any](`({
  elder: document.documentElement.classList.contains("elder"),
  lang: document.documentElement.lang,
  switch: !!document.querySelector("form.elder-switch button"),
  speak: document.querySelectorAll("[data-speak]").length,
  font: parseFloat(getComputedStyle(document.body).fontSize),
  links: document.querySelectorAll("main a[href]").length,
  asciiPunct: (document.body.innerText.match(/[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef][,:;?!()]|[,:;?!()][\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]/) || [""])[0]
})`))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if facts["elder"] != elder || facts["lang"] != lang || facts["switch"] != true || facts["speak"].(float64) < 1 {
		ft.Errorf("%s: %v (want elder %v, lang %s, a switch and data-speak content)", name, facts, elder, lang)
	}
	if lang == "zh-CN" && facts["asciiPunct"] != "" {
		ft.Errorf("%s: ASCII punctuation in Chinese text: %q", name, facts["asciiPunct"])
	}
	if elder && facts["font"].(float64) < 24 {
		ft.Errorf("%s: body text %v px in elder mode", name, facts["font"])
	}
	for _, end := range []string{"/error", "/logged-out", "/reset-invalid", "/logout", "/not-found"} {
		if strings.HasSuffix(name, end) && facts["links"].(float64) < 1 {
			ft.Errorf("%s: no way back", name)
		}
	}
	return len(ft.errs) > 0
}
