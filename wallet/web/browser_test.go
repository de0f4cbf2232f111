package web_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/internal/browsertest"
	"github.com/tongban/tongban/wallet"
	"github.com/tongban/tongban/wallet/wallettest"
)

// browserWorld is a world with a logged-in wallet session whose cookie the tests copy into
// Chromium's contexts (the provider's own pages are tested in package oidc).
type browserWorld struct {
	*world
	b       *browsertest.Browser
	session string // the tbw_session cookie's value
	idOf    map[credentials.Kind]string
	gb      *wallettest.Browser // the Go browser that logged in (it shares the session)
}

func newBrowserWorld(t *testing.T) *browserWorld {
	t.Helper()
	b := browsertest.Start(t)
	w := newWorld(t)
	gb := wallettest.NewBrowser(t)
	gb.LoginWallet(w.wal.URL, citizen, password)
	u, _ := url.Parse(w.wal.URL)
	bw := &browserWorld{world: w, b: b, gb: gb, idOf: map[credentials.Kind]string{}}
	for _, c := range gb.Client.Jar.Cookies(u) {
		if c.Name == "tbw_session" {
			bw.session = c.Value
		}
	}
	if bw.session == "" {
		t.Fatal("no session cookie after login")
	}
	recs, err := w.svc.Licences(context.Background(), citizen)
	must(t, err)
	for _, r := range recs {
		bw.idOf[r.Licence.Kind] = r.ID
	}
	return bw
}

// setCookie sets (value != "") or deletes a cookie of the wallet in ctx's browser context.
func (bw *browserWorld) setCookie(t *testing.T, ctx context.Context, name, value string) {
	t.Helper()
	var err error
	if value == "" {
		_, err = chromedp.Call(ctx, network.DeleteCookies, network.DeleteCookiesParams{Name: name, URL: bw.wal.URL})
	} else {
		_, err = chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: bw.wal.URL, Path: "/"})
	}
	must(t, err)
}

// setColour stores the demo health code with colour c.
func (bw *browserWorld) setColour(t *testing.T, c string) {
	t.Helper()
	rec, err := bw.svc.LicenceByID(context.Background(), bw.idOf[credentials.HealthCode])
	must(t, err)
	l := rec.Licence.Clone()
	l.Fields["colour"] = c
	_, err = bw.svc.Put(context.Background(), l, wallet.Operator)
	must(t, err)
}

func (bw *browserWorld) setStatus(t *testing.T, k credentials.Kind, st credentials.Status) {
	t.Helper()
	_, err := bw.svc.SetStatus(context.Background(), bw.idOf[k], st, wallet.Operator)
	must(t, err)
}

// eval runs the JavaScript js in ctx's page.
func eval(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Evaluate[any](js+";0"))
	must(t, err)
}

func text(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	must(t, err)
	return s
}

// waitFor polls the JavaScript condition js in ctx until true or 10 s.
func waitFor(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s (%v)", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkFits is browsertest.CheckFits for the page name, naming the elements that reach past
// the viewport when the page is too wide.
func checkFits(t *testing.T, ctx context.Context, name string, v browsertest.Viewport) {
	t.Helper()
	nt := &namedT{TB: t, name: name}
	browsertest.CheckFits(nt, ctx, v)
	if nt.failed {
		wide, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`[...document.querySelectorAll("body *")]
  .filter(e => e.getBoundingClientRect().right > %d + 1 && getComputedStyle(e).position !== "absolute")
  .slice(-6).map(e => e.tagName.toLowerCase() + "." + [...e.classList].join(".") + " " + Math.round(e.getBoundingClientRect().right)).join("; ")`, v.Width)))
		t.Errorf("%s: too wide: %s", name, wide)
	}
}

// namedT prefixes the errors of a check with the page's name.
type namedT struct {
	testing.TB
	name   string
	failed bool
}

func (n *namedT) Helper() {}
func (n *namedT) Errorf(format string, args ...any) {
	n.failed = true
	n.TB.Errorf("%s: %s", n.name, fmt.Sprintf(format, args...))
}

// asciiPunct finds ASCII punctuation next to a Chinese character: Chinese text takes the
// full-width forms (，：；（）).
var asciiPunct = regexp.MustCompile(`\p{Han}[,:;()]|[,:;()]\p{Han}`)

// citizenPage is one page of the matrix: its path, what to do before and after loading it,
// and words its text must (and must not) hold in zh and en.
type citizenPage struct {
	name           string
	path           func(bw *browserWorld) string
	anon           bool // without the session
	before, after  func(t *testing.T, bw *browserWorld)
	then           func(t *testing.T, bw *browserWorld, ctx context.Context) // after the load
	wantZH, wantEN []string
	notWant        []string
}

func citizenPages() []citizenPage {
	show := func(k credentials.Kind, extra string) func(bw *browserWorld) string {
		return func(bw *browserWorld) string { return "/show?l=" + bw.idOf[k] + extra }
	}
	colour := func(c string) func(t *testing.T, bw *browserWorld) {
		return func(t *testing.T, bw *browserWorld) { bw.setColour(t, c) }
	}
	green := colour(credentials.ColourGreen)
	suspend := func(t *testing.T, bw *browserWorld) {
		bw.setStatus(t, credentials.SocialSecurity, credentials.StatusSuspended)
	}
	restore := func(t *testing.T, bw *browserWorld) {
		bw.setStatus(t, credentials.SocialSecurity, credentials.StatusValid)
	}
	return []citizenPage{
		{name: "landing", path: func(*browserWorld) string { return "/" }, anon: true,
			wantZH: []string{"统一身份认证登录"}, wantEN: []string{"Log in"}},
		{name: "home", path: func(*browserWorld) string { return "/" },
			wantZH: []string{"我的证照", "居民身份证", "绿码", "亮证"}, wantEN: []string{"My licences", "Green code"}},
		{name: "home-suspended", path: func(*browserWorld) string { return "/" }, before: suspend, after: restore,
			wantZH: []string{"不能亮证", "暂扣"}, wantEN: []string{"Cannot be shown", "suspended"}},
		{name: "show-masked", path: show(credentials.ResidentID, ""),
			wantZH: []string{"当前时间", "身份核验", "没有您的完整姓名"}, wantEN: []string{"Time now", "does not hold your full name"}},
		{name: "show-full", path: show(credentials.ResidentID, "&profile=full"),
			wantZH:  []string{"完整身份证号码", "住址", "出生", "二维码中为完整内容"},
			wantEN:  []string{"your full ID number", "Address", "Date of birth", "in full in the code"},
			notWant: []string{"birth_date", "11010119900307002X", "林晓彤"}},
		{name: "show-bundle", path: func(bw *browserWorld) string {
			q := url.Values{"profile": {"bundle"}, "l": {bw.idOf[credentials.ResidentID], bw.idOf[credentials.MedicalInsurance],
				bw.idOf[credentials.HealthCode], bw.idOf[credentials.VehicleLicence]}}
			return "/show?" + q.Encode()
		}, wantZH: []string{"多码合一", "号牌号码", "绿码"}, wantEN: []string{"Combined code", "Plate number"}},
		{name: "health-green", path: show(credentials.HealthCode, ""), wantZH: []string{"绿码"}, wantEN: []string{"Green code"}},
		{name: "health-yellow", path: show(credentials.HealthCode, ""), before: colour(credentials.ColourYellow), after: green,
			wantZH: []string{"黄码"}, wantEN: []string{"Yellow code"}},
		{name: "health-red", path: show(credentials.HealthCode, ""), before: colour(credentials.ColourRed), after: green,
			wantZH: []string{"红码"}, wantEN: []string{"Red code"}},
		{name: "bundle", path: func(*browserWorld) string { return "/bundle" }, wantZH: []string{"生成二维码"}, wantEN: []string{"Make the code"}},
		{name: "bundle-one", path: func(bw *browserWorld) string {
			return "/show?" + url.Values{"from": {"bundle"}, "profile": {"bundle"}, "l": {bw.idOf[credentials.DrivingLicence]}}.Encode()
		}, wantZH: []string{"您只勾选了 1 个证照"}, wantEN: []string{"You ticked one licence"},
			then: func(t *testing.T, bw *browserWorld, ctx context.Context) {
				js := fmt.Sprintf(`document.querySelector('input[name="l"][value=%q]').checked`, bw.idOf[credentials.DrivingLicence])
				if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err != nil || !ok {
					t.Errorf("bundle-one: the ticked licence is no longer ticked (%v)", err)
				}
			}},
		{name: "records", path: func(*browserWorld) string { return "/records" }, wantZH: []string{"亮证记录"}, wantEN: []string{"My record"}},
		{name: "error-suspended", path: show(credentials.SocialSecurity, ""), before: suspend, after: restore,
			wantZH: []string{"不能亮证", "返回我的证照"}, wantEN: []string{"Cannot be shown", "Back to my licences"}},
		{name: "not-found", path: func(*browserWorld) string { return "/no-such-page" },
			wantZH: []string{"页面不存在", "返回"}, wantEN: []string{"Page not found", "Back"}, notWant: []string{"404 page not found"}},
		{name: "logout-confirm", path: func(*browserWorld) string { return "/logout?back=/bundle" },
			wantZH: []string{"确定要退出", "取消"}, wantEN: []string{"Log out of the e-licence wallet?", "Cancel"}},
		{name: "code-logged-out", path: show(credentials.ResidentID, ""),
			then: func(t *testing.T, bw *browserWorld, ctx context.Context) {
				// The session ends (a cookie the wallet does not know is a logged-out browser);
				// the page notices when it comes back to the front.
				bw.setCookie(t, ctx, "tbw_session", "x")
				eval(t, ctx, `document.dispatchEvent(new Event("visibilitychange"))`)
				waitFor(t, ctx, "the logged-out state", `!document.getElementById("code-dead").hidden`)
				bw.setCookie(t, ctx, "tbw_session", bw.session)
			},
			wantZH: []string{"二维码已停止显示", "重新登录"}, wantEN: []string{"The code is no longer shown", "Log in again"}},
	}
}

// TestCitizenPagesInBrowser loads every citizen page of the wallet in Chromium at a phone's
// and a desktop's size, in normal and 长辈模式, in Chinese and English: no horizontal
// scrolling, no serious or critical axe-core violation (7:1 contrast in elder mode; on the
// desktop in Chinese only), tap targets of 48 px in elder mode, full-width punctuation in Chinese, the page's key words.
// Then every page at 320 px with 200 % text must still fit. Screenshots go to
// $TONGBAN_SCREENSHOTS/TestCitizenPagesInBrowser/ when that is set (Chinese: every page on the
// phone, normal and elder; a few on the desktop and at 320 px). With -short: the phone in
// Chinese only.
func TestCitizenPagesInBrowser(t *testing.T) {
	bw := newBrowserWorld(t)
	pages := citizenPages()
	type mode struct {
		elder bool
		lang  string
	}
	// One context per size (the phone's at scale 2: screenshots half the pixels of a real
	// phone's, the same layout).
	phone := browsertest.Phone
	phone.Scale = 2
	modes := []mode{{false, "zh"}, {true, "zh"}, {false, "en"}, {true, "en"}}
	// Screenshots (a second each on a busy machine) only when somebody will look at them.
	shots := os.Getenv("TONGBAN_SCREENSHOTS") != ""
	sizes := []browsertest.Viewport{phone, browsertest.Desktop}
	if testing.Short() { // the phone in Chinese only
		modes, sizes = modes[:2], sizes[:1]
	}
	load := func(t *testing.T, ctx context.Context, p citizenPage) {
		t.Helper()
		if p.before != nil {
			p.before(t, bw)
		}
		if p.anon {
			bw.setCookie(t, ctx, "tbw_session", "")
		}
		must(t, chromedp.Do(ctx, chromedp.Navigate(bw.wal.URL+p.path(bw))))
		if p.then != nil {
			p.then(t, bw, ctx)
		}
		if p.anon {
			bw.setCookie(t, ctx, "tbw_session", bw.session)
		}
		if p.after != nil {
			p.after(t, bw)
		}
	}
	for _, v := range sizes {
		ctx := bw.b.Context(v, 5*time.Minute)
		must(t, browsertest.PreloadAxe(ctx))
		bw.setCookie(t, ctx, "tbw_session", bw.session)
		for _, m := range modes {
			combo := fmt.Sprintf("%d-%s-%s", v.Width, m.lang, map[bool]string{false: "normal", true: "elder"}[m.elder])
			t.Run(combo, func(t *testing.T) {
				bw.setCookie(t, ctx, "tbw_lang", m.lang)
				elder := ""
				if m.elder {
					elder = "1"
				}
				bw.setCookie(t, ctx, "tb_elder", elder)
				for _, p := range pages {
					name := combo + "-" + p.name
					load(t, ctx, p)
					checkFits(t, ctx, name, v)
					checkCodeSize(t, ctx, name, 200)
					checkCodeInView(t, ctx, name)
					// axe-core looks at the markup and the colours, which do not change with the
					// width: on the desktop it runs for Chinese only, to keep the test's time down.
					if v == phone || m.lang == "zh" {
						browsertest.CheckA11y(t, ctx, name, browsertest.A11yOptions{Enhanced: m.elder})
					}
					if m.elder {
						browsertest.CheckTargets(t, ctx, name, 48)
						if ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.classList.contains("elder")`)); !ok {
							t.Errorf("%s: no class elder on <html>", name)
						}
					}
					body := text(t, ctx)
					want := p.wantZH
					if m.lang == "en" {
						want = p.wantEN
					} else if bad := asciiPunct.FindAllString(body, 5); len(bad) > 0 {
						t.Errorf("%s: ASCII punctuation in Chinese text: %q", name, bad)
					}
					for _, s := range want {
						if !strings.Contains(body, s) {
							t.Errorf("%s: the page does not say %q:\n%s", name, s, body)
						}
					}
					for _, s := range p.notWant {
						if strings.Contains(body, s) {
							t.Errorf("%s: the page says %q", name, s)
						}
					}
					if shots && m.lang == "zh" && (v == phone || !m.elder && (p.name == "home" || p.name == "show-full" || p.name == "bundle")) {
						bw.b.Screenshot(ctx, name)
					}
				}
			})
		}
	}

	// WCAG 1.4.10 and 1.4.4: 320 CSS px wide with the phone's text at 200 %.
	narrow := browsertest.Viewport{Width: 320, Height: 640, Scale: 2, Mobile: true}
	t.Run("320-zoom200", func(t *testing.T) {
		ctx := bw.b.Context(narrow, 3*time.Minute)
		must(t, browsertest.TextZoom(ctx, 200))
		bw.setCookie(t, ctx, "tbw_session", bw.session)
		for _, elder := range []string{"", "1"} {
			bw.setCookie(t, ctx, "tb_elder", elder)
			for _, p := range pages {
				name := fmt.Sprintf("320-zoom200-%s-%s", map[string]string{"": "normal", "1": "elder"}[elder], p.name)
				load(t, ctx, p)
				checkFits(t, ctx, name, narrow)
				browsertest.CheckLines(t, ctx, name)
				browsertest.CheckWords(t, ctx, name)
				checkCodeSize(t, ctx, name, 200)
				checkCodeInView(t, ctx, name)
				if shots && (p.name == "home" || p.name == "show-full" || p.name == "bundle") {
					bw.b.Screenshot(ctx, name)
				}
			}
		}
	})
}

// checkCodeSize fails t when a QR code on the page in ctx is drawn narrower than min CSS px: a
// code must stay large enough to scan whatever the text size (elder mode, the phone's text
// setting) does to the layout around it.
func checkCodeSize(t *testing.T, ctx context.Context, name string, min int) {
	t.Helper()
	widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[...document.querySelectorAll('img[src^="data:image/png"]')]
		.filter(e => e.getBoundingClientRect().width > 0).map(e => Math.round(e.getBoundingClientRect().width))`))
	if err != nil {
		t.Errorf("%s: QR code size: %v", name, err)
		return
	}
	for _, w := range widths {
		if w < min {
			t.Errorf("%s: a QR code drawn %d px wide (at least %d to scan)", name, w, min)
		}
	}
}

// checkCodeInView fails t when the code page in ctx opens with its live QR code (#code-img)
// not wholly on the screen: the code is the page's one main action.
func checkCodeInView(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	where, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => { const i = document.getElementById("code-img");
		if (!i) return "none";
		if (document.readyState !== "complete") return false;
		const r = i.getBoundingClientRect();
		return r.top >= 0 && r.bottom <= innerHeight ? "in view" : "top " + Math.round(r.top) + ", bottom " + Math.round(r.bottom) + " of " + innerHeight; })()`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil {
		t.Errorf("%s: QR code position: %v", name, err)
		return
	}
	if where != "none" && where != "in view" {
		t.Errorf("%s: the QR code opens off the screen: %s", name, where)
	}
}

// TestCodePageStops: the code page never leaves a dead code on screen. When the session ends
// (logged out elsewhere) the code is removed at the next check — at once when the logout was
// in another tab of the same browser — the countdown stops, the page
// says why and offers 重新登录; when a refresh is refused (the licence suspended meanwhile) it
// says so; when the code's 60 s run out without a refresh (a phone back from sleep, offline) it
// is removed too.
func TestCodePageStops(t *testing.T) {
	bw := newBrowserWorld(t)
	ctx := bw.b.Context(browsertest.Phone, 2*time.Minute)
	bw.setCookie(t, ctx, "tbw_session", bw.session)
	showResident := bw.wal.URL + "/show?l=" + bw.idOf[credentials.ResidentID]
	live := func() bool {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
			`!!document.getElementById("code-img") && !document.getElementById("code-live").hidden && document.getElementById("code-dead").hidden`))
		must(t, err)
		return ok
	}
	deadState := func(what string) (reason string, login, retry bool) {
		t.Helper()
		waitFor(t, ctx, what, `!document.getElementById("code-dead").hidden`)
		if ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`getComputedStyle(document.getElementById("code-dead")).display !== "none"`)); !ok {
			t.Errorf("%s: the reason is not displayed", what)
		}
		if live() || func() bool {
			ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector("#code img, img[src^='data:image/png']")`))
			return ok
		}() {
			t.Errorf("%s: a code is still on the page", what)
		}
		c1, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("countdown").textContent`))
		time.Sleep(1200 * time.Millisecond)
		c2, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("countdown").textContent`))
		if c1 != c2 {
			t.Errorf("%s: the countdown still runs (%s, %s)", what, c1, c2)
		}
		reason, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("dead-reason").textContent`))
		shown := func(id string) bool {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`getComputedStyle(document.getElementById(%q)).display !== "none"`, id)))
			must(t, err)
			return ok
		}
		login, retry = shown("dead-login"), shown("dead-retry")
		return reason, login, retry
	}

	// Logged out in another tab (the Go browser shares the session): the code goes.
	must(t, chromedp.Do(ctx, chromedp.Navigate(showResident)))
	if !live() {
		t.Fatal("the code page does not show a live code")
	}
	action, vals, ok := bw.gb.Get(bw.wal.URL + "/logout").Form("csrf")
	if !ok {
		t.Fatal("no logout form")
	}
	bw.gb.PostForm(action, vals)
	eval(t, ctx, `document.dispatchEvent(new Event("visibilitychange"))`)
	reason, login, retry := deadState("logged out")
	if !strings.Contains(reason, "退出登录") || !login || retry {
		t.Errorf("logged out: reason %q, 重新登录 shown %v, 重试 shown %v", reason, login, retry)
	}
	bw.b.Screenshot(ctx, "logged-out")
	href, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("dead-login").getAttribute("href")`))
	if !strings.HasPrefix(href, "/login?next=%2Fshow") {
		t.Errorf("重新登录 goes to %q", href)
	}

	// A new session; logged out in another tab of the same browser: the code goes at once,
	// before any refresh.
	relogin := func() {
		t.Helper()
		gb := wallettest.NewBrowser(t)
		gb.LoginWallet(bw.wal.URL, citizen, password)
		u, _ := url.Parse(bw.wal.URL)
		for _, c := range gb.Client.Jar.Cookies(u) {
			if c.Name == "tbw_session" {
				bw.setCookie(t, ctx, c.Name, c.Value)
			}
		}
	}
	relogin()
	must(t, chromedp.Do(ctx, chromedp.Navigate(showResident)))
	if !live() {
		t.Fatal("the code page does not show a live code after the new login")
	}
	tab, cancelTab := chromedp.NewContext(ctx) // a second tab, same browser context
	must(t, chromedp.Do(tab, chromedp.Navigate(bw.wal.URL+"/logout?back=/")))
	eval(t, tab, `document.getElementById("logout-form").requestSubmit()`) // fires submit, as a press of the button does
	reason, login, retry = deadState("logged out in another tab")
	if !strings.Contains(reason, "退出登录") || !login || retry {
		t.Errorf("logged out in another tab: reason %q, 重新登录 shown %v, 重试 shown %v", reason, login, retry)
	}
	cancelTab()

	// A new session; the licence is suspended while its code is shown: the refresh is refused.
	relogin()
	must(t, chromedp.Do(ctx, chromedp.Navigate(showResident)))
	if !live() {
		t.Fatal("the code page does not show a live code after the new login")
	}
	bw.setStatus(t, credentials.ResidentID, credentials.StatusSuspended)
	eval(t, ctx, `document.dispatchEvent(new Event("visibilitychange"))`)
	reason, login, retry = deadState("refused")
	if !strings.Contains(reason, "暂扣") || login || retry {
		t.Errorf("refused: reason %q, 重新登录 shown %v", reason, login)
	}
	bw.setStatus(t, credentials.ResidentID, credentials.StatusValid)

	// The code's time runs out with no refresh (the clock jumps as after a sleep; the wallet
	// unreachable): the code goes, with 重试.
	must(t, chromedp.Do(ctx, chromedp.Navigate(showResident)))
	if !live() {
		t.Fatal("no live code")
	}
	eval(t, ctx, `window.fetch = () => Promise.reject(new TypeError("offline"))`)
	eval(t, ctx, `document.dispatchEvent(new Event("visibilitychange"))`)
	waitFor(t, ctx, "the offline warning", `document.getElementById("code-status").textContent.includes("网络")`)
	if !live() {
		t.Error("offline: the code, still valid, was taken off")
	}
	eval(t, ctx, `(() => { const real = Date.now; Date.now = () => real() + 61000 })()`)
	reason, login, retry = deadState("expired")
	if !strings.Contains(reason, "已过期") || login || !retry {
		t.Errorf("expired: reason %q, 重新登录 %v, 重试 %v", reason, login, retry)
	}
	bw.b.Screenshot(ctx, "expired")
}
