package oidc_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// The device authorization grant (RFC 8628) end to end: a TV (golang.org/x/oauth2's device
// flow client, Config.DeviceAuth and Config.DeviceAccessToken) against the real HTTPS provider,
// and a phone (the cookie-jar browser) approving on /device.

func TestDeviceGrantSQLite(t *testing.T) {
	runDeviceSuite(t, func(t testing.TB) storage.Storage { return storagetest.SQLite(t) })
}

func TestDeviceGrantPostgres(t *testing.T) {
	runDeviceSuite(t, func(t testing.TB) storage.Storage { return storagetest.Postgres(t) })
}

// devicePoll is the polling interval of the suite's provider: one second, so that x/oauth2's
// real-time ticker keeps the suite short. The provider's clock is e.clock.
const devicePoll = time.Second

func runDeviceSuite(t *testing.T, newStore func(testing.TB) storage.Storage) {
	e := newEnv(t, newStore(t), envOptions{mutate: func(c *tboidc.Config) { c.DevicePollInterval = devicePoll }})
	for _, tc := range []struct {
		name string
		test func(*testing.T, *env)
	}{
		{"ok/discovery", testDeviceDiscovery},
		{"ok/x-oauth2-device-flow", testDeviceFlow},
		{"ok/guide-sample", testDeviceGuideSample},
		{"fail/slow-down", testDeviceSlowDown},
		{"fail/expired", testDeviceExpired},
		{"fail/denied", testDeviceDenied},
		{"fail/wrong-user-code-and-guessing-limit", testDeviceGuessing},
		{"fail/another-clients-device-code", testDeviceOtherClient},
		{"fail/client-without-the-grant", testDeviceClientWithoutGrant},
		{"fail/csrf", testDeviceCSRF},
		{"fail/account-disabled-after-approval", testDeviceDisabledPerson},
		{"ok/session-ended-before-the-decision", testDeviceSessionEnded},
		{"fail/device-authorization-flood", testDeviceFlood},
		{"ok/logs-without-personal-data", testDeviceLogs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			tc.test(t, e)
		})
	}
}

// tvTransport is the TV's HTTP client: the test server's TLS client with a smart-TV User-Agent.
type tvTransport struct{ base http.RoundTripper }

func (t tvTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) TV Safari/537.36")
	return t.base.RoundTrip(r)
}

// deviceRP registers a public client for the device grant (and refresh tokens), with
// oauth.Endpoint taken from discovery (its DeviceAuthURL included), and returns it with the
// context x/oauth2 needs to reach the provider as a TV.
func (e *env) deviceRP(scopes ...string) (*rp, context.Context) {
	e.t.Helper()
	if scopes == nil {
		scopes = []string{"openid", "profile", "offline_access"}
	}
	r := e.newRP(tboidc.NewClient{Name: "电视政务", Public: true, RedirectURIs: []string{}, IDTokenAlg: "ES256",
		GrantTypes: []string{tboidc.GrantDeviceCode, tboidc.GrantRefreshToken}, Scopes: scopes})
	r.oauth.Scopes = scopes
	tv := &http.Client{Transport: tvTransport{e.hs.Client().Transport}}
	return r, context.WithValue(e.ctx, oauth2.HTTPClient, tv)
}

var userCodeShape = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// devicePoll polls the token endpoint once as the public client clientID and returns the
// status and the JSON answer.
func (e *env) pollDevice(clientID, deviceCode string) (int, map[string]any) {
	e.t.Helper()
	return e.postForm("/token", clientID, "", url.Values{"grant_type": {tboidc.GrantDeviceCode}, "device_code": {deviceCode}})
}

// wantPoll polls and checks the error code ("" = tokens).
func (e *env) wantPoll(clientID, deviceCode, want string) map[string]any {
	e.t.Helper()
	status, out := e.pollDevice(clientID, deviceCode)
	got, _ := out["error"].(string)
	if got != want || (want == "" && status != http.StatusOK) || (want != "" && status != http.StatusBadRequest) {
		e.t.Fatalf("poll: status %d %v; want error %q", status, out, want)
	}
	return out
}

// phoneLogin logs b in as identifier on the provider's account page.
func (b *browser) phoneLogin(identifier string) {
	b.t.Helper()
	p := b.get(b.e.issuer + "/account")
	if !p.isLogin() {
		b.t.Fatalf("want the login page, got %d %s", p.status, p.url)
	}
	if p = b.login(p, identifier, testPassword); p.url.Path != "/account" {
		b.t.Fatalf("login: got %d %s", p.status, p.url)
	}
}

// enterCode submits code on the user-code page.
func (b *browser) enterCode(code string) page {
	b.t.Helper()
	action, vals := b.get(b.e.issuer + "/device").form(b.t)
	vals.Set("user_code", code)
	return b.post(action, vals)
}

// decide answers the confirmation page p.
func (b *browser) decide(p page, decision string) page {
	b.t.Helper()
	if !strings.Contains(p.body, `name="decision"`) {
		b.t.Fatalf("not the confirmation page: %d %s\n%s", p.status, p.url, p.body)
	}
	action, vals := p.form(b.t)
	vals.Set("decision", decision)
	return b.post(action, vals)
}

func testDeviceDiscovery(t *testing.T, e *env) {
	r, _ := e.deviceRP()
	if got, want := r.oauth.Endpoint.DeviceAuthURL, e.issuer+"/device_authorization"; got != want {
		t.Fatalf("device_authorization_endpoint %q, want %q", got, want)
	}
	var meta struct {
		Grants []string `json:"grant_types_supported"`
	}
	if err := r.provider.Claims(&meta); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(meta.Grants, tboidc.GrantDeviceCode) {
		t.Fatalf("grant_types_supported %v lacks the device code", meta.Grants)
	}
}

func testDeviceFlow(t *testing.T, e *env) {
	person, id := e.person("陈电视", "")
	r, ctx := e.deviceRP()
	da, err := r.oauth.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !userCodeShape.MatchString(da.UserCode) || !strings.HasPrefix(da.DeviceCode, "tb_dc_") || len(da.DeviceCode) != 6+43 {
		t.Fatalf("codes: user %q device %q", da.UserCode, da.DeviceCode)
	}
	if da.VerificationURI != e.issuer+"/device" ||
		da.VerificationURIComplete != e.issuer+"/device?user_code="+da.UserCode || da.Interval != 1 {
		t.Fatalf("response: %+v", da)
	}
	if left := time.Until(da.Expiry); left < 590*time.Second || left > 600*time.Second {
		t.Fatalf("expires in %v, want 600 s", left)
	}
	e.clock.Advance(2 * devicePoll)
	e.wantPoll(r.client.ID, da.DeviceCode, "authorization_pending")

	// The phone scans the QR (verification_uri_complete): log in, then the confirmation.
	phone := e.browser()
	p := phone.get(da.VerificationURIComplete)
	if !p.isLogin() {
		t.Fatalf("without a session: want the login page, got %d %s", p.status, p.url)
	}
	loginAt := e.clock.Now()
	p = phone.login(p, id, testPassword)
	for _, want := range []string{"电视政务", "电视", da.UserCode, "姓名", "在您离开后继续访问", "请求时间"} {
		if !strings.Contains(p.body, want) {
			t.Fatalf("confirmation page lacks %q: %d %s\n%s", want, p.status, p.url, p.body)
		}
	}
	p = phone.decide(p, "allow")
	if p.status != http.StatusOK || !strings.Contains(p.body, "设备已登录") {
		t.Fatalf("after allow: %d\n%s", p.status, p.body)
	}
	// The same form again (another tab, the other button) is refused: the decision is single use.
	if p2 := phone.enterCode(da.UserCode); p2.status != http.StatusConflict {
		t.Fatalf("code after its decision: status %d", p2.status)
	}

	e.clock.Advance(2 * devicePoll)
	tok, err := r.oauth.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if tok.AccessToken == "" || tok.RefreshToken == "" || raw == "" {
		t.Fatalf("token response lacks a token: %+v", tok)
	}
	idt, claims := r.verify(raw, "")
	if idt.Subject != person.ID || claims["acr"] != tboidc.ACRPassword || claims["name"] != "陈电视" {
		t.Fatalf("ID token: sub %q claims %v", idt.Subject, claims)
	}
	if amr, _ := claims["amr"].([]any); len(amr) != 1 || amr[0] != "pwd" {
		t.Fatalf("amr %v", claims["amr"])
	}
	if at, _ := claims["auth_time"].(float64); int64(at) < loginAt.Unix()-1 || int64(at) > loginAt.Unix()+1 {
		t.Fatalf("auth_time %v, want the phone's login at %d", claims["auth_time"], loginAt.Unix())
	}
	if status, ui := e.userinfo(tok.AccessToken); status != http.StatusOK || ui["sub"] != person.ID {
		t.Fatalf("userinfo: %d %v", status, ui)
	}
	// The refresh token rotates as the code flow's do, with a new ID token of the same login.
	tok.Expiry = time.Now().Add(-time.Minute)
	refreshed, err := r.oauth.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatal(err)
	}
	if raw2, _ := refreshed.Extra("id_token").(string); raw2 == "" || refreshed.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: %+v", refreshed)
	} else if idt2, _ := r.verify(raw2, ""); idt2.Subject != person.ID {
		t.Fatalf("refreshed ID token sub %q", idt2.Subject)
	}
	// The consent is remembered like the consent page's, and every step is audited.
	if c, err := e.store.GetConsent(t.Context(), person.ID, r.client.ID); err != nil ||
		!slices.Equal(c.Scopes, []string{"offline_access", "openid", "profile"}) {
		t.Fatalf("consent %v, %v", c, err)
	}
	audit := e.auditActions(r.client.ID)
	for _, want := range []string{"device.authorize", "device.approve", "consent.grant", "token.issue"} {
		if !slices.Contains(audit, want) {
			t.Fatalf("audit of the client %v lacks %s", audit, want)
		}
	}
	issued := e.auditDetails("token.issue", r.client.ID)
	if len(issued) < 1 || !strings.Contains(issued[0], "grant="+tboidc.GrantDeviceCode) {
		t.Fatalf("token.issue details %v", issued)
	}

	// A second poll after success is invalid_grant, and revokes what the code issued.
	e.clock.Advance(2 * devicePoll)
	e.wantPoll(r.client.ID, da.DeviceCode, "invalid_grant")
	if status, _ := e.userinfo(refreshed.AccessToken); status != http.StatusUnauthorized {
		t.Fatalf("access token after the replay: userinfo %d, want 401", status)
	}
	if _, err := r.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshed.RefreshToken}).Token(); err == nil {
		t.Fatal("refresh token still usable after the replay")
	}
	if !slices.Contains(e.auditActions(r.client.ID), "device.replay") {
		t.Fatal("replay not audited")
	}
	if e.counter("tongban_idp_replays_total", "kind", "device_code") < 1 {
		t.Fatal("replay not counted")
	}
}

// testDeviceGuideSample signs a TV in with the guide's sample; the phone approves what the TV
// shows.
func testDeviceGuideSample(t *testing.T, e *env) {
	person, id := e.person("样例", "")
	r, ctx := e.deviceRP()
	phone := e.browser()
	phone.phoneLogin(id)
	tok, err := signInOnTV(ctx, &r.oauth, func(userCode, uri, complete string) {
		if uri != e.issuer+"/device" || !strings.HasSuffix(complete, "?user_code="+userCode) {
			t.Errorf("shown: %q %q %q", userCode, uri, complete)
		}
		phone.decide(phone.get(complete), "allow")
		e.clock.Advance(2 * devicePoll)
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if idt, _ := r.verify(raw, ""); idt.Subject != person.ID {
		t.Fatalf("sub %q, want %q", idt.Subject, person.ID)
	}
}

// TestDeviceGuideSample checks that docs/developers/app-developers.md shows exactly the code
// between BEGIN DEVICE SAMPLE and END DEVICE SAMPLE in devicesample_test.go.
func TestDeviceGuideSample(t *testing.T) {
	src, err := os.ReadFile("devicesample_test.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	begin := strings.Index(s, "// BEGIN DEVICE SAMPLE\n")
	end := strings.Index(s, "// END DEVICE SAMPLE")
	if begin < 0 || end < begin {
		t.Fatal("sample markers missing")
	}
	sample := strings.TrimRight(s[begin+len("// BEGIN DEVICE SAMPLE\n"):end], "\n") + "\n"
	guide, err := os.ReadFile("../docs/developers/app-developers.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(guide), "```go\n"+sample+"```\n") {
		t.Error("the device sample in docs/developers/app-developers.md differs from oidc/devicesample_test.go; copy it over")
	}
}

// auditActions returns the actions of the audit entries of clientID, oldest first.
func (e *env) auditActions(clientID string) []string {
	e.t.Helper()
	evs, err := e.store.QueryAudit(context.Background(), storage.AuditQuery{ClientID: clientID, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Action)
	}
	return out
}

// auditDetails returns the details of the audit entries with action of clientID.
func (e *env) auditDetails(action, clientID string) []string {
	e.t.Helper()
	evs, err := e.store.QueryAudit(context.Background(), storage.AuditQuery{ClientID: clientID, Action: action, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Detail)
	}
	return out
}

// startDevice posts a device authorization request for the public client clientID.
func (e *env) startDevice(clientID, scope string) (deviceCode, userCode string) {
	e.t.Helper()
	status, out := e.postForm("/device_authorization", clientID, "", url.Values{"scope": {scope}})
	deviceCode, _ = out["device_code"].(string)
	userCode, _ = out["user_code"].(string)
	if status != http.StatusOK || deviceCode == "" || !userCodeShape.MatchString(userCode) {
		e.t.Fatalf("device authorization: %d %v", status, out)
	}
	return deviceCode, userCode
}

// testDeviceSlowDown: polling faster than the interval is slow_down, and the interval of that
// device code then grows by 5 seconds each time (RFC 8628 §3.5) — by the provider's clock.
func testDeviceSlowDown(t *testing.T, e *env) {
	r, _ := e.deviceRP()
	dc, _ := e.startDevice(r.client.ID, "openid")
	e.wantPoll(r.client.ID, dc, "slow_down") // at once: interval 1 s → 6 s
	e.clock.Advance(5 * time.Second)
	e.wantPoll(r.client.ID, dc, "slow_down") // 5 s < 6 s: → 11 s
	e.clock.Advance(10 * time.Second)
	e.wantPoll(r.client.ID, dc, "slow_down") // 10 s < 11 s: → 16 s
	e.clock.Advance(16 * time.Second)
	e.wantPoll(r.client.ID, dc, "authorization_pending")
	e.clock.Advance(16 * time.Second)
	e.wantPoll(r.client.ID, dc, "authorization_pending")
}

// testDeviceExpired: after 600 seconds the device code is expired_token and the user code is
// refused on the page.
func testDeviceExpired(t *testing.T, e *env) {
	_, id := e.person("过期", "")
	r, _ := e.deviceRP()
	dc, uc := e.startDevice(r.client.ID, "openid profile")
	phone := e.browser()
	phone.phoneLogin(id)
	e.clock.Advance(tboidc.DeviceCodeLifetime)
	e.wantPoll(r.client.ID, dc, "expired_token")
	p := phone.get(e.issuer + "/device?user_code=" + uc)
	if p.status != http.StatusGone || !strings.Contains(p.body, "已过期") || strings.Contains(p.body, `name="decision"`) {
		t.Fatalf("expired code on the page: %d\n%s", p.status, p.body)
	}
}

// testDeviceDenied: the person denies; x/oauth2's poll ends with access_denied; the other
// button afterwards changes nothing.
func testDeviceDenied(t *testing.T, e *env) {
	_, id := e.person("拒绝", "")
	r, ctx := e.deviceRP()
	da, err := r.oauth.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	phone := e.browser()
	phone.phoneLogin(id)
	confirm := phone.enterCode(strings.ToLower(strings.ReplaceAll(da.UserCode, "-", " "))) // case and dash do not matter
	p := phone.decide(confirm, "deny")
	if p.status != http.StatusOK || !strings.Contains(p.body, "已拒绝") {
		t.Fatalf("after deny: %d\n%s", p.status, p.body)
	}
	if p := phone.decide(confirm, "allow"); p.status != http.StatusConflict {
		t.Fatalf("allow after deny: %d", p.status)
	}
	e.clock.Advance(2 * devicePoll)
	_, err = r.oauth.DeviceAccessToken(ctx, da)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "access_denied" {
		t.Fatalf("DeviceAccessToken: %v, want access_denied", err)
	}
	if !slices.Contains(e.auditActions(r.client.ID), "device.deny") {
		t.Fatal("denial not audited")
	}
}

// testDeviceGuessing: wrong user codes count per person (5 in 15 minutes) and per address
// (20), and are audited; a malformed code counts nothing; once locked even the right code is
// refused, until the window has passed.
func testDeviceGuessing(t *testing.T, e *env) {
	p1, id1 := e.person("猜码", "")
	r, _ := e.deviceRP()
	_, uc := e.startDevice(r.client.ID, "openid")
	phone := e.browser()
	phone.phoneLogin(id1)
	if p := phone.enterCode("BCDF-GHJ"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "格式不正确") {
		t.Fatalf("malformed code: %d", p.status)
	}
	if p := phone.enterCode("ABCD-EFGH"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "格式不正确") {
		t.Fatalf("vowels: %d", p.status)
	}
	wrong := wrongCode(uc)
	for i := range 4 {
		if p := phone.enterCode(wrong[i]); p.status != http.StatusBadRequest || !strings.Contains(p.body, "代码不正确") {
			t.Fatalf("wrong code %d: %d", i, p.status)
		}
	}
	if p := phone.enterCode(wrong[4]); p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") != "900" {
		t.Fatalf("fifth wrong code: %d Retry-After %q, want 429 and 900", p.status, p.header.Get("Retry-After"))
	}
	// Locked for the person, in this and any other session; the right code too.
	if p := phone.enterCode(uc); p.status != http.StatusTooManyRequests {
		t.Fatalf("right code while locked: %d", p.status)
	}
	other := e.browser()
	other.phoneLogin(id1)
	if p := other.get(e.issuer + "/device?user_code=" + uc); p.status != http.StatusTooManyRequests {
		t.Fatalf("right code from another session while locked: %d", p.status)
	}
	if n := countActions(e, p1.ID, "device.user_code_wrong"); n != 5 {
		t.Fatalf("%d wrong codes audited, want 5", n)
	}
	if n := countActions(e, p1.ID, "device.user_code_locked"); n != 1 {
		t.Fatalf("%d lockouts audited, want 1", n)
	}
	// The address: three more people guess 5 times each from it (20 in all); a fourth person is
	// refused at once.
	for i := range 3 {
		_, id := e.person("猜码"+string(rune('甲'+i)), "")
		b := e.browser()
		b.phoneLogin(id)
		for j := range 5 {
			b.enterCode(wrong[5+5*i+j])
		}
	}
	_, id5 := e.person("无辜", "")
	b5 := e.browser()
	b5.phoneLogin(id5)
	if p := b5.enterCode(uc); p.status != http.StatusTooManyRequests {
		t.Fatalf("a new person from an address that guessed 20 times: %d, want 429", p.status)
	}
	// After the window, a (new) right code works for the first person again.
	e.clock.Advance(16 * time.Minute)
	_, uc2 := e.startDevice(r.client.ID, "openid")
	if p := phone.enterCode(uc2); p.status != http.StatusOK || !strings.Contains(p.body, `name="decision"`) {
		t.Fatalf("right code after the window: %d", p.status)
	}
}

// wrongCode returns 25 well-formed user codes that are not uc (nor, by their shape, likely any
// other pending code).
func wrongCode(uc string) []string {
	const alphabet = "BCDFGHJKLMNPQRSTVWXZ"
	var out []string
	for i := 0; len(out) < 25; i++ {
		c := []byte("ZZZZ-ZZZZ")
		c[0], c[1] = alphabet[i%20], alphabet[(i/20)%20]
		if string(c) != uc {
			out = append(out, string(c))
		}
	}
	return out
}

func countActions(e *env, personID, action string) int {
	e.t.Helper()
	evs, err := e.store.QueryAudit(context.Background(), storage.AuditQuery{Person: personID, Action: action, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(evs)
}

// testDeviceOtherClient: a device code polled by another client is invalid_grant and leaves
// the code untouched (its own device is not slowed down).
func testDeviceOtherClient(t *testing.T, e *env) {
	a, _ := e.deviceRP()
	b, _ := e.deviceRP()
	dc, _ := e.startDevice(a.client.ID, "openid")
	e.clock.Advance(2 * devicePoll)
	e.wantPoll(b.client.ID, dc, "invalid_grant")
	e.wantPoll(a.client.ID, dc, "authorization_pending")
	// An unknown device code, and a forged one, are invalid_grant too.
	e.clock.Advance(2 * devicePoll)
	e.wantPoll(a.client.ID, dc+"x", "invalid_grant")
	e.wantPoll(a.client.ID, "tb_dc_"+strings.Repeat("A", 43), "invalid_grant")
	if status, out := e.pollDevice(a.client.ID, ""); status != http.StatusBadRequest || out["error"] != "invalid_request" {
		t.Fatalf("no device_code: %d %v", status, out)
	}
}

// testDeviceClientWithoutGrant: a client not registered for the device grant can neither start
// one nor poll; scopes are checked against the client's; client authentication is the token
// endpoint's.
func testDeviceClientWithoutGrant(t *testing.T, e *env) {
	web := e.newRP(tboidc.NewClient{}) // authorization_code, refresh_token; confidential
	status, out := e.postForm("/device_authorization", web.client.ID, web.secret, url.Values{"scope": {"openid"}})
	if status != http.StatusBadRequest || out["error"] != "unauthorized_client" {
		t.Fatalf("device authorization by a code-flow client: %d %v", status, out)
	}
	tv, _ := e.deviceRP("openid")
	dc, _ := e.startDevice(tv.client.ID, "openid")
	e.clock.Advance(2 * devicePoll)
	status, out = e.postForm("/token", web.client.ID, web.secret, url.Values{"grant_type": {tboidc.GrantDeviceCode}, "device_code": {dc}})
	if status != http.StatusBadRequest || out["error"] != "unauthorized_client" {
		t.Fatalf("device code grant by a code-flow client: %d %v", status, out)
	}
	for _, tc := range []struct {
		name, scope, want string
	}{
		{"scope not registered", "openid profile", "invalid_scope"},
		{"no scope", "", "invalid_scope"},
		{"scope too long", strings.Repeat("openid ", 200), "invalid_request"},
	} {
		if status, out := e.postForm("/device_authorization", tv.client.ID, "", url.Values{"scope": {tc.scope}}); status != http.StatusBadRequest || out["error"] != tc.want {
			t.Errorf("%s: %d %v, want %s", tc.name, status, out, tc.want)
		}
	}
	if status, out := e.postForm("/device_authorization", "nobody", "", url.Values{"scope": {"openid"}}); status != http.StatusUnauthorized || out["error"] != "invalid_client" {
		t.Fatalf("unknown client: %d %v", status, out)
	}
	if status, out := e.postForm("/device_authorization", web.client.ID, "wrong", url.Values{"scope": {"openid"}}); status != http.StatusUnauthorized || out["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %v", status, out)
	}
	// The device code of the refused poll is still pending for its own client.
	e.wantPoll(tv.client.ID, dc, "authorization_pending")
}

// testDeviceCSRF: the page's forms need their CSRF token.
func testDeviceCSRF(t *testing.T, e *env) {
	_, id := e.person("跨站", "")
	r, _ := e.deviceRP()
	dc, uc := e.startDevice(r.client.ID, "openid")
	phone := e.browser()
	phone.phoneLogin(id)
	confirm := phone.enterCode(uc)
	action, vals := confirm.form(t)
	vals.Set("decision", "allow")
	vals.Set("csrf", "forged")
	if p := phone.post(action, vals); p.status != http.StatusForbidden {
		t.Fatalf("forged CSRF token: %d", p.status)
	}
	e.clock.Advance(2 * devicePoll)
	e.wantPoll(r.client.ID, dc, "authorization_pending")
}

// testDeviceDisabledPerson: an account disabled between the approval and the poll gets no
// tokens.
func testDeviceDisabledPerson(t *testing.T, e *env) {
	person, id := e.person("停用", "")
	r, _ := e.deviceRP()
	dc, uc := e.startDevice(r.client.ID, "openid")
	phone := e.browser()
	phone.phoneLogin(id)
	if p := phone.decide(phone.enterCode(uc), "allow"); p.status != http.StatusOK {
		t.Fatalf("allow: %d", p.status)
	}
	if err := e.store.UpdatePerson(t.Context(), person.ID, func(p *storage.Person) error { p.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * devicePoll)
	out := e.wantPoll(r.client.ID, dc, "invalid_grant")
	if d, _ := out["error_description"].(string); !strings.Contains(d, "no longer active") {
		t.Fatalf("description %q", d)
	}
}

// testDeviceSessionEnded: a decision posted from a browser without a session logs in first and
// comes back to the confirmation of the same code, undecided.
func testDeviceSessionEnded(t *testing.T, e *env) {
	_, id := e.person("重登", "")
	r, _ := e.deviceRP()
	dc, uc := e.startDevice(r.client.ID, "openid")
	phone := e.browser()
	phone.phoneLogin(id)
	action, vals := phone.enterCode(uc).form(t)
	vals.Set("decision", "allow")
	other := e.browser() // the same form, posted where there is no session
	p := other.post(action, vals)
	if !p.isLogin() {
		t.Fatalf("want the login page, got %d %s", p.status, p.url)
	}
	p = other.login(p, id, testPassword)
	if p.url.Path != "/device" || !strings.Contains(p.body, uc) || !strings.Contains(p.body, `name="decision"`) {
		t.Fatalf("after login: %d %s", p.status, p.url)
	}
	e.clock.Advance(2 * devicePoll)
	e.wantPoll(r.client.ID, dc, "authorization_pending")
}

// testDeviceFlood: one address gets at most 60 device authorizations a minute.
func testDeviceFlood(t *testing.T, e *env) {
	e.clock.Advance(2 * time.Minute) // nothing from this address in the last minute
	r, _ := e.deviceRP()
	for range 60 {
		e.startDevice(r.client.ID, "openid")
	}
	status, out := e.postForm("/device_authorization", r.client.ID, "", url.Values{"scope": {"openid"}})
	if status != http.StatusTooManyRequests || out["error"] != "slow_down" {
		t.Fatalf("61st request in a minute: %d %v", status, out)
	}
	e.clock.Advance(time.Minute)
	e.startDevice(r.client.ID, "openid")
}

// testDeviceLogs: nothing personal — names, ID numbers, user or device codes — in the logs.
func testDeviceLogs(t *testing.T, e *env) {
	logs := e.logs.String()
	for _, s := range e.pii {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain personal data %q", s)
		}
	}
	for _, m := range regexp.MustCompile(`tb_dc_[A-Za-z0-9_-]{43}|\b[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}\b`).FindAllString(logs, -1) {
		t.Errorf("logs contain a code %q", m)
	}
}

// TestCreateDeviceClient: client registration accepts the device code grant, alone or with
// refresh_token, without redirect URIs or the openid scope.
func TestCreateDeviceClient(t *testing.T) {
	store, kr := adminEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		nc      tboidc.NewClient
		wantErr error
	}{
		{"ok/public TV app with refresh tokens", tboidc.NewClient{ID: "tv1", Public: true,
			GrantTypes: []string{tboidc.GrantDeviceCode, tboidc.GrantRefreshToken}}, nil},
		{"ok/confidential terminal without openid", tboidc.NewClient{ID: "kiosk1", Scopes: []string{"profile"},
			GrantTypes: []string{tboidc.GrantDeviceCode}}, nil},
		{"ok/with the code flow", tboidc.NewClient{ID: "both", RedirectURIs: []string{"https://app.example.gov.cn/cb"},
			GrantTypes: []string{tboidc.GrantAuthorizationCode, tboidc.GrantDeviceCode}}, nil},
		{"fail/refresh_token alone", tboidc.NewClient{ID: "r1", Public: true,
			GrantTypes: []string{tboidc.GrantRefreshToken}}, tboidc.ErrInvalidGrantType},
		{"fail/misspelt device grant", tboidc.NewClient{ID: "tv2", Public: true,
			GrantTypes: []string{"device_code"}}, tboidc.ErrInvalidGrantType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := tboidc.CreateClient(ctx, store, kr, tc.nc)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("CreateClient: %v, want %v", err, tc.wantErr)
			}
			if err == nil && !slices.Contains(c.GrantTypes, tboidc.GrantDeviceCode) {
				t.Fatalf("grant types %v", c.GrantTypes)
			}
		})
	}
}
