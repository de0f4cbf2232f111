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
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/internal/browsertest"
	"github.com/tongban/tongban/qr/qrtest"
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

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }
func jsInt(n int) string       { b, _ := json.Marshal(n); return string(b) }

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

// shiftClock makes the page in ctx see a clock minutes ahead (Date, which Go's WebAssembly
// reads the time from), as a counter whose clock is wrong, or a code shown too late.
func shiftClock(t *testing.T, ctx context.Context, ahead time.Duration) {
	t.Helper()
	src := `(() => { const shift = ` + jsInt(int(ahead/time.Millisecond)) + `; const D = Date;
		class Shifted extends D { constructor(...a) { if (a.length === 0) { super(D.now() + shift); } else { super(...a); } }
			static now() { return D.now() + shift; } }
		globalThis.Date = Shifted; })();`
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
		t.Fatal(err)
	}
}

// TestVerifierBrowser is the counter verifier in headless Chromium: it reads the code the
// wallet shows in another tab through a fake camera (a Y4M video of the wallet's code PNG) and
// says 有效; rejects the same code after a reload (replayed: the replay cache lives in
// IndexedDB), a code with one signature bit flipped, an expired code (a clock 5 minutes
// ahead), and a replayed code typed by a keyboard-wedge scanner; and keeps verifying with the
// wallet's server stopped, from the service worker's cache. Screenshots in Chinese and English
// at 390 and 1280 px.
func TestVerifierBrowser(t *testing.T) {
	start := time.Now()
	defer func() { t.Logf("took %s", time.Since(start)) }()
	w := newWorld(t)
	t.Logf("world in %s", time.Since(start))
	hb := wallettest.NewBrowser(t)
	if p := hb.LoginAndConsent(hb.Get(w.wal.URL+"/login"), citizen, password); p.Status != 200 {
		t.Fatalf("login: %d", p.Status)
	}
	recs, err := w.svc.Licences(context.Background(), citizen)
	must(t, err)
	var residentID string
	for _, r := range recs {
		if r.Licence.Kind == credentials.ResidentID {
			residentID = r.ID
		}
	}

	video := filepath.Join(t.TempDir(), "camera.y4m")
	b := browsertest.StartWith(t,
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video),
	)

	// The wallet's tab: the citizen shows the resident ID card's code.
	wallet := b.Context(browsertest.Phone, 90*time.Second)
	u, _ := url.Parse(w.wal.URL)
	for _, ck := range hb.Client.Jar.Cookies(u) {
		if _, err := chromedp.Call(wallet, network.SetCookie, network.SetCookieParams{Name: ck.Name, Value: ck.Value, URL: w.wal.URL}); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(wallet, chromedp.Navigate(w.wal.URL+"/show?l="+url.QueryEscape(residentID)),
		chromedp.WaitVisible(chromedp.CSS(`img[src^="data:image/png"]`))); err != nil {
		t.Fatal(err)
	}
	dataURL, err := chromedp.Run(wallet, chromedp.Evaluate[string](`document.querySelector('img[src^="data:image/png"]').src`))
	must(t, err)
	pngBytes, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(dataURL, "data:image/png;base64,"))
	must(t, err)
	img, err := png.Decode(bytes.NewReader(pngBytes))
	must(t, err)
	must(t, browsertest.WriteY4M(video, 640, 480, img))
	t.Logf("wallet tab done at %s", time.Since(start))

	// The counter's tab, a phone: the camera reads the code, the verdict is 有效.
	c := &counter{t: t, b: b, ctx: b.Context(browsertest.Phone, 180*time.Second), url: w.wal.URL + "/verify/"}
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
	if cam, _ := chromedp.Run(c.ctx, chromedp.Evaluate[string](`document.body.dataset.camera`)); cam == "" {
		t.Error("camera not started")
	}
	browsertest.CheckFits(t, c.ctx, browsertest.Phone)
	b.Screenshot(c.ctx, "verify-valid-zh-390")
	c.saved(2)

	// Reloaded, the page still knows the code: the camera's next read is a replay.
	must(t, chromedp.Do(c.ctx, chromedp.Reload()))
	c.waitReady()
	if v := c.camera(); v != "replayed" {
		t.Fatalf("camera after reload: verdict %q:\n%s", v, c.text())
	}
	if s := c.text(); !strings.Contains(s, "无效") || !strings.Contains(s, "已被核验过") {
		t.Errorf("replayed panel:\n%s", s)
	}
	b.Screenshot(c.ctx, "verify-replayed-zh-390")

	// The keyboard wedge: a fresh code, the same again, and one with a flipped signature bit.
	code := freshCode(t, hb, w.wal.URL, residentID)
	if v := c.wedge(qrtest.FlipSignatureBit(code, 20)); v != "bad_signature" {
		t.Errorf("tampered: %q", v)
	}
	if v := c.typed(code); v != "valid" {
		t.Errorf("typed by the scanner: %q:\n%s", v, c.text())
	}
	if v := c.wedge(code); v != "replayed" {
		t.Errorf("wedge again: %q", v)
	}
	if v := c.wedge("hello"); v != "bad_prefix" {
		t.Errorf("not a code: %q", v)
	}

	// English, on a desktop screen.
	desk := &counter{t: t, b: b, ctx: b.Context(browsertest.Desktop, 180*time.Second), url: c.url}
	must(t, chromedp.Do(desk.ctx, chromedp.Navigate(c.url+"?lang=en")))
	desk.waitReady()
	desk.camera() // whatever the camera sees first, before the scanner
	if v := desk.wedge(freshCode(t, hb, w.wal.URL, residentID)); v != "valid" {
		t.Fatalf("desktop: %q", v)
	}
	if s := desk.text(); !strings.Contains(s, "VALID") || !strings.Contains(s, "Resident") {
		t.Errorf("English panel:\n%s", s)
	}
	browsertest.CheckFits(t, desk.ctx, browsertest.Desktop)
	b.Screenshot(desk.ctx, "verify-valid-en-1280")
	must(t, chromedp.Do(desk.ctx, chromedp.Click(chromedp.ID("lang"))))
	b.Screenshot(desk.ctx, "verify-valid-zh-1280")
	desk.wedge(qrtest.FlipSignatureBit(freshCode(t, hb, w.wal.URL, residentID), 0))
	b.Screenshot(desk.ctx, "verify-invalid-zh-1280")
	must(t, chromedp.Do(c.ctx, chromedp.Click(chromedp.ID("lang"))))
	b.Screenshot(c.ctx, "verify-invalid-en-390")

	// A counter whose clock is 5 minutes ahead: a fresh code has expired.
	late := &counter{t: t, b: b, ctx: b.Context(browsertest.Phone, 180*time.Second), url: c.url}
	shiftClock(t, late.ctx, 5*time.Minute)
	must(t, chromedp.Do(late.ctx, chromedp.Navigate(c.url)))
	late.waitReady()
	if v := late.camera(); v != "expired" {
		t.Errorf("5 minutes late, the camera's code: %q", v)
	}
	if v := late.wedge(freshCode(t, hb, w.wal.URL, residentID)); v != "expired" {
		t.Errorf("5 minutes late: %q", v)
	}

	// The network cut: the wallet's server stops; the page reloads from the service worker's
	// cache, with the trust list it saved, and verifies a code minted before.
	offline := freshCode(t, hb, w.wal.URL, residentID)
	if _, err := chromedp.Run(c.ctx, chromedp.Poll[bool](`navigator.serviceWorker.controller !== null`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("no service worker controls the page: %v", err)
	}
	w.wal.CloseClientConnections()
	w.wal.Close()
	if _, err := http.Get(w.wal.URL + "/verify/"); err == nil {
		t.Fatal("the wallet still answers")
	}
	must(t, chromedp.Do(c.ctx, chromedp.Reload()))
	c.waitReady()
	c.camera()
	if v := c.wedge(offline); v != "valid" {
		t.Errorf("offline: %q:\n%s", v, c.text())
	}
	if s, _ := chromedp.Run(c.ctx, chromedp.Evaluate[string](`document.getElementById("net-state").textContent`)); !strings.Contains(s, "Offline") {
		t.Errorf("network state %q", s)
	}
	b.Screenshot(c.ctx, "verify-offline-en-390")
}
