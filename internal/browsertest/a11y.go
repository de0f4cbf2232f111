package browsertest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core 4.14.1 from the npm registry (MPL-2.0, axe/LICENSE.axe-core), vendored
// by axe/update.sh. It is injected into the page under test; nothing is fetched at test time.
//
//go:embed axe/axe.min.js
var axeSource string

// Violation is one axe-core rule a page breaks: its rule id, impact ("minor", "moderate",
// "serious", "critical"), help text and the CSS selectors of up to five offending nodes.
type Violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

func (v Violation) String() string {
	return fmt.Sprintf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, ", "))
}

// A11yOptions chooses what CheckA11y enforces beyond axe-core's WCAG 2.x A and AA rules.
type A11yOptions struct {
	// Enhanced enables color-contrast-enhanced: text contrast at least 7:1 (WCAG 1.4.6, AAA),
	// for elder mode.
	Enhanced bool
}

// PreloadAxe makes every document the tab of ctx loads from now on start with axe-core
// already in it (DevTools Page.addScriptToEvaluateOnNewDocument), so that Axe need not inject
// it page by page: Chromium compiles the one script once for the tab, which makes a test that
// checks many pages several times faster. Optional: Axe injects axe-core where it is missing.
func PreloadAxe(ctx context.Context) error {
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: axeSource})
	if err != nil {
		return fmt.Errorf("browsertest: preload axe-core: %w", err)
	}
	return nil
}

// Axe runs axe-core in the page of ctx (WCAG 2.0–2.2 A and AA rules, best practices off) and
// returns every violation, of any impact. It injects axe-core unless the page has it already
// (PreloadAxe).
func Axe(ctx context.Context, opt A11yOptions) ([]Violation, error) {
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object" && typeof window.axe.run === "function"`))
	if err != nil {
		return nil, fmt.Errorf("browsertest: inject axe-core: %w", err)
	}
	if !loaded {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](axeSource+";0")); err != nil {
			return nil, fmt.Errorf("browsertest: inject axe-core: %w", err)
		}
	}
	rules := `{}`
	if opt.Enhanced {
		rules = `{"color-contrast-enhanced":{enabled:true}}`
	}
	script := `(async () => {
  const r = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a","wcag2aa","wcag21a","wcag21aa","wcag22aa"` +
		map[bool]string{true: `,"wcag2aaa"`, false: ``}[opt.Enhanced] + `]}, rules: ` + rules + `, resultTypes: ["violations"]});
  return JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))})));
})()`
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](script, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("browsertest: run axe-core: %w", err)
	}
	var vs []Violation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		return nil, fmt.Errorf("browsertest: axe-core result: %w", err)
	}
	return vs, nil
}

// CheckA11y fails t for every serious or critical axe-core violation in the page of ctx (name
// says which page in the message) and logs the minor and moderate ones.
func CheckA11y(t testing.TB, ctx context.Context, name string, opt A11yOptions) {
	t.Helper()
	vs, err := Axe(ctx, opt)
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("%s: accessibility: %s", name, v)
		} else {
			t.Logf("%s: accessibility (%s): %s", name, v.Impact, v)
		}
	}
}

// CheckTargets fails t for every visible link, button, input, select or summary in the page of
// ctx smaller than min × min CSS px (elder mode asks 48). Inline links inside running text are
// exempt (WCAG 2.5.8's inline exception) when marked with class "inline".
func CheckTargets(t testing.TB, ctx context.Context, name string, min int) {
	t.Helper()
	script := fmt.Sprintf(`JSON.stringify([...document.querySelectorAll("a[href],button,input:not([type=hidden]),select,summary,textarea")]
  .filter(e => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && !e.classList.contains("inline") &&
      !(e.type === "checkbox" || e.type === "radio") && (r.width < %[1]d || r.height < %[1]d) })
  .slice(0, 10).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + " " + JSON.stringify((e.innerText || e.value || e.name || "").slice(0, 30)) +
    " " + Math.round(e.getBoundingClientRect().width) + "x" + Math.round(e.getBoundingClientRect().height)))`, min)
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](script))
	if err != nil {
		t.Errorf("%s: tap targets: %v", name, err)
		return
	}
	var small []string
	_ = json.Unmarshal([]byte(out), &small)
	for _, s := range small {
		t.Errorf("%s: tap target smaller than %d px: %s", name, min, s)
	}
}

// TextZoom sets the default font size of the page in ctx to percent of 16 px, as a phone's
// text-size setting does (200 for WCAG 1.4.4's 200 %). Text sized in rem or em follows it;
// text sized in px does not. Reload or navigate after calling it.
func TextZoom(ctx context.Context, percent int64) error {
	_, err := chromedp.Call(ctx, page.SetFontSizes, page.SetFontSizesParams{
		FontSizes: &page.FontSizes{Standard: 16 * percent / 100, Fixed: 13 * percent / 100},
	})
	return err
}
