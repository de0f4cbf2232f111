package oidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	tboidc "github.com/tongban/tongban/oidc"
)

// Operations: CORS, purge, metrics and logs without personal data.

func testCORSAndPurge(t *testing.T, e *env) {
	req, _ := http.NewRequest(http.MethodOptions, e.issuer+"/token", nil)
	req.Header.Set("Origin", "https://spa.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := e.hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	// Purge drops expired codes and tokens.
	_, num := e.person("曹一", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	code := b.signIn(a, num)
	_ = code
	e.clock.Advance(2 * time.Minute)
	defer e.clock.Advance(-2 * time.Minute)
	counts, err := e.srv.Purge(context.Background())
	if err != nil || counts.Tokens < 1 {
		t.Errorf("purge: %+v %v", counts, err)
	}
}

func testMetrics(t *testing.T, e *env) {
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() != "client" { // summed over the apps (e2e_appstats_test.go checks them)
					key += "," + l.GetName() + "=" + l.GetValue()
				}
			}
			if c := m.GetCounter(); c != nil {
				got[key] += c.GetValue()
			}
		}
	}
	for _, k := range []string{
		"tongban_idp_logins_total,result=success",
		"tongban_idp_logins_total,result=failure",
		"tongban_idp_logins_total,result=throttled",
		"tongban_idp_tokens_issued_total,grant=authorization_code",
		"tongban_idp_tokens_issued_total,grant=refresh_token",
		"tongban_idp_tokens_issued_total,grant=client_credentials",
		"tongban_idp_replays_total,kind=authorization_code",
		"tongban_idp_replays_total,kind=refresh_token",
		"tongban_idp_oauth_errors_total,endpoint=token,error=invalid_grant",
	} {
		if got[k] < 1 {
			t.Errorf("%s = %v", k, got[k])
		}
	}
}

func testLogs(t *testing.T, e *env) {
	logs := e.logs.String()
	if testing.Verbose() {
		t.Logf("logs:\n%s", logs)
	}
	if !strings.Contains(logs, `"msg":"login"`) || !strings.Contains(logs, `"client_id"`) {
		t.Fatalf("expected login logs, got:\n%.2000s", logs)
	}
	for _, secret := range append(e.pii, testPassword, "tb_at_", "tb_rt_", "tb_ac_", "eyJ") {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("not a JSON log line: %s", line)
		}
	}
}
