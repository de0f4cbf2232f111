package idpserver

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/accounts/accountstest"
	"github.com/tongban/tongban/admin"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/oidc"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// TestAdminRealBackends drives the console of a real service (NewService's wiring, the real
// adapters of adminadapters.go) over HTTP: an operator and reviewer logs in with password and
// TOTP, approves an app waiting for review, disables a person through the API with the CSRF
// token, reads the correction queue and the app's figures; the store and the audit log show
// each change with the role and address.
func TestAdminRealBackends(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.DB = filepath.Join(dir, "tongban.db")
	cfg.KEKFile = filepath.Join(dir, "kek")
	cfg.PasswordIterations = 1000
	cfg.Issuer = "http://" + ln.Addr().String()
	ctx := context.Background()
	svc, err := Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	hs := httptest.NewUnstartedServer(svc.Handler)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	defer hs.Close()
	store, kr := svc.Backend.Store, svc.Backend.Keyring

	acc, err := accounts.New(accounts.Config{Store: store, Keyring: kr, PasswordParams: smcrypto.PasswordParams{Iterations: 1000, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	const password = "correct horse battery staple"
	newPerson := func(name string) (storage.Person, string) {
		num := accountstest.ResidentID(t)
		p, err := acc.CreatePerson(ctx, accounts.NewPerson{IDNumber: num, Name: name, Password: []byte(password)})
		if err != nil {
			t.Fatal(err)
		}
		return p, num
	}
	op, opNum := newPerson("王运维")
	citizen, _ := newPerson("张三丰")
	for _, r := range []string{storage.RoleOperator, storage.RoleReviewer} {
		if err := admin.GrantRole(ctx, store, audit.Shell, time.Now(), op.ID, r, ""); err != nil {
			t.Fatal(err)
		}
	}
	uri, err := acc.EnrollTOTP(ctx, op.ID)
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := oidc.CreateClient(ctx, store, kr, oidc.NewClient{ID: "app-review", Name: "待审应用", Department: "shebao",
		RedirectURIs: []string{"https://app.example/cb"}, Scopes: []string{"openid"}}); err != nil {
		t.Fatal(err)
	}
	if err := store.UpdateClient(ctx, "app-review", func(c *storage.Client) error { c.Status = storage.ClientPendingReview; return nil }); err != nil {
		t.Fatal(err)
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(path string) (int, string, *url.URL) {
		t.Helper()
		resp, err := c.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Request.URL
	}
	post := func(u string, form url.Values, header ...string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	hidden := regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)
	formOf := func(body, actionPart string) (string, url.Values) {
		t.Helper()
		re := regexp.MustCompile(`(?s)<form method="post" action="([^"]*` + regexp.QuoteMeta(actionPart) + `[^"]*)"[^>]*>(.*?)</form>`)
		m := re.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no form %q in:\n%s", actionPart, body)
		}
		v := url.Values{}
		for _, h := range hidden.FindAllStringSubmatch(m[2], -1) {
			v.Set(h[1], strings.ReplaceAll(h[2], "&amp;", "&"))
		}
		u, _ := url.Parse(hs.URL)
		a, _ := u.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
		return a.String(), v
	}

	// Log in through the console: the login page asks for the code.
	_, body, _ := get("/admin/")
	action, v := formOf(body, "/login")
	code, err := totp.GenerateCode(key.Secret(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	v.Set("identifier", opNum)
	v.Set("password", password)
	v.Set("otp", code)
	if st, body := post(action, v); st != http.StatusOK || !strings.Contains(body, `id="pending-apps">1<`) {
		t.Fatalf("login: %d\n%s", st, body)
	}

	// Approve the app waiting for review.
	_, body, _ = get("/admin/apps/app-review")
	action, v = formOf(body, "/approve")
	if st, body := post(action, v); st != http.StatusOK || !strings.Contains(body, "已批准") {
		t.Fatalf("approve: %d\n%s", st, body)
	}
	if cl, err := store.GetClient(ctx, "app-review"); err != nil || cl.EffectiveStatus() != storage.ClientPublished {
		t.Errorf("app after approve: %s %v", cl.Status, err)
	}

	// Disable a person through the API.
	_, me, _ := get("/admin/api/v1/me")
	tok := regexp.MustCompile(`"csrf_token":"([^"]+)"`).FindStringSubmatch(me)
	if tok == nil {
		t.Fatalf("me: %s", me)
	}
	req, _ := http.NewRequest(http.MethodPost, hs.URL+"/admin/api/v1/people/"+citizen.ID+"/disable", strings.NewReader(`{"reason":"依本人申请停用"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", tok[1])
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(rb), `"disabled":true`) || strings.Contains(string(rb), "张三丰") {
		t.Fatalf("disable: %d %s", resp.StatusCode, rb)
	}
	if p, _ := store.GetPerson(ctx, citizen.ID); !p.Disabled {
		t.Errorf("the person is not disabled")
	}
	postJSON := func(path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, hs.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", tok[1])
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Disabling twice, or enabling an enabled person, is a conflict without an audit entry.
	if st, body := postJSON("/admin/api/v1/people/"+citizen.ID+"/disable", `{"reason":"再次停用"}`); st != http.StatusConflict || !strings.Contains(body, "already disabled") {
		t.Errorf("disable twice: %d %s", st, body)
	}
	if st, body := postJSON("/admin/api/v1/people/"+op.ID+"/enable", `{}`); st != http.StatusConflict || !strings.Contains(body, "not disabled") {
		t.Errorf("enable an enabled person: %d %s", st, body)
	}
	// The lifecycle's named errors answer 409 with what is wrong, never 500: rejecting or
	// resuming a published app without a pending change.
	for _, seg := range []string{"reject", "resume", "approve"} {
		if st, body := postJSON("/admin/api/v1/apps/app-review/"+seg, `{"reason":"无待审变更"}`); st != http.StatusConflict ||
			!strings.Contains(body, `"error":"conflict"`) || !strings.Contains(body, "app-review") || strings.Contains(body, "oidc:") {
			t.Errorf("%s a published app: %d %s", seg, st, body)
		}
	}
	// A suspension's reason (typed on two lines) is the app's status_reason.
	if st, body := postJSON("/admin/api/v1/apps/app-review/suspend", `{"reason":"接到投诉\r\n核查中"}`); st != http.StatusOK || !strings.Contains(body, `"status_reason":"接到投诉 核查中"`) {
		t.Errorf("suspend: %d %s", st, body)
	}
	if st, body := postJSON("/admin/api/v1/apps/app-review/resume", `{}`); st != http.StatusOK {
		t.Errorf("resume: %d %s", st, body)
	}
	// A correction's page (where a fresh login after an action returns) shows it with its
	// forms, fields labelled in the page's language.
	k, err := acc.FileCorrection(ctx, op.ID, accounts.CorrectionRequest{Target: accounts.CorrectionTargetPerson, Field: accounts.CorrectionFieldName, Value: "王运维甲", Reason: "户籍已改名"})
	if err != nil {
		t.Fatal(err)
	}
	if st, body, _ := get("/admin/corrections/" + k.ID); st != http.StatusOK || !strings.Contains(body, "姓名") || !strings.Contains(body, "王运维甲") ||
		!strings.Contains(body, "/corrections/"+k.ID+"?action=apply") || !strings.Contains(body, "/corrections/"+k.ID+"/reject") {
		t.Errorf("correction page: %d %s", st, body)
	}
	if st, body, _ := get("/admin/corrections/" + k.ID + "?action=apply"); st != http.StatusOK || !strings.Contains(body, `action="/admin/corrections/`+k.ID+`/apply"`) {
		t.Errorf("correction confirm step: %d %s", st, body)
	}
	if st, _, _ := get("/admin/corrections/no-such-correction"); st != http.StatusNotFound {
		t.Errorf("unknown correction: %d", st)
	}
	for _, path := range []string{"/admin/api/v1/corrections?status=pending", "/admin/api/v1/apps/app-review/stats", "/admin/api/v1/people?q=" + citizen.ID, "/admin/corrections"} {
		if st, body, _ := get(path); st != http.StatusOK {
			t.Errorf("%s: %d %s", path, st, body)
		}
	}
	for _, want := range []struct{ action, role string }{{"client.approve", "role=reviewer"}, {"person.disable", "role=operator"}} {
		es, err := store.QueryAudit(ctx, storage.AuditQuery{Action: want.action, Limit: 10})
		if err != nil || len(es) != 1 || es[0].Actor != op.ID || !strings.Contains(es[0].Detail, want.role) || !strings.Contains(es[0].Detail, "from=127.0.0.1") {
			t.Errorf("%s audit: %+v %v", want.action, es, err)
		}
	}

	// Issue 9's headline end to end: a department registers an app through RFC 7591 with an
	// initial access token the operator issued in the console; the app logs nobody in until
	// the reviewer approves it; then a real OIDC login (x/oauth2 + go-oidc) works, and its
	// series appear in /metrics.
	_, me, _ = get("/admin/api/v1/me")
	tok = regexp.MustCompile(`"csrf_token":"([^"]+)"`).FindStringSubmatch(me)
	req, _ = http.NewRequest(http.MethodPost, hs.URL+"/admin/api/v1/initial-access-tokens", strings.NewReader(`{"department":"shebao","ttl":"1h"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", tok[1])
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	iat := regexp.MustCompile(`"token":"([^"]+)"`).FindSubmatch(rb)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated || iat == nil {
		t.Fatalf("initial access token: %d %s", resp.StatusCode, rb)
	}
	const redirect = "http://127.0.0.1:1/cb"
	req, _ = http.NewRequest(http.MethodPost, hs.URL+"/register", strings.NewReader(`{"client_name":"社保查询","redirect_uris":["`+redirect+`"],"token_endpoint_auth_method":"none","scope":"openid profile","id_token_signed_response_alg":"ES256"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+string(iat[1]))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	idm := regexp.MustCompile(`"client_id":"([^"]+)"`).FindSubmatch(rb)
	if resp.StatusCode != http.StatusCreated || idm == nil {
		t.Fatalf("RFC 7591 registration: %d %s", resp.StatusCode, rb)
	}
	clientID := string(idm[1])
	provider, err := gooidc.NewProvider(ctx, hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	oc := oauth2.Config{ClientID: clientID, RedirectURL: redirect, Endpoint: provider.Endpoint(), Scopes: []string{"openid", "profile"}}
	noFollow := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := func() (*http.Response, string) {
		t.Helper()
		verifier := oauth2.GenerateVerifier()
		resp, err := noFollow.Get(oc.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier), oidcNonce("nonce-0123456789")))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp, verifier
	}
	if resp, _ := authorize(); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("authorization request of an app waiting for review: %d %s, want 403 page", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body, _ = get("/admin/apps/" + clientID)
	action, v = formOf(body, "/approve")
	if st, body := post(action, v); st != http.StatusOK {
		t.Fatalf("approve the registered app: %d\n%s", st, body)
	}
	// The operator's own session logs in to the app; the consent page asks once.
	resp, verifier := authorize()
	for hop := 0; hop < 6; hop++ {
		loc, _ := resp.Location()
		if loc != nil && strings.HasPrefix(loc.String(), redirect) {
			break
		}
		var page *http.Response
		if loc != nil {
			page, err = noFollow.Get(loc.String())
		} else {
			t.Fatalf("login to the approved app: %d without a redirect", resp.StatusCode)
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(page.Body)
		page.Body.Close()
		resp = page
		if page.StatusCode == http.StatusOK { // the consent page
			action, v := formOf(string(b), "/consent")
			v.Set("decision", "allow")
			req, _ := http.NewRequest(http.MethodPost, action, strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if resp, err = noFollow.Do(req); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	loc, _ := resp.Location()
	if loc == nil || !strings.HasPrefix(loc.String(), redirect) || loc.Query().Get("code") == "" {
		t.Fatalf("login to the approved app: %d %v", resp.StatusCode, loc)
	}
	tk, err := oc.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tk.Extra("id_token").(string)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{"ES256"}}).Verify(ctx, raw)
	if err != nil || idt.Subject != op.ID {
		t.Fatalf("ID token of the approved app: %v, sub %v", err, idt)
	}
	if _, metrics, _ := get("/metrics"); !strings.Contains(metrics, `client="`+clientID+`"`) {
		t.Errorf("/metrics has no series of %s", clientID)
	}
}

// oidcNonce is the OIDC nonce parameter of an authorization request.
func oidcNonce(n string) oauth2.AuthCodeOption { return oauth2.SetAuthURLParam("nonce", n) }
