package httpkit_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tongban/tongban/internal/httpkit"
)

var (
	providerJSON = httpkit.JSON{}                                      // oidc
	walletJSON   = httpkit.JSON{Newline: true, EmptyDescription: true} // wallet/web
)

// TestJSON pins the bodies byte for byte, in both dialects.
func TestJSON(t *testing.T) {
	for _, tc := range []struct {
		name   string
		write  func(w http.ResponseWriter)
		status int
		ctype  string
		body   string
	}{
		{"ok/provider-value", func(w http.ResponseWriter) { providerJSON.Write(w, 200, map[string]any{"b": 1, "a": "x"}) },
			200, "application/json", `{"a":"x","b":1}`},
		{"ok/wallet-value", func(w http.ResponseWriter) { walletJSON.Write(w, 200, map[string]any{"b": 1, "a": "x"}) },
			200, "application/json", "{\"a\":\"x\",\"b\":1}\n"},
		{"ok/html-escaped", func(w http.ResponseWriter) { providerJSON.Write(w, 200, map[string]string{"a": "<&>"}) },
			200, "application/json", `{"a":"\u003c\u0026\u003e"}`},
		{"ok/provider-error", func(w http.ResponseWriter) {
			providerJSON.Error(w, 401, "invalid_token", "the access token is invalid")
		},
			401, "application/json", `{"error":"invalid_token","error_description":"the access token is invalid"}`},
		{"ok/provider-error-empty-description", func(w http.ResponseWriter) { providerJSON.Error(w, 500, "server_error", "") },
			500, "application/json", `{"error":"server_error"}`},
		{"ok/wallet-error", func(w http.ResponseWriter) { walletJSON.Error(w, 404, "not_found", "no such licence") },
			404, "application/json", "{\"error\":\"not_found\",\"error_description\":\"no such licence\"}\n"},
		{"ok/wallet-error-empty-description", func(w http.ResponseWriter) { walletJSON.Error(w, 500, "server_error", "") },
			500, "application/json", "{\"error\":\"server_error\",\"error_description\":\"\"}\n"},
		{"fail/unmarshallable", func(w http.ResponseWriter) { providerJSON.Write(w, 200, map[string]any{"c": make(chan int)}) },
			500, "text/plain; charset=utf-8", "{\"error\":\"server_error\"}\n"},
		{"fail/unmarshallable-wallet", func(w http.ResponseWriter) { walletJSON.Write(w, 200, func() {}) },
			500, "text/plain; charset=utf-8", "{\"error\":\"server_error\"}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tc.write(rec)
			if rec.Code != tc.status || rec.Header().Get("Content-Type") != tc.ctype || rec.Body.String() != tc.body {
				t.Errorf("got %d %q %q, want %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String(),
					tc.status, tc.ctype, tc.body)
			}
		})
	}
}
