package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/audit"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// Legal persons and agents (法人 / 经办人) end to end, over real HTTP with go-oidc and
// x/oauth2: the representative authorises an agent on the account page, the agent logs in to
// an app for the company, and withdrawal ends it.

func TestAgentsSQLite(t *testing.T) {
	runAgents(t, func(t testing.TB) storage.Storage { return storagetest.SQLite(t) })
}

func TestAgentsPostgres(t *testing.T) {
	runAgents(t, func(t testing.TB) storage.Storage { return storagetest.Postgres(t) })
}

const (
	agentsCreditCode = "91440300MA5F000181"
	agentsOtherCode  = "91330100MA2B00027W"
	agentsCompany    = "深圳某某科技有限公司"
)

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf returns the CSRF token of the first form of an account page.
func csrfOf(t testing.TB, p page) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token on %s (status %d):\n%s", p.url, p.status, p.body)
	}
	return m[1]
}

// accountLogin logs browser b in at the account page as identifier and returns the page.
func accountLogin(t testing.TB, e *env, b *browser, identifier string) page {
	t.Helper()
	p := b.get(e.issuer + "/account?ui_locales=en")
	if p.isLogin() {
		p = b.login(p, identifier, testPassword)
	}
	if p.status != http.StatusOK || !strings.Contains(p.body, "My account") {
		t.Fatalf("account page: status %d\n%s", p.status, p.body)
	}
	return p
}

// choose answers the acting page p with choice.
func (b *browser) choose(p page, choice string) page {
	b.t.Helper()
	if !strings.Contains(p.body, `name="choice"`) {
		b.t.Fatalf("want the acting page, got status %d at %s:\n%s", p.status, p.url, p.body)
	}
	action, vals := p.form(b.t)
	vals.Set("choice", choice)
	return b.post(action, vals)
}

// finish follows a page to the app's callback through the consent page, and returns the
// callback's parameters.
func (b *browser) finish(p page) url.Values {
	b.t.Helper()
	if p.isConsent() {
		p = b.consent(p, "allow")
	}
	return p.callback(b.t)
}

func runAgents(t *testing.T, newStore func(testing.TB) storage.Storage) {
	e := newEnv(t, newStore(t), envOptions{})
	ctx := context.Background()
	co, err := e.accounts.CreatePerson(ctx, accounts.NewPerson{Kind: storage.LegalPerson, IDNumber: agentsCreditCode,
		Name: agentsCompany, Password: []byte(testPassword)})
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.accounts.CreatePerson(ctx, accounts.NewPerson{Kind: storage.LegalPerson, IDNumber: agentsOtherCode,
		Name: "杭州某某贸易有限公司", Password: []byte(testPassword)})
	if err != nil {
		t.Fatal(err)
	}
	rep, repNum := e.person("王法人", "")
	agent, agentNum := e.person("李经办", "")
	stranger, strangerNum := e.person("赵六", "")
	if err := e.accounts.SetRepresentative(ctx, audit.Shell, co.ID, rep.ID); err != nil {
		t.Fatal(err)
	}
	app := e.newRP(tboidc.NewClient{})
	introspector := e.newRP(tboidc.NewClient{ID: "resource-server"})

	// The representative authorises the agent on the account page.
	rb := e.browser()
	acc := accountLogin(t, e, rb, repNum)
	if !strings.Contains(acc.body, "My companies") || !strings.Contains(acc.body, agentsCompany) {
		t.Fatalf("no companies section for the representative:\n%s", acc.body)
	}
	until := e.clock.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 2, 0).Format(time.DateOnly)
	authorise := func(b *browser, p page, num, name, clients string) page {
		return b.post(e.issuer+"/account/agents/authorise?ui_locales=en", url.Values{"csrf": {csrfOf(t, p)},
			"company": {co.ID}, "id_number": {num}, "name": {name}, "clients": {clients}, "until": {until}})
	}
	if p := authorise(rb, acc, agentNum, "李经理", ""); p.status != http.StatusBadRequest || !strings.Contains(p.body, "No registered person has this ID number and this name") {
		t.Fatalf("wrong name: status %d\n%s", p.status, p.body)
	}
	if p := authorise(rb, acc, agentNum, "李经办", app.client.ID); p.status != http.StatusOK || !strings.Contains(p.body, "The agent is authorised.") {
		t.Fatalf("authorise: status %d\n%s", p.status, p.body)
	}

	// A person who is not the representative cannot authorise anyone.
	sb := e.browser()
	spage := accountLogin(t, e, sb, strangerNum)
	if strings.Contains(spage.body, "My companies") {
		t.Error("a stranger sees a companies section")
	}
	if p := sb.post(e.issuer+"/account/agents/authorise?ui_locales=en", url.Values{"csrf": {csrfOf(t, spage)}, "company": {co.ID},
		"id_number": {strangerNum}, "name": {"赵六"}, "until": {until}}); p.status != http.StatusForbidden ||
		!strings.Contains(p.body, "legal representative may authorise or withdraw agents") {
		t.Fatalf("stranger authorises: status %d\n%s", p.status, p.body)
	}

	// The agent sees the company on the account page, and chooses it at login.
	ab := e.browser()
	if p := accountLogin(t, e, ab, agentNum); !strings.Contains(p.body, "Companies I may act for") || !strings.Contains(p.body, agentsCompany) {
		t.Fatalf("agent's account page:\n%s", p.body)
	}
	a := app.authURL()
	p := ab.get(a.url)
	if !strings.Contains(p.body, agentsCompany) || !strings.Contains(p.body, `value="self"`) {
		t.Fatalf("acting page: status %d\n%s", p.status, p.body)
	}
	// A choice that is not offered is refused.
	if bad := ab.choose(p, other.ID); bad.status != http.StatusBadRequest {
		t.Fatalf("choice of another company: status %d", bad.status)
	}
	p = ab.get(a.url)
	p = ab.choose(p, co.ID)
	if !p.isConsent() || !strings.Contains(p.body, agentsCompany) {
		t.Fatalf("the consent page does not name the company: status %d\n%s", p.status, p.body)
	}
	q := ab.finish(p)
	if q.Get("state") != a.state || q.Get("code") == "" {
		t.Fatalf("callback %v", q)
	}
	tok, err := app.exchange(q.Get("code"), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	idt, claims := app.verify(tok.Extra("id_token").(string), a.nonce)
	act, _ := claims["act"].(map[string]any)
	if idt.Subject != co.ID || claims["credit_code"] != agentsCreditCode || claims["name"] != agentsCompany || act["sub"] != agent.ID {
		t.Fatalf("acting ID token claims %v (sub %s), want company %s acted for by %s", claims, idt.Subject, co.ID, agent.ID)
	}
	if status, ui := e.userinfo(tok.AccessToken); status != http.StatusOK || ui["sub"] != co.ID || ui["credit_code"] != agentsCreditCode {
		t.Fatalf("userinfo %d %v", status, ui)
	}
	if in := e.introspect(introspector, tok.AccessToken); !active(in) || in["sub"] != co.ID || in["act"].(map[string]any)["sub"] != agent.ID {
		t.Fatalf("introspection %v", in)
	}
	// A refresh keeps acting.
	ts := app.oauth.TokenSource(context.WithValue(e.ctx, oauth2.HTTPClient, e.hs.Client()), &oauth2.Token{RefreshToken: tok.RefreshToken})
	refreshed, err := ts.Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}

	// Choosing "myself" logs in as the person.
	a = app.authURL()
	q = ab.finish(ab.choose(ab.get(a.url), "self"))
	selfTok, err := app.exchange(q.Get("code"), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	if _, c := app.verify(selfTok.Extra("id_token").(string), a.nonce); c["sub"] != agent.ID || c["act"] != nil || c["credit_code"] != nil {
		t.Fatalf("myself: claims %v", c)
	}

	// acting_for=<credit code> skips the choice; an unauthorised code is access_denied.
	a = app.authURL(oauth2.SetAuthURLParam("acting_for", strings.ToLower(agentsCreditCode)))
	q = ab.finish(ab.get(a.url))
	codeTok, err := app.exchange(q.Get("code"), a.verifier)
	if err != nil {
		t.Fatalf("acting_for=code: %v (%v)", err, q)
	}
	if _, c := app.verify(codeTok.Extra("id_token").(string), a.nonce); c["sub"] != co.ID {
		t.Fatalf("acting_for=code: claims %v", c)
	}
	// An acting ID token as id_token_hint names the agent who logged in (its act.sub).
	q = ab.get(app.authURL(oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("acting_for", agentsCreditCode),
		oauth2.SetAuthURLParam("id_token_hint", codeTok.Extra("id_token").(string))).url).callback(t)
	if q.Get("code") == "" {
		t.Errorf("prompt=none with an acting id_token_hint: %v", q)
	}
	for _, v := range []string{agentsOtherCode, "91440300MA5F000182", "not-a-code"} {
		q = ab.get(app.authURL(oauth2.SetAuthURLParam("acting_for", v)).url).callback(t)
		if q.Get("error") != "access_denied" {
			t.Errorf("acting_for=%s: %v, want access_denied", v, q)
		}
	}
	// acting_for=company for someone no company authorised: access_denied with a description.
	q = sb.get(app.authURL(oauth2.SetAuthURLParam("acting_for", "company")).url).callback(t)
	if q.Get("error") != "access_denied" || !strings.Contains(q.Get("error_description"), "No company has authorised you") {
		t.Errorf("stranger acting_for=company: %v", q)
	}
	// The authorisation covers only app: another app logs the agent in as themself, no page.
	app2 := e.newRP(tboidc.NewClient{})
	a = app2.authURL()
	q = ab.finish(ab.get(a.url))
	if q.Get("code") == "" {
		t.Fatalf("other app: %v", q)
	}

	// The representative withdraws: the acting grants end, the agent's own grant does not.
	acc = rb.get(e.issuer + "/account?ui_locales=en")
	if !strings.Contains(acc.body, "李*") && !strings.Contains(acc.body, "*经办") && !strings.Contains(acc.body, "李*办") {
		t.Fatalf("agent not listed on the representative's page:\n%s", acc.body)
	}
	if p := rb.post(e.issuer+"/account/agents/withdraw?ui_locales=en", url.Values{"csrf": {csrfOf(t, acc)}, "company": {co.ID},
		"agent": {agent.ID}}); p.status != http.StatusOK || !strings.Contains(p.body, "The authorisation is withdrawn") {
		t.Fatalf("withdraw: status %d\n%s", p.status, p.body)
	}
	if _, err := app.oauth.TokenSource(context.WithValue(e.ctx, oauth2.HTTPClient, e.hs.Client()),
		&oauth2.Token{RefreshToken: refreshed.RefreshToken}).Token(); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("refresh after withdrawal: %v, want invalid_grant", err)
	}
	for _, at := range []string{tok.AccessToken, refreshed.AccessToken, codeTok.AccessToken} {
		if in := e.introspect(introspector, at); active(in) {
			t.Errorf("acting access token active after withdrawal: %v", in)
		}
		if status, _ := e.userinfo(at); status != http.StatusUnauthorized {
			t.Errorf("userinfo after withdrawal: %d", status)
		}
	}
	if in := e.introspect(introspector, selfTok.AccessToken); !active(in) {
		t.Error("the agent's own token was revoked with the company's")
	}
	// No choice is offered any more; acting_for=company is access_denied.
	a = app.authURL()
	q = ab.finish(ab.get(a.url))
	if q.Get("code") == "" {
		t.Fatalf("after withdrawal: %v", q)
	}
	q = ab.get(app.authURL(oauth2.SetAuthURLParam("acting_for", "company")).url).callback(t)
	if q.Get("error") != "access_denied" {
		t.Errorf("acting_for=company after withdrawal: %v", q)
	}

	// An expired authorisation is not offered.
	if _, err := e.accounts.AuthoriseAgent(ctx, audit.Actor{ID: rep.ID}, co.ID, accounts.AgentGrant{IDNumber: agentNum, Name: "李经办",
		Until: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if p := ab.get(app.authURL().url); !strings.Contains(p.body, `name="choice"`) {
		t.Fatalf("renewed authorisation not offered: %d\n%s", p.status, p.body)
	}
	e.clock.Advance(2 * time.Hour)
	a = app.authURL()
	p = ab.get(a.url)
	if p.isLogin() {
		p = ab.login(p, agentNum, testPassword)
	}
	if strings.Contains(p.body, `name="choice"`) {
		t.Fatal("an expired authorisation is offered")
	}
	if q := ab.finish(p); q.Get("code") == "" {
		t.Fatalf("after expiry: %v", q)
	}

	// Scopes beyond the authorisation are not granted while acting: no offline_access, no
	// refresh token.
	if _, err := e.accounts.AuthoriseAgent(ctx, audit.Actor{ID: rep.ID}, co.ID, accounts.AgentGrant{IDNumber: agentNum, Name: "李经办",
		Scopes: []string{"openid", "profile"}, Until: time.Now().Add(5 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	a = app.authURL(oauth2.SetAuthURLParam("acting_for", agentsCreditCode))
	q = ab.finish(ab.get(a.url))
	narrow, err := app.exchange(q.Get("code"), a.verifier)
	if err != nil {
		t.Fatalf("narrowed: %v (%v)", err, q)
	}
	if narrow.RefreshToken != "" || narrow.Extra("scope") != "openid profile" {
		t.Errorf("narrowed grant: refresh %q, scope %v; want none and \"openid profile\"", narrow.RefreshToken, narrow.Extra("scope"))
	}

	// Audit: the authorisations and the withdrawal, without names or numbers.
	events, err := e.store.ListAudit(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, ev := range events {
		counts[ev.Action]++
		for _, pii := range []string{agentNum, repNum, "李经办", agentsCreditCode} {
			if strings.Contains(ev.Detail, pii) {
				t.Errorf("audit %s holds personal data: %q", ev.Action, ev.Detail)
			}
		}
	}
	if counts["agent.authorise"] != 3 || counts["agent.withdraw"] != 1 || counts["admin.denied"] != 1 {
		t.Errorf("audit counts %v", counts)
	}
	for _, s := range append(e.pii, agentsCreditCode) {
		if strings.Contains(e.logs.String(), s) {
			t.Errorf("logs hold personal data %q", s)
		}
	}
	_ = stranger
}
