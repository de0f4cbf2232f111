package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/storage/storagetest"
)

// TestDiskFull runs `idp serve` on an SQLite database in a really full file system (a tmpfs
// the test mounts; skipped, saying how to run it, when it may not): requests that must write
// get 503 — temporarily_unavailable at the authorization endpoint, server_error with
// Retry-After at the token endpoint — never a 500; /readyz turns unready within 5 s and ready
// again within 5 s of space coming back; and the log reports the refusals a few times, not
// once per request (docs/design/storage-faults.md).
func TestDiskFull(t *testing.T) {
	dir := storagetest.SmallFilesystem(t, 8<<20)
	initVar(t, dir)
	mustOK(t, idp(t, dir, testPassword+"\n", nil, "people", "add", "--id-number", testIDNumber, "--name", "满盘"), "people add")
	secret := addTestApp(t, dir)
	s := startServe(t, dir, nil)
	_, _, b := loginCode(t, s.base) // a browser with an SSO session: each authorization writes a code
	readyz := func() int { code, _ := get(t, s.base+"/readyz"); return code }
	if code := readyz(); code != 200 {
		t.Fatalf("/readyz before the disk is full: %d", code)
	}
	// A grant to log out of while the disk is full.
	lc, lv, _ := loginCode(t, s.base)
	status, logout, _ := postToken(t, s.base, secret, redeemForm(lc, lv))
	if status != 200 {
		t.Fatalf("redeem: %d %v", status, logout)
	}
	logBefore := s.stderr.Len()
	type pending struct{ code, verifier string }
	var early []pending // codes got before the disk fills, redeemed after
	for range 30 {
		a := newAuthRequest(t, s.base)
		early = append(early, pending{callback(b.Get(a.url)).Get("code"), a.verifier})
	}

	filler := storagetest.FillFilesystem(t, dir)
	filled := time.Now()
	var codes, unavailableAuthz, unavailableToken, issued int
	redeem := func(code, verifier string) {
		status, out, retry := postToken(t, s.base, secret, redeemForm(code, verifier))
		switch {
		case status == 200:
			issued++
		case status == 503 && out["error"] == "server_error" && retry != "":
			unavailableToken++
		default:
			t.Fatalf("token endpoint on a full disk: %d %v (Retry-After %q), want 200 or 503 server_error with Retry-After", status, out, retry)
		}
	}
	for _, e := range early {
		redeem(e.code, e.verifier)
	}
	for range 300 {
		a := newAuthRequest(t, s.base)
		p := b.Get(a.url)
		q := callback(p)
		switch {
		case q.Get("code") != "":
			codes++
			redeem(q.Get("code"), a.verifier)
		case q.Get("error") == "temporarily_unavailable":
			unavailableAuthz++
		default:
			t.Fatalf("authorization on a full disk ended at %d %s: %.300s", p.Status, p.URL, p.Body)
		}
	}
	t.Logf("on a full disk: 30 codes from before and %d of 300 authorizations; %d redeemed, %d redemptions 503, %d authorizations temporarily_unavailable",
		codes, issued, unavailableToken, unavailableAuthz)
	if unavailableAuthz == 0 || unavailableToken == 0 {
		t.Fatal("the authorization and token endpoints did not both refuse requests on a full disk")
	}
	// A logout (revocation) says it did not happen: 503, not 200; the tokens stay valid, and
	// the logout succeeds once space is back (below).
	if status, out, retry := postAs(t, s.base+"/revoke", secret, url.Values{"token": {logout["refresh_token"].(string)}}); status != 503 || retry == "" {
		t.Errorf("revocation on a full disk: %d %v (Retry-After %q), want 503", status, out, retry)
	}
	// A person logging in meets the plain "temporarily unavailable" page, not "request
	// expired": the login form's single-use mark could not be stored.
	b2 := newTestBrowser(t)
	p := b2.LoginAndConsent(b2.Get(newAuthRequest(t, s.base).url), testIDNumber, testPassword)
	if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Body, "服务暂时不可用") {
		t.Errorf("login on a full disk: %d %s: %.300s", p.Status, p.URL, p.Body)
	}
	for readyz() != http.StatusServiceUnavailable {
		if time.Since(filled) > 5*time.Second {
			t.Fatal("/readyz still ready 5 s after the disk filled up")
		}
		time.Sleep(100 * time.Millisecond)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	for readyz() != http.StatusOK {
		if time.Since(freed) > 5*time.Second {
			t.Fatal("/readyz still unready 5 s after space was freed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	a := newAuthRequest(t, s.base)
	q := callback(b.Get(a.url))
	if status, out, _ := postToken(t, s.base, secret, redeemForm(q.Get("code"), a.verifier)); status != 200 {
		t.Errorf("code flow after space was freed: %d %v", status, out)
	}
	// A code whose redemption failed on the full disk was not used up: the failure rolled its
	// claim back, and it redeems now.
	if status, out, _ := postToken(t, s.base, secret, redeemForm(early[0].code, early[0].verifier)); status != 200 {
		t.Errorf("a code refused on the full disk, redeemed after: %d %v", status, out)
	}

	if !introspect(t, s.base, secret, logout["refresh_token"].(string)) {
		t.Error("a revocation refused on the full disk revoked the refresh token")
	}
	if status, _, _ := postAs(t, s.base+"/revoke", secret, url.Values{"token": {logout["refresh_token"].(string)}}); status != 200 ||
		introspect(t, s.base, secret, logout["access_token"].(string)) {
		t.Errorf("logout after space was freed: %d, or the access token is still active", status)
	}

	// The log: a handful of lines about the outage, not one per refused request.
	var errorLines, refusals int
	for _, l := range strings.Split(strings.TrimSpace(s.stderr.String()[logBefore:]), "\n") {
		var line struct{ Level, Msg string }
		if json.Unmarshal([]byte(l), &line) != nil {
			continue
		}
		if line.Level == "ERROR" {
			errorLines++
		}
		if strings.Contains(line.Msg, "refuses writes") || strings.Contains(line.Msg, "accepts writes again") {
			refusals++
		}
	}
	if errorLines > 3 || refusals == 0 {
		t.Errorf("%d refused requests logged %d ERROR lines (%d about the outage), want at most 3 and some:\n%s",
			unavailableAuthz+unavailableToken, errorLines, refusals, s.stderr.String()[logBefore:])
	}
	if _, err := os.Stat(filepath.Join(dir, "var", "tongban.db")); err != nil {
		t.Fatal(err)
	}
}
