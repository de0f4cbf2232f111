package oidc_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/sm-crypto/smjose"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// The end-to-end suite runs a real provider over HTTPS (httptest) on a real store and drives it
// with go-oidc, x/oauth2 and a cookie-jar browser that fills in the HTML forms.

func TestEndToEndSQLite(t *testing.T) {
	runSuite(t, func(t testing.TB) storage.Storage { return storagetest.SQLite(t) })
}

func TestEndToEndPostgres(t *testing.T) {
	runSuite(t, func(t testing.TB) storage.Storage { return storagetest.Postgres(t) })
}

func runSuite(t *testing.T, newStore func(testing.TB) storage.Storage) {
	e := newEnv(t, newStore(t), envOptions{})
	for _, tc := range []struct {
		name string
		test func(*testing.T, *env)
	}{
		{"ok/discovery-and-jwks", testDiscovery},
		{"ok/code-flow", testCodeFlow},
		{"ok/public-client", testPublicClient},
		{"ok/refresh-rotation-and-reuse", testRefresh},
		{"ok/userinfo", testUserinfo},
		{"ok/claims-parameter", testClaimsParameter},
		{"ok/sso-two-clients", testSSO},
		{"ok/pairwise-subject", testPairwise},
		{"ok/logout", testLogout},
		{"ok/logout-confirmation", testLogoutConfirmation},
		{"ok/prompt-login", testPromptLogin},
		{"ok/prompt-consent-and-deny", testConsentDeny},
		{"ok/max-age-forces-login", testMaxAge},
		{"ok/acr-step-up-totp", testStepUp},
		{"ok/loopback-port-may-vary", testLoopbackPort},
		{"ok/client-credentials", testClientCredentials},
		{"ok/introspection", testIntrospection},
		{"ok/revocation", testRevocation},
		{"ok/jwt-access-tokens", testJWTAccessTokens},
		{"fail/jwt-access-token-misuse", testJWTAccessTokenAttacks},
		{"ok/pages-headers-and-locales", testPages},
		{"fail/code-replay", testCodeReplay},
		{"fail/code-replay-concurrent", testCodeReplayConcurrent},
		{"fail/refresh-reuse-concurrent", testRefreshConcurrent},
		{"fail/pkce", testPKCE},
		{"fail/redirect-uri-mismatch", testRedirectMismatch},
		{"fail/unknown-client", testUnknownClient},
		{"fail/expired-code", testExpiredCode},
		{"fail/prompt-none", testPromptNone},
		{"fail/login-no-enumeration", testNoEnumeration},
		{"fail/lockout", testLockout},
		{"fail/csrf", testCSRF},
		{"fail/lockout-across-identifiers", testLockoutAcrossIdentifiers},
		{"fail/duplicate-parameters", testDuplicateParams},
		{"fail/scope-without-openid", testNoOpenIDScope},
		{"fail/oversized-parameters", testParamLimits},
		{"fail/redirect-uri-userinfo", testRedirectUserinfo},
		{"fail/form-replay", testFormReplay},
		{"fail/consent-not-transferable", testConsentNotTransferable},
		{"fail/id-token-hint-other-person-logs-in", testHintOtherPersonLogsIn},
		{"fail/forged-token-uses-nothing", testForgedTokens},
		{"ok/refused-refresh-keeps-token", testRefreshRefusedKeepsToken},
		{"ok/refresh-narrowed-scope", testRefreshNarrowScope},
		{"ok/refresh-reuse-logged-once", testRefreshReuseLoggedOnce},
		{"ok/logout-client-id", testLogoutClientID},
		{"fail/token-endpoint", testTokenEndpointErrors},
		{"ok/cors-and-purge", testCORSAndPurge},
		{"ok/metrics", testMetrics},
		{"ok/logs-without-personal-data", testLogs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			tc.test(t, e)
		})
	}
}

func testDiscovery(t *testing.T, e *env) {
	b := e.browser()
	p := b.get(e.issuer + "/.well-known/openid-configuration")
	var doc map[string]any
	if err := json.Unmarshal([]byte(p.body), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"issuer":                 e.issuer,
		"authorization_endpoint": e.issuer + "/authorize",
		"token_endpoint":         e.issuer + "/token",
		"end_session_endpoint":   e.issuer + "/logout",
		"introspection_endpoint": e.issuer + "/introspect",
		"revocation_endpoint":    e.issuer + "/revoke",
		"authorization_response_iss_parameter_supported": true,
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %v, want %v", k, doc[k], v)
		}
	}
	for k, v := range map[string][]string{
		"id_token_signing_alg_values_supported": {"RS256", "ES256", "SGD_SM3_SM2"},
		"code_challenge_methods_supported":      {"S256"},
		"response_types_supported":              {"code"},
	} {
		got, _ := json.Marshal(doc[k])
		exp, _ := json.Marshal(v)
		if string(got) != string(exp) {
			t.Errorf("%s = %s, want %s", k, got, exp)
		}
	}
	if p2 := b.get(e.issuer + "/.well-known/oauth-authorization-server"); p2.body != p.body {
		t.Error("RFC 8414 metadata differs from OIDC discovery")
	}

	// The JWKS: go-oidc (through NewProvider in newRP and the verifications) and a member-by-
	// member go-jose parse read the standard keys; smjose reads the SM2 key.
	jw := b.get(e.issuer + "/jwks")
	ks, err := smjose.ParseJWKS([]byte(jw.body))
	if err != nil {
		t.Fatal(err)
	}
	if len(ks.Standard.Keys) != 2 || len(ks.SM2) != 1 || len(ks.Skipped) != 0 {
		t.Fatalf("JWKS: %d standard, %d SM2, %d skipped keys", len(ks.Standard.Keys), len(ks.SM2), len(ks.Skipped))
	}
	if ks.SM2[0].KeyID == "" || ks.SM2[0].Use != "sig" {
		t.Errorf("SM2 JWK = %+v", ks.SM2[0])
	}
	var raw struct{ Keys []json.RawMessage }
	if err := json.Unmarshal([]byte(jw.body), &raw); err != nil {
		t.Fatal(err)
	}
	parsed := 0
	for _, m := range raw.Keys {
		var k jose.JSONWebKey
		if strings.Contains(string(m), `"SM2-P-256"`) {
			if !strings.Contains(string(m), `"alg":"SGD_SM3_SM2"`) {
				t.Errorf("SM2 member without alg: %s", m)
			}
			continue
		}
		if err := json.Unmarshal(m, &k); err != nil {
			t.Errorf("go-jose cannot parse %s: %v", m, err)
			continue
		}
		if k.KeyID == "" || k.Algorithm == "" || k.Use != "sig" || !k.IsPublic() {
			t.Errorf("standard JWK %s", m)
		}
		parsed++
	}
	if parsed != 2 {
		t.Errorf("go-jose parsed %d standard keys, want 2", parsed)
	}
	if !strings.HasPrefix(jw.header.Get("Content-Type"), "application/jwk-set+json") {
		t.Errorf("JWKS content type %q", jw.header.Get("Content-Type"))
	}
}

func testCodeFlow(t *testing.T, e *env) {
	for _, alg := range []string{tboidc.AlgES256, tboidc.AlgRS256, tboidc.AlgSM2} {
		t.Run(alg, func(t *testing.T) {
			e.t = t
			person, _ := e.person("张三", "")
			r := e.newRP(tboidc.NewClient{IDTokenAlg: alg})
			b := e.browser()
			a := r.authURL()
			code := b.signIn(a, mustIdentifier(t, e, person))
			var v *oidc.IDTokenVerifier
			if alg == tboidc.AlgSM2 {
				var err error
				if v, err = NewSM2Verifier(e.ctx, e.issuer, r.client.ID, e.hs.Client()); err != nil {
					t.Fatal(err)
				}
			} else {
				v = r.provider.Verifier(&oidc.Config{ClientID: r.client.ID})
			}
			ctx := context.WithValue(e.ctx, oauth2.HTTPClient, e.hs.Client())
			idt, tok, err := FinishLogin(ctx, &r.oauth, v, alg, code, a.verifier, a.nonce)
			if err != nil {
				t.Fatal(err)
			}
			if tok.RefreshToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
				t.Fatalf("token = %+v", tok)
			}
			raw := tok.Extra("id_token").(string)
			if alg == tboidc.AlgSM2 {
				// go-oidc's own verifier refuses it: it does not know the algorithm.
				if _, err := r.provider.Verifier(&oidc.Config{ClientID: r.client.ID}).Verify(e.ctx, raw); err == nil {
					t.Fatal("go-oidc accepted an SM2 token with its standard verifier")
				}
				// A flipped signature byte fails.
				bad := raw[:len(raw)-3] + flip(raw[len(raw)-3:])
				if _, err := v.Verify(e.ctx, bad); err == nil {
					t.Fatal("tampered SM2 token verified")
				}
			}
			var claims map[string]any
			_ = idt.Claims(&claims)
			hdr := jwsHeader(t, raw)
			if hdr["alg"] != alg || hdr["kid"] == "" {
				t.Errorf("header %v", hdr)
			}
			if idt.Subject != person.ID || claims["name"] != "张三" || claims["acr"] != tboidc.ACRPassword {
				t.Errorf("claims %v", claims)
			}
			if _, ok := claims["phone_number"]; ok {
				t.Error("phone_number released without the phone scope")
			}
			if amr, _ := claims["amr"].([]any); len(amr) != 1 || amr[0] != "pwd" {
				t.Errorf("amr %v", claims["amr"])
			}
			if at, _ := claims["auth_time"].(float64); time.Since(time.Unix(int64(at), 0)) > time.Minute {
				t.Errorf("auth_time %v", claims["auth_time"])
			}
			status, ui := e.userinfo(tok.AccessToken)
			if status != 200 || ui["sub"] != person.ID || ui["name"] != "张三" {
				t.Errorf("userinfo %d %v", status, ui)
			}
		})
	}
	e.t = t
}

// mustIdentifier returns the login identifier of a person: its ID number.
func mustIdentifier(t testing.TB, e *env, p storage.Person) string {
	t.Helper()
	num, err := e.kr.OpenField(p.IDNumberSealed, "person/"+p.ID+"/id_number")
	if err != nil {
		t.Fatal(err)
	}
	return string(num)
}

func jwsHeader(t testing.TB, raw string) map[string]any {
	t.Helper()
	h, _, _ := strings.Cut(raw, ".")
	js, err := base64URLDecode(h)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func testPublicClient(t *testing.T, e *env) {
	person, num := e.person("李四", "")
	r := e.newRP(tboidc.NewClient{Public: true, IDTokenAlg: tboidc.AlgES256})
	if r.secret != "" {
		t.Fatal("public client got a secret")
	}
	b := e.browser()
	a := r.authURL()
	tok, err := r.exchange(b.signIn(a, num), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	idt, _ := r.verify(tok.Extra("id_token").(string), a.nonce)
	if idt.Subject != person.ID {
		t.Fatalf("sub %q", idt.Subject)
	}
}

func testRefresh(t *testing.T, e *env) {
	_, num := e.person("王五", "")
	r := e.newRP(tboidc.NewClient{IDTokenAlg: tboidc.AlgSM2})
	rs := e.newRP(tboidc.NewClient{}) // a resource server that introspects
	b := e.browser()
	tok1 := r.login(t, b, num)
	refresh := func(rt string) (int, map[string]any) {
		return e.postForm("/token", r.client.ID, r.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	}
	status, tok2 := refresh(tok1.RefreshToken)
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, tok2)
	}
	rt2, at2 := tok2["refresh_token"].(string), tok2["access_token"].(string)
	if rt2 == "" || rt2 == tok1.RefreshToken || at2 == "" {
		t.Fatalf("refresh response %v", tok2)
	}
	if idt, ok := tok2["id_token"].(string); !ok || idt == "" {
		t.Fatal("no ID token on refresh")
	} else {
		v, _ := NewSM2Verifier(e.ctx, e.issuer, r.client.ID, e.hs.Client())
		got, err := v.Verify(e.ctx, idt)
		if err != nil || got.Nonce != "" {
			t.Fatalf("refreshed ID token: %v nonce %q", err, got.Nonce)
		}
	}
	if active(e.introspect(rs, tok1.AccessToken)) {
		t.Error("the access token issued before the rotation is still active")
	}
	if !active(e.introspect(rs, at2)) || !active(e.introspect(rs, rt2)) {
		t.Fatal("rotated tokens are not active")
	}
	// Reuse of the rotated refresh token revokes the family.
	status, out := refresh(tok1.RefreshToken)
	if status != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("reuse: %d %v", status, out)
	}
	if active(e.introspect(rs, rt2)) || active(e.introspect(rs, at2)) {
		t.Fatal("reuse did not revoke the newest refresh token and access token")
	}
	if status, out := refresh(rt2); status != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("newest refresh token after reuse: %d %v", status, out)
	}
}

func testUserinfo(t *testing.T, e *env) {
	person, num := e.person("赵六", "+86 139-0013-9000")
	r := e.newRP(tboidc.NewClient{Scopes: []string{"openid", "profile", "phone", "id_number"}})
	r.oauth.Scopes = []string{"openid", "profile", "phone", "id_number"}
	b := e.browser()
	a := r.authURL()
	tok, err := r.exchange(b.signIn(a, num), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	_, claims := r.verify(tok.Extra("id_token").(string), a.nonce)
	if claims["id_number"] != num || claims["id_number_type"] != "resident_id" || claims["phone_number"] != "+8613900139000" {
		t.Errorf("ID token claims %v", claims)
	}
	for _, method := range []string{"GET", "POST"} {
		var req *http.Request
		if method == "GET" {
			req, _ = http.NewRequest("GET", e.issuer+"/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		} else {
			req, _ = http.NewRequest("POST", e.issuer+"/userinfo", strings.NewReader(url.Values{"access_token": {tok.AccessToken}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := e.hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ui map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&ui)
		resp.Body.Close()
		if resp.StatusCode != 200 || ui["sub"] != person.ID || ui["name"] != "赵六" || ui["phone_number"] != "+8613900139000" || ui["id_number"] != num {
			t.Errorf("%s userinfo: %d %v", method, resp.StatusCode, ui)
		}
	}
	// go-oidc's UserInfo call works too.
	ui, err := r.provider.UserInfo(e.ctx, oauth2.StaticTokenSource(tok))
	if err != nil || ui.Subject != person.ID {
		t.Fatalf("go-oidc UserInfo: %v %+v", err, ui)
	}
	if status, out := e.userinfo("tb_at_forged.token"); status != 401 || out["error"] != "invalid_token" {
		t.Errorf("forged token: %d %v", status, out)
	}
}

func testClaimsParameter(t *testing.T, e *env) {
	_, num := e.person("孙七", "13700137000")
	r := e.newRP(tboidc.NewClient{Scopes: []string{"openid", "profile", "phone"}})
	r.oauth.Scopes = []string{"openid", "profile", "phone"}
	b := e.browser()
	a := r.authURL(oauth2.SetAuthURLParam("claims", `{"id_token":{"name":null,"id_number":null}}`))
	tok, err := r.exchange(b.signIn(a, num), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	_, claims := r.verify(tok.Extra("id_token").(string), a.nonce)
	if claims["name"] != "孙七" {
		t.Errorf("name missing: %v", claims)
	}
	if _, ok := claims["phone_number"]; ok {
		t.Error("phone_number in the ID token although the claims parameter did not ask for it")
	}
	if _, ok := claims["id_number"]; ok {
		t.Error("id_number released without its scope")
	}
	_, ui := e.userinfo(tok.AccessToken)
	if ui["phone_number"] != "+8613700137000" {
		t.Errorf("userinfo %v", ui)
	}
}

func testSSO(t *testing.T, e *env) {
	_, num := e.person("周八", "")
	r1 := e.newRP(tboidc.NewClient{IDTokenAlg: tboidc.AlgSM2})
	r2 := e.newRP(tboidc.NewClient{IDTokenAlg: tboidc.AlgES256})
	b := e.browser()
	tok1 := r1.login(t, b, num)
	// The second app: no login form, only its consent page.
	a2 := r2.authURL()
	p := b.get(a2.url)
	if p.isLogin() {
		t.Fatal("second app asked for the password again")
	}
	if !p.isConsent() {
		t.Fatalf("want the consent page, got %d %s", p.status, p.location)
	}
	code := b.consent(p, "allow").callback(t).Get("code")
	tok2, err := r2.exchange(code, a2.verifier)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := NewSM2Verifier(e.ctx, e.issuer, r1.client.ID, e.hs.Client())
	id1, err := v.Verify(e.ctx, tok1.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	id2, _ := r2.verify(tok2.Extra("id_token").(string), a2.nonce)
	if id1.Subject != id2.Subject {
		t.Error("different subjects across apps")
	}
	var c1, c2 map[string]any
	_ = id1.Claims(&c1)
	_ = id2.Claims(&c2)
	if c1["auth_time"] != c2["auth_time"] {
		t.Errorf("auth_time %v vs %v: the second app did not reuse the session", c1["auth_time"], c2["auth_time"])
	}
	// Consent is remembered: a third visit goes straight back with a code.
	a3 := r2.authURL()
	if q := b.get(a3.url).callback(t); q.Get("code") == "" {
		t.Fatalf("third visit: %v", q)
	}
}

func testLogout(t *testing.T, e *env) {
	_, num := e.person("吴九", "")
	r1 := e.newRP(tboidc.NewClient{})
	r2 := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r1.authURL()
	tok, err := r1.exchange(b.signIn(a, num), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	a2 := r2.authURL()
	if _, err := r2.exchange(b.signIn(a2, num), a2.verifier); err != nil {
		t.Fatal(err)
	}
	q := url.Values{
		"id_token_hint":            {tok.Extra("id_token").(string)},
		"post_logout_redirect_uri": {r1.client.PostLogoutRedirectURIs[0]},
		"state":                    {"bye-state"},
	}
	p := b.get(e.issuer + "/logout?" + q.Encode())
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, r1.client.PostLogoutRedirectURIs[0]+"?") {
		t.Fatalf("logout: %d %q", p.status, p.location)
	}
	if got := p.callback(t).Get("state"); got != "bye-state" {
		t.Errorf("state %q", got)
	}
	// The session is gone for every app.
	for _, r := range []*rp{r1, r2} {
		a := r.authURL(oauth2.SetAuthURLParam("prompt", "none"))
		if got := b.get(a.url).callback(t).Get("error"); got != "login_required" {
			t.Errorf("%s after logout: %q", r.client.ID, got)
		}
		if !b.get(r.authURL().url).isLogin() {
			t.Errorf("%s after logout: no login page", r.client.ID)
		}
	}
	// An unregistered post_logout_redirect_uri is never followed.
	q.Set("post_logout_redirect_uri", "https://evil.example/")
	if p := b.get(e.issuer + "/logout?" + q.Encode()); p.location != "" || p.status != 400 {
		t.Errorf("bad post-logout URI: %d %q", p.status, p.location)
	}
}

func testLogoutConfirmation(t *testing.T, e *env) {
	_, num := e.person("郑十", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	b.signIn(a, num)
	p := b.get(e.issuer + "/logout")
	if !strings.Contains(p.body, `name="confirm"`) {
		t.Fatalf("no confirmation page: %s", p.body)
	}
	// Without the CSRF token the confirmation does nothing.
	action, vals := p.form(t)
	forged := url.Values{"confirm": {"1"}}
	if p2 := b.post(action, forged); !strings.Contains(p2.body, `name="confirm"`) {
		t.Fatal("logout without CSRF token was accepted")
	}
	p3 := b.post(action, vals)
	if p3.status != 200 || !strings.Contains(p3.body, "已安全退出") {
		t.Fatalf("after confirmation: %d %s", p3.status, p3.body)
	}
	if !b.get(r.authURL().url).isLogin() {
		t.Error("still logged in")
	}
}

func testPromptLogin(t *testing.T, e *env) {
	_, num := e.person("钱一", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	b.signIn(a, num)
	a2 := r.authURL(oauth2.SetAuthURLParam("prompt", "login"))
	p := b.get(a2.url)
	if !p.isLogin() {
		t.Fatal("prompt=login did not ask for the password")
	}
	p = b.login(p, num, testPassword)
	code := p.callback(t).Get("code")
	if _, err := r.exchange(code, a2.verifier); err != nil {
		t.Fatal(err)
	}
}

func testConsentDeny(t *testing.T, e *env) {
	_, num := e.person("冯二", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	p := b.login(b.get(a.url), num, testPassword)
	if !p.isConsent() || !strings.Contains(p.body, r.client.Name) {
		t.Fatalf("no consent page naming the app: %s", p.body)
	}
	q := b.consent(p, "deny").callback(t)
	if q.Get("error") != "access_denied" || q.Get("state") != a.state || q.Get("iss") != e.issuer {
		t.Fatalf("deny: %v", q)
	}
	// Allow once; prompt=consent asks again even though consent is remembered.
	b.signIn(r.authURL(), num)
	if p := b.get(r.authURL(oauth2.SetAuthURLParam("prompt", "consent")).url); !p.isConsent() {
		t.Fatal("prompt=consent skipped the consent page")
	}
}

func testMaxAge(t *testing.T, e *env) {
	_, num := e.person("陈三", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	tok1, err := r.exchange(b.signIn(a, num), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	_, c1 := r.verify(tok1.Extra("id_token").(string), a.nonce)
	time.Sleep(1100 * time.Millisecond)
	a2 := r.authURL(oauth2.SetAuthURLParam("max_age", "1"))
	p := b.get(a2.url)
	if !p.isLogin() {
		t.Fatal("max_age=1 did not force a login")
	}
	tok2, err := r.exchange(b.login(p, num, testPassword).callback(t).Get("code"), a2.verifier)
	if err != nil {
		t.Fatal(err)
	}
	_, c2 := r.verify(tok2.Extra("id_token").(string), a2.nonce)
	if c2["auth_time"].(float64) <= c1["auth_time"].(float64) {
		t.Errorf("auth_time did not advance: %v → %v", c1["auth_time"], c2["auth_time"])
	}
	// A generous max_age is satisfied by the session.
	a3 := r.authURL(oauth2.SetAuthURLParam("max_age", "3600"))
	if b.get(a3.url).callback(t).Get("code") == "" {
		t.Error("max_age=3600 forced a login")
	}
}

func testStepUp(t *testing.T, e *env) {
	person, num := e.person("褚四", "")
	uri, err := e.accounts.EnrollTOTP(context.Background(), person.ID)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(uri)
	secret := u.Query().Get("secret")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	b.signIn(r.authURL(), num) // password only
	a := r.authURL(oauth2.SetAuthURLParam("acr_values", tboidc.ACRMultiFactor))
	p := b.get(a.url)
	if !p.isLogin() || !strings.Contains(p.body, `name="otp"`) {
		t.Fatal("acr_values=mfa did not ask for a one-time code")
	}
	// A wrong code fails like a wrong password.
	if p2 := b.login(p, num, testPassword, "otp", "000000"); !p2.isLoginForm() {
		t.Fatal("wrong TOTP code accepted")
	}
	p = b.get(a.url)
	otpCode, _ := totp.GenerateCode(secret, e.clock.Now())
	q := b.login(p, num, testPassword, "otp", otpCode).callback(t)
	tok, err := r.exchange(q.Get("code"), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	_, claims := r.verify(tok.Extra("id_token").(string), a.nonce)
	if claims["acr"] != tboidc.ACRMultiFactor || len(claims["amr"].([]any)) != 2 {
		t.Errorf("acr %v amr %v", claims["acr"], claims["amr"])
	}
	// The session now satisfies mfa silently.
	a2 := r.authURL(oauth2.SetAuthURLParam("acr_values", tboidc.ACRMultiFactor), oauth2.SetAuthURLParam("prompt", "none"))
	if b.get(a2.url).callback(t).Get("code") == "" {
		t.Error("mfa session not reused")
	}
	// A person without TOTP and an essential mfa request: unmet_authentication_requirements.
	_, num2 := e.person("卫五", "")
	b2 := e.browser()
	a3 := r.authURL(oauth2.SetAuthURLParam("claims", `{"id_token":{"acr":{"essential":true,"values":["`+tboidc.ACRMultiFactor+`"]}}}`))
	p3 := b2.login(b2.get(a3.url), num2, testPassword)
	if p3.isConsent() {
		p3 = b2.consent(p3, "allow")
	}
	if got := p3.callback(t).Get("error"); got != "unmet_authentication_requirements" {
		t.Errorf("essential acr unmet: %q", got)
	}
}

func testLoopbackPort(t *testing.T, e *env) {
	_, num := e.person("蒋六", "")
	r := e.newRP(tboidc.NewClient{Public: true})
	// RFC 8252 §7.3: a native app listens on an ephemeral port.
	r.oauth.RedirectURL = strings.Replace(r.redirect, ":4", ":5", 1)
	b := e.browser()
	a := r.authURL()
	p := b.get(a.url)
	p = b.login(p, num, testPassword)
	if p.isConsent() {
		p = b.consent(p, "allow")
	}
	if !strings.HasPrefix(p.location, r.oauth.RedirectURL) {
		t.Fatalf("redirected to %q, want %q", p.location, r.oauth.RedirectURL)
	}
	if _, err := r.exchange(p.callback(t).Get("code"), a.verifier); err != nil {
		t.Fatal(err)
	}
	// A different path is not the same URI.
	r.oauth.RedirectURL = r.redirect + "x"
	if p := b.get(r.authURL().url); p.location != "" || p.status != 400 {
		t.Errorf("other path: %d %q", p.status, p.location)
	}
}

func testClientCredentials(t *testing.T, e *env) {
	svc := e.newRP(tboidc.NewClient{GrantTypes: []string{"client_credentials"}, Scopes: []string{"profile"}})
	rs := e.newRP(tboidc.NewClient{})
	cc := clientcredentials.Config{ClientID: svc.client.ID, ClientSecret: svc.secret, TokenURL: e.issuer + "/token", Scopes: []string{"profile"}}
	ctx := context.WithValue(e.ctx, oauth2.HTTPClient, e.hs.Client())
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" || tok.Extra("id_token") != nil {
		t.Errorf("client credentials issued %+v", tok)
	}
	in := e.introspect(rs, tok.AccessToken)
	if !active(in) || in["client_id"] != svc.client.ID || in["sub"] != nil || in["scope"] != "profile" {
		t.Errorf("introspection %v", in)
	}
	if status, out := e.userinfo(tok.AccessToken); status != 403 || out["error"] != "insufficient_scope" {
		t.Errorf("userinfo with a client token: %d %v", status, out)
	}
	// client_secret_post works as well, a wrong secret does not.
	status, out := e.postForm("/token", "", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {svc.client.ID}, "client_secret": {svc.secret}})
	if status != 200 {
		t.Errorf("client_secret_post: %d %v", status, out)
	}
	status, out = e.postForm("/token", svc.client.ID, "wrong", url.Values{"grant_type": {"client_credentials"}})
	if status != 401 || out["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %v", status, out)
	}
	// An auth-code client may not use client_credentials.
	status, out = e.postForm("/token", rs.client.ID, rs.secret, url.Values{"grant_type": {"client_credentials"}})
	if status < 400 || out["error"] == nil {
		t.Errorf("client_credentials for a code client: %d %v", status, out)
	}
}

func testIntrospection(t *testing.T, e *env) {
	person, num := e.person("沈七", "")
	r := e.newRP(tboidc.NewClient{})
	pub := e.newRP(tboidc.NewClient{Public: true})
	b := e.browser()
	tok := r.login(t, b, num)
	in := e.introspect(r, tok.AccessToken)
	if !active(in) || in["sub"] != person.ID || in["client_id"] != r.client.ID || in["token_type"] != "Bearer" ||
		in["exp"].(float64) <= float64(time.Now().Unix()) || in["iss"] != e.issuer {
		t.Errorf("introspection %v", in)
	}
	if in := e.introspect(r, tok.RefreshToken); !active(in) || in["token_type"] != "refresh_token" {
		t.Errorf("refresh introspection %v", in)
	}
	for _, bad := range []string{"", "garbage", "tb_at_x.y", tok.AccessToken + "x"} {
		if bad == "" {
			continue
		}
		if active(e.introspect(r, bad)) {
			t.Errorf("%q is active", bad)
		}
	}
	status, out := e.postForm("/introspect", pub.client.ID, "", url.Values{"token": {tok.AccessToken}})
	if status != 401 || out["error"] != "invalid_client" {
		t.Errorf("public client introspection: %d %v", status, out)
	}
	status, _ = e.postForm("/introspect", "", "", url.Values{"token": {tok.AccessToken}})
	if status != 401 {
		t.Errorf("anonymous introspection: %d", status)
	}
}

func testRevocation(t *testing.T, e *env) {
	_, num := e.person("韩八", "")
	r := e.newRP(tboidc.NewClient{})
	other := e.newRP(tboidc.NewClient{})
	b := e.browser()
	tok := r.login(t, b, num)
	// Another client cannot revoke it (RFC 7009 §2.1); the answer is still 200.
	if status, _ := e.postForm("/revoke", other.client.ID, other.secret, url.Values{"token": {tok.RefreshToken}}); status != 200 {
		t.Errorf("foreign revoke: %d", status)
	}
	if !active(e.introspect(r, tok.AccessToken)) {
		t.Fatal("another client revoked the token")
	}
	if status, _ := e.postForm("/revoke", r.client.ID, r.secret, url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}); status != 200 {
		t.Fatalf("revoke: %d", status)
	}
	if active(e.introspect(r, tok.RefreshToken)) || active(e.introspect(r, tok.AccessToken)) {
		t.Error("revoking the refresh token left its grant active")
	}
	if status, _ := e.postForm("/revoke", r.client.ID, r.secret, url.Values{"token": {"unknown"}}); status != 200 {
		t.Errorf("unknown token: %d", status)
	}
	if status, _ := e.postForm("/revoke", r.client.ID, "wrong", url.Values{"token": {"unknown"}}); status != 401 {
		t.Errorf("bad client: %d", status)
	}
}

func testPages(t *testing.T, e *env) {
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	p := b.get(r.authURL().url)
	if !p.isLogin() || !strings.Contains(p.body, `lang="zh-CN"`) || !strings.Contains(p.body, "登录") {
		t.Fatalf("default login page is not Chinese: %s", p.body)
	}
	for k, v := range map[string]string{
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
	} {
		if got := p.header.Get(k); got != v {
			t.Errorf("%s = %q", k, got)
		}
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	// login_hint pre-fills the identifier when it looks like one.
	hint := residentID(t)
	if p := b.get(r.authURL(oauth2.SetAuthURLParam("login_hint", hint)).url); !strings.Contains(p.body, `value="`+hint+`"`) {
		t.Error("login_hint not pre-filled")
	}
	if p := b.get(r.authURL(oauth2.SetAuthURLParam("login_hint", `"><script>`)).url); strings.Contains(p.body, "<script>") {
		t.Error("login_hint injected markup")
	}
	// The English switch.
	if !strings.Contains(p.body, "ui_locales=en") {
		t.Error("no English switch")
	}
	en := b.get(r.authURL(oauth2.SetAuthURLParam("ui_locales", "en-GB zh")).url)
	if !strings.Contains(en.body, `lang="en"`) || !strings.Contains(en.body, "Sign in") {
		t.Errorf("ui_locales=en: %s", en.body)
	}
	// The switch carries on to the consent page.
	_, numEN := e.person("Lang", "")
	bEN := e.browser()
	zh := bEN.get(r.authURL().url)
	i := strings.Index(zh.body, `class="lang" href="`)
	href := html.UnescapeString(zh.body[i+len(`class="lang" href="`):])
	href = href[:strings.IndexByte(href, '"')]
	enPage := bEN.get(e.issuer + href)
	if !strings.Contains(enPage.body, "Sign in") {
		t.Fatalf("switch link %q: %s", href, enPage.body)
	}
	if c := bEN.login(enPage, numEN, testPassword); !c.isConsent() || !strings.Contains(c.body, "Allow access") {
		t.Errorf("consent page after an English login: %s", c.body)
	}
	// Cookies: __Host- prefix, Secure, HttpOnly, SameSite=Lax.
	resp, err := b.c.Get(r.authURL().url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, _ := url.Parse(e.issuer)
	found := false
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "__Host-tb_csrf" {
			found = true
		}
	}
	if !found {
		t.Error("no __Host-tb_csrf cookie")
	}
	_, num := e.person("杨九", "")
	p = b.get(r.authURL().url)
	action, vals := p.form(t)
	vals.Set("identifier", num)
	vals.Set("password", testPassword)
	req, _ := http.NewRequest("POST", action, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	noFollow := *b.c
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login POST answered %d, want 303", resp.StatusCode)
	}
	setCookie := strings.Join(resp.Header.Values("Set-Cookie"), "\n")
	for _, want := range []string{"__Host-tb_session=", "Secure", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(setCookie, want) {
			t.Errorf("session cookie lacks %s: %s", want, setCookie)
		}
	}
}

func testCodeReplay(t *testing.T, e *env) {
	_, num := e.person("朱十", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	code := b.signIn(a, num)
	tok, err := r.exchange(code, a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	if !active(e.introspect(r, tok.AccessToken)) {
		t.Fatal("fresh token inactive")
	}
	_, err = r.exchange(code, a.verifier)
	var re *oauth2.RetrieveError
	if err == nil || !asRetrieve(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("replay: %v", err)
	}
	if active(e.introspect(r, tok.AccessToken)) || active(e.introspect(r, tok.RefreshToken)) {
		t.Fatal("the replay did not revoke the tokens issued for the code")
	}
}

func testCodeReplayConcurrent(t *testing.T, e *env) {
	_, num := e.person("秦一", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	code := b.signIn(a, num)
	const n = 8
	var wg sync.WaitGroup
	toks := make([]*oauth2.Token, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i], _ = r.exchange(code, a.verifier)
		}()
	}
	wg.Wait()
	wins := 0
	for _, tok := range toks {
		if tok != nil {
			wins++
			if active(e.introspect(r, tok.AccessToken)) {
				t.Error("a replayed code left its tokens active")
			}
		}
	}
	if wins > 1 {
		t.Fatalf("%d redemptions of one code succeeded", wins)
	}
}

func asRetrieve(err error, re **oauth2.RetrieveError) bool {
	e, ok := err.(*oauth2.RetrieveError)
	if ok {
		*re = e
	}
	return ok
}

func testPKCE(t *testing.T, e *env) {
	_, num := e.person("尤二", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	b.signIn(r.authURL(), num) // session and consent
	base := func() url.Values {
		return url.Values{"client_id": {r.client.ID}, "response_type": {"code"}, "scope": {"openid profile"},
			"redirect_uri": {r.redirect}, "state": {"state-12345"}, "nonce": {"nonce-12345"}}
	}
	_, challenge := pkcePair()
	for _, tc := range []struct {
		name  string
		extra url.Values
	}{
		{"fail/missing", url.Values{}},
		{"fail/plain", url.Values{"code_challenge": {"abcdefghijabcdefghijabcdefghijabcdefghij123"}, "code_challenge_method": {"plain"}}},
		{"fail/no-method", url.Values{"code_challenge": {challenge}}},
		{"fail/short", url.Values{"code_challenge": {"abc"}, "code_challenge_method": {"S256"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := base()
			for k, v := range tc.extra {
				q[k] = v
			}
			cb := b.get(e.issuer + "/authorize?" + q.Encode()).callback(t)
			if cb.Get("error") != "invalid_request" || cb.Get("state") != "state-12345" || cb.Get("iss") != e.issuer || cb.Get("code") != "" {
				t.Errorf("got %v", cb)
			}
		})
	}
	t.Run("fail/wrong-verifier", func(t *testing.T) {
		a := r.authURL()
		code := b.get(a.url).callback(t).Get("code")
		if _, err := r.exchange(code, oauth2.GenerateVerifier()); err == nil {
			t.Fatal("wrong verifier accepted")
		}
		// The failed attempt used the code up.
		if _, err := r.exchange(code, a.verifier); err == nil {
			t.Fatal("code still redeemable after a failed attempt")
		}
		// …and the retry is logged as what it is, not as a replay.
		if logs := e.logs.String(); !strings.Contains(logs, "authorization code used after a failed redemption") {
			t.Error("retry after a failed redemption not logged as such")
		}
	})
	t.Run("ok/replay-still-logged-as-replay", func(t *testing.T) {
		a := r.authURL()
		code := b.get(a.url).callback(t).Get("code")
		if _, err := r.exchange(code, a.verifier); err != nil {
			t.Fatal(err)
		}
		before := strings.Count(e.logs.String(), "authorization code replayed")
		if _, err := r.exchange(code, a.verifier); err == nil {
			t.Fatal("replay accepted")
		}
		if strings.Count(e.logs.String(), "authorization code replayed") != before+1 {
			t.Error("replay not logged as a replay")
		}
	})
	t.Run("fail/no-verifier", func(t *testing.T) {
		a := r.authURL()
		code := b.get(a.url).callback(t).Get("code")
		status, out := e.postForm("/token", r.client.ID, r.secret, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {r.redirect}})
		if status != 400 || out["error"] != "invalid_grant" {
			t.Errorf("%d %v", status, out)
		}
	})
}

func testRedirectMismatch(t *testing.T, e *env) {
	r := e.newRP(tboidc.NewClient{})
	for _, uri := range []string{"https://evil.example/callback", r.redirect + "/../evil", "http://127.0.0.1.evil.example/callback"} {
		r.oauth.RedirectURL = uri
		p := e.browser().get(r.authURL().url)
		if p.location != "" || p.status != 400 || !strings.Contains(p.body, "回调地址") {
			t.Errorf("%s: %d %q", uri, p.status, p.location)
		}
	}
}

func testUnknownClient(t *testing.T, e *env) {
	_, challenge := pkcePair()
	q := url.Values{"client_id": {"no-such-app"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"https://evil.example/cb"}, "state": {"state-12345"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	p := e.browser().get(e.issuer + "/authorize?" + q.Encode())
	if p.location != "" || p.status != 400 || !strings.Contains(p.body, "未在本平台登记") {
		t.Errorf("%d %q %s", p.status, p.location, p.body)
	}
}

func testExpiredCode(t *testing.T, e *env) {
	_, num := e.person("许三", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	code := b.signIn(a, num)
	e.clock.Advance(61 * time.Second)
	defer e.clock.Advance(-61 * time.Second)
	_, err := r.exchange(code, a.verifier)
	var re *oauth2.RetrieveError
	if err == nil || !asRetrieve(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("expired code: %v", err)
	}
}

func testPromptNone(t *testing.T, e *env) {
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL(oauth2.SetAuthURLParam("prompt", "none"))
	q := b.get(a.url).callback(t)
	if q.Get("error") != "login_required" || q.Get("state") != a.state || q.Get("iss") != e.issuer {
		t.Fatalf("prompt=none without session: %v", q)
	}
	// With a session but without consent: consent_required.
	_, num := e.person("何四", "")
	b.signIn(e.newRP(tboidc.NewClient{}).authURL(), num)
	if got := b.get(r.authURL(oauth2.SetAuthURLParam("prompt", "none")).url).callback(t).Get("error"); got != "consent_required" {
		t.Errorf("prompt=none without consent: %q", got)
	}
	// id_token_hint naming someone else: login_required.
	other, num2 := e.person("吕五", "")
	_ = other
	b2 := e.browser()
	tok := r.login(t, b2, num2)
	b.signIn(r.authURL(), num)
	a3 := r.authURL(oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", tok.Extra("id_token").(string)))
	if got := b.get(a3.url).callback(t).Get("error"); got != "login_required" {
		t.Errorf("id_token_hint of another person: %q", got)
	}
	// …and naming the session's person: a code.
	a4 := r.authURL(oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", tok.Extra("id_token").(string)))
	if got := b2.get(a4.url).callback(t); got.Get("code") == "" {
		t.Errorf("id_token_hint of the session's person: %v", got)
	}
}

func testNoEnumeration(t *testing.T, e *env) {
	_, num := e.person("施六", "13600136000")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	wrong := b.login(b.get(r.authURL().url), num, "wrong password")
	unknown := b.login(b.get(r.authURL().url), residentID(t), testPassword)
	unknownPhone := b.login(b.get(r.authURL().url), "13999999999", testPassword)
	msg := "证件号码、手机号或密码不正确"
	for name, p := range map[string]page{"wrong password": wrong, "unknown ID number": unknown, "unknown phone": unknownPhone} {
		if p.status != wrong.status || !strings.Contains(p.body, msg) || !p.isLoginForm() {
			t.Errorf("%s: %d %s", name, p.status, p.body)
		}
	}
	// The phone number logs in too.
	p := b.login(b.get(r.authURL().url), "+86 136 0013 6000", testPassword)
	if p.isConsent() {
		p = b.consent(p, "allow")
	}
	if p.callback(t).Get("code") == "" {
		t.Error("phone login failed")
	}
}

func (p page) isLoginForm() bool { return strings.Contains(p.body, `name="password"`) }

func testLockout(t *testing.T, e *env) {
	_, num := e.person("张七", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	for i := range tboidc.DefaultAccountLockThreshold {
		if p := b.login(b.get(r.authURL().url), num, "wrong password"); p.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, p.status)
		}
	}
	p := b.login(b.get(r.authURL().url), num, testPassword)
	if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "登录失败次数过多") {
		t.Fatalf("after %d failures the right password gave %d", tboidc.DefaultAccountLockThreshold, p.status)
	}
	// The same for an identifier nobody has: no enumeration through the lock either.
	ghost := residentID(t)
	for range tboidc.DefaultAccountLockThreshold {
		b.login(b.get(r.authURL().url), ghost, "x")
	}
	if p := b.login(b.get(r.authURL().url), ghost, "x"); p.status != http.StatusTooManyRequests {
		t.Errorf("unknown identifier not locked: %d", p.status)
	}
	// After the window the account opens again.
	e.clock.Advance(tboidc.DefaultAccountLockWindow + time.Second)
	defer e.clock.Advance(-tboidc.DefaultAccountLockWindow - time.Second)
	p = b.login(b.get(r.authURL().url), num, testPassword)
	if p.isLoginForm() {
		t.Errorf("still locked after the window: %d", p.status)
	}
}

func testCSRF(t *testing.T, e *env) {
	_, num := e.person("孔八", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	p := b.get(r.authURL().url)
	action, vals := p.form(t)
	vals.Set("identifier", num)
	vals.Set("password", testPassword)
	for name, mutate := range map[string]func(url.Values) url.Values{
		"missing token": func(v url.Values) url.Values { w := clone(v); w.Del("csrf"); return w },
		"wrong token":   func(v url.Values) url.Values { w := clone(v); w.Set("csrf", "AAAA"+v.Get("csrf")[4:]); return w },
	} {
		got := b.post(action, mutate(vals))
		if got.status != http.StatusForbidden || !strings.Contains(got.body, "页面已过期") {
			t.Errorf("%s: %d", name, got.status)
		}
	}
	// Another browser (no CSRF cookie) posting this browser's form is refused.
	if got := e.browser().post(action, vals); got.status != http.StatusForbidden {
		t.Errorf("cross-browser post: %d", got.status)
	}
	if got := b.post(action, vals); got.isLoginForm() {
		t.Errorf("valid token refused: %d", got.status)
	}
}

func clone(v url.Values) url.Values {
	w := url.Values{}
	for k, x := range v {
		w[k] = slices.Clone(x)
	}
	return w
}

func testTokenEndpointErrors(t *testing.T, e *env) {
	r := e.newRP(tboidc.NewClient{})
	for _, tc := range []struct {
		name      string
		form      url.Values
		status    int
		errorCode string
	}{
		{"fail/password-grant", url.Values{"grant_type": {"password"}, "username": {"a"}, "password": {"b"}}, 400, "unsupported_grant_type"},
		{"fail/implicit", url.Values{"grant_type": {"implicit"}}, 400, "unsupported_grant_type"},
		{"fail/unknown-code", url.Values{"grant_type": {"authorization_code"}, "code": {"tb_ac_x.y"}, "code_verifier": {strings.Repeat("a", 43)}, "redirect_uri": {r.redirect}}, 400, "invalid_grant"},
		{"fail/unknown-refresh", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"tb_rt_x.y"}}, 400, "invalid_grant"},
		{"fail/duplicate-grant-type", url.Values{"grant_type": {"client_credentials", "authorization_code"}}, 400, "invalid_request"},
		{"fail/body-too-large", url.Values{"grant_type": {"client_credentials"}, "pad": {strings.Repeat("a", 70<<10)}}, 413, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := e.postForm("/token", r.client.ID, r.secret, tc.form)
			if status != tc.status || out["error"] != tc.errorCode {
				t.Errorf("%d %v", status, out)
			}
		})
	}
	t.Run("fail/public-client-credentials", func(t *testing.T) {
		pub := e.newRP(tboidc.NewClient{Public: true})
		status, out := e.postForm("/token", pub.client.ID, "", url.Values{"grant_type": {"client_credentials"}})
		if status != 400 || out["error"] != "unauthorized_client" {
			t.Errorf("%d %v", status, out)
		}
	})
	t.Run("fail/no-client-enumeration", func(t *testing.T) {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"tb_rt_x.y"}}
		s1, unknown := e.postForm("/token", "no-such-client", "secret-xyz", clone(form))
		s2, badSecret := e.postForm("/token", r.client.ID, "secret-xyz", clone(form))
		s3, noSecret := e.postForm("/token", r.client.ID, "", clone(form))
		s4, unknownNoSecret := e.postForm("/token", "no-such-client", "", clone(form))
		if s1 != 401 || s1 != s2 || s1 != s3 || s1 != s4 || unknown["error"] != "invalid_client" ||
			unknown["error_description"] != badSecret["error_description"] ||
			unknown["error_description"] != noSecret["error_description"] ||
			unknown["error_description"] != unknownNoSecret["error_description"] {
			t.Errorf("unknown client %d %v, bad secret %d %v, no secret %d %v, unknown without secret %d %v",
				s1, unknown, s2, badSecret, s3, noSecret, s4, unknownNoSecret)
		}
	})
	// The implicit and hybrid response types are refused at the authorization endpoint.
	_, challenge := pkcePair()
	q := url.Values{"client_id": {r.client.ID}, "response_type": {"id_token token"}, "scope": {"openid"},
		"redirect_uri": {r.redirect}, "state": {"state-12345"}, "nonce": {"nonce-12345"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	p := e.browser().get(e.issuer + "/authorize?" + q.Encode())
	if cb, _ := url.Parse(p.location); p.location == "" || cb.Query().Get("error") != "unsupported_response_type" {
		t.Errorf("implicit: %d %q", p.status, p.location)
	}
}

// flip changes the first base64url character of s.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

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
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			if c := m.GetCounter(); c != nil {
				got[key] = c.GetValue()
			}
		}
	}
	for _, k := range []string{
		"tongban_idp_logins_total,result=success",
		"tongban_idp_logins_total,result=failure",
		"tongban_idp_logins_total,result=locked",
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

func testPairwise(t *testing.T, e *env) {
	person, num := e.person("严二", "")
	r1 := e.newRP(tboidc.NewClient{SubjectType: "pairwise"})
	r2 := e.newRP(tboidc.NewClient{SubjectType: "pairwise", SectorIdentifier: "other.example.gov.cn"})
	b := e.browser()
	subOf := func(r *rp) string {
		a := r.authURL()
		tok, err := r.exchange(b.signIn(a, num), a.verifier)
		if err != nil {
			t.Fatal(err)
		}
		idt, _ := r.verify(tok.Extra("id_token").(string), a.nonce)
		_, ui := e.userinfo(tok.AccessToken)
		if ui["sub"] != idt.Subject {
			t.Errorf("userinfo sub %v, ID token sub %s", ui["sub"], idt.Subject)
		}
		return idt.Subject
	}
	s1, s1again, s2 := subOf(r1), subOf(r1), subOf(r2)
	if s1 == person.ID || s2 == person.ID || s1 == s2 || s1 != s1again {
		t.Errorf("pairwise subjects %q %q %q for person %q", s1, s1again, s2, person.ID)
	}
}

// TestIPLockout: failures from one address, whatever the identifiers, lock that address.
func TestIPLockout(t *testing.T) {
	e := newEnv(t, storagetest.SQLite(t), envOptions{plain: true, mutate: func(c *tboidc.Config) { c.IPLockThreshold = 3 }})
	_, num := e.person("鲁三", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	for range 3 {
		if p := b.login(b.get(r.authURL().url), residentID(t), "wrong"); p.status != http.StatusUnauthorized {
			t.Fatalf("failure answered %d", p.status)
		}
	}
	if p := b.login(b.get(r.authURL().url), num, testPassword); p.status != http.StatusTooManyRequests {
		t.Fatalf("locked address answered %d", p.status)
	}
	e.clock.Advance(tboidc.DefaultIPLockWindow)
	p := b.login(b.get(r.authURL().url), num, testPassword)
	if p.isLoginForm() {
		t.Fatalf("address still locked after the window: %d", p.status)
	}
	// Plain-http development issuer: cookies without Secure and without the __Host- prefix.
	u, _ := url.Parse(e.issuer)
	for _, c := range b.c.Jar.Cookies(u) {
		if strings.HasPrefix(c.Name, "__Host-") {
			t.Errorf("cookie %s on an http issuer", c.Name)
		}
	}
}

func testRefreshConcurrent(t *testing.T, e *env) {
	_, num := e.person("华四", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	tok, err := r.exchange(b.signIn(a, num), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	got := make([]map[string]any, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, out := e.postForm("/token", r.client.ID, r.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
			if status == 200 {
				got[i] = out
			}
		}()
	}
	wg.Wait()
	wins := 0
	for _, out := range got {
		if out == nil {
			continue
		}
		wins++
		// Every other request was a reuse, which revokes the family: the winner's tokens too.
		if active(e.introspect(r, out["refresh_token"].(string))) || active(e.introspect(r, out["access_token"].(string))) {
			t.Error("concurrent reuse left the rotated tokens active")
		}
	}
	if wins > 1 {
		t.Fatalf("%d concurrent refreshes of one token succeeded", wins)
	}
}

func testLockoutAcrossIdentifiers(t *testing.T, e *env) {
	_, num := e.person("严九", "13700137001")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	for i := range tboidc.DefaultAccountLockThreshold {
		if p := b.login(b.get(r.authURL().url), num, "wrong password"); p.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, p.status)
		}
	}
	// The same person through the other identifier is locked too.
	p := b.login(b.get(r.authURL().url), "13700137001", testPassword)
	if p.status != http.StatusTooManyRequests {
		t.Fatalf("phone number after %d failures by ID number: %d", tboidc.DefaultAccountLockThreshold, p.status)
	}
	if !strings.Contains(e.logs.String(), "login refused: account locked") {
		t.Error("lockout not logged")
	}
}

func testDuplicateParams(t *testing.T, e *env) {
	_, num := e.person("华十", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	b.signIn(r.authURL(), num) // session and consent: a duplicate must not yield a code
	_, challenge := pkcePair()
	base := func() url.Values {
		return url.Values{"client_id": {r.client.ID}, "response_type": {"code"}, "scope": {"openid profile"},
			"redirect_uri": {r.redirect}, "state": {"state-12345"}, "nonce": {"nonce-12345"},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	}
	for _, tc := range []struct {
		name, param, value string
		page               bool // refused with an error page, no redirect
	}{
		{"fail/client-id", "client_id", "other-app", true},
		{"fail/redirect-uri", "redirect_uri", "http://evil.example/cb", true},
		{"fail/state", "state", "state-67890", false},
		{"fail/scope", "scope", "openid", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := base()
			q.Add(tc.param, tc.value)
			p := b.get(e.issuer + "/authorize?" + q.Encode())
			if tc.page {
				if p.location != "" || p.status != 400 {
					t.Errorf("%d %q", p.status, p.location)
				}
				return
			}
			cb := p.callback(t)
			if !strings.HasPrefix(p.location, r.redirect+"?") || cb.Get("error") != "invalid_request" || cb.Get("code") != "" {
				t.Errorf("%q", p.location)
			}
			if tc.param != "state" && cb.Get("state") != "state-12345" {
				t.Errorf("state %q", cb.Get("state"))
			}
		})
	}
}

func testNoOpenIDScope(t *testing.T, e *env) {
	_, num := e.person("金一", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	b.signIn(r.authURL(), num)
	r.oauth.Scopes = []string{"profile"}
	a := r.authURL()
	cb := b.get(a.url).callback(t)
	if cb.Get("error") != "invalid_scope" || cb.Get("code") != "" || cb.Get("state") != a.state {
		t.Errorf("scope without openid: %v", cb)
	}
}

func testParamLimits(t *testing.T, e *env) {
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	for _, tc := range []struct{ name, param string }{
		{"fail/state", "state"}, {"fail/nonce", "nonce"}, {"fail/login-hint", "login_hint"},
		{"fail/ui-locales", "ui_locales"}, {"fail/acr-values", "acr_values"}, {"fail/claims", "claims"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.get(r.authURL(oauth2.SetAuthURLParam(tc.param, strings.Repeat("a", 5000))).url)
			cb := p.callback(t)
			if cb.Get("error") != "invalid_request" || len(p.location) > 2000 {
				t.Errorf("%s of 5000 bytes: %d bytes %q", tc.param, len(p.location), cb.Get("error"))
			}
		})
	}
	t.Run("ok/state-512", func(t *testing.T) {
		p := b.get(r.authURL(oauth2.SetAuthURLParam("state", strings.Repeat("s", 512))).url)
		if !p.isLogin() {
			t.Errorf("512-byte state refused: %d %q", p.status, p.location)
		}
	})
}

func testRedirectUserinfo(t *testing.T, e *env) {
	r := e.newRP(tboidc.NewClient{Public: true})
	u, _ := url.Parse(r.redirect)
	for _, uri := range []string{
		"http://evil@127.0.0.1:9999/callback",
		"http://evil@" + u.Host + "/callback",
		"http://127.0.0.1:9999/%63allback",
		"http://127.0.0.1:9999/callback?x=1",
	} {
		r.oauth.RedirectURL = uri
		p := e.browser().get(r.authURL().url)
		if p.location != "" || p.status != 400 {
			t.Errorf("%s: %d %q", uri, p.status, p.location)
		}
	}
}

func testFormReplay(t *testing.T, e *env) {
	_, num := e.person("魏二", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	p := b.login(b.get(a.url), num, testPassword)
	if !p.isConsent() {
		t.Fatalf("no consent page: %d", p.status)
	}
	action, vals := p.form(t)
	deny := clone(vals)
	deny.Set("decision", "deny")
	if q := b.post(action, deny).callback(t); q.Get("error") != "access_denied" {
		t.Fatalf("deny: %v", q)
	}
	allow := clone(vals)
	allow.Set("decision", "allow")
	if p2 := b.post(action, allow); p2.location != "" || p2.status != 400 || !strings.Contains(p2.body, "已过期") {
		t.Errorf("consent replayed: %d %q", p2.status, p2.location)
	}
	// A login form can be submitted once too.
	b2 := e.browser()
	lp := b2.get(r.authURL().url)
	action, vals = lp.form(t)
	vals.Set("identifier", num)
	vals.Set("password", testPassword)
	if p := b2.post(action, vals); p.isLoginForm() {
		t.Fatalf("login failed: %d", p.status)
	}
	if p := b2.post(action, vals); p.location != "" || p.status != 400 {
		t.Errorf("login form replayed: %d %q", p.status, p.location)
	}
	// After a failure the form shown again is usable (it carries a new token).
	b3 := e.browser()
	fp := b3.login(b3.get(r.authURL().url), num, "wrong password")
	if !fp.isLoginForm() {
		t.Fatalf("after wrong password: %d", fp.status)
	}
	if p := b3.login(fp, num, testPassword); p.isLoginForm() || p.location == "" && !p.isConsent() {
		t.Errorf("retry after a failure: %d %s", p.status, p.body)
	}
}

func testLogoutClientID(t *testing.T, e *env) {
	_, num := e.person("陶三", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	b.signIn(r.authURL(), num)
	// OIDC RP-Initiated Logout 1.0 §2: client_id instead of id_token_hint, so no ID token
	// (personal claims) travels in a URL. The person confirms, then goes back to the app.
	q := url.Values{"client_id": {r.client.ID}, "post_logout_redirect_uri": {r.client.PostLogoutRedirectURIs[0]}, "state": {"bye-1"}}
	p := b.get(e.issuer + "/logout?" + q.Encode())
	if !strings.Contains(p.body, `name="confirm"`) {
		t.Fatalf("no confirmation page: %d %q", p.status, p.location)
	}
	action, vals := p.form(t)
	p2 := b.post(action, vals)
	if p2.status != http.StatusSeeOther || !strings.HasPrefix(p2.location, r.client.PostLogoutRedirectURIs[0]+"?") ||
		p2.callback(t).Get("state") != "bye-1" {
		t.Fatalf("after confirmation: %d %q", p2.status, p2.location)
	}
	if !b.get(r.authURL().url).isLogin() {
		t.Error("still logged in")
	}
	// Without a session: straight back to the app.
	if p := b.get(e.issuer + "/logout?" + q.Encode()); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, r.client.PostLogoutRedirectURIs[0]) {
		t.Errorf("no session: %d %q", p.status, p.location)
	}
	// The URI must be registered for that very client.
	other := e.newRP(tboidc.NewClient{})
	for _, uri := range []string{"https://evil.example/", other.client.PostLogoutRedirectURIs[0]} {
		q.Set("post_logout_redirect_uri", uri)
		if p := b.get(e.issuer + "/logout?" + q.Encode()); p.location != "" || p.status != 400 {
			t.Errorf("%s: %d %q", uri, p.status, p.location)
		}
	}
}
