package oidc_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// Per-app monitoring over real HTTP: series labelled by client in /metrics, the label bound
// (the 257th app is counted under _other), garbage client IDs never labels, and the hourly
// figures of Server.AppStats after a flush — exact for every app, the 257th included.

func TestAppMonitoringSQLite(t *testing.T) {
	testAppMonitoring(t, newEnv(t, storagetest.SQLite(t), envOptions{}))
}

func TestAppMonitoringPostgres(t *testing.T) {
	testAppMonitoring(t, newEnv(t, storagetest.Postgres(t), envOptions{}))
}

// scrape serves the env's registry with promhttp, as cmd/internal/app does at /metrics, and
// returns the text exposition.
func scrape(t *testing.T, e *env) string {
	t.Helper()
	ms := httptest.NewServer(promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{}))
	defer ms.Close()
	resp, err := http.Get(ms.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// appTotals sums the hours of AppStats.
func appTotals(hours []tboidc.AppHour) storage.AppCounts {
	var c storage.AppCounts
	for _, h := range hours {
		c = c.Add(h.AppCounts)
	}
	return c
}

func testAppMonitoring(t *testing.T, e *env) {
	ctx := context.Background()
	before := e.clock.Now().UTC().Truncate(time.Hour)
	stop := e.srv.StartAppStats(ctx) // flushes at stop, as idp serve does at shutdown

	// One app: a failed login, a login, a token, a replayed code (invalid_grant).
	_, num := e.person("费一", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	p := b.get(a.url)
	if !p.isLogin() {
		t.Fatalf("want the login page, got %d", p.status)
	}
	if p = b.login(p, num, "wrong password"); p.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", p.status)
	}
	if p = b.login(p, num, testPassword); !p.isConsent() {
		t.Fatalf("want the consent page, got %d", p.status)
	}
	p = b.consent(p, "allow")
	code := p.callback(t).Get("code")
	if _, err := r.exchange(code, a.verifier); err != nil {
		t.Fatal(err)
	}
	if _, err := r.exchange(code, a.verifier); err == nil {
		t.Fatal("a replayed code was redeemed")
	}
	// A second sign-in through the SSO session, typing nothing: a sign-in for the app's
	// figures, not a credential login for logins_total.
	if p := b.get(r.authURL().url); p.callback(t).Get("code") == "" {
		t.Fatal("the SSO sign-in got no code")
	}

	// Garbage from the network: an unknown client at the token and authorization endpoints.
	const garbage = "no-such-app-7f3e"
	if status, out := e.postForm("/token", garbage, "secret", url.Values{"grant_type": {"client_credentials"}}); status != http.StatusUnauthorized {
		t.Errorf("unknown client: %d %v", status, out)
	}
	b.get(e.issuer + "/authorize?" + url.Values{"client_id": {garbage}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"https://evil.example/cb"}}.Encode())

	text := scrape(t, e)
	id := r.client.ID
	for _, want := range []string{
		fmt.Sprintf(`tongban_idp_logins_total{client=%q,result="success"} 1`, id),
		fmt.Sprintf(`tongban_idp_logins_total{client=%q,result="failure"} 1`, id),
		fmt.Sprintf(`tongban_idp_tokens_issued_total{client=%q,grant="authorization_code"} 1`, id),
		fmt.Sprintf(`tongban_idp_oauth_errors_total{client=%q,endpoint="token",error="invalid_grant"} 1`, id),
		`tongban_idp_oauth_errors_total{client="",endpoint="token",error="invalid_client"} 1`,
		fmt.Sprintf(`tongban_idp_request_duration_seconds_count{client=%q,endpoint="token"} 2`, id),
		fmt.Sprintf(`tongban_idp_request_duration_seconds_count{client=%q,endpoint="authorize"} 4`, id), // request, resumed after login, after consent; the SSO sign-in
		`tongban_idp_request_duration_seconds_count{client="",endpoint="authorize"} 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(text, garbage) {
		t.Errorf("an unknown client ID became a label value")
	}

	// Before a flush storage has nothing; stop flushes.
	hours, err := e.srv.AppStats(ctx, id, before.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got := appTotals(hours); !got.IsZero() {
		t.Errorf("before the flush: %+v", got)
	}
	stop()
	after := e.clock.Now().UTC().Truncate(time.Hour)
	hours, err = e.srv.AppStats(ctx, id, before.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := int(after.Sub(before)/time.Hour) + 2; len(hours) != want {
		t.Fatalf("%d hours, want %d (one per hour, zeros filled in)", len(hours), want)
	}
	for i, h := range hours {
		if !h.Hour.Equal(before.Add(time.Duration(i-1)*time.Hour)) || h.Hour.Location() != time.UTC {
			t.Errorf("hour %d is %v", i, h.Hour)
		}
		if !h.IsZero() && (h.Hour.Before(before) || h.Hour.After(after)) {
			t.Errorf("counts in hour %v, outside [%v, %v]", h.Hour, before, after)
		}
	}
	got := appTotals(hours)
	if got.Logins != 2 || got.LoginFailures != 1 || got.Tokens != 1 || got.Errors != 1 || got.LatencyCount != 2 || got.LatencySumMillis <= 0 {
		t.Errorf("app stats: %+v, want 2 sign-ins (one typed, one SSO), 1 failure, 1 token, 1 error, 2 timed token requests", got)
	}
	if _, err := e.srv.AppStats(ctx, garbage, before); err == nil {
		t.Errorf("AppStats of an unknown client: no error")
	}

	// DefaultMetricClients more apps get a token each: the last of them is one past the bound,
	// under _other in /metrics but exact in AppStats.
	var last string
	for i := range tboidc.DefaultMetricClients {
		c, secret, err := tboidc.CreateClient(ctx, e.store, e.kr, tboidc.NewClient{
			ID: fmt.Sprintf("svc-%03d", i), Name: "服务", GrantTypes: []string{tboidc.GrantClientCredentials},
		})
		if err != nil {
			t.Fatal(err)
		}
		if status, out := e.postForm("/token", c.ID, secret, url.Values{"grant_type": {"client_credentials"}}); status != http.StatusOK {
			t.Fatalf("client credentials of %s: %d %v", c.ID, status, out)
		}
		last = c.ID
	}
	text = scrape(t, e)
	if !strings.Contains(text, `tongban_idp_tokens_issued_total{client="_other",grant="client_credentials"} 1`+"\n") {
		t.Errorf("the 257th app is not counted under _other")
	}
	if strings.Contains(text, `client="`+last+`"`) {
		t.Errorf("the 257th app %s has a label of its own", last)
	}
	labels := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if _, rest, ok := strings.Cut(line, `client="`); ok && strings.HasPrefix(line, "tongban_idp_") {
			v, _, _ := strings.Cut(rest, `"`)
			labels[v] = true
		}
	}
	delete(labels, "")
	delete(labels, "_other")
	if len(labels) != tboidc.DefaultMetricClients {
		t.Errorf("%d distinct client label values, want %d", len(labels), tboidc.DefaultMetricClients)
	}
	if err := e.srv.FlushAppStats(ctx); err != nil {
		t.Fatal(err)
	}
	hours, err = e.srv.AppStats(ctx, last, before)
	if err != nil {
		t.Fatal(err)
	}
	if got := appTotals(hours); got.Tokens != 1 || got.LatencyCount != 1 {
		t.Errorf("app stats of the 257th app: %+v, want 1 token", got)
	}

	// Purge keeps the figures within the retention and drops older ones.
	e.clock.Advance(tboidc.DefaultAppStatsRetention + 2*time.Hour)
	defer e.clock.Advance(-tboidc.DefaultAppStatsRetention - 2*time.Hour)
	counts, err := e.srv.Purge(ctx)
	if err != nil || counts.AppStats < 2 {
		t.Errorf("purge: %+v %v, want the app stats rows gone", counts, err)
	}
}
