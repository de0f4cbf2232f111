package oidc

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the provider's Prometheus collectors. They always exist (so handlers need no
// nil checks) and are registered only when Config.Registerer is set. Request latency is not
// among them: the embedding service measures it for all its routes (cmd/internal/app.Metrics).
type metrics struct {
	logins  *prometheus.CounterVec // result
	tokens  *prometheus.CounterVec // grant
	errors  *prometheus.CounterVec // endpoint, error
	replays *prometheus.CounterVec // kind
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tongban", Subsystem: "idp", Name: "logins_total",
			Help: "Password logins by result: success, failure (unknown user or wrong password), throttled (account paused for untrusted clients), locked (client address locked), csrf.",
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
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.logins, m.tokens, m.errors, m.replays} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
