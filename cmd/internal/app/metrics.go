package app

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is a service's own Prometheus registry (not the global one), with the Go runtime and
// process collectors and tongban's HTTP metrics:
//
//	tongban_http_request_duration_seconds{method, route, code}  histogram
//	tongban_http_requests_in_flight                              gauge
//
// route is the ServeMux pattern that served the request without its method ("/token",
// "/keys/{id}"), "unmatched" when no pattern matched (404s, redirects to a cleaned path), never
// the request path itself: paths may carry tokens and would make the label set unbounded. The
// query string is never recorded. method is one of the standard methods or "other".
type Metrics struct {
	// Registry holds every metric of the service; pass it as the Registerer of the packages
	// that have metrics of their own (oidc.Config.Registerer).
	Registry *prometheus.Registry

	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

// DurationBuckets are the upper bounds, in seconds, of the request duration histogram: fine
// below 100 ms where token and SSO requests fall, coarse up to the password-hash range.
var DurationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// NewMetrics returns a registry holding the Go and process collectors and the HTTP metrics.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "tongban", Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time from the request headers read to the handler's return, by route pattern, method and status code.",
			Buckets: DurationBuckets,
		}, []string{"method", "route", "code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "tongban", Subsystem: "http", Name: "requests_in_flight",
			Help: "Requests being served.",
		}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.duration, m.inFlight,
	)
	return m
}

// Handler serves the registry in the Prometheus text format (for GET /metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Middleware records the duration and status of every request next serves. The route label
// is read from Request.Pattern once next returns, so next should be (or reach, without
// replacing the *http.Request) a Go 1.22 http.ServeMux.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inFlight.Inc()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			m.inFlight.Dec()
			code := rec.status
			if code == 0 {
				code = http.StatusOK
			}
			m.duration.WithLabelValues(methodLabel(r.Method), routeLabel(r.Pattern), strconv.Itoa(code)).
				Observe(time.Since(start).Seconds())
		}()
		r.Pattern = "" // an outer mux's pattern ("/") is not the route
		next.ServeHTTP(rec, r)
	})
}

func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return method
	}
	return "other"
}

// routeLabel turns a ServeMux pattern "[METHOD ][HOST]/PATH" into "[HOST]/PATH".
func routeLabel(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = strings.TrimLeft(pattern[i+1:], " \t")
	}
	return pattern
}

// statusRecorder remembers the status code written through it. Unwrap lets
// http.ResponseController reach the underlying writer's Flush and deadlines.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 && code >= 200 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		if s.status == 0 {
			s.status = http.StatusOK
		}
		f.Flush()
	}
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
