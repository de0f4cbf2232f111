package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/internal/browsertest"
	"github.com/tongban/tongban/qr/qrtest"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/wallet"
	"github.com/tongban/tongban/wallet/wallettest"
)

// counter is the browser verifier at /verify/ open in one tab.
type counter struct {
	t   *testing.T
	b   *browsertest.Browser
	ctx context.Context
	url string
}

// waitReady waits until the page has started its verifier and loaded a trust list.
func (c *counter) waitReady() {
	c.t.Helper()
	defer func(start time.Time) { c.t.Logf("page ready in %s", time.Since(start)) }(time.Now())
	if _, err := chromedp.Run(c.ctx, chromedp.Poll[bool](`document.body.dataset.ready === "1" && document.body.dataset.trust !== ""`,
		chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		state, _ := chromedp.Run(c.ctx, chromedp.Evaluate[string](`document.body.dataset.ready + " " + document.getElementById("verdict-reason").textContent + " " + document.getElementById("trust").textContent`))
		c.t.Fatalf("verifier page not ready: %v (%s)", err, state)
	}
}

// camera waits until the camera has read a code and returns the verdict: "valid" or the
// reason code.
func (c *counter) camera() string {
	c.t.Helper()
	defer func(start time.Time) { c.t.Logf("camera verdict in %s", time.Since(start)) }(time.Now())
	v, err := chromedp.Run(c.ctx, chromedp.Poll[string](`document.body.dataset.verdictCamera || false`,
		chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		c.t.Fatalf("the camera read no code: %v", err)
	}
	return v
}

// wedge types text into the scanner field and Enter, as a keyboard-wedge scanner does, and
// returns the verdict. Typing 400 characters through DevTools takes seconds; wedge puts
// them in the field and types only the Enter, typed types them all.
func (c *counter) wedge(text string) string {
	c.t.Helper()
	must(c.t, chromedp.Do(c.ctx, chromedp.SetValue(chromedp.ID("code-input"), text)))
	return c.typed("")
}

// typed types text and Enter into the scanner field and returns the verdict.
func (c *counter) typed(text string) string {
	c.t.Helper()
	defer func(start time.Time) { c.t.Logf("wedge verdict in %s", time.Since(start)) }(time.Now())
	n, err := chromedp.Run(c.ctx, chromedp.Evaluate[int](`Number(document.body.dataset.wedgeCount || 0)`))
	must(c.t, err)
	must(c.t, chromedp.Do(c.ctx, chromedp.SendKeys(chromedp.ID("code-input"), text+"\r")))
	v, err := chromedp.Run(c.ctx, chromedp.Poll[string](`Number(document.body.dataset.wedgeCount || 0) > `+jsInt(n)+` && document.body.dataset.verdictWedge`,
		chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		c.t.Fatalf("no verdict: %v", err)
	}
	return v
}

// text returns the verdict panel's text.
func (c *counter) text() string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`document.getElementById("verdict").innerText`))
	if err != nil {
		c.t.Fatal(err)
	}
	return s
}

// saved waits until the page has saved its state at least n times.
func (c *counter) saved(n int) {
	c.t.Helper()
	if _, err := chromedp.Run(c.ctx, chromedp.Poll[bool](`Number(document.body.dataset.saves || 0) >= `+jsInt(n))); err != nil {
		c.t.Fatalf("state not saved: %v", err)
	}
}

func jsInt(n int) string { b, _ := json.Marshal(n); return string(b) }

// eval evaluates the JavaScript expression js, whose value is a string, in the page.
func (c *counter) eval(js string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		c.t.Fatalf("%s: %v", js, err)
	}
	return s
}

// poll waits until the JavaScript expression js is true in the page; what says what for the
// failure.
func (c *counter) poll(js, what string) {
	c.t.Helper()
	if _, err := chromedp.Run(c.ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		state, _ := chromedp.Run(c.ctx, chromedp.Evaluate[string](`JSON.stringify(document.body.dataset) + " " + document.getElementById("counter").innerText`))
		c.t.Fatalf("%s: %v (%s)", what, err, state)
	}
}

// pollAcrossReload is poll for a page that reloads meanwhile: an evaluation that fails because
// the page is being replaced is tried again.
func (c *counter) pollAcrossReload(js, what string) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// setOffline cuts the tab's network (off) or gives it back, as the browser sees it: requests
// fail, navigator.onLine and the online and offline events follow.
func (c *counter) setOffline(off bool) {
	c.t.Helper()
	if _, err := chromedp.Call(c.ctx, network.Enable, network.EnableParams{}); err != nil {
		c.t.Fatal(err)
	}
	if _, err := chromedp.Call(c.ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}}}); err != nil {
		c.t.Fatal(err)
	}
	if _, err := chromedp.Call(c.ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		c.t.Fatal(err)
	}
}

// resize gives the tab the viewport v, as another device would have.
func (c *counter) resize(v browsertest.Viewport) {
	c.t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(v.Scale)}
	if v.Mobile {
		opts = append(opts, chromedp.EmulateMobile)
	}
	must(c.t, chromedp.Do(c.ctx, chromedp.EmulateViewport(v.Width, v.Height, opts...)))
}

// waitReceipt waits until the wallet has stored the receipt of counter ctr for the code whose
// cti (base64url) is cti.
func (c *counter) waitReceipt(what string, receipts func(string) []storage.CodeReceipt, cti, ctr string) {
	c.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if rcs := receipts(cti); len(rcs) > 0 {
			if len(rcs) != 1 || rcs[0].CounterID != ctr {
				c.t.Errorf("%s: receipts %+v, want one of counter %s", what, rcs, ctr)
			}
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: no receipt arrived; page %s", what, c.eval(`JSON.stringify(document.body.dataset)`))
		}
	}
}

// freshCode asks the wallet for a new code of licence id, as the code page's refresh does.
func freshCode(t *testing.T, b *wallettest.Browser, base, id string) string {
	t.Helper()
	var cj struct{ Text string }
	p := b.Get(base + "/code.json?l=" + url.QueryEscape(id))
	if p.Status != 200 || json.Unmarshal([]byte(p.Body), &cj) != nil || !strings.HasPrefix(cj.Text, "LZ1:") {
		t.Fatalf("code.json: %d %s", p.Status, p.Body)
	}
	return cj.Text
}

// TestVerifierBrowser is the counter verifier in headless Chromium, in one tab that changes
// size and language as it goes (one browser, one first load of the WebAssembly verifier):
//
//   - the camera reads the code the wallet shows in another tab through a fake camera (a Y4M
//     video of the wallet's code PNG) and says 有效; the counter is not enrolled, so the page
//     offers its enrolment and sends nothing; after a reload the camera's code is replayed
//     (the replay cache lives in IndexedDB);
//   - the counter enrols with the one-time code an operator made (wallet counters add): a
//     wrong code is refused with the reason, the right one names the counter;
//   - the keyboard-wedge scanner: a code with one signature bit flipped is refused, a fresh code
//     typed key by key is valid and its receipt reaches the wallet, whose record page shows the
//     holder "verified at" the counter; the same code again is replayed;
//   - with the network cut a valid code's receipt waits in the queue (shown on the page) and
//     arrives when the network is back;
//   - English at 1280 px and 390 px; a clock 5 minutes ahead finds a fresh code expired;
//   - with the wallet's server stopped the page reloads from the service worker's cache (with
//     receipts.js) and still verifies.
//
// Every state is checked for fit (CheckFits) and by axe-core (CheckA11y), with screenshots in
// Chinese and English at 390 and 1280 px.
func TestVerifierBrowser(t *testing.T) {
	start := time.Now()
	step := func(what string) { t.Helper(); t.Logf("%5.1fs %s", time.Since(start).Seconds(), what) }
	w := newWorld(t)
	ctx := context.Background()
	// The operator adds the counter (wallet counters add) and gives its staff the code.
	ctr, enrolCode, err := w.svc.AddCounter(ctx, wallet.NewCounter{Name: "3号窗口", Office: "朝阳区政务服务中心"}, audit.Shell)
	must(t, err)
	hb := wallettest.NewBrowser(t)
	if p := hb.LoginAndConsent(hb.Get(w.wal.URL+"/login"), citizen, password); p.Status != 200 {
		t.Fatalf("login: %d", p.Status)
	}
	recs, err := w.svc.Licences(ctx, citizen)
	must(t, err)
	var residentID string
	for _, r := range recs {
		if r.Licence.Kind == credentials.ResidentID {
			residentID = r.ID
		}
	}
	fresh := func() string { t.Helper(); return freshCode(t, hb, w.wal.URL, residentID) }
	receipts := func(ctiB64 string) []storage.CodeReceipt {
		t.Helper()
		cti, err := base64.RawURLEncoding.DecodeString(ctiB64)
		if err != nil || len(cti) != 8 {
			t.Fatalf("the page's cti %q: %v", ctiB64, err)
		}
		rcs, err := w.store.ListCodeReceipts(ctx, [][]byte{cti})
		must(t, err)
		return rcs
	}
	step("world")

	video := filepath.Join(t.TempDir(), "camera.y4m")
	b := browsertest.StartWith(t,
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video),
	)

	// The wallet's tab: the citizen shows the resident ID card's code.
	walletTab := b.Context(browsertest.Phone, 120*time.Second)
	u, _ := url.Parse(w.wal.URL)
	for _, ck := range hb.Client.Jar.Cookies(u) {
		if _, err := chromedp.Call(walletTab, network.SetCookie, network.SetCookieParams{Name: ck.Name, Value: ck.Value, URL: w.wal.URL}); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(walletTab, chromedp.Navigate(w.wal.URL+"/show?l="+url.QueryEscape(residentID)),
		chromedp.WaitVisible(chromedp.CSS(`img[src^="data:image/png"]`))); err != nil {
		t.Fatal(err)
	}
	dataURL, err := chromedp.Run(walletTab, chromedp.Evaluate[string](`document.querySelector('img[src^="data:image/png"]').src`))
	must(t, err)
	pngBytes, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(dataURL, "data:image/png;base64,"))
	must(t, err)
	img, err := png.Decode(bytes.NewReader(pngBytes))
	must(t, err)
	must(t, browsertest.WriteY4M(video, 640, 480, img))
	step("wallet tab")

	// The counter's tab, a phone: the camera reads the code, the verdict is 有效.
	c := &counter{t: t, b: b, ctx: b.Context(browsertest.Phone, 240*time.Second), url: w.wal.URL + "/verify/"}
	resp, err := chromedp.RunResponse(c.ctx, chromedp.Navigate(w.wal.URL+"/verify"))
	must(t, err)
	if resp.Status != 200 || resp.URL != c.url {
		t.Fatalf("/verify: %d %s", resp.Status, resp.URL)
	}
	if csp, _ := resp.Headers["Content-Security-Policy"].(string); !strings.Contains(csp, "'wasm-unsafe-eval'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	c.waitReady()
	if v := c.camera(); v != "valid" {
		t.Fatalf("camera: verdict %q:\n%s", v, c.text())
	}
	if s := c.text(); !strings.Contains(s, "有效") || !strings.Contains(s, "林*彤") || !strings.Contains(s, "110101********002X") || strings.Contains(s, citizen) {
		t.Errorf("verdict panel:\n%s", s)
	}
	if cam := c.eval(`document.body.dataset.camera`); cam == "" {
		t.Error("camera not started")
	}
	// 127.0.0.1 is a secure context: no warning about plain http.
	if s := c.eval(`String(document.getElementById("insecure").hidden) + (document.body.dataset.insecure || "")`); s != "true" {
		t.Errorf("the insecure-page warning on a secure page: %q", s)
	}
	// Not enrolled: the valid verdict opened the enrolment form (leaving the scanner's field
	// alone) and sent no receipt.
	c.poll(`document.body.dataset.counter === "none" && document.getElementById("tongban-enrol-code") !== null`, "the enrolment form after a valid verdict")
	if s := c.eval(`document.getElementById("counter").innerText`); !strings.Contains(s, "未登记") || !strings.Contains(s, "登记码") {
		t.Errorf("counter panel, not enrolled:\n%s", s)
	}
	if a := c.eval(`document.activeElement ? document.activeElement.id : ""`); a == "tongban-enrol-code" {
		t.Error("the enrolment form took the focus a verdict left")
	}
	firstCTI := c.eval(`document.body.dataset.cti`)
	browsertest.CheckFits(t, c.ctx, browsertest.Phone)
	browsertest.CheckA11y(t, c.ctx, "verifier, valid, enrolment form, zh 390", browsertest.A11yOptions{})
	b.Screenshot(c.ctx, "verify-valid-zh-390")
	c.saved(2)
	step("camera valid")

	// Reloaded, the page still knows the code: the camera's next read is a replay.
	must(t, chromedp.Do(c.ctx, chromedp.Reload()))
	c.waitReady()
	if v := c.camera(); v != "replayed" {
		t.Fatalf("camera after reload: verdict %q:\n%s", v, c.text())
	}
	if s := c.text(); !strings.Contains(s, "无效") || !strings.Contains(s, "已被核验过") {
		t.Errorf("replayed panel:\n%s", s)
	}
	c.poll(`document.body.dataset.counter === "none"`, "the counter panel")
	b.Screenshot(c.ctx, "verify-replayed-zh-390")

	// The verdict shows only once the replay cache is saved: a page reloaded the moment 有效
	// appears still refuses the code. (A MutationObserver notes the saves when the verdict
	// appears: the save comes first, or the reload could lose the code.)
	c.eval(`(() => { window.savesAtVerdict = [];
		new MutationObserver(() => window.savesAtVerdict.push(Number(document.body.dataset.saves || 0)))
			.observe(document.body, { attributes: true, attributeFilter: ["data-wedge-count"] }); return ""; })()`)
	savesBefore, _ := strconv.Atoi(c.eval(`String(document.body.dataset.saves || 0)`))
	quick := fresh()
	if v := c.wedge(quick); v != "valid" {
		t.Fatalf("before the quick reload: %q", v)
	}
	if at, _ := strconv.Atoi(c.eval(`String(window.savesAtVerdict[0])`)); at <= savesBefore {
		t.Errorf("the verdict showed after %d saves, no more than before it (%d): the code was not saved yet", at, savesBefore)
	}
	must(t, chromedp.Do(c.ctx, chromedp.Reload()))
	c.waitReady()
	if v := c.wedge(quick); v != "replayed" {
		t.Errorf("reloaded at once after 有效: %q", v)
	}
	step("reload, replayed")

	// Enrol: 柜台登记 opens the form; a wrong code is refused with the reason, a licence code
	// scanned into it by mistake goes nowhere, the operator's code enrols the counter.
	must(t, chromedp.Do(c.ctx, chromedp.Click(chromedp.ID("counter-enrol-button")),
		chromedp.WaitVisible(chromedp.ID("tongban-enrol-code"))))
	enrolWith := func(code string) {
		t.Helper()
		must(t, chromedp.Do(c.ctx, chromedp.SetValue(chromedp.ID("tongban-enrol-code"), code),
			chromedp.Click(chromedp.CSS(".tongban-enrol-submit"))))
	}
	enrolWith("AAAA-BBBB-CCCC-DDDD")
	c.poll(`/没有这个登记码/.test(document.getElementById("tongban-enrol-msg").textContent)`, "the refusal of a wrong enrolment code")
	enrolWith(fresh())
	c.poll(`/不是登记码/.test(document.getElementById("tongban-enrol-msg").textContent)`, "the refusal of a licence code as enrolment code")
	if v := c.eval(`document.getElementById("tongban-enrol-code").value`); v != "" {
		t.Errorf("the licence code stays in the enrolment field: %q", v)
	}
	must(t, chromedp.Do(c.ctx, chromedp.SendKeys(chromedp.ID("tongban-enrol-code"), strings.ToLower(enrolCode)+"\r")))
	c.poll(`document.body.dataset.counter === "enrolled" && document.getElementById("tongban-enrol") === null`, "the enrolment")
	if s := c.eval(`document.getElementById("counter").innerText`); !strings.Contains(s, "已登记：朝阳区政务服务中心 · 3号窗口") || strings.Contains(s, "柜台登记") {
		t.Errorf("counter panel, enrolled:\n%s", s)
	}
	if rcs := receipts(firstCTI); len(rcs) != 0 {
		t.Errorf("a receipt for a code verified before the enrolment: %v", rcs)
	}
	b.Screenshot(c.ctx, "counter-enrolled-zh-390")
	step("enrolled")

	// The keyboard wedge: a tampered code; a fresh code typed key by key, whose receipt reaches
	// the wallet; the same again; not a code.
	if v := c.wedge(qrtest.FlipSignatureBit(fresh(), 20)); v != "bad_signature" {
		t.Errorf("tampered: %q", v)
	}
	code := fresh()
	if v := c.typed(code); v != "valid" {
		t.Errorf("typed by the scanner: %q:\n%s", v, c.text())
	}
	cti := c.eval(`document.body.dataset.cti`)
	c.waitReceipt("online", receipts, cti, ctr.ID)
	if v := c.wedge(code); v != "replayed" {
		t.Errorf("wedge again: %q", v)
	}
	if v := c.wedge("hello"); v != "bad_prefix" {
		t.Errorf("not a code: %q", v)
	}
	step("wedge, receipt")

	// The holder's record page, in the wallet's tab: the code, verified at the counter.
	must(t, chromedp.Do(walletTab, chromedp.Navigate(w.wal.URL+"/records")))
	if s, err := chromedp.Run(walletTab, chromedp.Evaluate[string](`document.body.innerText`)); err != nil || !strings.Contains(s, "朝阳区政务服务中心 · 3号窗口") {
		t.Errorf("record page: %v\n%s", err, s)
	}
	b.Screenshot(walletTab, "record-zh-390")
	step("record page")

	// The network cut: a valid code's receipt waits in the queue, shown on the page, and
	// arrives when the network is back.
	c.setOffline(true)
	if v := c.wedge(fresh()); v != "valid" {
		t.Errorf("offline: %q", v)
	}
	queued := c.eval(`document.body.dataset.cti`)
	c.poll(`document.body.dataset.queued === "1"`, "one receipt queued")
	if s := c.eval(`document.getElementById("counter-queue").innerText`); !strings.Contains(s, "待发送回执：1 条") || !strings.Contains(s, "离线") {
		t.Errorf("queue shown: %q", s)
	}
	browsertest.CheckFits(t, c.ctx, browsertest.Phone)
	b.Screenshot(c.ctx, "verify-queued-zh-390")
	if rcs := receipts(queued); len(rcs) != 0 {
		t.Fatalf("a receipt arrived with the network cut: %v", rcs)
	}
	c.setOffline(false)
	c.waitReceipt("back online", receipts, queued, ctr.ID)
	c.poll(`document.body.dataset.queued === "0" && document.getElementById("counter-queue").hidden`, "the queue emptied")
	step("offline receipt")

	// English, on a desktop screen, then Chinese.
	c.resize(browsertest.Desktop)
	must(t, chromedp.Do(c.ctx, chromedp.Click(chromedp.ID("lang"))))
	if v := c.wedge(fresh()); v != "valid" {
		t.Fatalf("desktop: %q", v)
	}
	if s := c.text(); !strings.Contains(s, "VALID") || !strings.Contains(s, "Resident") {
		t.Errorf("English panel:\n%s", s)
	}
	if s := c.eval(`document.getElementById("counter").innerText`); !strings.Contains(s, "Enrolled: 朝阳区政务服务中心 · 3号窗口") {
		t.Errorf("English counter panel:\n%s", s)
	}
	browsertest.CheckFits(t, c.ctx, browsertest.Desktop)
	browsertest.CheckA11y(t, c.ctx, "verifier, valid, en 1280", browsertest.A11yOptions{})
	b.Screenshot(c.ctx, "verify-valid-en-1280")
	must(t, chromedp.Do(c.ctx, chromedp.Click(chromedp.ID("lang"))))
	b.Screenshot(c.ctx, "verify-valid-zh-1280")
	c.wedge(qrtest.FlipSignatureBit(fresh(), 0))
	b.Screenshot(c.ctx, "verify-invalid-zh-1280")
	c.resize(browsertest.Phone)
	must(t, chromedp.Do(c.ctx, chromedp.Click(chromedp.ID("lang"))))
	browsertest.CheckFits(t, c.ctx, browsertest.Phone)
	browsertest.CheckA11y(t, c.ctx, "verifier, invalid, en 390", browsertest.A11yOptions{})
	b.Screenshot(c.ctx, "verify-invalid-en-390")
	narrow := browsertest.Viewport{Width: 320, Height: 640, Scale: 2, Mobile: true}
	c.resize(narrow)
	browsertest.CheckFits(t, c.ctx, narrow)
	b.Screenshot(c.ctx, "verify-invalid-en-320")
	// Enter on an empty scanner field takes the last verdict down: nothing stale stays up.
	must(t, chromedp.Do(c.ctx, chromedp.SendKeys(chromedp.ID("code-input"), "\r")))
	c.poll(`document.body.dataset.verdict === ""`, "the verdict taken down by an empty Enter")
	// 200 % text at 320 px (WCAG 1.4.10, 1.4.4), in both languages.
	must(t, browsertest.TextZoom(c.ctx, 200))
	for range 2 {
		must(t, chromedp.Do(c.ctx, chromedp.Reload()))
		c.waitReady()
		browsertest.CheckFits(t, c.ctx, narrow)
		browsertest.CheckLines(t, c.ctx, "verifier 320 px, 200 % text, ready")
		if v := c.wedge(fresh()); v != "valid" {
			t.Fatalf("320 px, 200 %% text: %q", v)
		}
		browsertest.CheckLines(t, c.ctx, "verifier 320 px, 200 % text")
		browsertest.CheckWords(t, c.ctx, "verifier 320 px, 200 % text")
		b.Screenshot(c.ctx, "verify-320-zoom200-"+c.eval(`document.documentElement.lang`))
		must(t, chromedp.Do(c.ctx, chromedp.Click(chromedp.ID("lang"))))
	}
	must(t, browsertest.TextZoom(c.ctx, 100))
	must(t, chromedp.Do(c.ctx, chromedp.Reload()))
	c.waitReady()
	c.resize(browsertest.Phone)
	step("desktop, languages")

	// A second tab of the verifier on the same device does not verify: it says the verifier is
	// open elsewhere and offers to take over. Taking over, it starts from the state the first
	// tab saved (a code the first tab accepted is a replay), and the first tab stops.
	seen := fresh()
	if v := c.wedge(seen); v != "valid" {
		t.Fatalf("before the second tab: %q", v)
	}
	c.saved(1)
	ctx2, cancel2 := chromedp.NewContext(c.ctx)
	defer cancel2()
	must(t, chromedp.Do(ctx2, chromedp.EmulateViewport(browsertest.Phone.Width, browsertest.Phone.Height, chromedp.EmulateScale(browsertest.Phone.Scale), chromedp.EmulateMobile)))
	tab2 := &counter{t: t, b: b, ctx: ctx2, url: c.url}
	must(t, chromedp.Do(tab2.ctx, chromedp.Navigate(c.url)))
	tab2.poll(`document.body.dataset.tab === "elsewhere"`, "the second tab sees the first")
	if s := tab2.eval(`document.getElementById("elsewhere").innerText`); !strings.Contains(s, "Another tab or window") || !strings.Contains(s, "Verify in this tab") {
		t.Errorf("second tab's notice:\n%s", s)
	}
	if d := tab2.eval(`String(document.getElementById("code-input").disabled) + document.body.dataset.ready`); d != "trueundefined" {
		t.Errorf("second tab: scanner field disabled, engine started: %q", d)
	}
	// Nothing that would pass for a live verifier: no verdict panel, camera or scanner field.
	if s := tab2.eval(`document.querySelector("main").innerText`); strings.Contains(s, "Ready to scan") || strings.Contains(s, "Scanner") {
		t.Errorf("second tab shows a verifier:\n%s", s)
	}
	browsertest.CheckFits(t, tab2.ctx, browsertest.Phone)
	browsertest.CheckA11y(t, tab2.ctx, "verifier, open elsewhere, en 390", browsertest.A11yOptions{})
	b.Screenshot(tab2.ctx, "verify-elsewhere-en-390")
	must(t, chromedp.Do(tab2.ctx, chromedp.Click(chromedp.ID("elsewhere-take"))))
	c.poll(`document.body.dataset.tab === "moved"`, "the first tab stops")
	tab2.pollAcrossReload(`document.body.dataset.tab === "held"`, "the second tab reloads and holds the verifier")
	tab2.waitReady()
	if v := tab2.wedge(seen); v != "replayed" {
		t.Errorf("second tab, the first tab's code: %q", v)
	}
	if s, d := c.eval(`document.getElementById("elsewhere").innerText`), c.eval(`String(document.getElementById("code-input").disabled)`); !strings.Contains(s, "has moved") || d != "true" {
		t.Errorf("first tab after the take-over (scanner disabled %s):\n%s", d, s)
	}
	if s := c.eval(`document.querySelector("main").innerText`); strings.Contains(s, "VALID") || strings.Contains(s, "Scanner") {
		t.Errorf("first tab still shows a verifier after the take-over:\n%s", s)
	}
	b.Screenshot(c.ctx, "verify-moved-en-390")
	// And back: the first tab takes over again and carries on.
	must(t, chromedp.Do(c.ctx, chromedp.Click(chromedp.ID("elsewhere-take"))))
	tab2.poll(`document.body.dataset.tab === "moved"`, "the second tab stops")
	c.pollAcrossReload(`document.body.dataset.tab === "held"`, "the first tab reloads and holds the verifier again")
	c.waitReady()
	cancel2()
	step("second tab")

	// A counter whose clock is 5 minutes ahead: a fresh code has expired. (The verifier reads
	// the time from Date at each call, so the clock is moved in the running page.)
	c.eval(`(() => { const D = Date, shift = 5 * 60 * 1000; window.realDate = D;
		globalThis.Date = class extends D { constructor(...a) { if (a.length === 0) { super(D.now() + shift); } else { super(...a); } }
			static now() { return D.now() + shift; } }; return ""; })()`)
	if v := c.wedge(fresh()); v != "expired" {
		t.Errorf("5 minutes late: %q", v)
	}
	c.eval(`(() => { globalThis.Date = window.realDate; return ""; })()`)
	step("clock ahead")

	// The wallet's server stopped: the page reloads from the service worker's cache, with the
	// trust list it saved and receipts.js, verifies a code minted before, and keeps its receipt.
	offline := fresh()
	c.poll(`navigator.serviceWorker.controller !== null`, "a service worker controlling the page")
	w.wal.CloseClientConnections()
	w.wal.Close()
	if _, err := http.Get(w.wal.URL + "/verify/"); err == nil {
		t.Fatal("the wallet still answers")
	}
	must(t, chromedp.Do(c.ctx, chromedp.Reload()))
	c.waitReady()
	// The camera still shows the first code. The counter 5 minutes ahead forgot it (its replay
	// entry had run out on that clock), so on the right clock it is valid again while it lasts
	// and queues a receipt of its own; wait for that before counting.
	wantQueued := 1
	if v := c.camera(); v == "valid" {
		c.poll(`document.body.dataset.queued === "1"`, "the camera code's receipt queued")
		wantQueued = 2
	}
	if v := c.wedge(offline); v != "valid" {
		t.Errorf("offline: %q:\n%s", v, c.text())
	}
	if s := c.eval(`document.getElementById("net-state").textContent`); !strings.Contains(s, "Offline") {
		t.Errorf("network state %q", s)
	}
	c.poll(`document.body.dataset.counter === "enrolled" && document.body.dataset.queued === "`+strconv.Itoa(wantQueued)+`"`, "the receipt queued while the wallet is down")
	// The browser thinks it is online but the wallet does not answer: the panel says so in
	// plain words, not the browser's error.
	c.poll(`/cannot be reached/.test(document.getElementById("counter-queue").textContent)`, "the queue says the wallet cannot be reached")
	if s := c.eval(`document.getElementById("counter").innerText`); strings.Contains(s, "TypeError") || strings.Contains(s, "fetch") {
		t.Errorf("counter panel with the wallet down:\n%s", s)
	}
	b.Screenshot(c.ctx, "verify-offline-en-390")
	step("server stopped")
}
