package oidc_test

import (
	"context"
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/qr/qrimage"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// One-time passwords end to end (account_otp.go): enrolment from the account page after a
// fresh login, confirmation, login with acr mfa by TOTP code and by recovery code, refused
// reuse, new recovery codes, removal.

func TestOTPEndToEndSQLite(t *testing.T) {
	runOTPSuite(t, newEnv(t, storagetest.SQLite(t), envOptions{}))
}

func TestOTPEndToEndPostgres(t *testing.T) {
	runOTPSuite(t, newEnv(t, storagetest.Postgres(t), envOptions{}))
}

func runOTPSuite(t *testing.T, e *env) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, *env)
	}{
		{"ok/enrol-login-recover-remove", testOTPFlow},
		{"fail/other-persons-device", testOTPOtherPerson},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, e) })
	}
}

var (
	reSecret   = regexp.MustCompile(`<code id="otp-secret">([A-Z2-7 ]+)</code>`)
	reQR       = regexp.MustCompile(`<img src="data:image/png;base64,([A-Za-z0-9+/=&#;]+)"`)
	reCode     = regexp.MustCompile(`<code>([2-9A-Z]{5}-[2-9A-Z]{5})</code>`)
	reDelete   = regexp.MustCompile(`action="([^"]*/account/otp/[^"/]+/delete[^"]*)"`)
	reRecovery = regexp.MustCompile(`action="([^"]*/account/otp/recovery[^"]*)"`)
	reCSRF     = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	reLeft     = regexp.MustCompile(`class="recovery-left">(\d+)<`)
)

// match returns the first group of re in body, failing the test when there is none.
func match(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in page:\n%s", re, body)
	}
	return html.UnescapeString(m[1])
}

// enrolOTP enrols a TOTP device named name through the pages in browser b (logged in, fresh)
// and returns the secret read off the page, the confirming code and the recovery codes shown
// (nil when none).
func enrolOTP(t *testing.T, e *env, b *browser, name string) (secret, confirming string, codes []string) {
	t.Helper()
	p := b.get(e.issuer + "/account/otp/new")
	if p.status != http.StatusOK || !strings.Contains(p.body, `name="alg"`) {
		t.Fatalf("start page: %d %s", p.status, p.url)
	}
	action, vals := p.form(t)
	vals.Set("name", name)
	vals.Set("alg", storage.OTPAlgTOTP)
	p = b.post(action, vals)
	if p.status != http.StatusOK || !strings.HasPrefix(p.url.Path, "/account/otp/") || p.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("scan page: %d %s %q", p.status, p.url, p.header.Get("Cache-Control"))
	}
	secret = strings.ReplaceAll(match(t, reSecret, p.body), " ", "")
	// The QR code decodes (gozxing, independent of the encoder) to the otpauth URI of that
	// secret.
	png, err := base64.StdEncoding.DecodeString(match(t, reQR, p.body))
	if err != nil {
		t.Fatal(err)
	}
	uri, err := qrimage.Decode(png)
	if err != nil {
		t.Fatalf("QR code: %v", err)
	}
	key, err := otp.NewKeyFromURL(uri)
	if err != nil || key.Secret() != secret || key.Issuer() != "tongban" || key.Period() != 30 {
		t.Fatalf("QR holds %q (%v), page secret %s", uri, err, secret)
	}
	// A wrong code: the page again, with the reason.
	action, vals = p.form(t)
	vals.Set("code", "000000")
	p2 := b.post(action, vals)
	if p2.status != http.StatusUnprocessableEntity || !strings.Contains(p2.body, `role="alert"`) || !reSecret.MatchString(p2.body) {
		t.Fatalf("wrong confirming code: %d", p2.status)
	}
	confirming, _ = totp.GenerateCode(secret, e.clock.Now())
	vals.Set("code", confirming)
	p = b.post(action, vals)
	if p.status != http.StatusOK {
		t.Fatalf("confirm: %d %s\n%s", p.status, p.url, p.body)
	}
	for _, m := range reCode.FindAllStringSubmatch(p.body, -1) {
		codes = append(codes, m[1])
	}
	return secret, confirming, codes
}

// mfaLogin signs in to rp in a new browser with acr_values mfa and code as the one-time
// code; it returns the login response.
func mfaLogin(t *testing.T, e *env, r *rp, num, code string) (page, authRequest) {
	t.Helper()
	b := e.browser()
	a := r.authURL(oauth2.SetAuthURLParam("acr_values", tboidc.ACRMultiFactor))
	p := b.get(a.url)
	if !p.isLogin() || !strings.Contains(p.body, `name="otp"`) {
		t.Fatal("acr_values=mfa did not ask for a one-time code")
	}
	p = b.login(p, num, testPassword, "otp", code)
	if p.isConsent() {
		p = b.consent(p, "allow")
	}
	return p, a
}

// wantMFA checks that the login p ended at the app with acr mfa and amr pwd, otp.
func wantMFA(t *testing.T, r *rp, p page, a authRequest, what string) {
	t.Helper()
	if p.isLoginForm() {
		t.Fatalf("%s: refused (%d)", what, p.status)
	}
	tok, err := r.exchange(p.callback(t).Get("code"), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	_, claims := r.verify(tok.Extra("id_token").(string), a.nonce)
	amr, _ := claims["amr"].([]any)
	if claims["acr"] != tboidc.ACRMultiFactor || !slices.Equal(amr, []any{"pwd", "otp"}) {
		t.Errorf("%s: acr %v amr %v", what, claims["acr"], claims["amr"])
	}
}

func testOTPFlow(t *testing.T, e *env) {
	ctx := context.Background()
	person, num := e.person("钱六", "")
	b := e.browser()
	p := b.login(b.get(e.issuer+"/account"), num, testPassword)
	if p.url.Path != "/account" || !strings.Contains(p.body, `id="otp"`) {
		t.Fatalf("account page: %d %s", p.status, p.url)
	}
	// Enrolment wants a fresh login: after FreshLogin, the start page sends to the login,
	// which comes back to it.
	e.clock.Advance(tboidc.DefaultFreshLogin + time.Minute)
	p = b.get(e.issuer + "/account/otp/new")
	if !p.isLogin() {
		t.Fatalf("stale login: want the login page, got %d %s", p.status, p.url)
	}
	p = b.login(p, num, testPassword)
	if p.url.Path != "/account/otp/new" {
		t.Fatalf("after the fresh login: %s", p.url)
	}
	secret, confirming, codes := enrolOTP(t, e, b, "我的手机")
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown", len(codes))
	}
	p = b.get(e.issuer + "/account")
	if !strings.Contains(p.body, "我的手机") || match(t, reLeft, p.body) != "10" {
		t.Fatalf("account page after enrolment:\n%s", p.body)
	}

	r := e.newRP(tboidc.NewClient{})
	// The confirming code was used: it does not log in.
	if p, _ := mfaLogin(t, e, r, num, confirming); !p.isLoginForm() {
		t.Error("the confirming code logged in again")
	}
	// Back to before the enrolment: a login at the advanced clock would have an auth_time in
	// the future for fosite, which checks it against the real clock. Codes of these earlier
	// steps are unused; the account page login stays fresh.
	e.clock.Advance(-tboidc.DefaultFreshLogin - 2*time.Minute)
	code, _ := totp.GenerateCode(secret, e.clock.Now())
	p, a := mfaLogin(t, e, r, num, code)
	wantMFA(t, r, p, a, "TOTP code")
	if p, _ := mfaLogin(t, e, r, num, code); !p.isLoginForm() || p.status != http.StatusUnauthorized {
		t.Errorf("TOTP code reused within its step: %d", p.status)
	}
	// A recovery code logs in once.
	p, a = mfaLogin(t, e, r, num, strings.ToLower(codes[3]))
	wantMFA(t, r, p, a, "recovery code")
	if p, _ := mfaLogin(t, e, r, num, codes[3]); !p.isLoginForm() {
		t.Error("recovery code reused")
	}
	p = b.get(e.issuer + "/account")
	if match(t, reLeft, p.body) != "9" {
		t.Errorf("recovery codes left: %s", match(t, reLeft, p.body))
	}
	// New recovery codes want a fresh login that passed the second factor: this browser's
	// session was made with the password alone (before the device existed), so the login page
	// comes first and asks for a code — a stolen password must not mint recovery codes.
	regen := e.issuer + match(t, reRecovery, p.body)
	vals := url.Values{"csrf": {match(t, reCSRF, p.body)}}
	p = b.post(regen, vals)
	if !p.isLoginForm() || !strings.Contains(p.body, `name="otp"`) {
		t.Fatalf("new recovery codes after a password-only login: %d %s, want the login page asking for the code", p.status, p.url)
	}
	if p2 := b.login(p, num, testPassword); p2.status != http.StatusUnauthorized {
		t.Fatalf("the second-factor login without a code: %d, want 401", p2.status)
	} else {
		p = p2
	}
	p = b.login(p, num, testPassword, "otp", codes[5]) // a recovery code is a second factor too
	if p.url.Path != "/account" || p.isLoginForm() {
		t.Fatalf("after the second-factor login: %d %s", p.status, p.url)
	}
	vals = url.Values{"csrf": {match(t, reCSRF, p.body)}}
	p = b.post(regen, vals)
	fresh := reCode.FindAllStringSubmatch(p.body, -1)
	if p.status != http.StatusOK || len(fresh) != 10 {
		t.Fatalf("new recovery codes: %d, %d codes", p.status, len(fresh))
	}
	if p, _ := mfaLogin(t, e, r, num, codes[4]); !p.isLoginForm() {
		t.Error("an old recovery code works after new ones were made")
	}
	p, a = mfaLogin(t, e, r, num, fresh[0][1])
	wantMFA(t, r, p, a, "new recovery code")
	// A form without its CSRF token is refused.
	p = b.get(e.issuer + "/account")
	del := e.issuer + match(t, reDelete, p.body)
	if p2 := b.post(del, url.Values{}); p2.status != http.StatusForbidden {
		t.Errorf("delete without CSRF token: %d", p2.status)
	}
	// Remove the device: the account page says so, and mfa asks for nothing more (amr pwd).
	p = b.post(del, url.Values{"csrf": {match(t, reCSRF, p.body)}})
	if p.url.Path != "/account" || !strings.Contains(p.body, `class="notice"`) || strings.Contains(p.body, "我的手机") {
		t.Fatalf("after removal: %d %s", p.status, p.url)
	}
	e.clock.Advance(time.Minute)
	code, _ = totp.GenerateCode(secret, e.clock.Now())
	if p, a := mfaLogin(t, e, r, num, code); p.isLoginForm() {
		t.Errorf("after removal the password alone is refused: %d", p.status)
	} else {
		tok, err := r.exchange(p.callback(t).Get("code"), a.verifier)
		if err != nil {
			t.Fatal(err)
		}
		_, claims := r.verify(tok.Extra("id_token").(string), a.nonce)
		if claims["acr"] == tboidc.ACRMultiFactor {
			t.Errorf("a removed device still gives mfa: amr %v", claims["amr"])
		}
	}
	// Audited, without codes or secrets; nor are they in the logs.
	events, err := e.store.QueryAudit(ctx, storage.AuditQuery{Person: person.ID, Action: "otp.", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range events {
		actions = append(actions, ev.Action)
	}
	want := []string{"otp.enrol", "otp.recovery_codes", "otp.recovery_use", "otp.recovery_reuse",
		"otp.recovery_use", // the second-factor login that new recovery codes asked for
		"otp.recovery_codes", "otp.recovery_use", "otp.remove"}
	if !slices.Equal(actions, want) {
		t.Errorf("audit %v, want %v", actions, want)
	}
	logs := e.logs.String()
	for _, s := range append([]string{secret, codes[0], fresh[0][1], num, "我的手机"}, e.pii...) {
		if strings.Contains(logs, s) {
			t.Errorf("logs carry %q", s)
		}
	}
}

// testOTPOtherPerson: one person's pending device is nobody else's; unknown devices are 404.
func testOTPOtherPerson(t *testing.T, e *env) {
	_, num := e.person("孙七", "")
	_, num2 := e.person("李八", "")
	b := e.browser()
	b.login(b.get(e.issuer+"/account"), num, testPassword)
	p := b.get(e.issuer + "/account/otp/new")
	action, vals := p.form(t)
	vals.Set("name", "x")
	vals.Set("alg", storage.OTPAlgSM3)
	p = b.post(action, vals)
	if p.status != http.StatusOK || !strings.Contains(p.body, "SM3") || !reSecret.MatchString(p.body) {
		t.Fatalf("SM3 scan page: %d", p.status)
	}
	device := p.url.String()
	if en := b.get(strings.Replace(device, "ui_locales=zh-CN", "ui_locales=en", 1)); !strings.Contains(en.body, "Scan this QR code") ||
		!strings.Contains(en.body, "SM3 token") {
		t.Errorf("English scan page: %d", en.status)
	}
	// A wrong code after the login went stale does not show the secret again.
	e.clock.Advance(tboidc.DefaultFreshLogin + time.Second)
	action, vals = p.form(t)
	vals.Set("code", "000000")
	if p := b.post(action, vals); p.status != http.StatusUnprocessableEntity || reSecret.MatchString(p.body) || !strings.Contains(p.body, `name="alg"`) {
		t.Errorf("wrong code, stale login: %d, secret shown %v", p.status, reSecret.MatchString(p.body))
	}
	e.clock.Advance(-tboidc.DefaultFreshLogin - time.Second)
	b2 := e.browser()
	b2.login(b2.get(e.issuer+"/account"), num2, testPassword)
	if p := b2.get(device); p.status != http.StatusNotFound || reSecret.MatchString(p.body) {
		t.Errorf("another person's pending device: %d", p.status)
	}
	if p := b.get(e.issuer + "/account/otp/no-such-device"); p.status != http.StatusNotFound {
		t.Errorf("unknown device: %d", p.status)
	}
	// Bad input keeps what was typed and says why.
	p = b.get(e.issuer + "/account/otp/new")
	action, vals = p.form(t)
	vals.Set("name", "   ")
	vals.Set("alg", "hotp")
	if p := b.post(action, vals); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `role="alert"`) {
		t.Errorf("empty name: %d", p.status)
	}
	// An enrolment left too long expires.
	e.clock.Advance(11 * time.Minute)
	b.login(b.get(e.issuer+"/account/login?next=/account"), num, testPassword)
	if p := b.get(device); p.status != http.StatusGone || reSecret.MatchString(p.body) {
		t.Errorf("expired enrolment: %d", p.status)
	}
}
