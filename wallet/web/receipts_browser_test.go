package web_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/internal/browsertest"
	"github.com/tongban/tongban/wallet"
	"github.com/tongban/tongban/wallet/verifier"
	"github.com/tongban/tongban/wallet/wallettest"
)

// TestReceiptsBrowser runs receipts.js in headless Chromium on the verifier page of a folder
// exported with the wallet's URL (wallet verifier export --wallet-url) and hosted on another
// origin, as an office hosts it (the wallet answers CORS; the page's CSP allows the wallet):
// the page sends to the wallet, not to its own host; the counter enrols with its one-time
// code (a non-extractable WebCrypto key), a receipt
// recorded online arrives at once, one recorded with the network cut stays queued in
// IndexedDB and arrives when the network is back (the "online" event), and a receipt the
// page signed and then tampered with is refused (401) and stored nowhere.
func TestReceiptsBrowser(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	idx := w.svc.HolderIndex(citizen)
	mint := func() []byte {
		m, err := w.svc.Mint(ctx, idx, wallet.CodeRequest{Kinds: []credentials.Kind{credentials.ResidentID}}, wallet.Operator)
		must(t, err)
		return m.CTI[:]
	}
	ctr, code, err := w.svc.AddCounter(ctx, wallet.NewCounter{Name: "3号窗口", Office: "朝阳区政务服务中心"}, audit.Shell)
	must(t, err)
	// The office's folder, on its own web server (another origin than the wallet's).
	site := t.TempDir()
	signed, _, err := w.svc.TrustList(ctx)
	must(t, err)
	anchors, err := w.svc.TrustAnchors(ctx)
	must(t, err)
	anchorPEM, err := wallet.MarshalTrustAnchors(anchors)
	must(t, err)
	must(t, verifier.Export(site, verifier.Config{TrustListURL: w.wal.URL + "/trust-list", WalletURL: w.wal.URL}, anchorPEM, signed))
	var officeHits []string // what the page sent its own host (anything but GET)
	var mu sync.Mutex
	files := http.FileServer(http.Dir(site))
	office := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			mu.Lock()
			officeHits = append(officeHits, r.Method+" "+r.URL.Path)
			mu.Unlock()
		}
		files.ServeHTTP(rw, r)
	}))
	t.Cleanup(office.Close)

	b := browsertest.Start(t)
	bctx := b.Context(browsertest.Phone, 90*time.Second)
	must(t, chromedp.Do(bctx, chromedp.Navigate(office.URL+"/")))
	// The page has configured receipts.js with the wallet's URL (config.json).
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.body.dataset.counter === "none"`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("the page did not configure its receipts: %v", err)
	}
	eval := func(js string) map[string]any {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]any](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	receipts := func(cti []byte) int {
		rcs, err := w.store.ListCodeReceipts(ctx, [][]byte{cti})
		must(t, err)
		return len(rcs)
	}
	waitReceipt := func(what string, cti []byte) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); receipts(cti) == 0; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no receipt arrived; status %v", what, eval(`tongbanReceipts.status()`))
			}
		}
	}
	b64 := base64.RawURLEncoding.EncodeToString

	// Not enrolled: record shows the prompt and records nothing.
	cti1 := mint()
	if st := eval(fmt.Sprintf(`tongbanReceipts.record(%q)`, b64(cti1))); st["enrolled"] != false {
		t.Fatalf("record before enrolment: %v", st)
	}
	if n, _ := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#tongban-enrol input").length`)); n != 1 {
		t.Errorf("no enrolment prompt shown (%d inputs)", n)
	}
	b.Screenshot(bctx, "enrol-prompt")
	// A wrong code is refused with the wallet's reason; the right one enrols.
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]any](`tongbanReceipts.enrol("AAAA-BBBB-CCCC-DDDD")`, chromedp.EvalAwaitPromise)); err == nil ||
		!strings.Contains(err.Error(), "unknown enrolment code") {
		t.Errorf("enrol with a wrong code: %v", err)
	}
	got := eval(fmt.Sprintf(`tongbanReceipts.enrol(%q)`, code))
	if got["counterId"] != ctr.ID || got["name"] != "3号窗口" {
		t.Fatalf("enrol = %v, want counter %s", got, ctr.ID)
	}
	if ext := eval(`indexedDB.databases().then(() => new Promise(r => { const q = indexedDB.open("tongban-receipts"); q.onsuccess = () => q.result.transaction("state").objectStore("state").get("counter").onsuccess = e => r({extractable: e.target.result.privateKey.extractable, type: e.target.result.privateKey.type}) }))`); ext["extractable"] != false || ext["type"] != "private" {
		t.Errorf("stored key: %v, want a non-extractable private key", ext)
	}

	// Online: the receipt arrives at once.
	st := eval(fmt.Sprintf(`tongbanReceipts.record(%q)`, b64(cti1)))
	waitReceipt("online", cti1)
	if st["queued"] != float64(0) || st["counterName"] != "3号窗口" {
		t.Errorf("status after an online record: %v", st)
	}

	// Offline: queued in IndexedDB, nothing arrives; back online, it does.
	_, err = chromedp.Call(bctx, network.Enable, network.EnableParams{})
	must(t, err)
	setOffline := func(off bool) {
		t.Helper()
		_, err := chromedp.Call(bctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}}})
		must(t, err)
		_, err = chromedp.Call(bctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1})
		must(t, err)
	}
	setOffline(true)
	cti2 := mint()
	st = eval(fmt.Sprintf(`tongbanReceipts.record(%q)`, b64(cti2)))
	if st["queued"] != float64(1) {
		t.Errorf("status after an offline record: %v, want 1 queued", st)
	}
	time.Sleep(300 * time.Millisecond)
	if receipts(cti2) != 0 {
		t.Fatal("a receipt arrived while the network was cut")
	}
	setOffline(false)
	waitReceipt("back online", cti2)
	for deadline := time.Now().Add(10 * time.Second); eval(`tongbanReceipts.status()`)["queued"] != float64(0); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the queue was not emptied after the receipt arrived")
		}
	}

	// Tampered: the page signs a receipt, one byte of its claims is changed, the wallet refuses it.
	cti3 := mint()
	res := eval(fmt.Sprintf(`tongbanReceipts.sign(%q).then(jws => {
		const [h, p, s] = jws.split(".");
		const claims = JSON.parse(atob(p.replace(/-/g, "+").replace(/_/g, "/")));
		claims.iat -= 1;
		const p2 = btoa(JSON.stringify(claims)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
		return fetch(%q, {method: "POST", headers: {"Content-Type": "application/jose"}, body: [h, p2, s].join(".")})
			.then(r => r.json().then(b => ({status: r.status, error: b.error, desc: b.error_description})));
	})`, b64(cti3), w.wal.URL+"/api/v1/receipts"))
	if res["status"] != float64(401) || res["error"] != "invalid_client" || !strings.Contains(fmt.Sprint(res["desc"]), "signature") {
		t.Errorf("tampered receipt: %v, want 401 invalid_client (signature)", res)
	}
	if receipts(cti3) != 0 {
		t.Error("the tampered receipt was stored")
	}
	b.Screenshot(bctx, "enrolled")
	mu.Lock()
	if len(officeHits) != 0 {
		t.Errorf("the page sent to the office's host: %v", officeHits)
	}
	mu.Unlock()

	// The holder's record page, logged in (the session cookie of a login made over HTTP), at a
	// phone's width in both languages: it fits and names the counter that verified the code.
	hb := wallettest.NewBrowser(t)
	hb.LoginWallet(w.wal.URL, citizen, password)
	u, _ := url.Parse(w.wal.URL)
	for _, v := range []browsertest.Viewport{browsertest.Phone, browsertest.Desktop} {
		rctx := b.Context(v, 30*time.Second)
		for _, c := range hb.Client.Jar.Cookies(u) {
			_, err := chromedp.Call(rctx, network.SetCookie, network.SetCookieParams{Name: c.Name, Value: c.Value, URL: w.wal.URL})
			must(t, err)
		}
		for _, lang := range []string{"zh", "en"} {
			must(t, chromedp.Do(rctx, chromedp.Navigate(w.wal.URL+"/records?lang="+lang)))
			text, err := chromedp.Run(rctx, chromedp.Evaluate[string](`document.body.innerText`))
			must(t, err)
			want := map[string]string{"zh": "朝阳区政务服务中心 · 3号窗口", "en": "Verified by"}[lang]
			if !strings.Contains(text, want) || strings.Contains(text, citizen) {
				t.Errorf("record page (%s, %d px): %q", lang, v.Width, text)
			}
			browsertest.CheckFits(t, rctx, v)
			if v == browsertest.Phone {
				browsertest.CheckA11y(t, rctx, "record page "+lang, browsertest.A11yOptions{})
			}
			b.Screenshot(rctx, fmt.Sprintf("record-%s-%d", lang, v.Width))
		}
	}
}
