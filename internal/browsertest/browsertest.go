// Package browsertest starts headless Chromium (Debian's chromium, driven by
// github.com/chromedp/chromedp) for the tests of pages: the provider's login and account pages,
// passkeys through the DevTools WebAuthn domain's virtual authenticator, scan-to-login in two
// browser contexts.
//
// Chromium is found at $TONGBAN_CHROMIUM, else /usr/bin/chromium, else chromium or
// chromium-browser on PATH. Without it the tests skip — unless TONGBAN_REQUIRE_CHROMIUM=1 (set by
// .ci/run, which installs Debian's chromium), when they fail.
//
// Screenshots go to $TONGBAN_SCREENSHOTS/<test name>/ when that is set, else to a folder under
// the test's temporary directory; Screenshot logs the path of every file it writes so that a
// person can look at it.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Phone and Desktop are the viewport sizes pages are tested at, in CSS pixels.
var (
	Phone   = Viewport{390, 844, 3, true}
	Desktop = Viewport{1280, 800, 1, false}
)

// Viewport is a browser window size in CSS pixels, its device scale factor and whether it is
// a mobile device (touch, mobile viewport meta honoured).
type Viewport struct {
	Width, Height int64
	Scale         float64
	Mobile        bool
}

// Path returns the Chromium executable, or "" when there is none.
func Path() string {
	if p := os.Getenv("TONGBAN_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser is one headless Chromium process. Each Context is a separate browser context (its
// own cookies and storage: an incognito profile), so two contexts are two people's browsers.
type Browser struct {
	t        testing.TB
	alloc    context.Context
	root     context.Context
	shotsDir string
}

// Start starts Chromium for t and stops it at t's cleanup. It skips t when Chromium is missing
// (fails it with TONGBAN_REQUIRE_CHROMIUM=1). Chromium accepts the self-signed certificates of
// httptest.NewTLSServer (--ignore-certificate-errors); every action of a test should be bound by
// a timeout (Context's).
func Start(t testing.TB) *Browser {
	t.Helper()
	return StartWith(t)
}

// StartWith is Start with extra Chromium options, e.g. a fake camera:
//
//	browsertest.StartWith(t,
//		chromedp.Flag("use-fake-device-for-media-stream", true),
//		chromedp.Flag("use-fake-ui-for-media-stream", true),
//		chromedp.Flag("use-file-for-fake-video-capture", "/tmp/code.y4m"))
//
// (WriteY4M writes such a file). Later options override earlier ones of the same flag.
func StartWith(t testing.TB, extra ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	path := Path()
	if path == "" {
		if os.Getenv("TONGBAN_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("browsertest: Chromium not found and TONGBAN_REQUIRE_CHROMIUM=1 (apt-get install chromium)")
		}
		t.Skip("browsertest: Chromium not found (apt-get install chromium; or set TONGBAN_CHROMIUM)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.Flag("remote-allow-origins", "*"),
	)
	opts = append(opts, extra...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	// Start the browser now, so that a broken installation fails here with a clear error.
	if err := chromedp.Do(root); err != nil {
		cancelRoot()
		cancelAlloc()
		t.Fatalf("browsertest: start Chromium %s: %v", path, err)
	}
	b := &Browser{t: t, alloc: alloc, root: root}
	t.Cleanup(func() {
		cancelRoot()
		cancelAlloc()
	})
	return b
}

// Context returns a new browser context (a new tab in its own incognito profile) with the
// viewport v, bound by timeout; it is closed at t's cleanup.
func (b *Browser) Context(v Viewport, timeout time.Duration) context.Context {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	ctx, cancelT := context.WithTimeout(ctx, timeout)
	b.t.Cleanup(func() {
		cancelT()
		cancel()
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(v.Width, v.Height, chromedp.EmulateScale(v.Scale), mobile(v.Mobile))); err != nil {
		b.t.Fatalf("browsertest: new context: %v", err)
	}
	return ctx
}

func mobile(m bool) chromedp.EmulateViewportOption {
	if m {
		return chromedp.EmulateMobile
	}
	return func(*emulation.SetDeviceMetricsOverrideParams, *emulation.SetTouchEmulationEnabledParams) {}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Screenshot writes a PNG of the whole page in ctx as <dir>/<name>.png and logs its path.
func (b *Browser) Screenshot(ctx context.Context, name string) string {
	b.t.Helper()
	if b.shotsDir == "" {
		dir := os.Getenv("TONGBAN_SCREENSHOTS")
		if dir == "" {
			dir = b.t.TempDir()
		}
		b.shotsDir = filepath.Join(dir, unsafeName.ReplaceAllString(b.t.Name(), "_"))
		if err := os.MkdirAll(b.shotsDir, 0o755); err != nil {
			b.t.Fatal(err)
		}
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	path := filepath.Join(b.shotsDir, unsafeName.ReplaceAllString(name, "_")+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

// CheckFits fails t unless the page in ctx has its stylesheet applied (a stylesheet with rules
// loaded) and is no wider than the viewport v (no horizontal scrolling, WCAG 1.4.10).
func CheckFits(t testing.TB, ctx context.Context, v Viewport) {
	t.Helper()
	rules, err := chromedp.Run(ctx, chromedp.Evaluate[int64](
		`[...document.styleSheets].reduce((n, s) => { try { return n + s.cssRules.length } catch (e) { return n } }, 0)`))
	if err != nil || rules == 0 {
		t.Errorf("browsertest: no stylesheet rules applied (%d, %v)", rules, err)
	}
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
	if err != nil || w > v.Width {
		t.Errorf("browsertest: page is %d px wide in a %d px viewport (%v)", w, v.Width, err)
	}
}

// textJS defines, for the scripts of CheckLines and CheckWords, a canvas context g to measure
// text with, font(s) and spacing(s) for the font and letter spacing of a computed style s, and
// shown(e, s), false for an element not drawn: display none, visibility hidden, or inside
// [hidden], .visually-hidden, script or style.
const textJS = `const g = document.createElement("canvas").getContext("2d");
const font = s => s.fontStyle + " " + s.fontWeight + " " + s.fontSize + " " + s.fontFamily;
const spacing = s => parseFloat(s.letterSpacing) || 0;
const shown = (e, s) => s.display !== "none" && s.visibility !== "hidden" && !e.closest("[hidden],.visually-hidden,script,style");
`

// checkText runs body, a function body after textJS that returns up to ten findings, in the
// page of ctx and fails t for each one: "<name>: <failure>: <finding>".
func checkText(t testing.TB, ctx context.Context, name, check, failure, body string) {
	t.Helper()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string]("(() => {\n"+textJS+body+"})()"))
	if err != nil {
		t.Errorf("%s: %s check: %v", name, check, err)
		return
	}
	for _, s := range out {
		t.Errorf("%s: %s: %s", name, failure, s)
	}
}

// CheckLines fails t for every visible element of the page in ctx (inline elements are judged
// by their containers) whose own text, three characters or more, sits in a box narrower than
// its first three characters: text squeezed into one or two characters a line, as a flex row
// does to an item when the row does not wrap. The three characters are measured in the
// element's font, so Latin and Chinese text are judged alike.
func CheckLines(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	checkText(t, ctx, name, "line", "text squeezed to one or two characters a line", `
    return [...document.querySelectorAll("body *")].flatMap(e => {
      const own = [...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join("").replace(/\s+/g, "");
      const three = [...own].slice(0, 3).join("");
      if ([...three].length < 3) return [];
      const s = getComputedStyle(e);
      if (s.display === "inline" || !shown(e, s)) return [];
      const w = e.getBoundingClientRect().width;
      g.font = font(s);
      const need = g.measureText(three).width + 2 * spacing(s);
      if (w === 0 || w >= 0.95 * need) return [];
      return [e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (typeof e.className === "string" && e.className.trim() ? "." + e.className.trim().split(/\s+/).join(".") : "") +
        " " + JSON.stringify(own.slice(0, 24)) + " " + Math.round(w) + " px wide, its first three characters " + Math.round(need) + " px"];
    }).slice(0, 10);`)
}

// CheckWords fails t for every word of Latin letters and digits (a word, a group of an ID
// number, a key ID in hex) that the page in ctx breaks across lines although it would fit on
// one line of its container: the mark of a box squeezed narrower than its words, as when side padding
// grows with the text. A word longer than the whole line may break.
func CheckWords(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	checkText(t, ctx, name, "word", "a word broken although it fits on a line", `
    const found = [];
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n && found.length < 10; n = walk.nextNode()) {
      const el = n.parentElement;
      if (!el) continue;
      const s = getComputedStyle(el);
      if (!shown(el, s)) continue;
      let box = el;
      while (box && getComputedStyle(box).display === "inline" && box.parentElement) box = box.parentElement;
      const bs = getComputedStyle(box);
      const avail = box.clientWidth - parseFloat(bs.paddingLeft) - parseFloat(bs.paddingRight);
      g.font = font(s);
      const re = /[A-Za-z0-9]{2,}/g;
      for (let m; (m = re.exec(n.textContent)) && found.length < 10;) {
        const r = document.createRange();
        r.setStart(n, m.index);
        r.setEnd(n, m.index + m[0].length);
        const tops = new Set([...r.getClientRects()].filter(q => q.width > 0).map(q => Math.round(q.top)));
        if (tops.size < 2) continue;
        const w = g.measureText(m[0]).width + m[0].length * spacing(s);
        if (w <= avail) found.push(JSON.stringify(m[0]) + " in " + el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "") + ": " + Math.round(w) + " px, the line " + Math.round(avail) + " px");
      }
    }
    return found;`)
}
