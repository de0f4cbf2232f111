package oidc_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/keyring"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// tamperer sits between province B and province A's token endpoint and may rewrite the ID
// token of the answer (the bad-input cases).
type tamperer struct {
	base http.RoundTripper
	mu   sync.Mutex
	fn   func(raw string) string
}

func (tp *tamperer) set(fn func(string) string) { tp.mu.Lock(); tp.fn = fn; tp.mu.Unlock() }

func (tp *tamperer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := tp.base.RoundTrip(req)
	tp.mu.Lock()
	fn := tp.fn
	tp.mu.Unlock()
	if err != nil || fn == nil || !strings.HasSuffix(req.URL.Path, "/token") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	m["id_token"] = fn(m["id_token"].(string))
	body, _ = json.Marshal(m)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// brokerPair is two tongban instances: province A (the upstream) and province B, which
// brokers logins to A for its app.
type brokerPair struct {
	t      testing.TB
	a, b   *env
	tamper *tamperer
	app    *rp // B's app
	appA   *rp // an app of A
}

const upstreamID = "province-a"

func newBrokerPair(t testing.TB, alg string, configure func(*storage.Upstream)) *brokerPair {
	t.Helper()
	return newBrokerPairOn(t, storagetest.SQLite(t), storagetest.SQLite(t), alg, configure, nil)
}

// newBrokerPairOn is newBrokerPair on the stores sa (A) and sb (B), with mutateA applied to
// A's configuration.
func newBrokerPairOn(t testing.TB, sa, sb storage.Storage, alg string, configure func(*storage.Upstream), mutateA func(*tboidc.Config)) *brokerPair {
	t.Helper()
	ctx := context.Background()
	a := newEnv(t, sa, envOptions{mutate: mutateA})
	tam := &tamperer{base: a.hs.Client().Transport}
	b := newEnv(t, sb, envOptions{mutate: func(c *tboidc.Config) {
		c.UpstreamHTTPClient = &http.Client{Transport: tam, Timeout: 10 * time.Second}
	}})
	c, secret, err := tboidc.CreateClient(ctx, a.store, a.kr, tboidc.NewClient{ID: "province-b", Name: "乙省政务服务",
		RedirectURIs: []string{tboidc.UpstreamRedirectURI(b.issuer)}, IDTokenAlg: alg,
		Scopes: []string{"openid", "profile", tboidc.ScopeIDNumber}})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := b.kr.SealField([]byte(secret), tboidc.UpstreamSecretAAD(upstreamID))
	if err != nil {
		t.Fatal(err)
	}
	u := storage.Upstream{ID: upstreamID, Issuer: a.issuer, ClientID: c.ID, ClientSecretSealed: sealed,
		Scopes: []string{"openid", "profile", tboidc.ScopeIDNumber}, IDNumberClaim: tboidc.ClaimIDNumber,
		TrustedIDNumbers: true, ACRMap: map[string]string{tboidc.ACRMultiFactor: tboidc.ACRMultiFactor},
		LabelZH: "甲省", LabelEN: "Province A", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if configure != nil {
		configure(&u)
	}
	if err := b.store.CreateUpstream(ctx, u); err != nil {
		t.Fatal(err)
	}
	return &brokerPair{t: t, a: a, b: b, tamper: tam, app: b.newRP(tboidc.NewClient{}), appA: a.newRP(tboidc.NewClient{})}
}

// browser follows redirects within A and B and stops at any other host (the apps).
func (p *brokerPair) browser() *browser {
	c := &http.Client{Transport: p.a.hs.Client().Transport, Jar: &portJar{},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			u := req.URL.String()
			if strings.HasPrefix(u, p.a.issuer) || strings.HasPrefix(u, p.b.issuer) {
				return nil
			}
			return http.ErrUseLastResponse
		}}
	return &browser{t: p.t, e: p.b, c: c}
}

var upstreamButtonRE = regexp.MustCompile(`class="button secondary upstream-login" href="([^"]+)"`)

// startAtB opens B's app's authorization request and clicks "log in with province A"; it
// returns A's login page.
func (p *brokerPair) startAtB(br *browser, a authRequest) page {
	p.t.Helper()
	pg := br.get(a.url)
	if !pg.isLogin() || !strings.Contains(pg.body, "用 甲省 登录") {
		p.t.Fatalf("want B's login page with the province A button, got %d at %s:\n%s", pg.status, pg.url, pg.body)
	}
	m := upstreamButtonRE.FindStringSubmatch(pg.body)
	if m == nil {
		p.t.Fatal("no upstream button")
	}
	u, _ := pg.url.Parse(html.UnescapeString(m[1]))
	pg = br.get(u.String())
	if !pg.isLogin() || !strings.HasPrefix(pg.url.String(), p.a.issuer) {
		p.t.Fatalf("want A's login page, got %d at %s:\n%s", pg.status, pg.url, pg.body)
	}
	return pg
}

// finish logs in at A (when pg is A's login page), consents at A and at B as asked and
// returns the last page (the redirect to B's app, or an error page).
func (p *brokerPair) finish(br *browser, pg page, identifier string) page {
	p.t.Helper()
	if pg.isLogin() {
		pg = br.login(pg, identifier, testPassword)
	}
	for range 2 {
		if pg.isConsent() {
			pg = br.consent(pg, "allow")
		}
	}
	return pg
}

// appLogin checks the redirect to B's app and redeems the code; it returns the ID token's
// claims.
func (p *brokerPair) appLogin(pg page, a authRequest) map[string]any {
	p.t.Helper()
	q := pg.callback(p.t)
	if q.Get("error") != "" || q.Get("state") != a.state {
		p.t.Fatalf("callback %v", q)
	}
	tok, err := p.app.exchange(q.Get("code"), a.verifier)
	if err != nil {
		p.t.Fatal(err)
	}
	_, claims := p.app.verify(tok.Extra("id_token").(string), a.nonce)
	return claims
}

func (p *brokerPair) links(personID string) []storage.UpstreamLink {
	p.t.Helper()
	l, err := p.b.store.ListUpstreamLinks(context.Background(), personID)
	if err != nil {
		p.t.Fatal(err)
	}
	return l
}

// audited reports whether B's audit log has an event with action whose detail contains detail.
func (p *brokerPair) audited(action, detail string) bool {
	p.t.Helper()
	evs, err := p.b.store.ListAudit(context.Background(), 0, 1000)
	if err != nil {
		p.t.Fatal(err)
	}
	return slices.ContainsFunc(evs, func(e storage.AuditEvent) bool {
		return e.Action == action && strings.Contains(e.Detail, detail)
	})
}

func (p *brokerPair) localPerson(num string) storage.Person {
	p.t.Helper()
	per, err := p.b.accounts.CreatePerson(context.Background(), accounts.NewPerson{IDNumber: num, Name: "张三", Password: []byte(testPassword)})
	if err != nil {
		p.t.Fatal(err)
	}
	return per
}

// TestBrokeredLogin: a citizen of province A logs in to an app of province B through B's
// "log in with province A" button; A's ID token (SGD_SM3_SM2 and ES256) is verified and the
// subject auto-linked by ID number (trusted upstream). A second login needs no link, and with a
// live session at A, idp_hint gets the citizen in without typing; without one, the silent
// attempt falls back to B's login page.
func TestBrokeredLogin(t *testing.T) {
	for _, alg := range []string{tboidc.AlgSM2, tboidc.AlgES256} {
		t.Run(alg, func(t *testing.T) {
			p := newBrokerPair(t, alg, nil)
			_, num := p.a.person("张三", "")
			local := p.localPerson(num)

			br := p.browser()
			a := p.app.authURL()
			claims := p.appLogin(p.finish(br, p.startAtB(br, a), num), a)
			if claims["idp"] != p.a.issuer {
				t.Errorf("idp = %v, want %s", claims["idp"], p.a.issuer)
			}
			amr, _ := claims["amr"].([]any)
			if !slices.Contains(amr, any("fed")) || !slices.Contains(amr, any("pwd")) {
				t.Errorf("amr = %v, want pwd and fed", claims["amr"])
			}
			if claims["acr"] != tboidc.ACRPassword {
				t.Errorf("acr = %v, want %s (unknown upstream acr maps to the lowest)", claims["acr"], tboidc.ACRPassword)
			}
			if claims["sub"] != local.ID {
				t.Errorf("sub = %v, want the local person %s", claims["sub"], local.ID)
			}
			links := p.links(local.ID)
			if len(links) != 1 || links[0].UpstreamID != upstreamID {
				t.Fatalf("links = %+v", links)
			}
			if !p.audited("upstream.link", "how=auto") || !p.audited("login.upstream", "upstream="+upstreamID) {
				t.Error("link or login not audited")
			}

			// No re-entry: a session at A (an app of A), then B's app with idp_hint.
			br2 := p.browser()
			p.appA.login(t, &browser{t: t, e: p.a, c: br2.c}, num)
			a2 := p.app.authURL(oauth2.SetAuthURLParam("idp_hint", upstreamID))
			pg := br2.get(a2.url)
			if pg.isLogin() || pg.isConsent() {
				t.Fatalf("want no page to type in, got %s:\n%s", pg.url, pg.body)
			}
			if claims := p.appLogin(pg, a2); claims["sub"] != local.ID || claims["idp"] != p.a.issuer {
				t.Errorf("silent login claims %v", claims)
			}

			// Without a session at A: prompt=none at A answers login_required; B's login page.
			br3 := p.browser()
			pg = br3.get(p.app.authURL(oauth2.SetAuthURLParam("idp_hint", upstreamID)).url)
			if !pg.isLogin() || !strings.HasPrefix(pg.url.String(), p.b.issuer) {
				t.Fatalf("want B's login page after login_required, got %d at %s", pg.status, pg.url)
			}
		})
	}
}

// TestBrokeredLoginJIT: a trusted upstream with just-in-time creation makes the local person.
func TestBrokeredLoginJIT(t *testing.T) {
	p := newBrokerPair(t, tboidc.AlgES256, func(u *storage.Upstream) { u.AllowJIT = true })
	_, num := p.a.person("李四", "")
	br := p.browser()
	a := p.app.authURL()
	claims := p.appLogin(p.finish(br, p.startAtB(br, a), num), a)
	per, err := p.b.store.GetPersonByIDNumberIndex(context.Background(), p.b.kr.BlindIndex(num))
	if err != nil {
		t.Fatalf("no person created just in time: %v", err)
	}
	if claims["sub"] != per.ID || len(p.links(per.ID)) != 1 {
		t.Errorf("sub %v, person %s, links %v", claims["sub"], per.ID, p.links(per.ID))
	}

	// Without JIT, a trusted upstream's unknown citizen is refused and nothing is made.
	q := newBrokerPair(t, tboidc.AlgES256, nil)
	_, num2 := q.a.person("王五", "")
	br = q.browser()
	pg := q.finish(br, q.startAtB(br, q.app.authURL()), num2)
	if pg.status != http.StatusBadRequest || !strings.Contains(pg.body, "本站没有与该身份对应的账号") {
		t.Fatalf("want the no-account page, got %d:\n%s", pg.status, pg.body)
	}
	if _, err := q.b.store.GetPersonByIDNumberIndex(context.Background(), q.b.kr.BlindIndex(num2)); err == nil {
		t.Error("a person was created without JIT")
	}
}

// TestBrokeredLoginUntrusted: an upstream not trusted for ID numbers links only after one
// local login; the next brokered login needs none.
func TestBrokeredLoginUntrusted(t *testing.T) {
	p := newBrokerPair(t, tboidc.AlgSM2, func(u *storage.Upstream) { u.TrustedIDNumbers = false })
	_, num := p.a.person("赵六", "")
	local := p.localPerson(num)
	br := p.browser()
	a := p.app.authURL()
	pg := p.finish(br, p.startAtB(br, a), num)
	if !pg.isLogin() || !strings.HasPrefix(pg.url.String(), p.b.issuer) || !strings.Contains(pg.body, "以关联两个账号") {
		t.Fatalf("want B's login page asking for one local login, got %d at %s:\n%s", pg.status, pg.url, pg.body)
	}
	if len(p.links(local.ID)) != 0 {
		t.Fatal("linked before the local login")
	}
	pg = br.login(pg, num, testPassword)
	if pg.isConsent() {
		pg = br.consent(pg, "allow")
	}
	p.appLogin(pg, a)
	if l := p.links(local.ID); len(l) != 1 || !p.audited("upstream.link", "how=local_login") {
		t.Fatalf("links after the local login: %v", l)
	}
	// Next time: A's login only.
	br2 := p.browser()
	a2 := p.app.authURL()
	if claims := p.appLogin(p.finish(br2, p.startAtB(br2, a2), num), a2); claims["sub"] != local.ID {
		t.Errorf("sub = %v", claims["sub"])
	}

	// The account page lists the link; its remove button unlinks (audited).
	pg = br2.get(p.b.issuer + "/account")
	if !strings.Contains(pg.body, "关联账号") || !strings.Contains(pg.body, "甲省") {
		t.Fatalf("account page without the link:\n%s", pg.body)
	}
	m := linkRemoveRE.FindStringSubmatch(pg.body)
	if m == nil {
		t.Fatalf("no remove form:\n%s", pg.body)
	}
	pg = br2.post(p.b.issuer+"/account/upstreams/remove?ui_locales=zh-CN", url.Values{"csrf": {m[1]}, "upstream": {upstreamID},
		"subject": {html.UnescapeString(m[2])}})
	if !strings.Contains(pg.body, "已取消关联") || len(p.links(local.ID)) != 0 || !p.audited("upstream.unlink", "upstream="+upstreamID) {
		t.Fatalf("unlink: %d links left, page:\n%s", len(p.links(local.ID)), pg.body)
	}
}

var linkRemoveRE = regexp.MustCompile(`name="csrf" value="([^"]+)"><input type="hidden" name="upstream" value="province-a"><input type="hidden" name="subject" value="([^"]+)"`)

// resign returns a function that rewrites an ID token's claims with mod and signs it again
// with province A's ES256 key (a valid signature over wrong claims).
func (p *brokerPair) resign(mod func(map[string]any)) func(string) string {
	key, err := p.a.kr.Active(context.Background(), storage.PurposeIDToken, keyring.AlgES256)
	if err != nil {
		p.t.Fatal(err)
	}
	return func(raw string) string {
		parts := strings.Split(raw, ".")
		js, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c map[string]any
		_ = json.Unmarshal(js, &c)
		mod(c)
		js, _ = json.Marshal(c)
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key.Signer, KeyID: key.ID}}, nil)
		if err != nil {
			p.t.Fatal(err)
		}
		jws, err := s.Sign(js)
		if err != nil {
			p.t.Fatal(err)
		}
		out, _ := jws.CompactSerialize()
		return out
	}
}

// unsigned returns a token with header alg and the original payload, signed with sign.
func unsigned(alg string, sign func(string) string) func(string) string {
	return func(raw string) string {
		parts := strings.Split(raw, ".")
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + alg + `","typ":"JWT"}`))
		return h + "." + parts[1] + "." + sign(h+"."+parts[1])
	}
}

// flipChar changes the character at i (from the end when negative) of part n of a compact JWS.
func flipChar(n, i int) func(string) string {
	return func(raw string) string {
		parts := strings.Split(raw, ".")
		b := []byte(parts[n])
		if i < 0 {
			i += len(b)
		}
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		parts[n] = string(b)
		return strings.Join(parts, ".")
	}
}

// badCheckChar replaces the ID number's check character with a wrong one.
func badCheckChar(num string) string {
	last := num[17]
	for _, c := range "0123456789X" {
		if byte(c) != last {
			return num[:17] + string(c)
		}
	}
	return num
}

// TestBrokeredLoginRefusals: every forged or wrong upstream answer gets its own error page,
// nothing is linked or logged in, and the refusal is audited with its reason.
func TestBrokeredLoginRefusals(t *testing.T) {
	for _, alg := range []string{tboidc.AlgSM2, tboidc.AlgES256} {
		t.Run(alg, func(t *testing.T) {
			p := newBrokerPair(t, alg, nil)
			_, num := p.a.person("孙七", "")
			local := p.localPerson(num)
			now := time.Now()
			for _, tc := range []struct {
				name, reason, msg string
				tamper            func(string) string
			}{
				{"fail/signature byte", "signature", "签名无效", flipChar(2, 10)},
				{"fail/payload byte", "signature", "签名无效", flipChar(1, 20)},
				{"fail/alg none", "alg", "不允许的签名算法", unsigned("none", func(string) string { return "" })},
				{"fail/alg HS256", "alg", "不允许的签名算法", unsigned("HS256", func(in string) string {
					m := hmac.New(sha256.New, []byte("guessed"))
					m.Write([]byte(in))
					return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
				})},
				{"fail/wrong iss", "iss", "不是由所选的身份提供方签发", p.resign(func(c map[string]any) { c["iss"] = "https://evil.example" })},
				{"fail/wrong aud", "aud", "不是签发给本站", p.resign(func(c map[string]any) { c["aud"] = "another-app" })},
				{"fail/wrong azp", "aud", "不是签发给本站", p.resign(func(c map[string]any) {
					c["aud"] = []string{"province-b", "another-app"}
					c["azp"] = "another-app"
				})},
				{"fail/wrong nonce", "nonce", "与本次登录请求不匹配", p.resign(func(c map[string]any) { c["nonce"] = "replayed-nonce" })},
				{"fail/no nonce", "nonce", "与本次登录请求不匹配", p.resign(func(c map[string]any) { delete(c, "nonce") })},
				{"fail/expired", "expired", "已过期", p.resign(func(c map[string]any) {
					c["exp"], c["iat"] = now.Add(-2*time.Hour).Unix(), now.Add(-3*time.Hour).Unix()
				})},
				{"fail/issued in the future", "expired", "已过期", p.resign(func(c map[string]any) { c["iat"] = now.Add(time.Hour).Unix() })},
				{"fail/ID number check character", "id_number", "身份证号码校验不通过", p.resign(func(c map[string]any) {
					c["id_number"] = badCheckChar(c["id_number"].(string))
				})},
			} {
				t.Run(tc.name, func(t *testing.T) {
					p.tamper.set(tc.tamper)
					defer p.tamper.set(nil)
					br := p.browser()
					pg := p.finish(br, p.startAtB(br, p.app.authURL()), num)
					if pg.status != http.StatusBadRequest || !strings.Contains(pg.body, tc.msg) {
						t.Fatalf("want 400 with %q, got %d at %s:\n%s", tc.msg, pg.status, pg.url, pg.body)
					}
					if l := p.links(local.ID); len(l) != 0 {
						t.Fatalf("linked: %v", l)
					}
					if !p.audited("upstream.refused", "reason="+tc.reason) {
						t.Errorf("refusal not audited with reason=%s", tc.reason)
					}
					if p.audited("login.upstream", "") {
						t.Error("logged in")
					}
				})
			}
		})
	}
}

// TestBrokeredLoginState: a callback without this browser's flow cookie, and a callback
// replayed with the cookie, are refused as state errors; nothing is linked.
func TestBrokeredLoginState(t *testing.T) {
	p := newBrokerPair(t, tboidc.AlgES256, nil)
	_, num := p.a.person("周八", "")
	local := p.localPerson(num)
	br := p.browser()
	pg := p.startAtB(br, p.app.authURL())
	// Stop at the redirect back to B's callback.
	br.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.Contains(req.URL.Path, "/upstream/callback") {
			return http.ErrUseLastResponse
		}
		return nil
	}
	pg = br.login(pg, num, testPassword)
	if pg.isConsent() {
		pg = br.consent(pg, "allow")
	}
	if !strings.Contains(pg.location, "/upstream/callback") {
		t.Fatalf("want the redirect to B's callback, got %d %s", pg.status, pg.location)
	}
	callback := pg.location
	bURL, _ := url.Parse(p.b.issuer)
	saved := br.c.Jar.Cookies(bURL)

	// Another browser (an attacker's link): no flow cookie.
	other := p.browser()
	if pg := other.get(callback); pg.status != http.StatusBadRequest || !strings.Contains(pg.body, "登录响应无效或已使用过") {
		t.Fatalf("callback without the flow cookie: %d\n%s", pg.status, pg.body)
	}
	// The real browser: succeeds once.
	br.c.CheckRedirect = p.browser().c.CheckRedirect
	pg = br.get(callback)
	if pg.isConsent() {
		pg = br.consent(pg, "allow")
	}
	if pg.callback(t).Get("code") == "" {
		t.Fatal("no code")
	}
	// Replayed with the same cookie: refused.
	replay := p.browser()
	replay.c.Jar.SetCookies(bURL, saved)
	if pg := replay.get(callback); pg.status != http.StatusBadRequest || !strings.Contains(pg.body, "登录响应无效或已使用过") {
		t.Fatalf("replayed callback: %d\n%s", pg.status, pg.body)
	}
	if !p.audited("upstream.refused", "reason=state") {
		t.Error("state refusal not audited")
	}
	if n := len(p.links(local.ID)); n != 1 {
		t.Errorf("links = %d, want the one of the successful login", n)
	}
}

// portJar keeps cookies per host and port: browsers scope cookies by host only, and both
// provinces run on 127.0.0.1 in this test, so one jar per origin stands in for two hosts.
type portJar struct {
	mu   sync.Mutex
	jars map[string]*cookiejar.Jar
}

func (j *portJar) jar(u *url.URL) *cookiejar.Jar {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.jars == nil {
		j.jars = map[string]*cookiejar.Jar{}
	}
	c, ok := j.jars[u.Host]
	if !ok {
		c, _ = cookiejar.New(nil)
		j.jars[u.Host] = c
	}
	return c
}

func (j *portJar) SetCookies(u *url.URL, cookies []*http.Cookie) { j.jar(u).SetCookies(u, cookies) }
func (j *portJar) Cookies(u *url.URL) []*http.Cookie             { return j.jar(u).Cookies(u) }
