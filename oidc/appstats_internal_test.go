package oidc

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tongban/tongban/storage"
)

// metricsBudget is the most /metrics may weigh with 10,000 active apps (docs/design/app-management.md).
const metricsBudget = 2 << 20

// appID is the i-th made-up client ID of idLen (≥ 36) characters: a UUID, padded.
func appID(i, idLen int) string {
	return fmt.Sprintf("%08x-aaaa-4bbb-8ccc-%012x", i, i) + strings.Repeat("x", idLen-36)
}

// exposeAppMetrics counts, for each of apps client IDs of idLen characters (appID), what an
// active app does — logins of every result, tokens of every grant, the usual errors, requests
// timed at both timed endpoints — into a fresh registry with the default label bound, and
// returns the text exposition /metrics would serve.
func exposeAppMetrics(t testing.TB, apps, idLen int) []byte {
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg, DefaultMetricClients)
	if err != nil {
		t.Fatal(err)
	}
	for i := range apps {
		l := m.clients.label(appID(i, idLen))
		for _, r := range []string{"success", "failure", "throttled", "locked", "disabled", "csrf"} {
			m.logins.WithLabelValues(r, l).Inc()
		}
		for _, g := range []string{"authorization_code", "refresh_token", "client_credentials", GrantDeviceCode} {
			m.tokens.WithLabelValues(g, l).Inc()
		}
		for _, e := range [][2]string{{"token", "invalid_grant"}, {"token", "invalid_client"}, {"token", "invalid_request"},
			{"authorize", "access_denied"}, {"authorize", "login_required"}, {"authorize", "consent_required"},
			{"introspect", "temporarily_unavailable"}, {"userinfo", "insufficient_scope"}} {
			m.errors.WithLabelValues(e[0], e[1], l).Inc()
		}
		for j := range 20 {
			d := time.Duration(j*j) * time.Millisecond / 4
			m.latency.WithLabelValues(endpointToken, l).Observe(d.Seconds())
			m.latency.WithLabelValues(endpointAuthorize, l).Observe(d.Seconds())
		}
	}
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	return rec.Body.Bytes()
}

// TestMetricsSizeTenThousandApps: 10,000 apps, all active, keep /metrics under 2 MB — the
// first DefaultMetricClients by their ID, the rest under client="_other" — with client IDs of
// 36 characters and of the longest allowed, 128.
func TestMetricsSizeTenThousandApps(t *testing.T) {
	for _, idLen := range []int{36, 128} {
		body := exposeAppMetrics(t, 10_000, idLen)
		t.Logf("/metrics with 10,000 active apps, IDs of %d characters: %d bytes (budget %d)", idLen, len(body), metricsBudget)
		if len(body) >= metricsBudget {
			t.Errorf("IDs of %d characters: /metrics is %d bytes, want < %d", idLen, len(body), metricsBudget)
		}
		want := fmt.Sprintf(`tongban_idp_tokens_issued_total{client="%s",grant="client_credentials"} %d`, LabelOtherClients, 10_000-DefaultMetricClients)
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
		first := fmt.Sprintf(`client="%s"`, appID(DefaultMetricClients-1, idLen))
		past := fmt.Sprintf(`client="%s"`, appID(DefaultMetricClients, idLen))
		if !bytes.Contains(body, []byte(first)) || bytes.Contains(body, []byte(past)) {
			t.Errorf("the label bound is not first come: %s present %v, %s present %v", first,
				bytes.Contains(body, []byte(first)), past, bytes.Contains(body, []byte(past)))
		}
	}
}

// BenchmarkMetricsSizeTenThousandApps reports the exposition's size (bytes/exposition) with
// the longest client IDs, not a time: the budget is metricsBudget.
func BenchmarkMetricsSizeTenThousandApps(b *testing.B) {
	var n int
	for b.Loop() {
		n = len(exposeAppMetrics(b, 10_000, 128))
	}
	b.ReportMetric(float64(n), "bytes/exposition")
}

func TestClientLabels(t *testing.T) {
	c := newClientLabels(2)
	for _, tc := range []struct{ id, want string }{
		{"a", "a"}, {"", LabelNoClient}, {"b", "b"}, {"c", LabelOtherClients}, {"a", "a"}, {"b", "b"}, {"d", LabelOtherClients},
	} {
		if got := c.label(tc.id); got != tc.want {
			t.Errorf("label(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
}

// TestAppStatsAccumulator: counts sum per (app, UTC hour), take empties, putBack restores
// what a failed flush took, in (client, hour) order.
func TestAppStatsAccumulator(t *testing.T) {
	var a appStatsAccumulator
	cst := time.FixedZone("CST", 8*3600)
	h := time.Date(2025, 3, 7, 9, 0, 0, 0, cst) // 01:00 UTC
	a.add("b", h.Add(59*time.Minute), storage.AppCounts{Logins: 1})
	a.add("b", h, storage.AppCounts{Tokens: 2, LatencySumMillis: 0.5, LatencyCount: 1})
	a.add("b", h.Add(time.Hour), storage.AppCounts{Errors: 1})
	a.add("a", h.Add(-time.Nanosecond), storage.AppCounts{LoginFailures: 1})
	got, dropped := a.take()
	want := []storage.AppStatDelta{
		{ClientID: "a", Hour: h.Add(-time.Hour).UTC(), AppCounts: storage.AppCounts{LoginFailures: 1}},
		{ClientID: "b", Hour: h.UTC(), AppCounts: storage.AppCounts{Logins: 1, Tokens: 2, LatencySumMillis: 0.5, LatencyCount: 1}},
		{ClientID: "b", Hour: h.Add(time.Hour).UTC(), AppCounts: storage.AppCounts{Errors: 1}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || dropped != 0 {
		t.Fatalf("take = %v %d,\nwant %v 0", got, dropped, want)
	}
	if again, _ := a.take(); len(again) != 0 {
		t.Errorf("take after take = %v", again)
	}
	a.add("b", h, storage.AppCounts{Logins: 1})
	a.putBack(got)
	after, _ := a.take()
	want[1].Logins++
	if fmt.Sprint(after) != fmt.Sprint(want) {
		t.Errorf("after putBack: %v,\nwant %v", after, want)
	}
}
