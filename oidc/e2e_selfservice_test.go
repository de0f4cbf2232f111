package oidc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/tongban/tongban/accounts"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// The citizen's self-service on the account page (issue 10, part 4), end to end over HTTPS with
// the cookie-jar browser, go-oidc and x/oauth2: change the password, recover access with a code
// from the console notifier, sessions on every device, consents per app, download my data,
// close my account — each with its bad input.

func TestSelfServiceSQLite(t *testing.T) {
	runSelfService(t, func(t testing.TB) storage.Storage { return storagetest.SQLite(t) })
}

func TestSelfServicePostgres(t *testing.T) {
	runSelfService(t, func(t testing.TB) storage.Storage { return storagetest.Postgres(t) })
}

// selfEnv is an env whose provider sends recovery codes through a console notifier into out.
type selfEnv struct {
	*env
	out *lockedBuffer
}

func runSelfService(t *testing.T, newStore func(testing.TB) storage.Storage) {
	out := &lockedBuffer{}
	e := &selfEnv{env: newEnv(t, newStore(t), envOptions{mutate: func(c *tboidc.Config) {
		c.Notifier = &accounts.ConsoleNotifier{W: out}
		c.ClientIP = func(r *http.Request) string {
			if ip := r.Header.Get("X-Test-Client-IP"); ip != "" {
				return ip
			}
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			return host
		}
	}}), out: out}
	for _, tc := range []struct {
		name string
		test func(*testing.T, *selfEnv)
	}{
		{"ok/change-password", testSelfPassword},
		{"ok/sessions-on-every-device", testSelfSessions},
		{"ok/consents-per-app", testSelfConsents},
		{"ok/download-my-data", testSelfData},
		{"ok/close-account", testSelfClose},
		{"ok/recover-access", testSelfRecover},
		{"fail/recover-no-enumeration", testSelfRecoverNoEnumeration},
		{"ok/logs-without-personal-data", func(t *testing.T, e *selfEnv) { testLogs(t, e.env) }},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, e) })
	}
	t.Run("fail/recovery-off", func(t *testing.T) {
		off := newEnv(t, newStore(t), envOptions{})
		p := off.browser().get(off.issuer + "/account/recover")
		if p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, "12345") || strings.Contains(p.body, `name="identifier"`) {
			t.Fatalf("recovery without a notifier: %d\n%s", p.status, p.body)
		}
	})
}

const (
	uaAndroid = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
	uaIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

// uaBrowser is a browser that sends a User-Agent header.
type uaBrowser struct {
	*browser
	ua string
}

func (e *selfEnv) uaBrowser(ua string) *uaBrowser {
	return e.uaBrowserFrom(ua, "")
}

// uaBrowserFrom is a uaBrowser whose requests come from client address ip ("" = 127.0.0.1):
// the provider of runSelfService reads it from the X-Test-Client-IP header.
func (e *selfEnv) uaBrowserFrom(ua, ip string) *uaBrowser {
	b := e.browser()
	b.c.Transport = headerTransport{base: b.c.Transport, ua: ua, ip: ip}
	return &uaBrowser{browser: b, ua: ua}
}

// headerTransport sets the User-Agent and the test client-address header of every request.
type headerTransport struct {
	base   http.RoundTripper
	ua, ip string
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", h.ua)
	if h.ip != "" {
		r.Header.Set("X-Test-Client-IP", h.ip)
	}
	return h.base.RoundTrip(r)
}

func (b *uaBrowser) get(u string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("User-Agent", b.ua)
	return b.do(req)
}

func (b *uaBrowser) post(u string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", b.ua)
	return b.do(req)
}

// account logs b in to the account page as identifier (with password) and returns the page.
func (b *uaBrowser) account(identifier, password string) page {
	b.t.Helper()
	p := b.get(b.e.issuer + "/account")
	if !p.isLogin() {
		return p
	}
	action, vals := p.form(b.t)
	vals.Set("identifier", identifier)
	vals.Set("password", password)
	p = b.post(action, vals)
	if p.status != http.StatusOK || p.url.Path != "/account" {
		b.t.Fatalf("login to the account page: %d %s\n%.1500s", p.status, p.url, p.body)
	}
	return p
}

// formWith returns the action and values of the first form of p whose action path ends in
// suffix and that has every name=value of match (pairs).
func formWith(t testing.TB, p page, suffix string, match ...string) (string, url.Values) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(p.body))
	if err != nil {
		t.Fatal(err)
	}
	var action string
	var vals url.Values
	var walk func(*html.Node) bool
	walk = func(n *html.Node) bool {
		if n.Type == html.ElementNode && n.Data == "form" {
			a := attr(n, "action")
			u, _ := url.Parse(a)
			if u != nil && strings.HasSuffix(u.Path, suffix) {
				v := url.Values{}
				var inputs func(*html.Node)
				inputs = func(m *html.Node) {
					if m.Type == html.ElementNode && m.Data == "input" {
						v.Set(attr(m, "name"), attr(m, "value"))
					}
					for c := m.FirstChild; c != nil; c = c.NextSibling {
						inputs(c)
					}
				}
				inputs(n)
				ok := true
				for i := 0; i+1 < len(match); i += 2 {
					ok = ok && v.Get(match[i]) == match[i+1]
				}
				if ok {
					action, vals = a, v
					return true
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if walk(c) {
				return true
			}
		}
		return false
	}
	if !walk(doc) {
		t.Fatalf("no form for %s %v in page %s (status %d):\n%.3000s", suffix, match, p.url, p.status, p.body)
	}
	u, _ := p.url.Parse(action)
	return u.String(), vals
}

// submit posts the form of p for suffix with the fields set (pairs).
func (b *uaBrowser) submit(p page, suffix string, set ...string) page {
	b.t.Helper()
	action, vals := formWith(b.t, p, suffix)
	for i := 0; i+1 < len(set); i += 2 {
		vals.Set(set[i], set[i+1])
	}
	return b.post(action, vals)
}

// postAccount posts fields (pairs) to the account path with the CSRF token of the account page
// p, as a forged or hand-made form would.
func (b *uaBrowser) postAccount(p page, path string, set ...string) page {
	b.t.Helper()
	_, vals := formWith(b.t, p, "/account/password")
	form := url.Values{"csrf": {vals.Get("csrf")}}
	for i := 0; i+1 < len(set); i += 2 {
		form.Set(set[i], set[i+1])
	}
	return b.post(b.e.issuer+path, form)
}

// audited reports the audit actions about person with prefix, oldest first.
func (e *selfEnv) audited(t *testing.T, personID, prefix string) []string {
	t.Helper()
	ev, err := e.store.QueryAudit(context.Background(), storage.AuditQuery{Person: personID, Action: prefix, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range ev {
		out = append(out, a.Action)
	}
	return out
}

const selfNewPassword = "bj-地铁4号线-换乘-东单"

func testSelfPassword(t *testing.T, e *selfEnv) {
	person, num := e.person("钱改", "")
	b1, b2 := e.uaBrowser(uaAndroid), e.uaBrowser(uaIPhone)
	p := b1.account(num, testPassword)
	b2.account(num, testPassword)

	for _, tc := range []struct {
		name          string
		old, new, rep string
		status        int
		want          string
	}{
		{"fail/wrong old password", "wrong password!", selfNewPassword, selfNewPassword, http.StatusUnauthorized, "当前密码不正确"},
		{"fail/mismatched confirmation", testPassword, selfNewPassword, selfNewPassword + "x", http.StatusBadRequest, "两次输入的新密码不一致"},
		{"fail/common password", testPassword, "password1234", "password1234", http.StatusBadRequest, "新密码太常见或太容易被猜中"},
		{"fail/own ID number", testPassword, num + "ab", num + "ab", http.StatusBadRequest, "新密码太常见或太容易被猜中"},
		{"fail/too short", testPassword, "Kq7#vLp", "Kq7#vLp", http.StatusBadRequest, "至少需要 10 个字符"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := b1.submit(p, "/account/password", "old", tc.old, "new", tc.new, "new2", tc.rep)
			if got.status != tc.status || !strings.Contains(got.body, tc.want) {
				t.Fatalf("status %d, want %d with %q:\n%.2000s", got.status, tc.status, tc.want, got.body)
			}
			if !strings.Contains(got.body, `href="/account?ui_locales=en" hreflang="en"`) {
				t.Error("the language switch of the refused form does not lead to the account page")
			}
		})
	}
	t.Run("fail/CSRF missing", func(t *testing.T) {
		action, vals := formWith(t, p, "/account/password")
		vals.Del("csrf")
		vals.Set("old", testPassword)
		vals.Set("new", selfNewPassword)
		vals.Set("new2", selfNewPassword)
		if got := b1.post(action, vals); got.status != http.StatusForbidden {
			t.Fatalf("without CSRF token: %d", got.status)
		}
		// Another browser's token does not do either.
		p2 := b2.get(e.issuer + "/account")
		_, v2 := formWith(t, p2, "/account/password")
		vals.Set("csrf", v2.Get("csrf"))
		if got := b1.post(action, vals); got.status != http.StatusForbidden {
			t.Fatalf("with another browser's CSRF token: %d", got.status)
		}
	})
	// Still the old password everywhere: nothing was changed by the refusals.
	if p2 := b2.get(e.issuer + "/account"); p2.isLogin() {
		t.Fatal("a refused change ended the other session")
	}
	got := b1.submit(p, "/account/password", "old", testPassword, "new", selfNewPassword, "new2", selfNewPassword)
	if got.status != http.StatusOK || got.url.Path != "/account" || !strings.Contains(got.body, "密码已修改") {
		t.Fatalf("change: %d %s\n%.2000s", got.status, got.url, got.body)
	}
	if p2 := b2.get(e.issuer + "/account"); !p2.isLogin() {
		t.Errorf("the other device is still logged in after the change: %d %s", p2.status, p2.url)
	}
	if p1 := b1.get(e.issuer + "/account"); p1.isLogin() {
		t.Error("the device that changed the password was logged out")
	}
	b3 := e.uaBrowser(uaAndroid)
	if p3 := b3.get(e.issuer + "/account"); !b3.loginFails(p3, num, testPassword) {
		t.Error("the old password still works")
	}
	b3.account(num, selfNewPassword)
	if a := e.audited(t, person.ID, "password."); len(a) != 1 {
		t.Errorf("audit: %v, want one password.change", a)
	}
	// The wrong old password counted as a failed login.
	if a := e.audited(t, person.ID, "login.failure"); len(a) < 1 {
		t.Errorf("the wrong old password was not audited as a failed login: %v", a)
	}
}

// loginFails reports whether logging in on the login page p is refused.
func (b *uaBrowser) loginFails(p page, identifier, password string) bool {
	b.t.Helper()
	action, vals := p.form(b.t)
	vals.Set("identifier", identifier)
	vals.Set("password", password)
	got := b.post(action, vals)
	return got.status == http.StatusUnauthorized && got.isLoginForm()
}

var maskedIP = regexp.MustCompile(`127\.0\.0\.\*`)

func testSelfSessions(t *testing.T, e *selfEnv) {
	_, num := e.person("孙设", "")
	_, otherNum := e.person("李他", "")
	phone, iphone, laptop := e.uaBrowser(uaAndroid), e.uaBrowser(uaIPhone), e.uaBrowser("")
	phone.account(num, testPassword)
	iphone.account(num, testPassword)
	laptop.account(num, testPassword)
	e.clock.Advance(2 * time.Minute) // the list shows when each was last used
	defer e.clock.Advance(-2 * time.Minute)
	p := phone.get(e.issuer + "/account?ui_locales=en")
	for _, want := range []string{"Chrome · Android", "Safari · iOS", "Unknown device", "This device", "last used"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("sessions list lacks %q", want)
		}
	}
	if n := len(maskedIP.FindAllString(p.body, -1)); n != 3 {
		t.Errorf("%d masked addresses, want 3", n)
	}
	if strings.Contains(p.body, "127.0.0.1") {
		t.Error("the page shows a full client address")
	}
	if i, j := strings.Index(p.body, "This device"), strings.Index(p.body, "Safari · iOS"); i < 0 || j < i {
		t.Error("this device is not listed first")
	}
	// The iPhone's session: the form whose browser is the iPhone's. Find its ID by ending each
	// other session in turn is not needed: the list gives the IDs of the other two.
	ids := sessionIDs(t, p)
	if len(ids) != 2 {
		t.Fatalf("%d end buttons, want 2 (not for this device)", len(ids))
	}

	t.Run("fail/another person's session", func(t *testing.T) {
		intruder := e.uaBrowser(uaAndroid)
		ip := intruder.account(otherNum, testPassword)
		got := intruder.postAccount(ip, "/account/sessions/end", "id", ids[0])
		if got.status != http.StatusNotFound {
			t.Fatalf("ending another person's session: %d", got.status)
		}
		for _, b := range []*uaBrowser{iphone, laptop} {
			if b.get(e.issuer + "/account").isLogin() {
				t.Fatal("another person ended a session")
			}
		}
	})
	t.Run("fail/CSRF missing", func(t *testing.T) {
		action, vals := formWith(t, p, "/account/sessions/end", "id", ids[0])
		vals.Del("csrf")
		if got := phone.post(action, vals); got.status != http.StatusForbidden {
			t.Fatalf("without CSRF: %d", got.status)
		}
	})
	t.Run("fail/unknown ID", func(t *testing.T) {
		if got := phone.submit(p, "/account/sessions/end", "id", "no-such-session"); got.status != http.StatusNotFound || !strings.Contains(got.body, "not found") {
			t.Fatalf("unknown ID: %d", got.status)
		}
	})
	// End the iPhone's session: which of the two IDs is it? The one whose list item says iOS.
	iphoneID := sessionIDOf(t, p, "Safari · iOS")
	got := phone.submit(p, "/account/sessions/end", "id", iphoneID)
	if got.status != http.StatusOK || !strings.Contains(got.body, "That device is signed out") {
		t.Fatalf("end one: %d\n%.1500s", got.status, got.body)
	}
	if !iphone.get(e.issuer + "/account").isLogin() {
		t.Error("the ended session still works")
	}
	if laptop.get(e.issuer + "/account").isLogin() {
		t.Error("ending one session ended another")
	}
	got = phone.submit(phone.get(e.issuer+"/account?ui_locales=en"), "/account/sessions/end-other")
	if got.status != http.StatusOK || !strings.Contains(got.body, "Every other device is signed out") {
		t.Fatalf("end others: %d", got.status)
	}
	if !laptop.get(e.issuer + "/account").isLogin() {
		t.Error("end-others left a session")
	}
	if phone.get(e.issuer + "/account").isLogin() {
		t.Error("end-others ended this session")
	}
}

// sessionIDs returns the IDs of the end-session forms of an account page.
func sessionIDs(t *testing.T, p page) []string {
	t.Helper()
	re := regexp.MustCompile(`name="id" value="([^"]+)"`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(p.body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// sessionIDOf returns the ID in the end-session form of the list item that names device.
func sessionIDOf(t *testing.T, p page, device string) string {
	t.Helper()
	i := strings.Index(p.body, "<strong>"+device+"</strong>")
	if i < 0 {
		t.Fatalf("no session of %s", device)
	}
	ids := sessionIDs(t, page{body: p.body[i:]})
	if len(ids) == 0 {
		t.Fatalf("no end button for %s", device)
	}
	return ids[0]
}

func testSelfConsents(t *testing.T, e *selfEnv) {
	person, num := e.person("周授", "")
	r := e.newRP(tboidc.NewClient{Name: "社保查询"})
	other := e.newRP(tboidc.NewClient{Name: "公积金"})
	b := e.uaBrowser(uaAndroid)
	tok := r.login(t, b.browser, num)
	otherTok := other.login(t, b.browser, num)
	p := b.get(e.issuer + "/account")
	for _, want := range []string{"社保查询", "公积金", "姓名", "在您离开后继续访问"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("consents list lacks %q", want)
		}
	}
	t.Run("fail/an app without consent", func(t *testing.T) {
		if got := b.submit(p, "/account/consents/withdraw", "client_id", "no-such-app"); got.status != http.StatusNotFound {
			t.Fatalf("unknown app: %d", got.status)
		}
	})
	t.Run("fail/CSRF missing", func(t *testing.T) {
		action, vals := formWith(t, p, "/account/consents/withdraw", "client_id", r.client.ID)
		vals.Set("csrf", "forged")
		if got := b.post(action, vals); got.status != http.StatusForbidden {
			t.Fatalf("forged CSRF: %d", got.status)
		}
		if !active(e.introspect(r, tok.AccessToken)) {
			t.Fatal("a refused withdrawal revoked the token")
		}
	})
	got := b.submit(p, "/account/consents/withdraw", "client_id", r.client.ID)
	if got.status != http.StatusOK || !strings.Contains(got.body, "已撤回授权") || strings.Contains(got.body, "社保查询") {
		t.Fatalf("withdraw: %d\n%.1500s", got.status, got.body)
	}
	if active(e.introspect(r, tok.AccessToken)) || active(e.introspect(r, tok.RefreshToken)) {
		t.Error("the app's tokens survived the withdrawal")
	}
	if status, _ := e.postForm("/token", r.client.ID, r.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}); status != http.StatusBadRequest {
		t.Errorf("refresh after withdrawal: %d, want 400", status)
	}
	if !active(e.introspect(other, otherTok.AccessToken)) || !active(e.introspect(other, otherTok.RefreshToken)) {
		t.Error("withdrawing one app's consent revoked another's tokens")
	}
	// The app must ask again.
	a := r.authURL()
	if p := b.get(a.url); !p.isConsent() {
		t.Errorf("after withdrawal the app was not asked for consent again: %d %s", p.status, p.url)
	}
	if got := e.audited(t, person.ID, "consent.withdraw"); len(got) != 1 {
		t.Errorf("audit %v", got)
	}
}

func testSelfData(t *testing.T, e *selfEnv) {
	person, num := e.person("吴数", "13700137000")
	idx := e.kr.BlindIndex(num)
	if _, _, err := e.store.UpsertLicence(context.Background(), storage.Licence{ID: "lic-" + person.ID, Kind: "resident-id",
		Number: "LIC-" + person.ID[:6], Issuer: "110101", HolderIndex: idx, Status: storage.LicenceValid,
		ValidFrom: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	r := e.newRP(tboidc.NewClient{Name: "不动产登记"})
	b := e.uaBrowser(uaAndroid)
	r.login(t, b.browser, num)
	b.get(e.issuer + "/account")

	download := func(u string) (page, map[string]any) {
		t.Helper()
		p := b.get(u)
		var doc map[string]any
		if p.status == http.StatusOK && strings.HasPrefix(p.header.Get("Content-Type"), "application/json") {
			if err := json.Unmarshal([]byte(p.body), &doc); err != nil {
				t.Fatalf("download is not JSON: %v", err)
			}
		}
		return p, doc
	}
	p, doc := download(e.issuer + "/account/data")
	if doc == nil || !strings.HasPrefix(p.header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("download: %d %s %q", p.status, p.header.Get("Content-Type"), p.header.Get("Content-Disposition"))
	}
	if strings.Contains(p.body, num) || strings.Contains(p.body, "13700137000") {
		t.Fatal("the masked download holds the full numbers")
	}
	pe := doc["person"].(map[string]any)
	if pe["id_number"] != person.IDNumberMasked || pe["phone"] != "137****7000" || pe["name"] != "吴数" {
		t.Errorf("person %v", pe)
	}
	if s := doc["sessions"].([]any); len(s) != 1 || s[0].(map[string]any)["device"] != "Chrome · Android" {
		t.Errorf("sessions %v", s)
	}
	if c := doc["consents"].([]any); len(c) != 1 || c[0].(map[string]any)["client_name"] != "不动产登记" {
		t.Errorf("consents %v", c)
	}
	if l := doc["licences"].(map[string]any)["held"].([]any); len(l) != 1 || l[0].(map[string]any)["kind"] != "resident-id" {
		t.Errorf("licences %v", l)
	}
	if a := doc["audit"].([]any); len(a) < 2 {
		t.Errorf("audit %v, want the login and the token issue at least", a)
	}

	// The full numbers want a fresh login: stale, the browser goes to the login page first.
	e.clock.Advance(10 * time.Minute)
	defer e.clock.Advance(-10 * time.Minute)
	p, _ = download(e.issuer + "/account/data?full=1")
	if !p.isLogin() {
		t.Fatalf("full download with a stale login: %d %s, want the login page", p.status, p.url)
	}
	action, vals := p.form(t)
	vals.Set("identifier", num)
	vals.Set("password", testPassword)
	p = b.post(action, vals)
	if p.status != http.StatusOK || p.url.Path != "/account/data" {
		t.Fatalf("after the login: %d %s", p.status, p.url)
	}
	doc = map[string]any{}
	if err := json.Unmarshal([]byte(p.body), &doc); err != nil {
		t.Fatal(err)
	}
	if pe := doc["person"].(map[string]any); pe["id_number"] != num || pe["phone"] != "13700137000" || doc["full"] != true {
		t.Errorf("full download: %v", pe)
	}
	if got := e.audited(t, person.ID, "account.export"); len(got) != 2 {
		t.Errorf("audit %v, want two exports", got)
	}
}

func testSelfClose(t *testing.T, e *selfEnv) {
	person, num := e.person("郑销", "13600136000")
	r := e.newRP(tboidc.NewClient{Name: "医保"})
	b := e.uaBrowser(uaAndroid)
	tok := r.login(t, b.browser, num)
	other := e.uaBrowser(uaIPhone)
	other.account(num, testPassword)

	// Stale login: the closing page and the closing POST both send to the login page.
	e.clock.Advance(10 * time.Minute)
	defer e.clock.Advance(-10 * time.Minute)
	p := b.get(e.issuer + "/account/close")
	if !p.isLogin() {
		t.Fatalf("closing page with a stale login: %d %s", p.status, p.url)
	}
	acct := b.get(e.issuer + "/account") // not fresh, still logged in
	if acct.isLogin() {
		t.Fatal("session lost")
	}
	if got := b.postAccount(acct, "/account/close", "confirm", "注销"); !got.isLogin() {
		t.Fatalf("closing POST with a stale login: %d %s, want the login page", got.status, got.url)
	}
	// Log in again: fresh.
	p = b.get(e.issuer + "/account/close")
	action, lv := p.form(t)
	lv.Set("identifier", num)
	lv.Set("password", testPassword)
	p = b.post(action, lv)
	if p.status != http.StatusOK || p.url.Path != "/account/close" || !strings.Contains(p.body, "第四十七条") {
		t.Fatalf("closing page after a fresh login: %d %s", p.status, p.url)
	}
	for _, bad := range []string{"", "关闭", "注 销"} {
		if got := b.submit(p, "/account/close", "confirm", bad); got.status != http.StatusBadRequest || !strings.Contains(got.body, "确认文字不正确") {
			t.Fatalf("confirmation %q: %d", bad, got.status)
		}
	}
	action, vals := formWith(t, p, "/account/close")
	vals.Set("confirm", "注销")
	vals.Del("csrf")
	if got := b.post(action, vals); got.status != http.StatusForbidden {
		t.Fatalf("closing without CSRF: %d", got.status)
	}
	if _, err := e.store.GetPersonByIDNumberIndex(context.Background(), e.kr.BlindIndex(num)); err != nil {
		t.Fatal("a refused closing closed the account")
	}
	got := b.submit(p, "/account/close", "confirm", "注销")
	if got.status != http.StatusOK || !strings.Contains(got.body, "账户已注销") {
		t.Fatalf("closing: %d\n%.1500s", got.status, got.body)
	}
	for _, br := range []*uaBrowser{b, other} {
		if !br.get(e.issuer + "/account").isLogin() {
			t.Error("a session survived the closing")
		}
	}
	if active(e.introspect(r, tok.AccessToken)) || active(e.introspect(r, tok.RefreshToken)) {
		t.Error("the app's tokens survived the closing")
	}
	if lp := b.get(e.issuer + "/account"); !b.loginFails(lp, num, testPassword) {
		t.Error("the closed account can still log in")
	}
	p2, err := e.store.GetPerson(context.Background(), person.ID)
	if err != nil || !p2.Disabled || p2.Name != "" || p2.IDNumberSealed != nil || p2.PhoneSealed != nil || p2.PasswordHash != "" {
		t.Errorf("closed person record: %+v %v", p2, err)
	}
	if c, _ := e.store.ListConsents(context.Background(), person.ID); len(c) != 0 {
		t.Errorf("consents left: %v", c)
	}
	if a := e.audited(t, person.ID, "account.close"); len(a) != 1 {
		t.Errorf("audit %v", a)
	}
}

var consoleCode = regexp.MustCompile(`验证码 ([0-9]{8})`)

// lastCode returns the newest recovery code the console notifier wrote.
func (e *selfEnv) lastCode(t *testing.T) string {
	t.Helper()
	m := consoleCode.FindAllStringSubmatch(e.out.String(), -1)
	if len(m) == 0 {
		t.Fatalf("no code sent; notifier output %q", e.out.String())
	}
	return m[len(m)-1][1]
}

func testSelfRecover(t *testing.T, e *selfEnv) {
	person, num := e.person("冯忘", "13500135000")
	old := e.uaBrowser(uaIPhone)
	old.account(num, testPassword)
	b := e.uaBrowser(uaAndroid)
	// The login page links to recovery.
	lp := b.get(e.issuer + "/account")
	if !strings.Contains(lp.body, `href="account/recover?ui_locales=zh-CN"`) {
		t.Fatal("the login page has no forgot-password link")
	}
	p := b.get(e.issuer + "/account/recover")
	if p.status != http.StatusOK || !strings.Contains(p.body, "找回账户") {
		t.Fatalf("recover page: %d", p.status)
	}
	t.Run("fail/CSRF missing", func(t *testing.T) {
		action, vals := formWith(t, p, "/account/recover")
		vals.Set("identifier", "13500135000")
		vals.Del("csrf")
		if got := b.post(action, vals); got.status != http.StatusForbidden || strings.Contains(e.out.String(), "person "+person.ID) {
			t.Fatalf("without CSRF: %d, sent: %q", got.status, e.out.String())
		}
	})
	codePage := b.submit(p, "/account/recover", "identifier", "135 0013 5000")
	if codePage.status != http.StatusOK || !strings.Contains(codePage.body, `name="code"`) {
		t.Fatalf("code page: %d", codePage.status)
	}
	code := e.lastCode(t)
	if !strings.Contains(e.out.String(), "135****5000") || strings.Contains(e.out.String(), "13500135000") {
		t.Errorf("the console shows the full number or not the masked one: %q", e.out.String())
	}
	wrong := []byte(code)
	wrong[0] = '0' + (wrong[0]-'0'+1)%10
	for _, tc := range []struct {
		name, code, new, rep string
		status               int
		want                 string
	}{
		{"fail/wrong code", string(wrong), selfNewPassword, selfNewPassword, http.StatusUnauthorized, "验证码不正确"},
		{"fail/mismatched confirmation", code, selfNewPassword, selfNewPassword + "x", http.StatusBadRequest, "两次输入的新密码不一致"},
		{"fail/common password", code, "qwertyuiop123", "qwertyuiop123", http.StatusBadRequest, "新密码太常见"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := b.submit(codePage, "/account/recover/finish", "code", tc.code, "new", tc.new, "new2", tc.rep)
			if got.status != tc.status || !strings.Contains(got.body, tc.want) {
				t.Fatalf("status %d, want %d with %q", got.status, tc.status, tc.want)
			}
		})
	}
	t.Run("fail/expired code", func(t *testing.T) {
		e.clock.Advance(accounts.RecoveryCodeLifetime + time.Second)
		t.Cleanup(func() { e.clock.Advance(-accounts.RecoveryCodeLifetime - time.Second) })
		got := b.submit(codePage, "/account/recover/finish", "code", code, "new", selfNewPassword, "new2", selfNewPassword)
		if got.status != http.StatusUnauthorized {
			t.Fatalf("expired code: %d", got.status)
		}
	})
	// A new code, by ID number this time; the old one is dead.
	codePage = b.submit(b.get(e.issuer+"/account/recover"), "/account/recover", "identifier", num)
	code2 := e.lastCode(t)
	if code2 == code {
		t.Fatal("the same code twice")
	}
	got := b.submit(codePage, "/account/recover/finish", "code", code2, "new", selfNewPassword, "new2", selfNewPassword)
	if got.status != http.StatusOK || !strings.Contains(got.body, "新密码已设置") {
		t.Fatalf("finish: %d\n%.1500s", got.status, got.body)
	}
	t.Run("fail/replayed code", func(t *testing.T) {
		got := b.submit(codePage, "/account/recover/finish", "code", code2, "new", selfNewPassword+"2", "new2", selfNewPassword+"2")
		if got.status != http.StatusUnauthorized {
			t.Fatalf("replayed code: %d", got.status)
		}
	})
	if !old.get(e.issuer + "/account").isLogin() {
		t.Error("a session survived the recovery")
	}
	nb := e.uaBrowser(uaAndroid)
	if !nb.loginFails(nb.get(e.issuer+"/account"), num, testPassword) {
		t.Error("the old password still works")
	}
	nb.account(num, selfNewPassword)
	a := strings.Join(e.audited(t, person.ID, "recovery."), " ")
	if a != "recovery.start recovery.failure recovery.failure recovery.start recovery.finish recovery.failure" {
		t.Errorf("audit %s", a)
	}
	if strings.Contains(e.logs.String(), code2) {
		t.Error("a recovery code reached the logs")
	}
}

// testSelfRecoverNoEnumeration: the recovery pages answer an unknown identifier exactly like a
// registered one.
func testSelfRecoverNoEnumeration(t *testing.T, e *selfEnv) {
	_, num := e.person("陈问", "13400134000")
	unknown := residentID(t)
	norm := regexp.MustCompile(`value="[^"]*"`)
	n := 0
	answer := func(id string) (int, string, int, string) {
		n++
		b := e.uaBrowserFrom(uaAndroid, fmt.Sprintf("198.51.100.%d", n))
		p := b.submit(b.get(e.issuer+"/account/recover"), "/account/recover", "identifier", id)
		f := b.submit(p, "/account/recover/finish", "code", "12345678", "new", selfNewPassword, "new2", selfNewPassword)
		strip := func(s string) string {
			return strings.ReplaceAll(norm.ReplaceAllString(s, ""), html.EscapeString(id), "")
		}
		return p.status, strip(p.body), f.status, strip(f.body)
	}
	s1, b1, f1, g1 := answer(num)
	s2, b2, f2, g2 := answer(unknown)
	if s1 != s2 || b1 != b2 || f1 != f2 || g1 != g2 {
		t.Errorf("registered and unknown identifiers answered differently: %d/%d %d/%d", s1, s2, f1, f2)
	}
	// Throttled alike: the fourth code within the hour is refused for both, from any address.
	start := func(id string) int {
		n++
		b := e.uaBrowserFrom(uaAndroid, fmt.Sprintf("198.51.100.%d", n))
		return b.submit(b.get(e.issuer+"/account/recover"), "/account/recover", "identifier", id).status
	}
	for _, id := range []string{num, unknown} {
		for i := 1; i < accounts.RecoveryCodesPerIdentifier; i++ {
			if status := start(id); status != http.StatusOK {
				t.Fatalf("request %d: %d", i+1, status)
			}
		}
		if status := start(id); status != http.StatusTooManyRequests {
			t.Errorf("request %d: %d, want 429", accounts.RecoveryCodesPerIdentifier+1, status)
		}
	}
	// Something that is no identifier at all is asked for again: nothing is sent or counted.
	for _, bad := range []string{"", "   ", "alice", "12345"} {
		b := e.uaBrowserFrom(uaAndroid, "198.51.100.250")
		if p := b.submit(b.get(e.issuer+"/account/recover"), "/account/recover", "identifier", bad); p.status != http.StatusBadRequest ||
			!strings.Contains(p.body, "11 位手机号码") {
			t.Errorf("identifier %q: %d, want 400 asking for an ID number or mobile number", bad, p.status)
		}
	}
}
