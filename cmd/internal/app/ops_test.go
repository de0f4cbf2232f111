package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestOpsHandler(t *testing.T) {
	m := NewMetrics()
	svc := http.NewServeMux()
	svc.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadRequest) })
	svc.HandleFunc("GET /keys/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "k") })
	ready := errors.New("db down")
	var readyErr error
	h := OpsHandler(svc, func(context.Context) error { return readyErr }, m, discard())

	do := func(method, target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
		return rec
	}
	if rec := do("GET", "/healthz"); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"ok"`) {
		t.Errorf("/healthz: %d %s", rec.Code, rec.Body)
	}
	if rec := do("GET", "/readyz"); rec.Code != 200 {
		t.Errorf("/readyz ready: %d", rec.Code)
	}
	readyErr = ready
	if rec := do("GET", "/readyz"); rec.Code != 503 || strings.Contains(rec.Body.String(), "db down") {
		t.Errorf("/readyz not ready: %d %s", rec.Code, rec.Body)
	}
	do("POST", "/token?client_secret=SECRETVALUE")
	do("GET", "/keys/TOKENVALUE")
	do("GET", "/nothing/TOKENVALUE")

	rec := do("GET", "/metrics")
	body := rec.Body.String()
	for _, want := range []string{
		`tongban_http_request_duration_seconds_count{code="400",method="POST",route="/token"} 1`,
		`tongban_http_request_duration_seconds_count{code="200",method="GET",route="/keys/{id}"} 1`,
		`tongban_http_request_duration_seconds_count{code="404",method="GET",route="unmatched"} 1`,
		"go_goroutines", "process_resident_memory_bytes",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, leak := range []string{"SECRETVALUE", "TOKENVALUE", "healthz", "readyz"} {
		if strings.Contains(body, leak) {
			t.Errorf("/metrics contains %q", leak)
		}
	}
}
