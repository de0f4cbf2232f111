package httpkit_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tongban/tongban/internal/httpkit"
)

const testCSP = "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'"

func TestSecurityHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    httpkit.SecurityHeaders
		want map[string]string // "" means absent
	}{
		{"ok/https", httpkit.SecurityHeaders{CSP: testCSP, HSTS: true}, map[string]string{
			"Content-Security-Policy": testCSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
			"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "Strict-Transport-Security": "max-age=31536000",
		}},
		{"ok/http-without-hsts", httpkit.SecurityHeaders{CSP: testCSP}, map[string]string{
			"Content-Security-Policy": testCSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
			"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "Strict-Transport-Security": "",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tc.h.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).
				ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			for k, want := range tc.want {
				if got := rec.Header().Values(k); (want == "" && len(got) != 0) || (want != "" && (len(got) != 1 || got[0] != want)) {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// TestSecurityHeadersOverride: a handler may replace Cache-Control for what may be cached.
func TestSecurityHeadersOverride(t *testing.T) {
	rec := httptest.NewRecorder()
	httpkit.SecurityHeaders{CSP: testCSP}.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if got := rec.Header().Values("Cache-Control"); len(got) != 1 || got[0] != "public, max-age=300" {
		t.Errorf("Cache-Control = %q", got)
	}
}

func TestSecurityHeadersNeedFrameAncestors(t *testing.T) {
	for _, csp := range []string{"", "default-src 'none'", "default-src 'none'; frame-ancestors 'self'"} {
		t.Run("fail/"+csp, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Wrap with CSP %q did not panic", csp)
				}
			}()
			httpkit.SecurityHeaders{CSP: csp}.Wrap(http.NotFoundHandler())
		})
	}
}
