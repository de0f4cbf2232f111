package oidc

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the provider's Prometheus collectors. They always exist (so handlers need no
// nil checks) and are registered only when Config.Registerer is set.
type metrics struct {
	logins   *prometheus.CounterVec   // result
	tokens   *prometheus.CounterVec   // grant
	errors   *prometheus.CounterVec   // endpoint, error
	replays  *prometheus.CounterVec   // kind
	requests *prometheus.HistogramVec // route, code
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tongban", Subsystem: "idp", Name: "logins_total",
			Help: "Password logins by result: success, failure (unknown user or wrong password), locked, csrf.",
		}, []string{"result"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tongban", Subsystem: "idp", Name: "tokens_issued_total",
			Help: "Token responses by grant type.",
		}, []string{"grant"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tongban", Subsystem: "idp", Name: "oauth_errors_total",
			Help: "OAuth 2.0 / OIDC error responses by endpoint and error code.",
		}, []string{"endpoint", "error"}),
		replays: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tongban", Subsystem: "idp", Name: "replays_total",
			Help: "Replayed authorization codes and reused refresh tokens (their grants are revoked).",
		}, []string{"kind"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "tongban", Subsystem: "idp", Name: "http_request_duration_seconds",
			Help:    "HTTP request latency by route and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "code"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.logins, m.tokens, m.errors, m.replays, m.requests} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// statusWriter records the status code of a response.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument wraps h to observe its latency under route.
func (m *metrics) instrument(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		m.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
	}
}
