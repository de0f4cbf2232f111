package oidc_test

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/tongban/tongban/internal/browsertest"
	"github.com/tongban/tongban/qr/qrimage"
	"github.com/tongban/tongban/storage/storagetest"
)

// TestOTPBrowser enrols a TOTP device in headless Chromium at phone size: log in, the start
// form, the scan page — whose QR code, cut out of the screenshot, decodes (gozxing) to the
// otpauth URI of the secret printed under it — the confirming code, the recovery codes, and
// the account page listing the device. Screenshots at 390×844 and 1280×800.
func TestOTPBrowser(t *testing.T) {
	e := newEnv(t, storagetest.SQLite(t), envOptions{})
	b := browsertest.Start(t)
	for _, v := range []browsertest.Viewport{browsertest.Phone, browsertest.Desktop} {
		_, num := e.person("周九", "")
		ctx := b.Context(v, 60*time.Second)
		size := map[int64]string{390: "phone", 1280: "desktop"}[v.Width]
		err := chromedp.Do(ctx,
			chromedp.Navigate(e.issuer+"/account/otp/new"),
			chromedp.WaitVisible(chromedp.CSS("#password")),
			chromedp.SendKeys(chromedp.CSS("#identifier"), num),
			chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
			chromedp.Submit(chromedp.CSS("#password")),
			chromedp.WaitVisible(chromedp.CSS("#name")),
			chromedp.SendKeys(chromedp.CSS("#name"), "我的手机"),
		)
		if err != nil {
			t.Fatal(err)
		}
		b.Screenshot(ctx, "otp-start-"+size)
		if err := chromedp.Do(ctx, chromedp.Submit(chromedp.CSS("#name")), chromedp.WaitVisible(chromedp.CSS("#otp-secret"))); err != nil {
			t.Fatal(err)
		}
		shot, err := os.ReadFile(b.Screenshot(ctx, "otp-enrol-"+size))
		if err != nil {
			t.Fatal(err)
		}
		secret, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("otp-secret").textContent`))
		if err != nil {
			t.Fatal(err)
		}
		secret = strings.ReplaceAll(secret, " ", "")
		// The QR code as the browser drew it: its box (CSS pixels, page coordinates) times the
		// device scale, cut out of the full-page screenshot with a quiet margin.
		box, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.querySelector(".qr img").getBoundingClientRect();
			return [r.left + scrollX, r.top + scrollY, r.width, r.height]; })()`))
		if err != nil || len(box) != 4 || box[2] < 150 {
			t.Fatalf("QR box %v %v", box, err)
		}
		img, err := png.Decode(bytes.NewReader(shot))
		if err != nil {
			t.Fatal(err)
		}
		s, m := v.Scale, 12.0
		crop := image.Rect(int(math.Floor((box[0]-m)*s)), int(math.Floor((box[1]-m)*s)),
			int(math.Ceil((box[0]+box[2]+m)*s)), int(math.Ceil((box[1]+box[3]+m)*s)))
		sub := img.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(crop)
		var buf bytes.Buffer
		if err := png.Encode(&buf, sub); err != nil {
			t.Fatal(err)
		}
		uri, err := qrimage.Decode(buf.Bytes())
		if err != nil {
			t.Fatalf("the QR code on the page does not decode: %v", err)
		}
		key, err := otp.NewKeyFromURL(uri)
		if err != nil || key.Secret() != secret {
			t.Fatalf("QR code %q, page secret %q (%v)", uri, secret, err)
		}
		code, _ := totp.GenerateCode(secret, e.clock.Now())
		err = chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS("#code"), code),
			chromedp.Submit(chromedp.CSS("#code")),
			chromedp.WaitVisible(chromedp.CSS(".codes")),
		)
		if err != nil {
			t.Fatal(err)
		}
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".codes code").length`))
		if err != nil || n != 10 {
			t.Fatalf("%d recovery codes on the page (%v)", n, err)
		}
		b.Screenshot(ctx, "otp-codes-"+size)
		err = chromedp.Do(ctx, chromedp.Navigate(e.issuer+"/account"), chromedp.WaitVisible(chromedp.CSS("#otp")))
		if err != nil {
			t.Fatal(err)
		}
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#otp")))
		if err != nil || !strings.Contains(text, "我的手机") || !strings.Contains(text, "10") {
			t.Fatalf("account section: %q %v", text, err)
		}
		b.Screenshot(ctx, "account-otp-"+size)
	}
}
