package oidc_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"

	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// Scan-to-login over HTTP with cookie-jar browsers: "computer" shows the login page of an app
// and its QR code, "phone" is logged in to the provider and confirms, a third browser plays the
// attacker. The cases share one provider and run in order.

func TestScanLoginSQLite(t *testing.T) {
	runScanSuite(t, func(t testing.TB) storage.Storage { return storagetest.SQLite(t) })
}

func TestScanLoginPostgres(t *testing.T) {
	runScanSuite(t, func(t testing.TB) storage.Storage { return storagetest.Postgres(t) })
}

func runScanSuite(t *testing.T, newStore func(testing.TB) storage.Storage) {
	e := newEnv(t, newStore(t), envOptions{})
	for _, tc := range []struct {
		name string
		test func(*testing.T, *env)
	}{
		{"ok/full-flow-to-id-token", testScanFullFlow},
		{"ok/held-status-woken-by-approval", testScanLongPoll},
		{"ok/decision-on-another-replica", testScanOtherReplica},
		{"ok/account-page-login", testScanAccountPage},
		{"ok/phone-logs-in-first", testScanPhoneLogsInFirst},
		{"ok/prompt-login-asks-phone-again", testScanPromptLogin},
		{"ok/mfa-asks-phone-for-the-code", testScanMFA},
		{"fail/relay-to-another-browser", testScanRelay},
		{"fail/expired", testScanExpired},
		{"fail/replay", testScanReplay},
		{"fail/deny", testScanDeny},
		{"fail/forged-code", testScanForged},
		{"fail/second-phone", testScanSecondPhone},
		{"fail/scanned-not-confirmed", testScanNotConfirmed},
		{"fail/csrf", testScanCSRF},
		{"fail/start-limit-and-unknown-decision", testScanStartLimit},
		{"ok/audit-and-logs", testScanAudit},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, e) })
	}
}

// scanSection is the scan-to-login section of a login page: its data attributes.
type scanSection struct{ start, status, finish, csrf, authz, lang string }

func scanSectionOf(t testing.TB, p page) scanSection {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(p.body))
	if err != nil {
		t.Fatal(err)
	}
	var found *html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && attr(n, "id") == "scan" {
			found = n
		}
		for c := n.FirstChild; c != nil && found == nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if found == nil {
		t.Fatalf("no scan-to-login section on %s (%d):\n%s", p.url, p.status, p.body)
	}
	return scanSection{attr(found, "data-start"), attr(found, "data-status"), attr(found, "data-finish"),
		attr(found, "data-csrf"), attr(found, "data-authz"), attr(found, "data-lang")}
}

// jsonPage decodes a JSON answer.
func jsonPage(t testing.TB, p page) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(p.body), &m); err != nil {
		t.Fatalf("%s: status %d, not JSON: %v\n%s", p.url, p.status, err, p.body)
	}
	return m
}

// scanStart is what /scan/start answered a computer.
type scanStart struct {
	sec  scanSection
	code string
	link string // the URL in the QR code
	qr   string
}

// startScan opens an app's authorization request in computer, checks that it is the login
// page with a scan section and asks for a code.
func (e *env) startScan(t testing.TB, computer *browser, a authRequest) scanStart {
	t.Helper()
	p := computer.get(a.url)
	if !p.isLogin() {
		t.Fatalf("computer: want the login page, got %d %s", p.status, p.url)
	}
	return e.startScanOn(t, computer, p)
}

func (e *env) startScanOn(t testing.TB, computer *browser, login page) scanStart {
	t.Helper()
	sec := scanSectionOf(t, login)
	p := computer.post(e.issuer+sec.start, url.Values{"authz": {sec.authz}, "csrf": {sec.csrf}, "ui_locales": {sec.lang}})
	m := jsonPage(t, p)
	if p.status != http.StatusOK {
		t.Fatalf("scan start: %d %v", p.status, m)
	}
	s := scanStart{sec: sec, code: m["code"].(string), link: m["url"].(string), qr: m["qr"].(string)}
	if s.link != e.issuer+"/scan?c="+s.code || m["state"] != "pending" || m["expires_in"] != float64(120) {
		t.Fatalf("scan start answer: %v", m)
	}
	return s
}

// status asks for the state of s's code (s the state the caller knows: "" returns at once).
func (b *browser) scanStatus(s scanStart, known string) (int, map[string]any) {
	b.t.Helper()
	p := b.get(b.e.issuer + s.sec.status + "?" + url.Values{"c": {s.code}, "s": {known}}.Encode())
	return p.status, jsonPage(b.t, p)
}

// scanFinish posts the finish request.
func (b *browser) scanFinish(s scanStart, code string) (int, map[string]any) {
	b.t.Helper()
	p := b.post(b.e.issuer+s.sec.finish, url.Values{"c": {code}, "csrf": {s.sec.csrf}, "ui_locales": {s.sec.lang}})
	return p.status, jsonPage(b.t, p)
}

// loggedInPhone returns a browser logged in to the provider (the account page) as identifier.
func (e *env) loggedInPhone(t testing.TB, identifier string) *browser {
	t.Helper()
	phone := e.browser()
	p := phone.get(e.issuer + "/account")
	p = phone.login(p, identifier, testPassword)
	if p.url.Path != "/account" || p.status != http.StatusOK {
		t.Fatalf("phone login: got %d %s", p.status, p.url)
	}
	return phone
}

// decide opens link on phone, wants the confirmation page and posts decision.
func (b *browser) scanDecide(link, decision string) page {
	b.t.Helper()
	p := b.get(link)
	if p.status != http.StatusOK || !strings.Contains(p.body, `value="approve"`) {
		b.t.Fatalf("phone: want the confirmation page, got %d %s:\n%s", p.status, p.url, p.body)
	}
	action, vals := p.form(b.t)
	vals.Set("decision", decision)
	return b.post(action, vals)
}

// continueAt follows the finish answer's next URL in computer to the app's callback (through
// the consent page when asked) and returns the code.
func (e *env) continueAt(t testing.TB, computer *browser, next string, a authRequest) string {
	t.Helper()
	p := computer.get(e.issuer + next)
	if p.isConsent() {
		p = computer.consent(p, "allow")
	}
	q := p.callback(t)
	if q.Get("state") != a.state || q.Get("code") == "" {
		t.Fatalf("callback: %v", q)
	}
	return q.Get("code")
}

func testScanFullFlow(t *testing.T, e *env) {
	person, id := e.person("扫码甲", "")
	app := e.newRP(tboidc.NewClient{Name: "扫码测试应用"})
	phone := e.loggedInPhone(t, id)
	// What the phone's own session says of the person (its acr, amr and auth_time), through
	// an ID token of its own login to the app.
	pa := app.authURL()
	phoneTok, err := app.exchange(phone.signIn(pa, id), pa.verifier)
	if err != nil {
		t.Fatal(err)
	}
	phoneRaw, _ := phoneTok.Extra("id_token").(string)
	phoneIDT, phoneClaims := app.verify(phoneRaw, pa.nonce)

	computer := e.browser()
	a := app.authURL()
	s := e.startScan(t, computer, a)
	if !strings.HasPrefix(s.qr, "data:image/png;base64,") {
		t.Fatalf("qr = %.40q…, want a PNG data: URI", s.qr)
	}
	if png, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s.qr, "data:image/png;base64,")); err != nil || string(png[1:4]) != "PNG" {
		t.Fatalf("qr is not a PNG: %v", err)
	}
	if st, m := computer.scanStatus(s, ""); st != 200 || m["state"] != "pending" {
		t.Fatalf("status before scanning: %d %v", st, m)
	}

	p := phone.get(s.link + "&ui_locales=en")
	for _, want := range []string{"扫码测试应用", "Confirm login", "Deny", "Confirm only if you are sitting at that computer"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("English confirmation page lacks %q", want)
		}
	}
	p = phone.get(s.link) // opened again by the same phone: still its to decide
	for _, want := range []string{"扫码测试应用", "确认登录", "拒绝", "127.0.0.*", person.IDNumberMasked} {
		if !strings.Contains(p.body, want) {
			t.Errorf("confirmation page lacks %q", want)
		}
	}
	if strings.Contains(p.body, id) {
		t.Error("confirmation page shows the full ID number")
	}
	if st, m := computer.scanStatus(s, "pending"); st != 200 || m["state"] != "scanned" {
		t.Fatalf("status after scanning: %d %v", st, m)
	}
	action, vals := p.form(t)
	vals.Set("decision", "approve")
	p = phone.post(action, vals)
	if p.status != http.StatusOK || !strings.Contains(p.body, "已确认") {
		t.Fatalf("phone approve: %d\n%s", p.status, p.body)
	}
	if st, m := computer.scanStatus(s, "scanned"); st != 200 || m["state"] != "approved" {
		t.Fatalf("status after approval: %d %v", st, m)
	}
	st, m := computer.scanFinish(s, s.code)
	if st != http.StatusOK {
		t.Fatalf("finish: %d %v", st, m)
	}
	code := e.continueAt(t, computer, m["next"].(string), a)
	tok, err := app.exchange(code, a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, claims := app.verify(raw, a.nonce)
	if idt.Subject != phoneIDT.Subject {
		t.Errorf("sub = %q, want the phone person's %q", idt.Subject, phoneIDT.Subject)
	}
	phoneAMR := toStrings(phoneClaims["amr"])
	if amr := toStrings(claims["amr"]); len(phoneAMR) == 0 || !slices.Equal(amr, append(phoneAMR, "mca")) {
		t.Errorf("amr = %v, want the phone session's %v and mca", amr, phoneAMR)
	}
	if claims["acr"] != phoneClaims["acr"] || claims["acr"] == nil {
		t.Errorf("acr = %v, want the phone session's %v", claims["acr"], phoneClaims["acr"])
	}
	if claims["auth_time"] != phoneClaims["auth_time"] {
		t.Errorf("auth_time = %v, want the phone session's %v", claims["auth_time"], phoneClaims["auth_time"])
	}
	// The computer now has an SSO session of its own: a second app logs in without a form.
	other := e.newRP(tboidc.NewClient{})
	a2 := other.authURL()
	p = computer.get(a2.url)
	if p.isLogin() {
		t.Fatal("computer: second app asks for a login after scan-to-login")
	}
	if st, m := computer.scanStatus(s, "approved"); st != 200 || m["state"] != "used" {
		t.Fatalf("status after finishing: %d %v", st, m)
	}
}

// testScanLongPoll: a status request held while the state is "scanned" returns "approved"
// once the phone confirms, long before the hold ends.
func testScanLongPoll(t *testing.T, e *env) {
	_, id := e.person("扫码乙", "")
	app := e.newRP(tboidc.NewClient{})
	phone := e.loggedInPhone(t, id)
	computer := e.browser()
	s := e.startScan(t, computer, app.authURL())
	p := phone.get(s.link)
	type result struct {
		st   int
		m    map[string]any
		took time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		st, m := computer.scanStatus(s, "scanned")
		done <- result{st, m, time.Since(start)}
	}()
	time.Sleep(300 * time.Millisecond) // the request is held
	select {
	case r := <-done:
		t.Fatalf("status returned before the decision: %v", r)
	default:
	}
	action, vals := p.form(t)
	vals.Set("decision", "approve")
	phone.post(action, vals)
	select {
	case r := <-done:
		if r.st != 200 || r.m["state"] != "approved" {
			t.Fatalf("held status: %d %v", r.st, r.m)
		}
		t.Logf("held status answered %v after it was sent (300 ms before the approval)", r.took)
	case <-time.After(20 * time.Second):
		t.Fatal("held status not woken by the approval")
	}
}

// testScanOtherReplica: the phone's decision reaches a second replica (another Server on the
// same storage and keyring); the computer's status request held on the first replica sees it by
// reading storage, as no in-process wake-up can cross replicas.
func testScanOtherReplica(t *testing.T, e *env) {
	replica, err := tboidc.NewServer(t.Context(), tboidc.Config{
		Issuer: e.issuer, Store: e.store, Keyring: e.kr, Now: e.clock.Now, PasswordParams: testPasswordParams,
		Registerer: prometheus.NewRegistry(), ClientCacheTTL: -1,
		Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewTLSServer(replica.Handler()) // the same test certificate as e.hs
	t.Cleanup(hs.Close)
	_, id := e.person("扫码副本", "")
	app := e.newRP(tboidc.NewClient{})
	phone := e.loggedInPhone(t, id)
	computer := e.browser()
	s := e.startScan(t, computer, app.authURL())
	other := strings.Replace(s.link, e.issuer, hs.URL, 1) // cookies do not depend on the port
	p := phone.get(other)
	if p.status != http.StatusOK {
		t.Fatalf("phone on the other replica: %d\n%s", p.status, p.body)
	}
	done := make(chan map[string]any, 1)
	go func() {
		_, m := computer.scanStatus(s, "scanned")
		done <- m
	}()
	time.Sleep(300 * time.Millisecond)
	_, vals := p.form(t)
	vals.Set("decision", "approve")
	if q := phone.post(hs.URL+"/scan", vals); q.status != http.StatusOK {
		t.Fatalf("approve on the other replica: %d", q.status)
	}
	select {
	case m := <-done:
		if m["state"] != "approved" {
			t.Fatalf("held status on the first replica: %v", m)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the first replica's held status never saw the other replica's approval")
	}
	if st, m := computer.scanFinish(s, s.code); st != http.StatusOK {
		t.Fatalf("finish: %d %v", st, m)
	}
}

// testScanAccountPage: the provider's own account page logs in by scanning too, and finishing
// answers the account page rather than an app.
func testScanAccountPage(t *testing.T, e *env) {
	_, id := e.person("扫码丙", "")
	phone := e.loggedInPhone(t, id)
	computer := e.browser()
	login := computer.get(e.issuer + "/account")
	s := e.startScanOn(t, computer, login)
	p := phone.scanDecide(s.link, "approve")
	if !strings.Contains(p.body, "已确认") {
		t.Fatalf("approve: %d", p.status)
	}
	st, m := computer.scanFinish(s, s.code)
	if st != 200 || !strings.HasPrefix(m["next"].(string), "/account?") {
		t.Fatalf("finish: %d %v", st, m)
	}
	p = computer.get(e.issuer + m["next"].(string))
	if p.status != 200 || p.url.Path != "/account" || !strings.Contains(p.body, "扫码丙") {
		t.Fatalf("account page after scan-to-login: %d %s", p.status, p.url)
	}
}

// testScanPhoneLogsInFirst: a phone without a session opening the code logs in and comes back
// to the confirmation page; its login page has no code of its own.
func testScanPhoneLogsInFirst(t *testing.T, e *env) {
	_, id := e.person("扫码丁", "")
	app := e.newRP(tboidc.NewClient{})
	computer := e.browser()
	a := app.authURL()
	s := e.startScan(t, computer, a)
	phone := e.browser()
	p := phone.get(s.link)
	if !p.isLogin() {
		t.Fatalf("phone without a session: want the login page, got %d %s", p.status, p.url)
	}
	if strings.Contains(p.body, `id="scan"`) {
		t.Error("the phone's login page for a code shows a code of its own")
	}
	p = phone.login(p, id, testPassword)
	if p.status != 200 || p.url.Path != "/scan" || !strings.Contains(p.body, `value="approve"`) {
		t.Fatalf("after the phone's login: %d %s", p.status, p.url)
	}
	action, vals := p.form(t)
	vals.Set("decision", "approve")
	phone.post(action, vals)
	st, m := computer.scanFinish(s, s.code)
	if st != 200 {
		t.Fatalf("finish: %d %v", st, m)
	}
	e.continueAt(t, computer, m["next"].(string), a)
}

// testScanPromptLogin: an app asking prompt=login gets a login made for its request: the
// phone's older session must log in again before it may confirm.
func testScanPromptLogin(t *testing.T, e *env) {
	_, id := e.person("扫码戊", "")
	app := e.newRP(tboidc.NewClient{})
	phone := e.loggedInPhone(t, id)
	e.clock.Advance(time.Second)
	computer := e.browser()
	a := app.authURL(oauth2.SetAuthURLParam("prompt", "login"))
	s := e.startScan(t, computer, a)
	p := phone.get(s.link)
	if !p.isLogin() {
		t.Fatalf("phone with a session older than a prompt=login request: want the login page, got %d %s", p.status, p.url)
	}
	p = phone.login(p, id, testPassword)
	action, vals := p.form(t)
	vals.Set("decision", "approve")
	phone.post(action, vals)
	st, m := computer.scanFinish(s, s.code)
	if st != 200 {
		t.Fatalf("finish: %d %v", st, m)
	}
	p = computer.get(e.issuer + m["next"].(string))
	if p.isLogin() {
		t.Fatal("prompt=login: the computer is asked to log in again after the phone's new login")
	}
}

// testScanRelay: a code relayed to another browser (the attacker's code shown to a victim, or
// a victim's code seen by an attacker) cannot be read or finished there, even once approved.
func testScanRelay(t *testing.T, e *env) {
	_, id := e.person("扫码己", "")
	app := e.newRP(tboidc.NewClient{})
	phone := e.loggedInPhone(t, id)
	computer := e.browser()
	s := e.startScan(t, computer, app.authURL())
	other := e.browser()
	// The other browser has CSRF tokens of its own (it opened a login page) but not the binding.
	mine := e.startScan(t, other, app.authURL())
	relayed := s
	relayed.sec = mine.sec
	if st, m := other.scanStatus(relayed, ""); st != http.StatusForbidden || m["error"] != "wrong_browser" {
		t.Fatalf("status from another browser: %d %v", st, m)
	}
	phone.scanDecide(s.link, "approve")
	if st, m := other.scanFinish(relayed, s.code); st != http.StatusForbidden || m["error"] != "wrong_browser" {
		t.Fatalf("finish from another browser: %d %v", st, m)
	}
	if p := other.get(e.issuer + "/account"); !p.isLogin() {
		t.Fatal("the other browser is logged in")
	}
	// The refusal left the code usable by its own browser.
	if st, m := computer.scanFinish(s, s.code); st != 200 {
		t.Fatalf("finish by the browser that showed it: %d %v", st, m)
	}
}

func testScanExpired(t *testing.T, e *env) {
	_, id := e.person("扫码庚", "")
	app := e.newRP(tboidc.NewClient{})
	phone := e.loggedInPhone(t, id)
	computer := e.browser()
	s := e.startScan(t, computer, app.authURL())
	e.clock.Advance(121 * time.Second)
	if p := phone.get(s.link); p.status != http.StatusGone || !strings.Contains(p.body, "二维码已过期") {
		t.Fatalf("phone, expired code: %d\n%s", p.status, p.body)
	}
	if st, m := computer.scanStatus(s, "pending"); st != 200 || m["state"] != "expired" {
		t.Fatalf("status, expired code: %d %v", st, m)
	}
	if st, m := computer.scanFinish(s, s.code); st != http.StatusGone || m["error"] != "expired" {
		t.Fatalf("finish, expired code: %d %v", st, m)
	}
	// Approved in time but finished too late: expired too.
	s = e.startScan(t, computer, app.authURL())
	phone.scanDecide(s.link, "approve")
	e.clock.Advance(121 * time.Second)
	if st, m := computer.scanFinish(s, s.code); st != http.StatusGone || m["error"] != "expired" {
		t.Fatalf("finish of an approved code after expiry: %d %v", st, m)
	}
	// A held status request sees the expiry while it waits (storage is read every 200 ms).
	s = e.startScan(t, computer, app.authURL())
	go func() { time.Sleep(300 * time.Millisecond); e.clock.Advance(121 * time.Second) }()
	if st, m := computer.scanStatus(s, "pending"); st != 200 || m["state"] != "expired" {
		t.Fatalf("held status across the expiry: %d %v", st, m)
	}
	// Purge removes expired requests.
	n, err := e.srv.Purge(t.Context())
	if err != nil || n.ScanLogins < 3 {
		t.Fatalf("Purge: %+v, %v; want at least 3 scan logins", n, err)
	}
	if st, m := computer.scanStatus(s, "pending"); st != 200 || m["state"] != "expired" {
		t.Fatalf("status of a purged code: %d %v", st, m)
	}
}

func testScanReplay(t *testing.T, e *env) {
	_, id := e.person("扫码辛", "")
	app := e.newRP(tboidc.NewClient{})
	phone := e.loggedInPhone(t, id)
	computer := e.browser()
	s := e.startScan(t, computer, app.authURL())
	p := phone.get(s.link)
	action, vals := p.form(t)
	vals.Set("decision", "approve")
	if p = phone.post(action, vals); p.status != 200 {
		t.Fatalf("approve: %d", p.status)
	}
	// The decision form again, approve or deny: refused.
	for _, d := range []string{"approve", "deny"} {
		vals.Set("decision", d)
		if p = phone.post(action, vals); p.status != http.StatusConflict || !strings.Contains(p.body, "不能再次使用") {
			t.Fatalf("decision %s replayed: %d\n%s", d, p.status, p.body)
		}
	}
	if st, _ := computer.scanFinish(s, s.code); st != 200 {
		t.Fatalf("finish: %d", st)
	}
	if st, m := computer.scanFinish(s, s.code); st != http.StatusConflict || m["error"] != "used" {
		t.Fatalf("finish replayed: %d %v", st, m)
	}
	if p = phone.get(s.link); p.status != http.StatusConflict {
		t.Fatalf("phone opens a used code: %d", p.status)
	}
}

func testScanDeny(t *testing.T, e *env) {
	_, id := e.person("扫码壬", "")
	app := e.newRP(tboidc.NewClient{})
	phone := e.loggedInPhone(t, id)
	computer := e.browser()
	s := e.startScan(t, computer, app.authURL())
	p := phone.scanDecide(s.link, "deny")
	if p.status != 200 || !strings.Contains(p.body, "已拒绝") {
		t.Fatalf("deny: %d\n%s", p.status, p.body)
	}
	if st, m := computer.scanStatus(s, "scanned"); st != 200 || m["state"] != "denied" {
		t.Fatalf("status after denial: %d %v", st, m)
	}
	if st, m := computer.scanFinish(s, s.code); st != http.StatusConflict || m["error"] != "denied" {
		t.Fatalf("finish after denial: %d %v", st, m)
	}
	if p := computer.get(e.issuer + "/account"); !p.isLogin() {
		t.Fatal("computer logged in after a denial")
	}
}

// testScanForged: every byte of a code is covered by its MAC; a code from another provider
// (another key) is refused the same way.
func testScanForged(t *testing.T, e *env) {
	_, id := e.person("扫码癸", "")
	app := e.newRP(tboidc.NewClient{})
	phone := e.loggedInPhone(t, id)
	computer := e.browser()
	s := e.startScan(t, computer, app.authURL())
	raw, err := base64.RawURLEncoding.DecodeString(s.code)
	if err != nil || len(raw) != 36 {
		t.Fatalf("code: %d bytes, %v", len(raw), err)
	}
	for _, i := range []int{0, 15, 16, 19, 20, 35} { // id, expiry, MAC
		forged := slices.Clone(raw)
		forged[i] ^= 0x01
		c := base64.RawURLEncoding.EncodeToString(forged)
		if p := phone.get(e.issuer + "/scan?c=" + c); p.status != http.StatusBadRequest || !strings.Contains(p.body, "二维码无效") {
			t.Fatalf("phone, byte %d flipped: %d\n%s", i, p.status, p.body)
		}
		if st, m := computer.scanFinish(s, c); st != http.StatusBadRequest || m["error"] != "invalid_code" {
			t.Fatalf("finish, byte %d flipped: %d %v", i, st, m)
		}
	}
	for _, c := range []string{"", "short", s.code + "A", strings.Repeat("A", 48)} {
		if p := phone.get(e.issuer + "/scan?c=" + url.QueryEscape(c)); p.status != http.StatusBadRequest {
			t.Fatalf("phone, code %q: %d", c, p.status)
		}
	}
	// Nothing was marked: the real code still opens.
	if p := phone.get(s.link); p.status != 200 {
		t.Fatalf("real code after forgeries: %d", p.status)
	}
	if st, m := computer.scanStatus(s, "pending"); st != 200 || m["state"] != "scanned" {
		t.Fatalf("status: %d %v", st, m)
	}
}

// testScanSecondPhone: once a phone has opened a code, another phone (another person or the
// same person's second device) can neither open nor decide it.
func testScanSecondPhone(t *testing.T, e *env) {
	_, id := e.person("扫码子", "")
	_, id2 := e.person("扫码丑", "")
	app := e.newRP(tboidc.NewClient{})
	phone := e.loggedInPhone(t, id)
	second := e.loggedInPhone(t, id2)
	samePerson := e.loggedInPhone(t, id)
	computer := e.browser()
	s := e.startScan(t, computer, app.authURL())
	p := phone.get(s.link)
	for name, b := range map[string]*browser{"other person": second, "same person, other device": samePerson} {
		if q := b.get(s.link); q.status != http.StatusConflict {
			t.Fatalf("%s opens a scanned code: %d", name, q.status)
		}
		action, vals := p.form(t)
		vals.Set("decision", "approve")
		// Its own CSRF token, from the confirmation page of a code of its own.
		_, own := b.get(e.startScan(t, e.browser(), app.authURL()).link).form(t)
		vals.Set("csrf", own.Get("csrf"))
		if q := b.post(action, vals); q.status != http.StatusConflict {
			t.Fatalf("%s decides a code another phone opened: %d\n%s", name, q.status, q.body)
		}
	}
	action, vals := p.form(t)
	vals.Set("decision", "approve")
	if q := phone.post(action, vals); q.status != 200 {
		t.Fatalf("the phone that opened it: %d", q.status)
	}
}

func testScanNotConfirmed(t *testing.T, e *env) {
	_, id := e.person("扫码寅", "")
	app := e.newRP(tboidc.NewClient{})
	phone := e.loggedInPhone(t, id)
	computer := e.browser()
	s := e.startScan(t, computer, app.authURL())
	if st, m := computer.scanFinish(s, s.code); st != http.StatusConflict || m["error"] != "not_confirmed" {
		t.Fatalf("finish before scanning: %d %v", st, m)
	}
	phone.get(s.link)
	if st, m := computer.scanFinish(s, s.code); st != http.StatusConflict || m["error"] != "not_confirmed" {
		t.Fatalf("finish of a scanned, unconfirmed code: %d %v", st, m)
	}
	if p := computer.get(e.issuer + "/account"); !p.isLogin() {
		t.Fatal("computer logged in without a confirmation")
	}
}

func testScanCSRF(t *testing.T, e *env) {
	app := e.newRP(tboidc.NewClient{})
	computer := e.browser()
	s := e.startScan(t, computer, app.authURL())
	p := computer.post(e.issuer+s.sec.start, url.Values{"authz": {s.sec.authz}, "csrf": {"wrong"}})
	if p.status != http.StatusForbidden {
		t.Fatalf("start with a wrong CSRF token: %d", p.status)
	}
	p = computer.post(e.issuer+s.sec.finish, url.Values{"c": {s.code}})
	if p.status != http.StatusForbidden {
		t.Fatalf("finish without a CSRF token: %d", p.status)
	}
	p = computer.post(e.issuer+s.sec.start, url.Values{"authz": {s.sec.authz + "x"}, "csrf": {s.sec.csrf}})
	if m := jsonPage(t, p); p.status != http.StatusBadRequest || m["error"] != "request_expired" {
		t.Fatalf("start with a forged authz: %d %v", p.status, m)
	}
}

// testScanAudit: opening, approving, denying and finishing are audited; no log line carries
// a code or personal data.
func testScanAudit(t *testing.T, e *env) {
	events, err := e.store.ListAudit(t.Context(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, ev := range events {
		count[ev.Action]++
	}
	for _, a := range []string{"scan.open", "scan.approve", "scan.deny", "scan.finish"} {
		if count[a] == 0 {
			t.Errorf("no %s audit event (have %v)", a, count)
		}
	}
	logs := e.logs.String()
	if strings.Contains(logs, "/scan?c=") || strings.Contains(logs, `"c":`) {
		t.Error("a scan code reached the logs")
	}
	for _, v := range e.pii {
		if strings.Contains(logs, v) {
			t.Errorf("personal data %q in the logs", v)
		}
	}
}

func toStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// BenchmarkScanLoginHTTP measures confirmation → computer logged in without a browser's own
// costs: from the phone's approval POST to the computer's finish answered (its SSO session
// started), with the computer's status request held before the approval, over b.N runs on
// SQLite; it reports the median and the 95th percentile (ms). BenchmarkScanLoginBrowser measures
// the same in Chromium, page navigation included.
func BenchmarkScanLoginHTTP(b *testing.B) {
	e := newEnv(b, storagetest.SQLite(b), envOptions{})
	_, id := e.person("扫码基准", "")
	app := e.newRP(tboidc.NewClient{})
	phone := e.loggedInPhone(b, id)
	var took []time.Duration
	for b.Loop() {
		computer := e.browser()
		s := e.startScan(b, computer, app.authURL())
		p := phone.get(s.link)
		action, vals := p.form(b)
		vals.Set("decision", "approve")
		held := make(chan string, 1)
		go func() {
			_, m := computer.scanStatus(s, "scanned")
			held <- m["state"].(string)
		}()
		time.Sleep(20 * time.Millisecond) // the status request is held
		start := time.Now()
		phone.post(action, vals)
		if st := <-held; st != "approved" {
			b.Fatalf("held status: %s", st)
		}
		if st, m := computer.scanFinish(s, s.code); st != http.StatusOK {
			b.Fatalf("finish: %d %v", st, m)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	pct := func(p float64) time.Duration { return took[min(len(took)-1, int(p*float64(len(took))))] }
	b.ReportMetric(float64(pct(0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.95).Microseconds())/1000, "p95-ms")
}

// testScanMFA: an app asking acr_values=mfa gets mfa through a scan as through the password
// form: the phone of a person with an OTP device, logged in with the password alone (for this
// very scan), is asked for the code before it may confirm, and the computer's ID token says
// acr mfa. (Found by a fresh-user trial: the computer got acr password.)
func testScanMFA(t *testing.T, e *env) {
	person, id := e.person("扫码己", "")
	uri, err := e.accounts.EnrollTOTP(context.Background(), person.ID)
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		t.Fatal(err)
	}
	app := e.newRP(tboidc.NewClient{})
	computer := e.browser()
	a := app.authURL(oauth2.SetAuthURLParam("acr_values", tboidc.ACRMultiFactor))
	s := e.startScan(t, computer, a)
	phone := e.browser()
	p := phone.get(s.link)
	if !p.isLogin() {
		t.Fatalf("phone without a session: want the login page, got %d %s", p.status, p.url)
	}
	p = phone.login(p, id, testPassword)
	if !p.isLoginForm() || !strings.Contains(p.body, `name="otp"`) {
		t.Fatalf("phone logged in with the password for an mfa request: want the login page asking for the code, got %d %s", p.status, p.url)
	}
	code, _ := totp.GenerateCode(key.Secret(), e.clock.Now())
	p = phone.login(p, id, testPassword, "otp", code)
	if p.status != 200 || p.url.Path != "/scan" || !strings.Contains(p.body, `value="approve"`) {
		t.Fatalf("after the phone's second-factor login: %d %s", p.status, p.url)
	}
	action, vals := p.form(t)
	vals.Set("decision", "approve")
	phone.post(action, vals)
	st, m := computer.scanFinish(s, s.code)
	if st != 200 {
		t.Fatalf("finish: %d %v", st, m)
	}
	tok, err := app.exchange(e.continueAt(t, computer, m["next"].(string), a), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	_, claims := app.verify(tok.Extra("id_token").(string), a.nonce)
	if claims["acr"] != tboidc.ACRMultiFactor {
		t.Errorf("computer's ID token: acr %v amr %v, want %s", claims["acr"], claims["amr"], tboidc.ACRMultiFactor)
	}
}

// testScanStartLimit: one address gets at most 120 codes a minute (each is a stored row);
// the next answers 429 slow_down with Retry-After, and a minute later codes come again. A
// decision other than approve or deny is refused, not taken as deny.
func testScanStartLimit(t *testing.T, e *env) {
	_, id := e.person("扫码庚", "")
	app := e.newRP(tboidc.NewClient{})
	computer := e.browser()
	a := app.authURL()
	login := computer.get(a.url)
	sec := scanSectionOf(t, login)
	form := url.Values{"authz": {sec.authz}, "csrf": {sec.csrf}, "ui_locales": {sec.lang}}
	e.clock.Advance(2 * time.Minute) // a window of its own, whatever ran before
	defer e.clock.Advance(-3 * time.Minute)
	var last page
	for i := 0; i <= 120; i++ {
		if last = computer.post(e.issuer+sec.start, form); last.status != http.StatusOK {
			break
		}
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") != "60" || jsonPage(t, last)["error"] != "slow_down" {
		t.Fatalf("code 121 within a minute: %d %q %v", last.status, last.header.Get("Retry-After"), jsonPage(t, last))
	}
	e.clock.Advance(time.Minute + time.Second)
	s := e.startScanOn(t, computer, login)

	phone := e.loggedInPhone(t, id)
	p := phone.get(s.link)
	action, vals := p.form(t)
	vals.Set("decision", "allow")
	if got := phone.post(action, vals); got.status != http.StatusBadRequest {
		t.Errorf("decision %q: %d, want 400", "allow", got.status)
	}
	if st, m := computer.scanStatus(s, ""); st != http.StatusOK || m["state"] != "scanned" {
		t.Errorf("after an unknown decision: %d %v, want still scanned", st, m)
	}
}
