package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tongban/tongban/internal/citizenui"
	tboidc "github.com/tongban/tongban/oidc"
)

// 长辈模式 end to end over real HTTP with go-oidc and x/oauth2 (elder.go): the switch saves the
// setting in the account while logged in, a login merges the browser's and the account's
// settings, and apps get the elder_mode claim (scope profile) in the ID token and at userinfo.

// elderCookie reports whether b holds the tb_elder cookie, on.
func (b *browser) elderCookie() bool {
	u, _ := url.Parse(b.e.issuer)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == citizenui.CookieName {
			return c.Value == "1"
		}
	}
	return false
}

// switchElder presses the 长辈模式 switch of b's pages (POST /prefs/elder) and returns the
// page it comes back to.
func (b *browser) switchElder(on bool, back string) page {
	b.t.Helper()
	v := "0"
	if on {
		v = "1"
	}
	return b.post(b.e.issuer+citizenui.PathElder, url.Values{"on": {v}, "back": {back}})
}

// elderClaims runs a code flow of r in b and returns the ID token's claims (verified by
// go-oidc) and userinfo's answer.
func elderClaims(t *testing.T, e *env, r *rp, b *browser, num string) (idToken, userinfo map[string]any) {
	t.Helper()
	a := r.authURL()
	tok, err := r.exchange(b.signIn(a, num), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	_, idToken = r.verify(tok.Extra("id_token").(string), a.nonce)
	status, ui := e.userinfo(tok.AccessToken)
	if status != http.StatusOK {
		t.Fatalf("userinfo: %d %v", status, ui)
	}
	return idToken, ui
}

func (e *env) elderSaved(personID string) bool {
	e.t.Helper()
	p, err := e.store.GetPerson(context.Background(), personID)
	if err != nil {
		e.t.Fatal(err)
	}
	return p.ElderMode
}

func testElderMode(t *testing.T, e *env) {
	me, num := e.person("钱长辈", "")
	r := e.newRP(tboidc.NewClient{}) // scopes openid profile offline_access
	noProfile := e.newRP(tboidc.NewClient{Scopes: []string{"openid"}})
	noProfile.oauth.Scopes = []string{"openid"}

	// Off: no claim, no cookie.
	b := e.browser()
	idt, ui := elderClaims(t, e, r, b, num)
	if _, ok := idt[tboidc.ClaimElderMode]; ok || ui[tboidc.ClaimElderMode] != nil {
		t.Errorf("elder mode off: ID token %v, userinfo %v", idt, ui)
	}

	// The switch, logged in: cookie and account; back to the page it was pressed on.
	p := b.switchElder(true, "/account?ui_locales=en")
	if p.status != http.StatusOK || p.url.Path != "/account" || !b.elderCookie() || !e.elderSaved(me.ID) {
		t.Fatalf("switch on: %d at %s, cookie %v, saved %v", p.status, p.url, b.elderCookie(), e.elderSaved(me.ID))
	}
	if !strings.Contains(p.body, `<html lang="en" class="elder">`) || !strings.Contains(p.body, "Turn elder mode off") {
		t.Errorf("account page after the switch is not in elder mode:\n%.600s", p.body)
	}
	idt, ui = elderClaims(t, e, r, b, num)
	if idt[tboidc.ClaimElderMode] != true || ui[tboidc.ClaimElderMode] != true {
		t.Errorf("elder mode on: ID token %v, userinfo %v", idt, ui)
	}
	// Only with scope profile.
	idt, ui = elderClaims(t, e, noProfile, b, num)
	if idt[tboidc.ClaimElderMode] != nil || ui[tboidc.ClaimElderMode] != nil {
		t.Errorf("without scope profile: ID token %v, userinfo %v", idt, ui)
	}
	// Discovery lists it.
	var meta struct {
		Claims []string `json:"claims_supported"`
	}
	if err := r.provider.Claims(&meta); err != nil || !slices.Contains(meta.Claims, tboidc.ClaimElderMode) {
		t.Errorf("claims_supported %v (%v)", meta.Claims, err)
	}

	// Another browser: the login turns its cookie on from the account.
	b2 := e.browser()
	if idt, _ = elderClaims(t, e, r, b2, num); !b2.elderCookie() || idt[tboidc.ClaimElderMode] != true {
		t.Errorf("login on a new browser: cookie %v, claims %v", b2.elderCookie(), idt)
	}
	// A cross-site switch changes nothing.
	req, _ := http.NewRequest(http.MethodPost, e.issuer+citizenui.PathElder, strings.NewReader("on=0&back=%2Faccount"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if p := b2.do(req); p.status != http.StatusForbidden || !e.elderSaved(me.ID) || !b2.elderCookie() {
		t.Errorf("cross-site switch: %d, saved %v, cookie %v", p.status, e.elderSaved(me.ID), b2.elderCookie())
	}
	// Off again, from the second browser: saved, and the claim is gone.
	if p := b2.switchElder(false, "/account"); p.status != http.StatusOK || b2.elderCookie() || e.elderSaved(me.ID) {
		t.Fatalf("switch off: %d, cookie %v, saved %v", p.status, b2.elderCookie(), e.elderSaved(me.ID))
	}
	if idt, ui = elderClaims(t, e, r, b2, num); idt[tboidc.ClaimElderMode] != nil || ui[tboidc.ClaimElderMode] != nil {
		t.Errorf("switched off: ID token %v, userinfo %v", idt, ui)
	}
	// The first browser still has the cookie: its account page is in elder mode, but the
	// 长辈模式 section shows the account's setting (off), says this browser differs, and its
	// switch turns the account's setting on.
	p = b.get(e.issuer + "/account")
	section := p.body[strings.Index(p.body, `<section id="display"`):]
	if !strings.Contains(p.body, `class="elder"`) || !strings.Contains(section, "<strong>已关闭</strong>") ||
		!strings.Contains(section, "这个浏览器目前仍在使用长辈模式") ||
		!strings.Contains(section, `<input type="hidden" name="on" value="1">`) || !strings.Contains(section, "开启长辈模式") {
		t.Errorf("account page with the cookie on and the account off:\n%s", section)
	}
	// And the other way round: the account on, this browser's cookie off.
	if p := b.switchElder(true, "/account"); !e.elderSaved(me.ID) || !b.elderCookie() {
		t.Fatalf("switch on: %d", p.status)
	}
	p = b2.get(e.issuer + "/account?ui_locales=en")
	section = p.body[strings.Index(p.body, `<section id="display"`):]
	if strings.Contains(p.body, `class="elder"`) || !strings.Contains(section, "<strong>on</strong>") ||
		!strings.Contains(section, "This browser is not using elder mode now") ||
		!strings.Contains(section, `<input type="hidden" name="on" value="0">`) || !strings.Contains(section, "Turn elder mode off") {
		t.Errorf("account page with the cookie off and the account on:\n%s", section)
	}
	if p := b2.switchElder(false, "/account"); e.elderSaved(me.ID) || b2.elderCookie() {
		t.Fatalf("switch off: %d", p.status)
	}

	// Switched on at the login page, before logging in: the cookie alone, then the login
	// saves it in the account.
	b3 := e.browser()
	a := r.authURL()
	login := b3.get(a.url)
	if !login.isLogin() {
		t.Fatalf("want the login page, got %d", login.status)
	}
	back := login.url.RequestURI()
	if p := b3.switchElder(true, back); !p.isLogin() || !strings.Contains(p.body, `class="elder"`) || e.elderSaved(me.ID) {
		t.Fatalf("switch at the login page: %d, elder page %v, saved %v", p.status, strings.Contains(p.body, `class="elder"`), e.elderSaved(me.ID))
	}
	if p := b3.login(b3.get(a.url), num, testPassword); p.isLoginForm() {
		t.Fatalf("login: %d", p.status)
	}
	if !e.elderSaved(me.ID) {
		t.Error("a login with elder mode on in the browser did not save it")
	}
}

// testWayBack: every error page has a way back — to the app that sent the person when it is
// known and published, else to the account page — and the logout confirmation has a cancel.
func testWayBack(t *testing.T, e *env) {
	_, num := e.person("孙回返", "")
	r := e.newRP(tboidc.NewClient{Name: "公积金查询"})
	home := strings.TrimSuffix(r.redirect, "callback")
	b := e.browser()

	// A redirect URI the app did not register: back to the app's registered site.
	u := e.issuer + "/authorize?" + url.Values{"client_id": {r.client.ID}, "redirect_uri": {"https://evil.example/cb"},
		"response_type": {"code"}, "scope": {"openid"}}.Encode()
	p := b.get(u)
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `href="`+home+`"`) || !strings.Contains(p.body, "返回公积金查询") ||
		!strings.Contains(p.body, "前往我的账户") {
		t.Errorf("bad redirect URI: %d, no way back to %s:\n%s", p.status, home, p.body)
	}
	// A login form submitted twice: the request is used up; back to the app too.
	login := b.get(r.authURL().url)
	action, vals := login.form(t)
	vals.Set("identifier", num)
	vals.Set("password", "wrong")
	b.post(action, vals)
	if p := b.post(action, vals); p.status != http.StatusBadRequest || !strings.Contains(p.body, `href="`+home+`"`) {
		t.Errorf("a used login form: %d, no way back to %s:\n%s", p.status, home, p.body)
	}
	// An unknown app: only the account page.
	p = b.get(e.issuer + "/authorize?client_id=nobody&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fx.example%2F")
	if !strings.Contains(p.body, "前往我的账户") || strings.Contains(p.body, "返回") && strings.Contains(p.body, "x.example") {
		t.Errorf("unknown app: %d\n%s", p.status, p.body)
	}

	// Logout: a confirmation with a cancel, back to the app that asked, else the account page.
	b.signIn(r.authURL(), num)
	p = b.get(e.issuer + "/logout?client_id=" + r.client.ID)
	if !strings.Contains(p.body, `id="logout-cancel" href="`+home+`"`) || !strings.Contains(p.body, "取消，返回公积金查询") {
		t.Errorf("logout confirmation for an app: no cancel back to it:\n%s", p.body)
	}
	p = b.get(e.issuer + "/logout?ui_locales=en")
	if !strings.Contains(p.body, `id="logout-cancel" href="/account?ui_locales=en"`) || !strings.Contains(p.body, "Cancel, back to my account") {
		t.Errorf("logout confirmation: no cancel back to the account page:\n%s", p.body)
	}
	// Logged out: a way on (log in again).
	action, vals = p.form(t)
	if p = b.post(action, vals); p.status != http.StatusOK || !strings.Contains(p.body, "You are signed out.") || !strings.Contains(p.body, "Sign in again") {
		t.Errorf("logged out: %d\n%s", p.status, p.body)
	}
}
