package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tongban/tongban/internal/browsertest"
)

// TestAxeAndTargets checks that the checks can fail: a page with grey-on-white text (4.6:1, AA
// but not AAA), an unlabelled input and a 20 px button is flagged, and a clean page is not.
func TestAxeAndTargets(t *testing.T) {
	pages := map[string]string{
		"/bad": `<!DOCTYPE html><html lang="zh-CN"><title>坏</title><meta name="viewport" content="width=device-width">
<main><h1>证照</h1><p style="color:#757575;background:#fff">灰色文字</p><input type="text"><button style="width:20px;height:20px;padding:0">x</button>
<div style="width:600px">宽</div></main>`,
		"/good": `<!DOCTYPE html><html lang="zh-CN"><title>好</title><meta name="viewport" content="width=device-width">
<main><h1>证照</h1><p style="color:#000;background:#fff">黑色文字</p><label for="n">姓名</label><input id="n" type="text" style="height:48px;width:200px">
<button style="min-width:48px;min-height:48px">确定</button></main>`,
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, pages[r.URL.Path])
	}))
	defer hs.Close()
	b := browsertest.Start(t)
	ctx := b.Context(browsertest.Phone, 60*time.Second)

	if err := chromedp.Do(ctx, chromedp.Navigate(hs.URL+"/bad")); err != nil {
		t.Fatal(err)
	}
	vs, err := browsertest.Axe(ctx, browsertest.A11yOptions{Enhanced: true})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, v := range vs {
		ids[v.ID] = v.Impact
	}
	if ids["label"] != "critical" || ids["color-contrast-enhanced"] == "" {
		t.Errorf("bad page: violations %v, want label (critical) and color-contrast-enhanced", ids)
	}
	vs, err = browsertest.Axe(ctx, browsertest.A11yOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.ID == "color-contrast-enhanced" {
			t.Errorf("enhanced contrast checked without Enhanced")
		}
	}
	ft := &fakeT{TB: t}
	browsertest.CheckTargets(ft, ctx, "bad", 48)
	browsertest.CheckFits(ft, ctx, browsertest.Phone)
	got := strings.Join(ft.errs, "\n")
	if len(ft.errs) != 4 || !strings.Contains(got, `button "x" 20x20`) || !strings.Contains(got, "608 px wide") {
		t.Errorf("CheckTargets/CheckFits on the bad page: %q", ft.errs)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(hs.URL+"/good")); err != nil {
		t.Fatal(err)
	}
	browsertest.CheckA11y(t, ctx, "good", browsertest.A11yOptions{Enhanced: true})
	browsertest.CheckTargets(t, ctx, "good", 48)

	// 200 % text: 16 px default becomes 32 px.
	if err := browsertest.TextZoom(ctx, 200); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	fs, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("p")).fontSize`))
	if err != nil || fs != "32px" {
		t.Errorf("font size at 200 %%: %q, %v", fs, err)
	}
}

// fakeT records Errorf calls so a test can check that a check fails.
type fakeT struct {
	testing.TB
	errs []string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

// TestPreloadAxe: after PreloadAxe every page of the tab has axe-core from its start, under a
// Content-Security-Policy that allows no script, and Axe runs it there.
func TestPreloadAxe(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		fmt.Fprint(w, `<!DOCTYPE html><html lang="en"><title>t</title><main><h1>ok</h1><input type="text"></main>`)
	}))
	defer hs.Close()
	b := browsertest.Start(t)
	ctx := b.Context(browsertest.Phone, 60*time.Second)
	if err := browsertest.PreloadAxe(ctx); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/a", "/b"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(hs.URL+path)); err != nil {
			t.Fatal(err)
		}
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
		if err != nil || !ok {
			t.Fatalf("%s: axe-core not preloaded (%v)", path, err)
		}
		vs, err := browsertest.Axe(ctx, browsertest.A11yOptions{})
		if err != nil || len(vs) != 1 || vs[0].ID != "label" {
			t.Errorf("%s: violations %v, %v; want the unlabelled input", path, vs, err)
		}
	}
}
