package oidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tongban/tongban/accounts/passkey/passkeytest"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// The passkey endpoints over HTTP with the cookie-jar browser and the software authenticator
// (passkeytest), on both backends: what the Chromium test does not reach.

func TestPasskeyHTTPSQLite(t *testing.T) {
	runPasskeyHTTP(t, func(t testing.TB) storage.Storage { return storagetest.SQLite(t) })
}

func TestPasskeyHTTPPostgres(t *testing.T) {
	runPasskeyHTTP(t, func(t testing.TB) storage.Storage { return storagetest.Postgres(t) })
}

func runPasskeyHTTP(t *testing.T, newStore func(testing.TB) storage.Storage) {
	e := newLocalhostEnv(t, newStore(t), envOptions{mutate: func(c *tboidc.Config) { c.IPLockThreshold = 8 }})
	for _, tc := range []struct {
		name string
		test func(*testing.T, *env)
	}{
		{"ok/login for the account page, mfa session", testPasskeyAccountLogin},
		{"ok/acr_values mfa satisfied by a passkey alone", testPasskeyMFA},
		{"fail/CSRF token missing or of another page", testPasskeyCSRF},
		{"fail/enrolment without a fresh login", testPasskeyNotFresh},
		{"fail/refused assertions count against the address", testPasskeyLockout},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, e) })
	}
	t.Run("ok/issuer on an IP address: no passkeys", func(t *testing.T) {
		ip := newEnv(t, newStore(t), envOptions{})
		_, num := ip.person("王五", "")
		b := ip.browser()
		pg := b.get(ip.issuer + "/account")
		if !pg.isLogin() || strings.Contains(pg.body, "passkey-signin") || strings.Contains(pg.body, "passkey.js") {
			t.Fatalf("login page of an IP issuer offers passkeys (%d)", pg.status)
		}
		pg = b.login(pg, num, testPassword)
		if strings.Contains(pg.body, `id="passkeys"`) {
			t.Fatal("account page of an IP issuer has a passkey section")
		}
		if p := b.post(ip.issuer+"/login/passkey/begin", nil); p.status != http.StatusNotFound && p.status != http.StatusMethodNotAllowed {
			t.Fatalf("begin on an IP issuer: %d", p.status)
		}
	})
}

// personWithPasskey registers a person, logs them in in a new browser and enrols a software
// authenticator.
func personWithPasskey(t *testing.T, e *env, name string) (storage.Person, *browser, *passkeytest.Authenticator) {
	p, num := e.person(name, "")
	b := e.browser()
	pg := b.login(b.get(e.issuer+"/account"), num, testPassword)
	if pg.status != http.StatusOK || pg.url.Path != "/account" {
		t.Fatalf("account login: %d %s", pg.status, pg.url)
	}
	return p, b, enrolOverHTTP(t, e, b)
}

func testPasskeyAccountLogin(t *testing.T, e *env) {
	p, _, a := personWithPasskey(t, e, "赵六")
	b := e.browser()
	pg := b.get(e.issuer + "/account")
	if !pg.isLogin() || !strings.Contains(pg.body, `id="passkey-signin"`) {
		t.Fatalf("want the login page with the passkey button, got %d", pg.status)
	}
	redirect, err := passkeyLoginOverHTTP(e, b, pg, a)
	if err != nil {
		t.Fatal(err)
	}
	pg = b.get(e.issuer + redirect)
	if pg.status != http.StatusOK || pg.url.Path != "/account" || !strings.Contains(pg.body, "赵六") {
		t.Fatalf("after the passkey login: %d %s", pg.status, pg.url)
	}
	// The session is a multi-factor one, made now: fresh enough to enrol a second passkey.
	if second := enrolOverHTTP(t, e, b); second == nil {
		t.Fatal("no second passkey")
	}
	pks, _ := e.store.ListPasskeys(t.Context(), p.ID)
	if len(pks) != 2 || pks[1].Name != "基准手机" {
		t.Fatalf("passkeys %+v", pks)
	}
	// A refused rename shows the account page again with the reason, and changes nothing.
	pg = b.get(e.issuer + "/account")
	m := reCSRF.FindStringSubmatch(pg.body)
	ref := regexp.MustCompile(`name="ref" value="([^"]+)"`).FindStringSubmatch(pg.body)
	pg = b.post(e.issuer+"/account/passkeys/rename?ui_locales=zh-CN", url.Values{"csrf": {m[1]}, "ref": {ref[1]}, "name": {" "}})
	if pg.status != http.StatusBadRequest || !strings.Contains(pg.body, "名称不能为空") || !strings.Contains(pg.body, `id="passkeys"`) {
		t.Fatalf("empty name: %d, want 400 on the account page with the reason", pg.status)
	}
	pg = b.post(e.issuer+"/account/passkeys/rename?ui_locales=zh-CN", url.Values{"csrf": {m[1]}, "ref": {ref[1]}, "name": {"新名字"}})
	if pg.status != http.StatusOK || !strings.Contains(pg.body, "通行密钥已改名") || !strings.Contains(pg.body, "新名字") {
		t.Fatalf("rename: %d", pg.status)
	}
	pg = b.post(e.issuer+"/account/passkeys/remove", url.Values{"csrf": {"wrong"}, "ref": {ref[1]}})
	if pg.status != http.StatusForbidden {
		t.Fatalf("remove with a wrong CSRF token: %d", pg.status)
	}
	if pks, _ := e.store.ListPasskeys(t.Context(), p.ID); len(pks) != 2 {
		t.Fatalf("%d passkeys after a forged removal", len(pks))
	}
}

func testPasskeyMFA(t *testing.T, e *env) {
	_, _, a := personWithPasskey(t, e, "孙七")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	ar := r.authURL(oauth2.SetAuthURLParam("acr_values", tboidc.ACRMultiFactor))
	pg := b.get(ar.url)
	if !pg.isLogin() || !strings.Contains(pg.body, "代替密码和动态口令") {
		t.Fatalf("login page for acr mfa: %d, want the passkey offered as the second factor", pg.status)
	}
	redirect, err := passkeyLoginOverHTTP(e, b, pg, a)
	if err != nil {
		t.Fatal(err)
	}
	pg = b.get(e.issuer + redirect)
	if pg.isConsent() {
		pg = b.consent(pg, "allow")
	}
	q := pg.callback(t)
	tok, err := r.exchange(q.Get("code"), ar.verifier)
	if err != nil {
		t.Fatal(err)
	}
	_, claims := r.verify(tok.Extra("id_token").(string), ar.nonce)
	amr, _ := json.Marshal(claims["amr"])
	if claims["acr"] != tboidc.ACRMultiFactor || string(amr) != `["hwk","user","mfa"]` {
		t.Fatalf("acr %v amr %s", claims["acr"], amr)
	}
	for _, s := range e.pii {
		if strings.Contains(e.logs.String(), s) {
			t.Fatal("personal data in the logs")
		}
	}
}

func testPasskeyCSRF(t *testing.T, e *env) {
	b := e.browser()
	pg := b.get(e.issuer + "/account")
	for _, tc := range []struct{ path, token string }{
		{"/login/passkey/begin", ""},
		{"/login/passkey/begin", "not-a-token"},
		{"/login/passkey/finish", ""},
	} {
		status, body, err := postPasskeyJSON(e, b, tc.path, tc.token, map[string]string{})
		if err != nil || status != http.StatusForbidden || !strings.Contains(string(body["error"]), "页面已过期") {
			t.Errorf("%s with token %q: %d %s %v", tc.path, tc.token, status, body["error"], err)
		}
	}
	// The login page's token does not open the account endpoints: without a session they send
	// the browser to log in first, whatever the token.
	m := reCSRF.FindStringSubmatch(pg.body)
	if status, _, err := postPasskeyJSON(e, b, "/account/passkeys/begin", m[1], map[string]string{}); err == nil {
		t.Fatalf("account begin without a session answered JSON (%d)", status)
	}
}

func testPasskeyNotFresh(t *testing.T, e *env) {
	p, b, _ := personWithPasskey(t, e, "周八")
	pg := b.get(e.issuer + "/account")
	m := reCSRF.FindStringSubmatch(pg.body)
	e.clock.Advance(6 * time.Minute)
	defer e.clock.Advance(-6 * time.Minute)
	pg = b.get(e.issuer + "/account")
	if strings.Contains(pg.body, `id="passkey-add"`) || !strings.Contains(pg.body, `id="passkey-relogin"`) {
		t.Fatal("account page offers enrolment after the fresh-login window")
	}
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/account/passkeys/begin", strings.NewReader("{}"))
	req.Header.Set("X-CSRF-Token", m[1])
	if pg := b.do(req); !pg.isLogin() {
		t.Fatalf("begin with an old login: %d %s, want the login page", pg.status, pg.url)
	}
	if pks, _ := e.store.ListPasskeys(context.Background(), p.ID); len(pks) != 1 {
		t.Fatalf("%d passkeys", len(pks))
	}
}

func testPasskeyLockout(t *testing.T, e *env) {
	_, _, a := personWithPasskey(t, e, "吴九")
	a.UV = false
	b := e.browser()
	for i := range 8 {
		pg := b.get(e.issuer + "/account")
		if _, err := passkeyLoginOverHTTP(e, b, pg, a); err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("attempt %d: %v, want 401 user not verified", i, err)
		}
	}
	a.UV = true
	pg := b.get(e.issuer + "/account")
	if _, err := passkeyLoginOverHTTP(e, b, pg, a); err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("after 8 refusals: %v, want 429", err)
	}
	e.clock.Advance(16 * time.Minute) // the window passes; later subtests start clean
}
