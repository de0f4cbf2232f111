package browsertest_test

import (
	"bytes"
	"fmt"
	"image"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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

func TestWriteY4M(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 4, 2)) // black
	path := filepath.Join(t.TempDir(), "v.y4m")
	if err := browsertest.WriteY4M(path, 8, 4, img, img); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head := "YUV4MPEG2 W8 H4 F30:1 Ip A1:1 C420jpeg\n"
	frame := 6 + 8*4 + 8*4/2
	if !bytes.HasPrefix(b, []byte(head)) || len(b) != len(head)+2*frame {
		t.Fatalf("%d bytes: %q", len(b), b[:len(head)])
	}
	y := b[len(head)+6:]
	// The 4×2 image sits at x 2–5, y 1–2 of the 8×4 frame.
	if y[0] != 255 || y[8+2] != 0 || y[8+5] != 0 || y[8+6] != 255 || y[3*8+2] != 255 {
		t.Errorf("luma plane %v", y[:32])
	}
	if y[32] != 128 {
		t.Errorf("chroma %d", y[32])
	}
	if err := browsertest.WriteY4M(path, 7, 4, img); err == nil {
		t.Error("odd width accepted")
	}
}
