package oidc_test

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	tboidc "github.com/tongban/tongban/oidc"
)

// Authorization requests the provider refuses: unknown client, redirect URI mismatch,
// duplicate, missing or oversized parameters.

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

// testRequestObjectNotSupported: request objects are not supported (discovery says so); a
// request carrying one is answered request_not_supported or request_uri_not_supported at its
// registered redirect URI (OIDC Core §6), with its state — and one with a wrong redirect URI
// still gets the error page, never a redirect.
func testRequestObjectNotSupported(t *testing.T, e *env) {
	r := e.newRP(tboidc.NewClient{})
	for param, want := range map[string]string{"request": "request_not_supported", "request_uri": "request_uri_not_supported"} {
		a := r.authURL(oauth2.SetAuthURLParam(param, "eyJhbGciOiJub25lIn0.e30."))
		p := e.browser().get(a.url)
		q := p.callback(t)
		if q.Get("error") != want || q.Get("state") != a.state {
			t.Errorf("%s: callback %v, want error %s with the state", param, q, want)
		}
	}
	r.oauth.RedirectURL = "https://evil.example/cb"
	if p := e.browser().get(r.authURL(oauth2.SetAuthURLParam("request", "x")).url); p.location != "" || p.status != 400 {
		t.Errorf("request object with a wrong redirect URI: %d %q", p.status, p.location)
	}
}
