package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/wallet"
	"github.com/tongban/tongban/wallet/wallettest"
)

// TestCounterAPIMethodsAndErrors: the counters' POST-only endpoints answer another method with
// 405 and Allow (not the catch-all's 404), unknown paths still get 404, and a receipt with a
// string iat is refused in the receipt format's words, not Go's.
func TestCounterAPIMethodsAndErrors(t *testing.T) {
	w := newWorld(t)
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(w.wal.URL + path)
		must(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, path := range []string{"/api/v1/counters/enrol", "/api/v1/receipts", "/api/v1/codes"} {
		resp, body := get(path)
		var ans map[string]string
		if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(resp.Header.Get("Allow"), "POST") ||
			strings.Contains(resp.Header.Get("Allow"), "GET") || json.Unmarshal([]byte(body), &ans) != nil || ans["error"] == "" {
			t.Errorf("GET %s: %d, Allow %q, %s", path, resp.StatusCode, resp.Header.Get("Allow"), body)
		}
	}
	if resp, body := get("/api/v1/nothing"); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "not_found") {
		t.Errorf("GET /api/v1/nothing: %d %s", resp.StatusCode, body)
	}
	if resp, body := get("/nothing"); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "页面不存在") {
		t.Errorf("GET /nothing: %d %.300s", resp.StatusCode, body)
	}

	// A receipt whose iat is a string.
	ctx := t.Context()
	_, code, err := w.svc.AddCounter(ctx, wallet.NewCounter{Name: "3号窗口"}, audit.Shell)
	must(t, err)
	k, err := wallettest.NewCounter(nil)
	must(t, err)
	ct, err := w.svc.EnrolCounter(ctx, code, k.JWK(), audit.Actor{Address: "192.0.2.7"})
	must(t, err)
	k.CounterID, k.KeyID = ct.ID, ct.KeyID
	jws := k.Sign(nil, []byte(`{"cti":"AAAAAAAAAAA","ctr":"`+ct.ID+`","iat":"1700000000"}`))
	st, ans := post(t, w.wal.URL+"/api/v1/receipts", "application/jose", []byte(jws))
	desc, _ := ans["error_description"].(string)
	if st != http.StatusBadRequest || !strings.Contains(desc, "iat must be a NumericDate (integer seconds)") ||
		strings.Contains(desc, "Go ") || strings.Contains(desc, "receiptClaims") {
		t.Errorf("string iat: %d %v", st, ans)
	}
}
