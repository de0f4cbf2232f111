package httpkit_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tongban/tongban/internal/httpkit"
)

func TestServerStatus(t *testing.T) {
	cause := errors.New("sqlite: database or disk is full")
	for _, tc := range []struct {
		name        string
		unavailable bool
		status      int
		retryAfter  string
		level       string // the level of the one log line
	}{
		{"ok/unavailable-503-debug", true, http.StatusServiceUnavailable, "5", "DEBUG"},
		{"ok/other-failure-500-error", false, http.StatusInternalServerError, "", "ERROR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			rec := httptest.NewRecorder()
			got := httpkit.ServerStatus(t.Context(), rec, log, tc.unavailable, "callback: store session", cause)
			if got != tc.status {
				t.Errorf("status %d, want %d", got, tc.status)
			}
			if ra := rec.Header().Get("Retry-After"); ra != tc.retryAfter {
				t.Errorf("Retry-After %q, want %q", ra, tc.retryAfter)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "level="+tc.level) ||
				!strings.Contains(lines[0], "callback: store session") || !strings.Contains(lines[0], "disk is full") {
				t.Errorf("log %q, want one %s line with what and the cause", buf.String(), tc.level)
			}
		})
	}
}

func TestSetRetryAfter(t *testing.T) {
	rec := httptest.NewRecorder()
	httpkit.SetRetryAfter(rec)
	if got := rec.Header().Values("Retry-After"); len(got) != 1 || got[0] != "5" || httpkit.RetryAfter != 5 {
		t.Errorf("Retry-After %q", got)
	}
}
