package web_test

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage/storagetest"
	"github.com/tongban/tongban/wallet"
	"github.com/tongban/tongban/wallet/wallettest"
)

// testClock is an adjustable clock safe for concurrent use.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// post sends body to the wallet's path and returns the status and the decoded JSON answer.
func post(t *testing.T, url, contentType string, body []byte) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("POST %s: %d, not JSON: %q", url, resp.StatusCode, b)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("POST %s: no CORS header", url)
	}
	return resp.StatusCode, out
}

// TestReceiptsHTTP: over real HTTP, a holder logged in at the wallet shows a code (/code.json),
// a counter enrols its key with the operator's one-time code and sends a receipt signed as the
// browser signs it (crypto/ecdsa, ES256), and the holder's record page lists the code with the
// counter that verified it. Each bad input is refused with its own error and stores nothing;
// a receipt for an unknown code is accepted (202) and dropped.
func TestReceiptsHTTP(t *testing.T) { testReceiptsHTTP(t, worldOptions{}) }

// TestReceiptsHTTPPostgres is TestReceiptsHTTP on PostgreSQL (skipped without
// TONGBAN_TEST_POSTGRES).
func TestReceiptsHTTPPostgres(t *testing.T) {
	testReceiptsHTTP(t, worldOptions{store: storagetest.Postgres(t)})
}

func testReceiptsHTTP(t *testing.T, o worldOptions) {
	clk := &testClock{t: time.Now().Truncate(time.Second).Add(time.Minute)}
	o.alg, o.walletNow = oidc.AlgSM2, clk.Now
	w := newWorldOpts(t, o)
	ctx := t.Context()
	b := wallettest.NewBrowser(t)
	home := b.LoginWallet(w.wal.URL, citizen, password)
	id := idRE.FindStringSubmatch(home.Body)[1]
	if p := b.Get(w.wal.URL + "/code.json?l=" + id); p.Status != 200 {
		t.Fatalf("code.json: %d %s", p.Status, p.Body)
	}
	idx := w.svc.HolderIndex(citizen)
	recs, err := w.store.ListCodeRecords(ctx, idx, time.Time{}, time.Time{}, 10)
	must(t, err)
	if len(recs) != 1 || len(recs[0].CTI) != 8 || strings.Join(recs[0].Kinds, ",") != "resident-id" {
		t.Fatalf("code records after /code.json: %+v", recs)
	}
	cti := recs[0].CTI

	ctr, code, err := w.svc.AddCounter(ctx, wallet.NewCounter{Name: "3号窗口", Office: "朝阳区政务服务中心"}, audit.Shell)
	must(t, err)
	k, err := wallettest.NewCounter(nil)
	must(t, err)
	enrolURL, receiptsURL := w.wal.URL+"/api/v1/counters/enrol", w.wal.URL+"/api/v1/receipts"
	enrolBody := func(code string, jwk []byte) []byte {
		b, _ := json.Marshal(map[string]any{"enrolment_code": code, "jwk": json.RawMessage(jwk)})
		return b
	}
	st, ans := post(t, enrolURL, "application/json", enrolBody(code, k.JWK()))
	if st != 200 || ans["counter_id"] != ctr.ID || ans["kid"] == "" || ans["name"] != "3号窗口" {
		t.Fatalf("enrol: %d %v", st, ans)
	}
	k.CounterID, k.KeyID = ctr.ID, ans["kid"].(string)

	// A preflight from another origin is answered.
	req, _ := http.NewRequest(http.MethodOptions, receiptsURL, nil)
	req.Header.Set("Origin", "https://office.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}

	now := clk.Now().Unix()
	if st, ans := post(t, receiptsURL, "application/jose", []byte(k.Receipt(cti, now, nil))); st != 202 {
		t.Fatalf("receipt: %d %v", st, ans)
	}
	if st, ans := post(t, receiptsURL, "application/jose", []byte(k.Receipt(cti, now, nil))); st != 202 {
		t.Errorf("duplicate receipt: %d %v, want 202", st, ans)
	}
	if st, ans := post(t, receiptsURL, "application/jose", []byte(k.Receipt([]byte("unknown!"), now, nil))); st != 202 {
		t.Errorf("receipt for an unknown code: %d %v, want 202 (accepted and dropped)", st, ans)
	}

	// Bad input, each its own error.
	other, err := wallettest.NewCounter(nil)
	must(t, err)
	wrongKey := *k
	wrongKey.Key = other.Key
	disabledCtr, dcode, err := w.svc.AddCounter(ctx, wallet.NewCounter{Name: "9号窗口"}, audit.Shell)
	must(t, err)
	dk, err := wallettest.NewCounter(nil)
	must(t, err)
	st, dans := post(t, enrolURL, "application/json", enrolBody(dcode, dk.JWK()))
	if st != 200 {
		t.Fatalf("enrol the second counter: %d %v", st, dans)
	}
	dk.CounterID, dk.KeyID = disabledCtr.ID, dans["kid"].(string)
	must(t, w.svc.DisableCounter(ctx, disabledCtr.ID, audit.Shell))
	_, expCode, err := w.svc.AddCounter(ctx, wallet.NewCounter{Name: "8号窗口", Valid: time.Hour}, audit.Shell)
	must(t, err)
	for _, tc := range []struct {
		name, url string
		body      []byte
		status    int
		code      string
		desc      string // in error_description
	}{
		{"fail/garbage", receiptsURL, []byte("\x00garbage"), 400, "invalid_request", "not a compact JWS"},
		{"fail/too-large", receiptsURL, bytes.Repeat([]byte("a"), wallet.MaxReceiptSize+1), 413, "invalid_request", "larger than"},
		{"fail/wrong-alg", receiptsURL, []byte(k.Receipt(cti, now, map[string]any{"alg": "ES384", "typ": wallet.ReceiptType, "kid": k.KeyID})), 400, "invalid_request", "ES256"},
		{"fail/wrong-typ", receiptsURL, []byte(k.Receipt(cti, now, map[string]any{"alg": "ES256", "typ": "JWT", "kid": k.KeyID})), 400, "invalid_request", "typ"},
		{"fail/unknown-kid", receiptsURL, []byte(k.Receipt(cti, now, map[string]any{"alg": "ES256", "typ": wallet.ReceiptType, "kid": "x"})), 401, "invalid_client", "kid"},
		{"fail/wrong-key", receiptsURL, []byte(wrongKey.Receipt(cti, now, nil)), 401, "invalid_client", "signature"},
		{"fail/disabled-counter", receiptsURL, []byte(dk.Receipt(cti, now, nil)), 401, "invalid_client", "disabled"},
		{"fail/iat-far-off", receiptsURL, []byte(k.Receipt(cti, now+3600, nil)), 400, "invalid_request", "iat"},
		{"fail/enrol-garbage", enrolURL, []byte("{"), 400, "invalid_request", "enrolment_code"},
		{"fail/enrol-bad-key", enrolURL, enrolBody(expCode, []byte(`{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}`)), 400, "invalid_request", "P-256"},
		{"fail/enrol-replayed", enrolURL, enrolBody(code, other.JWK()), 400, "invalid_grant", "used already"},
		{"fail/enrol-unknown", enrolURL, enrolBody("AAAA-BBBB-CCCC-DDDD", other.JWK()), 400, "invalid_grant", "unknown enrolment code"},
	} {
		st, ans := post(t, tc.url, "application/jose", tc.body)
		if st != tc.status || ans["error"] != tc.code || !strings.Contains(ans["error_description"].(string), tc.desc) {
			t.Errorf("%s: %d %v; want %d %s (%q)", tc.name, st, ans, tc.status, tc.code, tc.desc)
		}
	}
	rcs, err := w.store.ListCodeReceipts(ctx, [][]byte{cti})
	must(t, err)
	if len(rcs) != 1 || rcs[0].CounterID != ctr.ID {
		t.Errorf("stored receipts: %+v, want one of %s", rcs, ctr.ID)
	}

	// The holder's record page: the code, the counter that verified it, in zh and en.
	p := b.Get(w.wal.URL + "/records")
	body := html.UnescapeString(p.Body)
	when := time.Unix(now, 0).In(credentials.ChinaStandardTime).Format("2006-01-02 15:04:05")
	if p.Status != 200 || !strings.Contains(body, "亮证记录") || !strings.Contains(body, "居民身份证") ||
		!strings.Contains(body, "朝阳区政务服务中心 · 3号窗口") || !strings.Contains(body, when) || strings.Contains(body, "9号窗口") {
		t.Errorf("record page: %d\n%s", p.Status, p.Body)
	}
	if strings.Contains(body, citizen) {
		t.Error("record page shows the full ID number")
	}
	if p := b.Get(w.wal.URL + "/records?lang=en"); !strings.Contains(p.Body, "Verified by") || !strings.Contains(p.Body, "Resident ID card") {
		t.Errorf("English record page:\n%s", p.Body)
	}
	if p := b.Get(w.wal.URL + "/records?until=soon"); p.Status != 400 {
		t.Errorf("record page with a bad until: %d", p.Status)
	}

	// The provider's account data download lists the code and its verification (one database).
	p = b.Get(w.idp.URL + "/account/data")
	var doc struct {
		More struct {
			Shown []struct {
				Kinds         []string `json:"kinds"`
				Verifications []struct {
					Counter string `json:"counter"`
					Office  string `json:"office"`
				} `json:"verifications"`
			} `json:"shown_codes"`
		} `json:"more"`
	}
	if err := json.Unmarshal([]byte(p.Body), &doc); err != nil {
		t.Fatalf("account data: %d %v\n%s", p.Status, err, p.Body)
	}
	if s := doc.More.Shown; len(s) != 1 || len(s[0].Verifications) != 1 || s[0].Verifications[0].Counter != "3号窗口" || s[0].Kinds[0] != "resident-id" {
		t.Errorf("account data download: shown_codes %+v", s)
	}

	// A day later the unused enrolment code has expired.
	clk.Add(25 * time.Hour)
	if st, ans := post(t, enrolURL, "application/json", enrolBody(expCode, other.JWK())); st != 400 || ans["error"] != "invalid_grant" ||
		!strings.Contains(ans["error_description"].(string), "expired") {
		t.Errorf("expired enrolment code: %d %v", st, ans)
	}
	w.checkLogs(t, code, expCode, dcode)
}
