package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	tboidc "github.com/tongban/tongban/oidc"
)

// The consent page: prompt=consent, deny, and consent bound to the session that gave it.

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

// postNoFollow posts a form and returns the provider's own answer, without following a
// redirect even within the provider.
func (b *browser) postNoFollow(u string, form url.Values) page {
	b.t.Helper()
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	saved := b.c
	b.c = &c
	defer func() { b.c = saved }()
	return b.do(req)
}

// testConsentNotTransferable: a consent given on the consent page is bound to the person and
// login session that gave it. The resume URL an attacker captures after allowing their own
// request, opened by a victim (with an SSO session, or after logging in), must show the
// victim the consent page — never give the attacker's app a code for the victim.
func testConsentNotTransferable(t *testing.T, e *env) {
	_, attackerNum := e.person("敌一", "")
	_, victimNum := e.person("苦二", "")
	x := e.newRP(tboidc.NewClient{Scopes: []string{"openid", "profile", "id_number"}})
	other := e.newRP(tboidc.NewClient{})
	a := x.authURL(oauth2.SetAuthURLParam("scope", "openid profile id_number"), oauth2.SetAuthURLParam("prompt", "consent"))

	// The attacker logs in as themselves and allows; the 303 to /authorize/resume is captured.
	ab := e.browser()
	p := ab.login(ab.get(a.url), attackerNum, testPassword)
	if !p.isConsent() {
		t.Fatalf("attacker: no consent page: %d", p.status)
	}
	action, vals := p.form(t)
	vals.Set("decision", "allow")
	cp := ab.postNoFollow(action, vals)
	resume := cp.header.Get("Location")
	if cp.status != http.StatusSeeOther || !strings.Contains(resume, "/authorize/resume?authz=") {
		t.Fatalf("consent answer: %d %q", cp.status, resume)
	}
	resumeURL, err := cp.url.Parse(resume)
	if err != nil {
		t.Fatal(err)
	}
	noCode := func(who string, p page) {
		t.Helper()
		if p.location != "" {
			if q := p.callback(t); q.Get("code") != "" {
				t.Fatalf("%s: captured resume URL gave a code without consent: %v", who, q)
			}
			return
		}
		if !p.isConsent() && !p.isLogin() && p.status < 400 {
			t.Fatalf("%s: want the consent page or an error, got %d", who, p.status)
		}
	}

	// A victim with an SSO session opens it.
	vb := e.browser()
	vb.signIn(other.authURL(), victimNum)
	vp := vb.get(resumeURL.String())
	noCode("victim with session", vp)
	if !vp.isConsent() {
		t.Errorf("victim with session: want the consent page, got %d %q", vp.status, vp.location)
	}
	// A victim without a session logs in on the page it leads to.
	vb2 := e.browser()
	lp := vb2.get(resumeURL.String())
	if !lp.isLogin() {
		t.Fatalf("victim without session: want the login page, got %d %q", lp.status, lp.location)
	}
	vp2 := vb2.login(lp, victimNum, testPassword)
	noCode("victim after login", vp2)
	if !vp2.isConsent() {
		t.Errorf("victim after login: want the consent page, got %d %q", vp2.status, vp2.location)
	}
	// In the session that consented the resume URL still works.
	rp := ab.get(resumeURL.String())
	if q := rp.callback(t); q.Get("code") == "" {
		t.Fatalf("attacker's own resume URL in the consenting session: %v", q)
	}
}
