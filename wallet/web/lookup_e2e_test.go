package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
	"github.com/tongban/tongban/wallet"
	"github.com/tongban/tongban/wallet/wallettest"
	"github.com/tongban/tongban/wallet/web"
)

// Licence lookup (一证通办) end to end: a department app registered with licence scopes and a
// purpose, the holder's consent naming both, the full read at the wallet, its audit entry and
// the holder's records page — over real HTTP, with x/oauth2 as the app.

const (
	deptApp       = "juzhuzheng"
	deptName      = "居住证办理"
	deptPurpose   = "办理居住证时核验您的身份"
	deptPurposeEn = "To check your identity for your residence permit"
)

func TestLookupSQLite(t *testing.T) { testLookup(t, worldOptions{alg: oidc.AlgSM2}) }

func TestLookupPostgres(t *testing.T) {
	testLookup(t, worldOptions{alg: oidc.AlgSM2, store: storagetest.Postgres(t)})
}

// TestLicenceScopeMatchesProvider: the wallet's licence scopes are the provider's.
func TestLicenceScopeMatchesProvider(t *testing.T) {
	for _, k := range credentials.Kinds {
		if got, want := web.LicenceScopePrefix+string(k), oidc.LicenceScope(k); got != want {
			t.Errorf("wallet scope %q, provider scope %q", got, want)
		}
	}
}

// lookupToken runs the code flow of the department app for scope in browser b (logging in
// and consenting when asked) and returns the consent page it saw ("" when none) and the access
// token.
func (w *world) lookupToken(t *testing.T, b *wallettest.Browser, scope string, lang string, extra ...oauth2.AuthCodeOption) (consent string, token string) {
	t.Helper()
	cfg := oauth2.Config{
		ClientID: deptApp, RedirectURL: w.mobileRed, Scopes: strings.Fields(scope),
		Endpoint: oauth2.Endpoint{AuthURL: w.idp.URL + "/authorize", TokenURL: w.idp.URL + "/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	verifier := oauth2.GenerateVerifier()
	b.Stop = []string{w.mobileRed}
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("ui_locales", lang)}, extra...)
	p := b.Get(cfg.AuthCodeURL("state-123456789", opts...))
	if action, vals, ok := p.Form("password"); ok {
		vals.Set("identifier", citizen)
		vals.Set("password", password)
		p = b.PostForm(action, vals)
	}
	if action, vals, ok := p.Form("choice"); ok { // an agent's choice (agents.go): as themself
		vals.Set("choice", "self")
		p = b.PostForm(action, vals)
	}
	if action, vals, ok := p.Form("decision"); ok {
		consent = html.UnescapeString(p.Body)
		vals.Set("decision", "allow")
		p = b.PostForm(action, vals)
	}
	loc := p.Location()
	if loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("no code: %d %s\n%s", p.Status, p.Header.Get("Location"), p.Body)
	}
	tok, err := cfg.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	must(t, err)
	return consent, tok.AccessToken
}

func lookup(t *testing.T, w *world, token, query string) apiResp {
	t.Helper()
	return api(t, "GET", w.wal.URL+"/api/v1/lookup/licences?"+query, token, "", "")
}

func testLookup(t *testing.T, o worldOptions) {
	w := newWorldOpts(t, o)
	ctx := context.Background()
	_, _, err := oidc.CreateClient(ctx, w.store, w.kr, oidc.NewClient{
		ID: deptApp, Name: deptName, Public: true, RedirectURIs: []string{w.mobileRed},
		Scopes:  []string{"openid", "licence:resident-id", "licence:transit-code", "licence:business-licence"},
		Purpose: deptPurpose, PurposeEn: deptPurposeEn,
	})
	must(t, err)

	// The consent page names the app, its purpose and the licence, in Chinese and English.
	b := wallettest.NewBrowser(t)
	consent, _ := w.lookupToken(t, wallettest.NewBrowser(t), "openid licence:resident-id", "en")
	for _, want := range []string{deptPurposeEn, "Read your resident ID card in full", `class="lookup"`} {
		if !strings.Contains(consent, want) {
			t.Errorf("English consent page lacks %q:\n%s", want, consent)
		}
	}
	// (The consent is remembered now: prompt=consent shows the page again.)
	consent, tokA := w.lookupToken(t, b, "openid licence:resident-id", "zh-CN", oauth2.SetAuthURLParam("prompt", "consent"))
	for _, want := range []string{deptName, "<strong>" + deptPurpose + "</strong>", "完整读取您的居民身份证", `class="lookup"`} {
		if !strings.Contains(consent, want) {
			t.Errorf("consent page lacks %q:\n%s", want, consent)
		}
	}

	// The token reads the resident ID card in full.
	r := lookup(t, w, tokA, "kind=resident-id")
	if r.status != http.StatusOK {
		t.Fatalf("lookup: %d %s", r.status, r.raw)
	}
	list, _ := r.body["licences"].([]any)
	if len(list) != 1 {
		t.Fatalf("lookup answered %d licences: %s", len(list), r.raw)
	}
	lic := list[0].(map[string]any)
	fields, _ := lic["fields"].(map[string]any)
	if lic["kind"] != "resident-id" || lic["number"] != citizen || lic["holder"] != citizen || lic["holder_name"] != citizenName ||
		lic["status"] != "valid" || lic["usable"] != true || len(fields) == 0 || lic["id"] == "" {
		t.Errorf("lookup licence: %s", r.raw)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
	}

	// The read is in the audit log: actor and client the app, subject the licence, detail the
	// kind, no personal data.
	es, err := w.store.QueryAudit(ctx, storage.AuditQuery{Action: wallet.ActionLookup, Limit: 10})
	must(t, err)
	if len(es) != 1 || es[0].Actor != deptApp || es[0].ClientID != deptApp || es[0].Subject != lic["id"] || es[0].Detail != "resident-id" {
		t.Fatalf("audit after one lookup: %+v", es)
	}

	// A token for kind A cannot read kind B, nor A and B together; a token without any
	// licence scope reads nothing; a bogus token is 401.
	mobileTok := w.token(t, wallettest.NewBrowser(t), mobileApp)
	for _, tc := range []struct {
		name, token, query string
		status             int
		code, scope        string
	}{
		{"fail/other-kind", tokA, "kind=transit-code", 403, "insufficient_scope", "licence:transit-code"},
		{"fail/one-kind-missing", tokA, "kind=resident-id,transit-code", 403, "insufficient_scope", "licence:resident-id licence:transit-code"},
		{"fail/no-licence-scope", mobileTok, "kind=resident-id", 403, "insufficient_scope", "licence:resident-id"},
		{"fail/bogus-token", "not-a-token", "kind=resident-id", 401, "invalid_token", ""},
		{"fail/no-token", "", "kind=resident-id", 401, "invalid_request", ""},
		{"fail/no-kind", tokA, "", 400, "invalid_request", ""},
		{"fail/unknown-kind", tokA, "kind=passport", 400, "invalid_request", ""},
		{"fail/repeated-kind", tokA, "kind=resident-id&kind=resident-id", 400, "invalid_request", ""},
		{"fail/person-parameter-ignored", mobileTok, "kind=resident-id&id_number=" + citizen, 403, "insufficient_scope", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := lookup(t, w, tc.token, tc.query)
			if r.status != tc.status || r.body["error"] != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tc.status, tc.code)
			}
			if tc.scope != "" && !strings.Contains(r.header.Get("WWW-Authenticate"), `scope="`+tc.scope+`"`) {
				t.Errorf("WWW-Authenticate %q, want scope %q", r.header.Get("WWW-Authenticate"), tc.scope)
			}
			if strings.Contains(r.raw, citizen) || strings.Contains(r.raw, citizenName) {
				t.Errorf("refusal carries personal data: %s", r.raw)
			}
		})
	}
	if r := api(t, "POST", w.wal.URL+"/api/v1/lookup/licences?kind=resident-id", tokA, "", ""); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST lookup: %d", r.status)
	}

	// Status is marked: a revoked licence is answered, as revoked. A business licence the
	// holder is only the agent of is not theirs: an empty list, not 404.
	recs, err := w.svc.Licences(ctx, citizen)
	must(t, err)
	for _, rec := range recs {
		if rec.Licence.Kind == credentials.TransitCode {
			_, err = w.svc.SetStatus(ctx, rec.ID, credentials.StatusRevoked, wallet.Operator)
			must(t, err)
		}
	}
	_, tokAll := w.lookupToken(t, b, "openid licence:resident-id licence:transit-code licence:business-licence", "zh-CN")
	r = lookup(t, w, tokAll, "kind=transit-code&kind=resident-id")
	list, _ = r.body["licences"].([]any)
	if r.status != http.StatusOK || len(list) != 2 || list[0].(map[string]any)["kind"] != "resident-id" ||
		list[1].(map[string]any)["status"] != "revoked" || list[1].(map[string]any)["usable"] != false {
		t.Errorf("lookup of a revoked licence: %d %s", r.status, r.raw)
	}
	r = lookup(t, w, tokAll, "kind=business-licence")
	if r.status != http.StatusOK || strings.TrimSpace(r.raw) != `{"licences":[]}` {
		t.Errorf("lookup of a kind the holder has none of: %d %s", r.status, r.raw)
	}

	// A revoked access token is refused (this one was never cached).
	_, tokRevoked := w.lookupToken(t, b, "openid licence:resident-id", "zh-CN")
	resp, err := http.PostForm(w.idp.URL+"/revoke", url.Values{"token": {tokRevoked}, "client_id": {deptApp}})
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if r := lookup(t, w, tokRevoked, "kind=resident-id"); r.status != http.StatusUnauthorized || r.body["error"] != "invalid_token" {
		t.Errorf("revoked token: %d %s", r.status, r.raw)
	}

	// Three reads so far (the resident ID card, then it and the transit code), each audited.
	es, err = w.store.QueryAudit(ctx, storage.AuditQuery{Action: wallet.ActionLookup, Limit: 10})
	must(t, err)
	if len(es) != 3 {
		t.Errorf("%d lookup audit entries, want 3: %+v", len(es), es)
	}

	// The holder sees the reads on the wallet's records page, linked from the home page.
	hb := wallettest.NewBrowser(t)
	home := hb.LoginWallet(w.wal.URL, citizen, password)
	if !strings.Contains(home.Body, `href="/records"`) {
		t.Errorf("home page without a link to the records:\n%s", home.Body)
	}
	p := hb.Get(w.wal.URL + "/records")
	body := html.UnescapeString(p.Body)
	if p.Status != http.StatusOK || strings.Count(body, "<span class=\"app\">"+deptName+"</span>") != 3 ||
		!strings.Contains(body, "居民身份证") || !strings.Contains(body, "乘车码") || !strings.Contains(body, "亮证记录") {
		t.Errorf("records page: %d\n%s", p.Status, p.Body)
	}
	if strings.Contains(body, citizen) {
		t.Error("records page shows the full ID number")
	}
	p = hb.Get(w.wal.URL + "/records?lang=en")
	if !strings.Contains(p.Body, "My record") || !strings.Contains(p.Body, "Read by an app") || !strings.Contains(p.Body, "Resident ID card") {
		t.Errorf("English records page:\n%s", p.Body)
	}
	// Without a login the page shows none of them (it sends the browser to log in).
	if r := wallettest.NewBrowser(t).Get(w.wal.URL + "/records"); r.URL.Path == "/records" && strings.Contains(r.Body, deptName) {
		t.Error("records page without a login shows reads")
	}
	// The provider's account data download lists them too (one database here).
	p = hb.Get(w.idp.URL + "/account/data")
	var doc struct {
		More struct {
			Lookups []struct {
				ClientID string `json:"client_id"`
				App      string `json:"app"`
				Kind     string `json:"kind"`
			} `json:"licence_lookups"`
		} `json:"more"`
	}
	if err := json.Unmarshal([]byte(p.Body), &doc); err != nil {
		t.Fatalf("account data: %d %v\n%s", p.Status, err, p.Body)
	}
	if l := doc.More.Lookups; len(l) != 3 || l[0].App != deptName || l[0].ClientID != deptApp {
		t.Errorf("account data download: licence_lookups %+v", l)
	}
	w.checkLogs(t, tokA, tokAll, tokRevoked, mobileTok)
}
