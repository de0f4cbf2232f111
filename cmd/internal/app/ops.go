package app

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// ReadyTimeout bounds one readiness check behind /readyz.
const ReadyTimeout = 2 * time.Second

// OpsHandler returns the handler a service listens with: it answers the operations endpoints
// itself and passes every other request to service through m.Middleware.
//
//	GET /healthz  200 {"status":"ok"} while the process serves HTTP (liveness)
//	GET /readyz   200 {"status":"ready"} when ready(ctx) returns nil within ReadyTimeout,
//	              else 503 {"status":"unavailable"}; the cause is logged at debug level (the
//	              readiness monitor, storage/health, logs the changes), not shown (readiness)
//	GET /metrics  the Prometheus text format of m.Registry
//
// The operations endpoints are not recorded in the request histogram. A nil ready always
// reports ready.
func OpsHandler(service http.Handler, ready func(context.Context) error, m *Metrics, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
			defer cancel()
			if err := ready(ctx); err != nil {
				log.Debug("not ready", "err", err.Error())
				writeStatus(w, http.StatusServiceUnavailable, "unavailable")
				return
			}
		}
		writeStatus(w, http.StatusOK, "ready")
	})
	mux.Handle("GET /metrics", m.Handler())
	mux.Handle("/", m.Middleware(service))
	return mux
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(`{"status":"` + status + `"}` + "\n"))
}
