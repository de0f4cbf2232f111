package oidc

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Client label values that are no client ID.
const (
	// LabelOtherClients is the client label of every registered client after the first
	// Config.MetricClients ones this process counted (first come, fixed for the process's
	// lifetime). A client registered with the ID "_other" is counted there too.
	LabelOtherClients = "_other"
	// LabelNoClient (the empty value, which Prometheus treats as no label) is the client label
	// of what no registered client can be held responsible for: an unknown or unauthenticated
	// client ID, a login for the provider's own account pages, a malformed request.
	LabelNoClient = ""
)

// LatencyBuckets are the upper bounds, in seconds, of tongban_idp_request_duration_seconds:
// few (8, plus +Inf), because every client label value gets them all, twice (authorize and
// token) — they keep /metrics under 2 MB with Config.MetricClients at its default.
var LatencyBuckets = []float64{.0025, .005, .01, .025, .05, .1, .25, 1}

// metrics are the provider's Prometheus collectors. They always exist (so handlers need no
// nil checks) and are registered only when Config.Registerer is set. Every series that names
// an app carries the client label, bounded by clients (see clientLabels).
type metrics struct {
	logins  *prometheus.CounterVec   // result, client
	tokens  *prometheus.CounterVec   // grant, client
	errors  *prometheus.CounterVec   // endpoint, error, client
	replays *prometheus.CounterVec   // kind
	latency *prometheus.HistogramVec // endpoint, client
	logouts *prometheus.CounterVec   // result (logout_backchannel.go)
	fed     *prometheus.CounterVec   // endpoint, result (federation.go)
	clients *clientLabels
}

func newMetrics(reg prometheus.Registerer, maxClients int) (*metrics, error) {
	m := &metrics{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tongban", Subsystem: "idp", Name: "logins_total",
			Help: "Logins (password, OTP, passkey, scan) by result — success, failure (unknown user, wrong password or code), throttled (account paused for untrusted clients), locked (client address locked), disabled (right password, account disabled by an operator), csrf — and by client (the app the login was for; \"\" none, \"_other\" past the label limit).",
		}, []string{"result", "client"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tongban", Subsystem: "idp", Name: "tokens_issued_total",
			Help: "Token responses by grant type and client (\"_other\" past the label limit).",
		}, []string{"grant", "client"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tongban", Subsystem: "idp", Name: "oauth_errors_total",
			Help: "OAuth 2.0 / OIDC error responses by endpoint, error code and client (\"\" when no registered client was identified, \"_other\" past the label limit).",
		}, []string{"endpoint", "error", "client"}),
		replays: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tongban", Subsystem: "idp", Name: "replays_total",
			Help: "Replayed authorization codes and reused refresh tokens (their grants are revoked).",
		}, []string{"kind"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "tongban", Subsystem: "idp", Name: "request_duration_seconds",
			Help:    "Server time of authorization (endpoint=authorize, including its resumption after login) and token (endpoint=token) requests, by client (\"\" when no registered client was identified, \"_other\" past the label limit).",
			Buckets: LatencyBuckets,
		}, []string{"endpoint", "client"}),
		logouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tongban", Subsystem: "idp", Name: "backchannel_logouts_total",
			Help: "Back-channel logout deliveries by result: queued (put in the outbox), sent (HTTP 200/204), retry (failed, tried again later), dropped (given up after the last attempt).",
		}, []string{"result"}),
		fed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tongban", Subsystem: "idp", Name: "federation_requests_total",
			Help: "OpenID Federation endpoint requests (endpoint: configuration, fetch, list, resolve) by result: ok, or the error code answered (not_found, invalid_request, invalid_trust_chain …).",
		}, []string{"endpoint", "result"}),
		clients: newClientLabels(maxClients),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.logins, m.tokens, m.errors, m.replays, m.latency, m.logouts, m.fed} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// clientLabels bounds the client label: the first max distinct client IDs it is asked about
// keep their own value for the process's lifetime, every later one gets LabelOtherClients.
// Callers pass only IDs of registered clients (see Server.appOf), never an ID read from a
// request as it is: the bound protects Prometheus, not the provider from garbage.
type clientLabels struct {
	max int
	mu  sync.RWMutex
	ids map[string]struct{}
}

func newClientLabels(max int) *clientLabels {
	return &clientLabels{max: max, ids: make(map[string]struct{}, min(max, 1024))}
}

// label returns the client label value of a registered client's ID ("" gives LabelNoClient).
func (c *clientLabels) label(id string) string {
	if id == "" {
		return LabelNoClient
	}
	c.mu.RLock()
	_, ok := c.ids[id]
	full := len(c.ids) >= c.max
	c.mu.RUnlock()
	switch {
	case ok:
		return id
	case full:
		return LabelOtherClients
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.ids[id]; ok {
		return id
	}
	if len(c.ids) >= c.max {
		return LabelOtherClients
	}
	c.ids[id] = struct{}{}
	return id
}
