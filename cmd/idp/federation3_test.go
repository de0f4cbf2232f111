package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/accounts/accountstest"
	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/cmd/internal/idpserver"
	"github.com/tongban/tongban/federation"
	tboidc "github.com/tongban/tongban/oidc"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// The three-instance federation (issue 8, docs/design/federation.md): a national trust anchor
// and provinces A and B, each a real idp service (idpserver.Open, its own database) on
// 127.0.0.1, configured with the same functions `idp federation …` and `idp upstreams add
// --federation` call; relying parties are go-oidc and x/oauth2 over real HTTP.

func TestThreeInstanceFederationSQLite(t *testing.T) {
	dir := t.TempDir()
	testThreeInstanceFederation(t, func(name string) string { return filepath.Join(dir, name+".db") })
}

func TestThreeInstanceFederationPostgres(t *testing.T) {
	storagetest.SkipUnlessPostgres(t)
	testThreeInstanceFederation(t, func(string) string { return storagetest.PostgresDSN(t) })
}

// fedInstance is one running idp service.
type fedInstance struct {
	name, issuer string
	svc          *idpserver.Service
	store        storage.Storage
}

func startFedInstance(t *testing.T, name, db string) *fedInstance {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := idpserver.DefaultConfig()
	cfg.DB = db
	cfg.KEKFile = filepath.Join(t.TempDir(), "kek")
	cfg.PasswordIterations = 1000
	cfg.Issuer = "http://" + ln.Addr().String()
	svc, err := idpserver.Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	hs := httptest.NewUnstartedServer(svc.Handler)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
	return &fedInstance{name: name, issuer: cfg.Issuer, svc: svc, store: svc.Backend.Store}
}

// jwks is the instance's federation entity keys (its entity configuration's jwks).
func (in *fedInstance) jwks(t *testing.T) []byte {
	t.Helper()
	ec, err := in.svc.OIDC.EntityConfiguration(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ec.JWKS)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (in *fedInstance) audit(t *testing.T, action, subject string) []string {
	t.Helper()
	evs, err := in.store.ListAudit(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		if e.Action == action && (subject == "" || e.Subject == subject) {
			out = append(out, e.Detail)
		}
	}
	return out
}

// leafRP is a relying party of the federation: its own entity configuration (signed with its
// federation key, authority_hints its superior), an ES256 protocol key in its
// openid_relying_party metadata, a back-channel logout endpoint that keeps what it receives.
type leafRP struct {
	t        *testing.T
	id       string // entity ID = client_id
	fedKey   *federation.Signer
	key      *ecdsa.PrivateKey
	hs       *httptest.Server
	superior string
	op       string

	mu      sync.Mutex
	logouts []string
}

func newLeafRP(t *testing.T, superior, op string) *leafRP {
	t.Helper()
	r := &leafRP{t: t, superior: superior, op: op}
	fk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var err error
	if r.fedKey, err = federation.NewSigner(fk, "fed-1"); err != nil {
		t.Fatal(err)
	}
	r.key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	r.hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/.well-known/openid-federation":
			w.Header().Set("Content-Type", "application/entity-statement+jwt")
			_, _ = io.WriteString(w, r.entityConfiguration(r.fedKey))
		case "/backchannel-logout":
			_ = req.ParseForm()
			r.mu.Lock()
			r.logouts = append(r.logouts, req.PostForm.Get("logout_token"))
			r.mu.Unlock()
		default:
			http.NotFound(w, req)
		}
	}))
	t.Cleanup(r.hs.Close)
	r.id = r.hs.URL
	return r
}

func (r *leafRP) redirect() string { return r.id + "/callback" }

// fedJWKS is the JWK Set of the federation key (what the superior vouches for).
func (r *leafRP) fedJWKS(s *federation.Signer) []byte {
	b, _ := json.Marshal(federation.KeySet(s))
	return b
}

func (r *leafRP) entityConfiguration(signer *federation.Signer) string {
	jwk, _ := (&jose.JSONWebKey{Key: &r.key.PublicKey, KeyID: "rp-1", Algorithm: "ES256", Use: "sig"}).MarshalJSON()
	var jwkMap map[string]any
	_ = json.Unmarshal(jwk, &jwkMap)
	now := time.Now().Truncate(time.Second)
	ec := &federation.EntityStatement{Issuer: r.id, Subject: r.id, IssuedAt: now, Expires: now.Add(time.Hour),
		JWKS: federation.KeySet(signer), AuthorityHints: []string{r.superior},
		Metadata: map[string]map[string]any{federation.EntityTypeRP: {
			"client_registration_types": []any{"automatic"}, "client_name": "乙省公积金",
			"redirect_uris": []any{r.redirect()}, "token_endpoint_auth_method": "private_key_jwt",
			"id_token_signed_response_alg": "ES256", "scope": "openid profile",
			"grant_types":            []any{"authorization_code"},
			"backchannel_logout_uri": r.id + "/backchannel-logout", "backchannel_logout_session_required": true,
			"jwks": map[string]any{"keys": []any{jwkMap}},
		}}}
	raw, err := federation.SignEntityStatement(ec, signer)
	if err != nil {
		r.t.Fatal(err)
	}
	return raw
}

type fedAuth struct{ url, state, nonce, verifier string }

// authorize is an authorization request at the OP whose parameters are in a request object
// signed with key; extra adds parameters (idp_hint…).
func (r *leafRP) authorize(key *ecdsa.PrivateKey, extra map[string]any) fedAuth {
	a := fedAuth{state: rand64(), nonce: rand64(), verifier: oauth2.GenerateVerifier()}
	now := time.Now()
	claims := map[string]any{"iss": r.id, "aud": r.op, "client_id": r.id, "jti": rand64(), "iat": now.Unix(),
		"exp": now.Add(2 * time.Minute).Unix(), "response_type": "code", "redirect_uri": r.redirect(),
		"scope": "openid profile", "state": a.state, "nonce": a.nonce,
		"code_challenge": oauth2.S256ChallengeFromVerifier(a.verifier), "code_challenge_method": "S256"}
	for k, v := range extra {
		claims[k] = v
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "rp-1"}},
		(&jose.SignerOptions{}).WithType("oauth-authz-req+jwt"))
	if err != nil {
		r.t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, _ := s.Sign(payload)
	ro, _ := jws.CompactSerialize()
	a.url = r.op + "/authorize?" + url.Values{"client_id": {r.id}, "response_type": {"code"}, "scope": {"openid"},
		"request": {ro}}.Encode()
	return a
}

// redeem exchanges the code at the OP with private_key_jwt and verifies the ID token with
// go-oidc; it returns the ID token's claims and the access token.
func (r *leafRP) redeem(callback *url.URL, a fedAuth) (map[string]any, string) {
	r.t.Helper()
	q := callback.Query()
	if q.Get("error") != "" || q.Get("state") != a.state || q.Get("iss") != r.op {
		r.t.Fatalf("callback %v", q)
	}
	ctx := context.Background()
	prov, err := oidc.NewProvider(ctx, r.op)
	if err != nil {
		r.t.Fatal(err)
	}
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: r.key, KeyID: "rp-1"}}, nil)
	now := time.Now()
	assertion, _ := json.Marshal(map[string]any{"iss": r.id, "sub": r.id, "aud": prov.Endpoint().TokenURL, "jti": rand64(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
	jws, _ := signer.Sign(assertion)
	ca, _ := jws.CompactSerialize()
	oc := oauth2.Config{ClientID: r.id, Endpoint: prov.Endpoint(), RedirectURL: r.redirect()}
	oc.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	tok, err := oc.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(a.verifier),
		oauth2.SetAuthURLParam("client_assertion_type", tboidc.ClientAssertionType), oauth2.SetAuthURLParam("client_assertion", ca))
	if err != nil {
		r.t.Fatalf("token: %v", err)
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: r.id}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil || idt.Nonce != a.nonce {
		r.t.Fatalf("go-oidc: %v (nonce %q)", err, idt.Nonce)
	}
	var claims map[string]any
	_ = idt.Claims(&claims)
	return claims, tok.AccessToken
}

func rand64() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// fedBrowser follows redirects within the three instances and stops at anything else (the
// apps' callbacks); cookies are kept per host and port.
type fedBrowser struct {
	t *testing.T
	c *http.Client
}

type fedPage struct {
	status   int
	url      *url.URL
	location *url.URL
	body     string
}

func newFedBrowser(t *testing.T, instances ...*fedInstance) *fedBrowser {
	jar := &hostPortJar{jars: map[string]*cookiejar.Jar{}}
	return &fedBrowser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		for _, in := range instances {
			if strings.HasPrefix(req.URL.String(), in.issuer+"/") {
				return nil
			}
		}
		return http.ErrUseLastResponse
	}}}
}

func (b *fedBrowser) do(req *http.Request) fedPage {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := fedPage{status: resp.StatusCode, url: resp.Request.URL, body: string(body)}
	if loc := resp.Header.Get("Location"); loc != "" {
		p.location, _ = resp.Request.URL.Parse(loc)
	}
	return p
}

func (b *fedBrowser) get(u string) fedPage {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

// submit posts the first form of p with its inputs, overridden by set.
func (b *fedBrowser) submit(p fedPage, set map[string]string) fedPage {
	b.t.Helper()
	doc, err := html.Parse(strings.NewReader(p.body))
	if err != nil {
		b.t.Fatal(err)
	}
	var form *html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		if form == nil && n.Type == html.ElementNode && n.Data == "form" {
			form = n
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if form == nil {
		b.t.Fatalf("no form at %s (%d):\n%s", p.url, p.status, p.body)
	}
	vals := url.Values{}
	var inputs func(*html.Node)
	inputs = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" {
			vals.Set(htmlAttr(n, "name"), htmlAttr(n, "value"))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			inputs(c)
		}
	}
	inputs(form)
	for k, v := range set {
		vals.Set(k, v)
	}
	action, _ := p.url.Parse(htmlAttr(form, "action"))
	req, _ := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func htmlAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func (p fedPage) isLogin() bool   { return strings.Contains(p.body, `name="password"`) }
func (p fedPage) isConsent() bool { return strings.Contains(p.body, `name="decision"`) }

// through logs in (when asked) and consents (when asked, up to twice) and returns the page
// that left the instances.
func (b *fedBrowser) through(p fedPage, identifier string) fedPage {
	b.t.Helper()
	for range 4 {
		switch {
		case p.isLogin():
			p = b.submit(p, map[string]string{"identifier": identifier, "password": testPassword})
		case p.isConsent():
			p = b.submit(p, map[string]string{"decision": "allow"})
		default:
			return p
		}
	}
	return p
}

type hostPortJar struct {
	mu   sync.Mutex
	jars map[string]*cookiejar.Jar
}

func (j *hostPortJar) jar(u *url.URL) *cookiejar.Jar {
	j.mu.Lock()
	defer j.mu.Unlock()
	c, ok := j.jars[u.Host]
	if !ok {
		c, _ = cookiejar.New(nil)
		j.jars[u.Host] = c
	}
	return c
}

func (j *hostPortJar) SetCookies(u *url.URL, c []*http.Cookie) { j.jar(u).SetCookies(u, c) }
func (j *hostPortJar) Cookies(u *url.URL) []*http.Cookie       { return j.jar(u).Cookies(u) }

var upstreamButton = regexp.MustCompile(`class="button secondary upstream-login" href="([^"]+)"`)

func testThreeInstanceFederation(t *testing.T, db func(name string) string) {
	ctx := context.Background()
	national := startFedInstance(t, "national", db("national"))
	a := startFedInstance(t, "province-a", db("a"))
	b := startFedInstance(t, "province-b", db("b"))
	now := time.Now()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// The national platform vouches for both provinces, with a policy on their apps.
	policy := []byte(`{"openid_relying_party":{"id_token_signed_response_alg":{"one_of":["SGD_SM3_SM2","ES256"]},` +
		`"grant_types":{"subset_of":["authorization_code","refresh_token"]}}}`)
	for _, p := range []*fedInstance{a, b} {
		must(tboidc.AddFederationSubordinate(ctx, national.store, audit.Shell, tboidc.NewFederationSubordinate{EntityID: p.issuer,
			JWKS: p.jwks(t), EntityTypes: []string{"openid_provider", "openid_relying_party", "federation_entity"},
			MetadataPolicy: policy}, now))
		must(tboidc.AddFederationAnchor(ctx, p.store, audit.Shell, national.issuer, national.jwks(t), now))
		must(nil, tboidc.AddAuthorityHint(ctx, p.store, audit.Shell, national.issuer, now))
	}
	// Province B: its app, registered nowhere but as B's subordinate; province A as a
	// federation upstream (no client ID, no secret).
	app := newLeafRP(t, b.issuer, b.issuer)
	must(tboidc.AddFederationSubordinate(ctx, b.store, audit.Shell, tboidc.NewFederationSubordinate{EntityID: app.id,
		JWKS: app.fedJWKS(app.fedKey), EntityTypes: []string{"openid_relying_party"}}, now))
	must(tboidc.AddUpstream(ctx, b.store, b.svc.Backend.Keyring, audit.Shell, tboidc.NewUpstream{ID: "province-a",
		Issuer: a.issuer, Federation: true, Scopes: []string{"openid", "profile", tboidc.ScopeIDNumber},
		IDNumberClaim: tboidc.ClaimIDNumber, TrustedIDNumbers: true, AllowJIT: true, LabelZH: "甲省", LabelEN: "Province A"}, now))
	// Province A: the citizen, and a service of A (an app with a back-channel logout URI and a
	// token-exchange policy for B's API).
	num := accountstest.ResidentID(t)
	acc, err := accounts.New(accounts.Config{Store: a.store, Keyring: a.svc.Backend.Keyring,
		PasswordParams: smcrypto.PasswordParams{Iterations: 1000, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	must(acc.CreatePerson(ctx, accounts.NewPerson{IDNumber: num, Name: "张三", Password: []byte(testPassword)}))
	appARecv := newLeafRP(t, a.issuer, a.issuer) // only its logout endpoint is used
	bAPI := b.issuer + "/api"
	appA, secretA, err := tboidc.CreateClient(ctx, a.store, a.svc.Backend.Keyring, tboidc.NewClient{ID: "a-service",
		Name: "甲省服务", RedirectURIs: []string{"http://127.0.0.1:1/a-callback"}, IDTokenAlg: "ES256", AccessTokenFormat: "jwt",
		GrantTypes: []string{"authorization_code", tboidc.GrantTokenExchange}, Scopes: []string{"openid", "profile"},
		BackchannelLogoutURI: appARecv.id + "/backchannel-logout", BackchannelLogoutSessionRequired: true})
	if err != nil {
		t.Fatal(err)
	}
	must(tboidc.SetExchangePolicy(ctx, a.store, audit.Shell, storage.ExchangePolicy{ClientID: appA.ID, Audience: bAPI,
		Scopes: []string{"openid", "profile"}, MaxLifetime: 5 * time.Minute}))

	// 1. A citizen of A uses B's app, registered only through the federation, and logs in
	// through A: B registers the app from its chain (app → B → national), the login page
	// offers province A, B registers at A from B's chain (B → national) with a request object
	// and redeems A's code with private_key_jwt.
	br := newFedBrowser(t, national, a, b)
	first := app.authorize(app.key, nil)
	pg := br.get(first.url)
	m := upstreamButton.FindStringSubmatch(pg.body)
	if !pg.isLogin() || m == nil {
		t.Fatalf("want B's login page with the province A button, got %d at %s:\n%s", pg.status, pg.url, pg.body)
	}
	start, _ := pg.url.Parse(html.UnescapeString(m[1]))
	pg = br.through(br.get(start.String()), num)
	if pg.location == nil || !strings.HasPrefix(pg.location.String(), app.redirect()) {
		t.Fatalf("want the redirect to B's app, got %d at %s:\n%s", pg.status, pg.url, pg.body)
	}
	claims, _ := app.redeem(pg.location, first)
	if claims["idp"] != a.issuer {
		t.Errorf("B's ID token: idp %v, want %s", claims["idp"], a.issuer)
	}
	for _, c := range []struct {
		in *fedInstance
		id string
	}{{b, app.id}, {a, b.issuer}} {
		reg, err := c.in.store.GetClient(ctx, c.id)
		if err != nil || reg.Source != storage.ClientSourceFederation || reg.TrustAnchor != national.issuer ||
			reg.TokenEndpointAuthMethod != tboidc.AuthPrivateKeyJWT || len(reg.SecretHash) != 0 {
			t.Errorf("%s at %s: %+v, %v", c.id, c.in.name, reg, err)
		}
	}

	// 2. With a live session at A (the citizen uses A's service), B's app gets in with no
	// typing: idp_hint sends B to A with prompt=none.
	br2 := newFedBrowser(t, national, a, b)
	ocA := oauth2.Config{ClientID: appA.ID, ClientSecret: secretA, RedirectURL: appA.RedirectURIs[0], Scopes: []string{"openid", "profile"},
		Endpoint: oauth2.Endpoint{AuthURL: a.issuer + "/authorize", TokenURL: a.issuer + "/token"}}
	verA := oauth2.GenerateVerifier()
	pg = br2.through(br2.get(ocA.AuthCodeURL(rand64(), oauth2.S256ChallengeOption(verA), oidc.Nonce(rand64()))), num)
	if pg.location == nil || pg.location.Query().Get("code") == "" {
		t.Fatalf("A's service login: %d at %s:\n%s", pg.status, pg.url, pg.body)
	}
	tokA, err := ocA.Exchange(ctx, pg.location.Query().Get("code"), oauth2.VerifierOption(verA))
	if err != nil {
		t.Fatal(err)
	}
	silent := app.authorize(app.key, map[string]any{"idp_hint": "province-a"})
	pg = br2.get(silent.url)
	if pg.isLogin() || pg.isConsent() || pg.location == nil {
		t.Fatalf("want no page to type in, got %d at %s:\n%s", pg.status, pg.url, pg.body)
	}
	claims2, _ := app.redeem(pg.location, silent)
	if claims2["sub"] != claims["sub"] {
		t.Errorf("silent login: sub %v, want %v", claims2["sub"], claims["sub"])
	}

	// 3. A service of A exchanges the citizen's token for B's API (RFC 8693); B's API checks
	// it with A's keys from A's trust chain as B resolves it.
	form := url.Values{"grant_type": {tboidc.GrantTokenExchange}, "subject_token": {tokA.AccessToken},
		"subject_token_type": {tboidc.TokenTypeAccessToken}, "audience": {bAPI}}
	req, _ := http.NewRequest(http.MethodPost, a.issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(appA.ID, secretA)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var ex map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&ex)
	resp.Body.Close()
	exchanged, _ := ex["access_token"].(string)
	if resp.StatusCode != 200 || exchanged == "" {
		t.Fatalf("exchange: %d %v", resp.StatusCode, ex)
	}
	res, err := b.svc.OIDC.FederationResolver(ctx)
	if err != nil {
		t.Fatal(err)
	}
	chainA, err := res.Resolve(ctx, a.issuer, federation.EntityTypeOP)
	if err != nil {
		t.Fatalf("B resolves A: %v", err)
	}
	jwksURI, _ := chainA.Metadata["jwks_uri"].(string)
	payload, err := oidc.NewRemoteKeySet(ctx, jwksURI).VerifySignature(ctx, exchanged)
	if err != nil {
		t.Fatalf("B's API: %v", err)
	}
	var at map[string]any
	_ = json.Unmarshal(payload, &at)
	act, _ := at["act"].(map[string]any)
	if at["iss"] != a.issuer || !audContains(at["aud"], bAPI) || act["sub"] != appA.ID {
		t.Errorf("exchanged token at B's API: %v", at)
	}

	// 4. Logout at A reaches A's service and, through B, B's app: the test RPs verify the
	// logout tokens (signature with the OP's keys, iss, aud, the back-channel event, no nonce).
	pg = br2.get(a.issuer + "/logout")
	if pg = br2.submit(pg, nil); pg.status != http.StatusOK {
		t.Fatalf("logout at A: %d %s", pg.status, pg.body)
	}
	if n, err := a.svc.OIDC.DeliverLogouts(ctx); err != nil || n != 2 {
		t.Fatalf("A delivered %d logout tokens (%v), want 2: A's service and B", n, err)
	}
	if n, err := b.svc.OIDC.DeliverLogouts(ctx); err != nil || n != 1 {
		t.Fatalf("B delivered %d logout tokens (%v), want 1: B's app", n, err)
	}
	for _, c := range []struct {
		rp       *leafRP
		op, aud  string
		wantSubj any
	}{{appARecv, a.issuer, appA.ID, nil}, {app, b.issuer, app.id, claims["sub"]}} {
		c.rp.mu.Lock()
		got := slices.Clone(c.rp.logouts)
		c.rp.mu.Unlock()
		if len(got) != 1 {
			t.Fatalf("%s received %d logout tokens", c.aud, len(got))
		}
		checkFedLogoutToken(t, got[0], c.op, c.aud, c.wantSubj)
	}

	// 5. Bad input, each its own refusal at B, nothing registered, audited.
	forged := newLeafRP(t, b.issuer, b.issuer) // B vouches for another key than the one signing its configuration
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherSigner, _ := federation.NewSigner(otherKey, "fed-1")
	must(tboidc.AddFederationSubordinate(ctx, b.store, audit.Shell, tboidc.NewFederationSubordinate{EntityID: forged.id,
		JWKS: forged.fedJWKS(otherSigner), EntityTypes: []string{"openid_relying_party"}}, now))
	stray := newLeafRP(t, b.issuer, b.issuer) // names B as superior; B does not vouch for it (its fetch endpoint answers 404)
	for _, tc := range []struct {
		name, subject, detail, page string
		url                         string
	}{
		{"fail/forged chain", forged.id, "reason=chain chain=signature", "可信联盟确认该应用", forged.authorize(forged.key, nil).url},
		{"fail/chain not reaching the anchor", stray.id, "reason=chain chain=fetch", "可信联盟确认该应用", stray.authorize(stray.key, nil).url},
		{"fail/request object signed with the wrong key", app.id, "reason=signature", "签名无效", app.authorize(otherKey, nil).url},
		{"fail/replayed jti", app.id, "reason=replay", "已使用过", first.url},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := b.store.ListClients(ctx)
			n := len(b.audit(t, "client.federation_refused", tc.subject))
			pg := newFedBrowser(t, national, a, b).get(tc.url)
			if pg.status != http.StatusBadRequest || pg.location != nil || !strings.Contains(pg.body, tc.page) {
				t.Errorf("want the %q page, got %d %v:\n%s", tc.page, pg.status, pg.location, pg.body)
			}
			after, _ := b.store.ListClients(ctx)
			if len(after) != len(before) {
				t.Errorf("%d apps before, %d after", len(before), len(after))
			}
			got := b.audit(t, "client.federation_refused", tc.subject)
			if len(got) != n+1 || got[n] != tc.detail {
				t.Errorf("audit %q, want one more: %q", got, tc.detail)
			}
		})
	}
}

func audContains(aud any, want string) bool {
	switch v := aud.(type) {
	case string:
		return v == want
	case []any:
		return slices.Contains(v, any(want))
	}
	return false
}

// checkFedLogoutToken verifies a logout token as its RP does (Back-Channel Logout 1.0 §2.6):
// signature with the OP's JWKS (go-oidc, ES256 here), iss, aud, the event, no nonce, sid.
func checkFedLogoutToken(t *testing.T, raw, op, aud string, sub any) {
	t.Helper()
	ctx := context.Background()
	prov, err := oidc.NewProvider(ctx, op)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := prov.Verifier(&oidc.Config{ClientID: aud, SkipExpiryCheck: true}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("logout token for %s: %v", aud, err)
	}
	var c map[string]any
	_ = tok.Claims(&c)
	ev, _ := c["events"].(map[string]any)
	if _, ok := ev[tboidc.EventBackchannelLogout]; !ok || c["nonce"] != nil || c["sid"] == nil || (sub != nil && c["sub"] != sub) {
		t.Errorf("logout token for %s: %v", aud, c)
	}
	_ = fmt.Sprint
}
