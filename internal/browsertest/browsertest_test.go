package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tongban/tongban/internal/browsertest"
)

// TestStart loads a page over TLS in two contexts at both viewport sizes, reads its text and
// takes a screenshot that is a PNG.
func TestStart(t *testing.T) {
	hs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><meta name="viewport" content="width=device-width"><h1 id="h">统一身份认证</h1>`)
	}))
	defer hs.Close()
	b := browsertest.Start(t)
	for _, v := range []browsertest.Viewport{browsertest.Phone, browsertest.Desktop} {
		ctx := b.Context(v, 30*time.Second)
		if err := chromedp.Do(ctx, chromedp.Navigate(hs.URL)); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("h").textContent`))
		if err != nil || got != "统一身份认证" {
			t.Fatalf("heading %q, %v", got, err)
		}
		w, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`window.innerWidth`))
		if err != nil || w != v.Width {
			t.Fatalf("innerWidth %d, want %d (%v)", w, v.Width, err)
		}
		png, err := os.ReadFile(b.Screenshot(ctx, fmt.Sprintf("page-%d", v.Width)))
		if err != nil || len(png) < 8 || string(png[1:4]) != "PNG" {
			t.Fatalf("screenshot is not a PNG (%d bytes, %v)", len(png), err)
		}
	}
}
