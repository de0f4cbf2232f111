package oidc_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/tongban/tongban/audit"
	tboidc "github.com/tongban/tongban/oidc"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/sm-crypto/smjose"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// App lifecycle end to end (docs/design/app-management.md): registration with an initial
// access token (RFC 7591), review, RFC 7592 management, suspension, secret rotation and
// private_key_jwt, over real HTTPS with go-oidc and x/oauth2. Each backend gets its own
// provider (the cases move its clock).

func TestAppLifecycleSQLite(t *testing.T) {
	runAppSuite(t, storagetest.SQLite(t))
}

func TestAppLifecyclePostgres(t *testing.T) {
	runAppSuite(t, storagetest.Postgres(t))
}

func runAppSuite(t *testing.T, store storage.Storage) {
	e := newEnv(t, store, envOptions{})
	for _, tc := range []struct {
		name string
		test func(*testing.T, *env)
	}{
		{"ok/discovery-advertises-registration", testAppDiscovery},
		{"ok/register-review-login-change-delete", testAppRegistration},
		{"fail/registration-metadata", testAppRegistrationErrors},
		{"ok/suspend-and-resume", testAppSuspend},
		{"ok/private-key-jwt", testAppPrivateKeyJWT},
		{"fail/lifecycle-transitions", testAppTransitions},
		{"ok/secret-rotation-overlap", testAppSecretRotation}, // last: it moves the clock
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			tc.test(t, e)
		})
	}
}

// call sends a JSON (or empty) request with an optional bearer token and returns status,
// decoded JSON object (nil when none) and raw body.
func (e *env) call(method, u, bearer string, body any) (int, map[string]any, string) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, u, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := e.hs.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, string(raw)
}

// iat issues an initial access token for department.
func (e *env) iat(department string) string {
	e.t.Helper()
	tok, exp, err := tboidc.IssueInitialAccessToken(context.Background(), e.store, e.kr, audit.Shell, department, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	if !strings.HasPrefix(tok, "tb_iat_") || exp.Before(time.Now()) {
		e.t.Fatalf("IssueInitialAccessToken = %q, %v", tok, exp)
	}
	return tok
}

// rpFor is an rp for an app registered some other way than newRP.
func (e *env) rpFor(id, secret, redirect string) *rp {
	e.t.Helper()
	provider, err := oidc.NewProvider(e.ctx, e.issuer)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := e.store.GetClient(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return &rp{e: e, client: c, secret: secret, provider: provider, redirect: redirect, oauth: oauth2.Config{
		ClientID: id, ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: redirect,
		Scopes: []string{oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess},
	}}
}

// refusedPage checks that an authorization request gets the app-state page, not a redirect.
func refusedPage(t *testing.T, p page, want string) {
	t.Helper()
	if p.status != http.StatusForbidden || p.location != "" || !strings.Contains(p.body, want) {
		t.Fatalf("want a 403 page saying %q, got %d (Location %q):\n%s", want, p.status, p.location, p.body)
	}
}

// auditHas reports whether the audit log has an entry of action for subject.
func (e *env) auditHas(action, subject, detailPart string) bool {
	e.t.Helper()
	events, err := e.store.QueryAudit(context.Background(), storage.AuditQuery{Action: action, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, ev := range events {
		if ev.Action == action && ev.Subject == subject && strings.Contains(ev.Detail, detailPart) {
			return true
		}
	}
	return false
}

func testAppDiscovery(t *testing.T, e *env) {
	_, doc, _ := e.call("GET", e.issuer+"/.well-known/openid-configuration", "", nil)
	if doc["registration_endpoint"] != e.issuer+"/register" {
		t.Errorf("registration_endpoint = %v", doc["registration_endpoint"])
	}
	methods, _ := doc["token_endpoint_auth_methods_supported"].([]any)
	algs, _ := doc["token_endpoint_auth_signing_alg_values_supported"].([]any)
	if !slices.Contains(methods, any("private_key_jwt")) || !slices.Contains(algs, any("SGD_SM3_SM2")) || !slices.Contains(algs, any("ES256")) {
		t.Errorf("methods %v, algs %v", methods, algs)
	}
}

func testAppRegistration(t *testing.T, e *env) {
	ctx := context.Background()
	_, num := e.person("审核", "")
	iat := e.iat("gongan")
	redirect, newRedirect := "http://127.0.0.1:47001/callback", "http://127.0.0.1:47001/new-callback"
	status, reg, raw := e.call("POST", e.issuer+"/register", iat, map[string]any{
		"redirect_uris": []string{redirect}, "client_name": "户籍办理", "scope": "openid profile offline_access",
		"grant_types": []string{"authorization_code", "refresh_token"}, "logo_uri": "https://hj.example.gov.cn/logo.png",
		"software_id": "ignored-by-the-server", "backchannel_logout_uri": "http://127.0.0.1:47001/backchannel-logout",
		"backchannel_logout_session_required": true,
	})
	if status != http.StatusCreated {
		t.Fatalf("register: %d %s", status, raw)
	}
	id, _ := reg["client_id"].(string)
	secret, _ := reg["client_secret"].(string)
	rat, _ := reg["registration_access_token"].(string)
	if id == "" || secret == "" || !strings.HasPrefix(rat, "tb_rat_") || reg["registration_client_uri"] != e.issuer+"/register/"+id ||
		reg["client_id_issued_at"] == nil || reg["status"] != "pending_review" || reg["department"] != "gongan" ||
		reg["client_name"] != "户籍办理" || reg["token_endpoint_auth_method"] != "client_secret_basic" ||
		reg["backchannel_logout_uri"] != "http://127.0.0.1:47001/backchannel-logout" || reg["backchannel_logout_session_required"] != true {
		t.Fatalf("registration response %s", raw)
	}
	if _, has := reg["software_id"]; has {
		t.Error("unknown metadata echoed")
	}
	if !e.auditHas("client.register", id, "department=gongan") {
		t.Error("registration not audited")
	}
	// The initial access token was single use.
	if status, out, _ := e.call("POST", e.issuer+"/register", iat, map[string]any{"redirect_uris": []string{redirect}}); status != 401 || out["error"] != "invalid_token" {
		t.Errorf("second use of the initial access token: %d %v", status, out)
	}

	// Waiting for review: a clear page, never a redirect; the token endpoint refuses it.
	r := e.rpFor(id, secret, redirect)
	b := e.browser()
	refusedPage(t, b.get(r.authURL().url), "等待平台审核")
	refusedPage(t, b.get(r.authURL(oauth2.SetAuthURLParam("ui_locales", "en")).url), "waiting for review")
	if status, out := e.postForm("/token", id, secret, url.Values{"grant_type": {"client_credentials"}}); status != 401 || out["error"] != "invalid_client" ||
		!strings.Contains(fmt.Sprint(out["error_description"]), "pending review") {
		t.Errorf("token endpoint for a pending app: %d %v", status, out)
	}

	// A reviewer approves it: go-oidc + x/oauth2 log in.
	if err := tboidc.ApproveClient(ctx, e.store, audit.Actor{ID: "reviewer-1", Role: "reviewer", Address: "10.0.0.1"}, id); err != nil {
		t.Fatal(err)
	}
	if !e.auditHas("client.approve", id, "role=reviewer from=10.0.0.1 state=pending_review->published") {
		t.Error("approval not audited with its actor")
	}
	a := r.authURL()
	tok, err := r.exchange(b.signIn(a, num), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	r.verify(tok.Extra("id_token").(string), a.nonce)

	// RFC 7592 read: with the registration access token only; a wrong token and an unknown
	// client get the same answer.
	regURI := e.issuer + "/register/" + id
	status, info, raw := e.call("GET", regURI, rat, nil)
	if status != 200 || info["status"] != "published" || info["client_secret"] != nil || info["registration_access_token"] != nil {
		t.Fatalf("read: %d %s", status, raw)
	}
	wrong := []byte(rat)
	wrong[len(wrong)-1] ^= 1
	s1, _, body1 := e.call("GET", regURI, string(wrong), nil)
	s2, _, body2 := e.call("GET", e.issuer+"/register/no-such-app", rat, nil)
	s3, _, _ := e.call("GET", regURI, "", nil)
	if s1 != 401 || s2 != 401 || s3 != 401 || body1 != body2 {
		t.Errorf("bad registration tokens: %d %d %d, %q vs %q", s1, s2, s3, body1, body2)
	}

	// RFC 7592 update of a published app: the new redirect URI waits for review, the old one
	// keeps working.
	status, info, raw = e.call("PUT", regURI, rat, map[string]any{
		"client_id": id, "redirect_uris": []string{newRedirect}, "client_name": "户籍办理",
		"scope": "openid profile offline_access", "grant_types": []string{"authorization_code", "refresh_token"},
	})
	if status != 200 || info["pending_change"] == nil || !slices.Contains(info["redirect_uris"].([]any), any(redirect)) {
		t.Fatalf("update: %d %s", status, raw)
	}
	r.login(t, b, num)
	rNew := e.rpFor(id, secret, newRedirect)
	if p := b.get(rNew.authURL().url); p.status != 400 || p.location != "" {
		t.Errorf("a redirect URI waiting for review was used: %d %q", p.status, p.location)
	}
	if err := tboidc.ApproveClient(ctx, e.store, audit.Shell, id); err != nil {
		t.Fatal(err)
	}
	rNew.login(t, b, num)
	if p := b.get(r.authURL().url); p.status != 400 || p.location != "" {
		t.Errorf("the replaced redirect URI still works: %d %q", p.status, p.location)
	}
	// The PUT omitted logo_uri: replaced by nothing (RFC 7592 §2.2), now that it is approved.
	if c, _ := e.store.GetClient(ctx, id); c.PendingChange != nil || c.LogoURI != "" || c.Name != "户籍办理" {
		t.Errorf("after approval: pending %s, logo %q, name %q", c.PendingChange, c.LogoURI, c.Name)
	}
	// An invalid change is refused and loses nothing.
	if status, out, _ := e.call("PUT", regURI, rat, map[string]any{"client_id": id, "redirect_uris": []string{"http://evil.example/cb"}}); status != 400 || out["error"] != "invalid_redirect_uri" {
		t.Errorf("invalid update: %d %v", status, out)
	}
	if status, out, _ := e.call("PUT", regURI, rat, map[string]any{"client_id": id, "redirect_uris": []string{newRedirect}, "token_endpoint_auth_method": "none"}); status != 400 || out["error"] != "invalid_client_metadata" {
		t.Errorf("auth method change: %d %v", status, out)
	}

	// RFC 7592 delete: retired for good.
	if status, _, raw := e.call("DELETE", regURI, rat, nil); status != 204 {
		t.Fatalf("delete: %d %s", status, raw)
	}
	if status, _, _ := e.call("GET", regURI, rat, nil); status != 401 {
		t.Errorf("read after delete: %d", status)
	}
	refusedPage(t, b.get(rNew.authURL().url), "已停止服务")
	if _, err := tboidc.RotateClientSecret(ctx, e.store, e.kr, audit.Shell, id, 0); !errors.Is(err, tboidc.ErrClientRetired) {
		t.Errorf("rotate a retired app: %v", err)
	}
}

func testAppRegistrationErrors(t *testing.T, e *env) {
	iat := e.iat("shebao")
	for _, tc := range []struct {
		name      string
		body      any
		wantError string
		wantDesc  string
	}{
		{"http redirect", map[string]any{"redirect_uris": []string{"http://app.example.gov.cn/cb"}}, "invalid_redirect_uri", "redirect URI"},
		{"no redirect", map[string]any{"client_name": "x"}, "invalid_redirect_uri", "at least one redirect URI"},
		{"implicit", map[string]any{"redirect_uris": []string{"https://a.example.gov.cn/cb"}, "grant_types": []string{"implicit"}}, "invalid_client_metadata", "implicit"},
		{"token response type", map[string]any{"redirect_uris": []string{"https://a.example.gov.cn/cb"}, "response_types": []string{"token"}}, "invalid_client_metadata", "response_types"},
		{"unknown scope", map[string]any{"redirect_uris": []string{"https://a.example.gov.cn/cb"}, "scope": "openid admin"}, "invalid_client_metadata", "admin"},
		{"jwks_uri", map[string]any{"redirect_uris": []string{"https://a.example.gov.cn/cb"}, "jwks_uri": "https://a.example.gov.cn/jwks"}, "invalid_client_metadata", "jwks_uri"},
		{"private_key_jwt without keys", map[string]any{"redirect_uris": []string{"https://a.example.gov.cn/cb"}, "token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata", "JWK Set"},
		{"bad jwks", map[string]any{"redirect_uris": []string{"https://a.example.gov.cn/cb"}, "token_endpoint_auth_method": "private_key_jwt", "jwks": map[string]any{"keys": []any{map[string]any{"kty": "oct", "k": "AAAA"}}}}, "invalid_client_metadata", "JWK Set"},
		{"http backchannel logout", map[string]any{"redirect_uris": []string{"https://a.example.gov.cn/cb"}, "backchannel_logout_uri": "http://a.example.gov.cn/bcl"}, "invalid_redirect_uri", "backchannel_logout_uri"},
		{"front-channel logout with a fragment", map[string]any{"redirect_uris": []string{"https://a.example.gov.cn/cb"}, "frontchannel_logout_uri": "https://a.example.gov.cn/fcl#x"}, "invalid_redirect_uri", "fragment"},
		{"http logo", map[string]any{"redirect_uris": []string{"https://a.example.gov.cn/cb"}, "logo_uri": "http://a.example.gov.cn/l.png"}, "invalid_client_metadata", "logo"},
		{"wrong type", map[string]any{"redirect_uris": "https://a.example.gov.cn/cb"}, "invalid_client_metadata", "member redirect_uris must be an array of strings"},
		{"number as name", map[string]any{"redirect_uris": []string{"https://a.example.gov.cn/cb"}, "client_name": 12}, "invalid_client_metadata", "member client_name must be a string"},
		{"text-direction override in name", map[string]any{"redirect_uris": []string{"https://a.example.gov.cn/cb"}, "client_name": "\u202egnp.exe 局务税"}, "invalid_client_metadata", "invisible characters"},
		{"zero-width space in name", map[string]any{"redirect_uris": []string{"https://a.example.gov.cn/cb"}, "client_name": "税务\u200b局"}, "invalid_client_metadata", "invisible characters"},
		{"long name", map[string]any{"redirect_uris": []string{"https://a.example.gov.cn/cb"}, "client_name": strings.Repeat("局", 101)}, "invalid_client_metadata", "at most 100"},
		{"too many redirect URIs", map[string]any{"redirect_uris": manyRedirects(21)}, "invalid_redirect_uri", "at most 20"},
		{"long redirect URI", map[string]any{"redirect_uris": []string{"https://a.example.gov.cn/" + strings.Repeat("a", 2000)}}, "invalid_redirect_uri", "at most 2000"},
		{"licence scope without purpose", map[string]any{"redirect_uris": []string{"https://a.example.gov.cn/cb"}, "scope": "openid licence:resident-id"}, "invalid_client_metadata", "purpose"},
		{"not json", []byte("redirect_uris=x"), "invalid_client_metadata", "JSON"},
	} {
		status, out, raw := e.call("POST", e.issuer+"/register", iat, tc.body)
		if status != 400 || out["error"] != tc.wantError || !strings.Contains(fmt.Sprint(out["error_description"]), tc.wantDesc) {
			t.Errorf("%s: %d %s; want 400 %s mentioning %q", tc.name, status, raw, tc.wantError, tc.wantDesc)
		}
	}
	big := map[string]any{"redirect_uris": []string{"https://a.example.gov.cn/cb"}, "client_name": strings.Repeat("x", 40<<10)}
	if status, out, _ := e.call("POST", e.issuer+"/register", iat, big); status != 413 || out["error"] != "invalid_client_metadata" {
		t.Errorf("oversized: %d %v", status, out)
	}
	if status, out, _ := e.call("POST", e.issuer+"/register", "", map[string]any{"redirect_uris": []string{"https://a.example.gov.cn/cb"}}); status != 401 || out["error"] != "invalid_token" {
		t.Errorf("no token: %d %v", status, out)
	}
	if status, _, _ := e.call("POST", e.issuer+"/register", "tb_iat_forged", map[string]any{"redirect_uris": []string{"https://a.example.gov.cn/cb"}}); status != 401 {
		t.Errorf("forged token: %d", status)
	}
	// A department app reading licences gives its purpose in tongban's extension members.
	status, out, raw := e.call("POST", e.issuer+"/register", e.iat("shebao"), map[string]any{
		"redirect_uris": []string{"https://a.example.gov.cn/cb"}, "token_endpoint_auth_method": "none",
		"scope": "openid licence:resident-id", "purpose": "核对居民身份证", "purpose_en": "To check your ID card"})
	if status != 201 || out["purpose"] != "核对居民身份证" || out["purpose_en"] != "To check your ID card" {
		t.Errorf("register with a purpose: %d %s", status, raw)
	}
	// Refused registrations did not spend the token: a public app registers with it.
	status, out, raw = e.call("POST", e.issuer+"/register", iat, map[string]any{
		"redirect_uris": []string{"https://a.example.gov.cn/cb"}, "token_endpoint_auth_method": "none"})
	if status != 201 || out["client_secret"] != nil || out["department"] != "shebao" {
		t.Errorf("register after refusals: %d %s", status, raw)
	}
}

func testAppSuspend(t *testing.T, e *env) {
	ctx := context.Background()
	_, num := e.person("暂停", "")
	r := e.newRP(tboidc.NewClient{Department: "gongan"})
	rs := e.newRP(tboidc.NewClient{}) // a resource server that introspects
	b := e.browser()
	tok := r.login(t, b, num)
	if !active(e.introspect(rs, tok.AccessToken)) {
		t.Fatal("fresh token inactive")
	}
	if err := tboidc.SuspendClient(ctx, e.store, audit.Shell, r.client.ID, ""); !errors.Is(err, tboidc.ErrReasonRequired) {
		t.Errorf("suspend without reason: %v", err)
	}
	if err := tboidc.SuspendClient(ctx, e.store, audit.Shell, r.client.ID, "安全检查"); err != nil {
		t.Fatal(err)
	}
	if !e.auditHas("client.suspend", r.client.ID, "grants_revoked=1") {
		t.Error("suspension not audited")
	}
	refusedPage(t, b.get(r.authURL().url), "已被平台暂停")
	refusedPage(t, b.get(r.authURL(oauth2.SetAuthURLParam("ui_locales", "en")).url), "suspended")
	if active(e.introspect(rs, tok.AccessToken)) || active(e.introspect(rs, tok.RefreshToken)) {
		t.Error("a suspended app's tokens are active at introspection")
	}
	if status, _ := e.userinfo(tok.AccessToken); status != 401 {
		t.Errorf("userinfo with a suspended app's token: %d", status)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
	if status, out := e.postForm("/token", r.client.ID, r.secret, clone(refresh)); status != 401 || out["error"] != "invalid_client" {
		t.Errorf("refresh of a suspended app: %d %v", status, out)
	}
	if status, out := e.postForm("/introspect", r.client.ID, r.secret, url.Values{"token": {tok.AccessToken}}); status != 401 {
		t.Errorf("a suspended app introspects: %d %v", status, out)
	}
	if err := tboidc.ResumeClient(ctx, e.store, audit.Shell, r.client.ID); err != nil {
		t.Fatal(err)
	}
	// Resumed: the grants revoked by the suspension stay revoked; a new login works.
	if status, out := e.postForm("/token", r.client.ID, r.secret, clone(refresh)); status != 400 || out["error"] != "invalid_grant" {
		t.Errorf("refresh after resume: %d %v", status, out)
	}
	if active(e.introspect(rs, tok.AccessToken)) {
		t.Error("an access token of a revoked grant is active after resume")
	}
	tok2 := r.login(t, b, num)
	if !active(e.introspect(rs, tok2.AccessToken)) {
		t.Error("new token after resume inactive")
	}
}

func testAppSecretRotation(t *testing.T, e *env) {
	ctx := context.Background()
	r := e.newRP(tboidc.NewClient{GrantTypes: []string{tboidc.GrantClientCredentials}, Scopes: []string{}})
	cc := func(secret string) int {
		status, _ := e.postForm("/token", r.client.ID, secret, url.Values{"grant_type": {"client_credentials"}})
		return status
	}
	if _, err := tboidc.RotateClientSecret(ctx, e.store, e.kr, audit.Shell, r.client.ID, 31*24*time.Hour); !errors.Is(err, tboidc.ErrInvalidOverlap) {
		t.Errorf("31 days overlap: %v", err)
	}
	old := r.secret
	next, err := tboidc.RotateClientSecret(ctx, e.store, e.kr, audit.Shell, r.client.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if cc(old) != 200 || cc(next) != 200 {
		t.Errorf("during the overlap: old %d, new %d", cc(old), cc(next))
	}
	tampered := []byte(old)
	tampered[0] ^= 1
	if cc(string(tampered)) != 401 {
		t.Error("a tampered old secret works")
	}
	e.clock.Advance(61 * time.Minute)
	if cc(old) != 401 || cc(next) != 200 {
		t.Errorf("after the overlap: old %d, new %d", cc(old), cc(next))
	}
	third, err := tboidc.RotateClientSecret(ctx, e.store, e.kr, audit.Shell, r.client.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if cc(next) != 401 || cc(third) != 200 {
		t.Errorf("overlap 0: previous %d, new %d", cc(next), cc(third))
	}
	if !e.auditHas("client.secret.rotate", r.client.ID, "overlap=1h0m0s") {
		t.Error("rotation not audited")
	}
}

// assertionKey signs client assertions.
type assertionKey struct {
	signer jose.Signer
}

func (e *env) assertion(k assertionKey, iss, sub string, aud any, exp time.Time, jti string) string {
	e.t.Helper()
	claims := map[string]any{"iss": iss, "sub": sub, "aud": aud, "exp": exp.Unix(), "iat": e.clock.Now().Unix(), "jti": jti}
	payload, _ := json.Marshal(claims)
	jws, err := k.signer.Sign(payload)
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func testAppPrivateKeyJWT(t *testing.T, e *env) {
	sm2Key, err := smcrypto.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sm2JWK, err := smjose.MarshalJWK(&sm2Key.PublicKey, "sm2-1", "sig")
	if err != nil {
		t.Fatal(err)
	}
	ecJWK, err := (&jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "ec-1", Algorithm: "ES256", Use: "sig"}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	jwks := []byte(`{"keys":[` + string(sm2JWK) + `,` + string(ecJWK) + `]}`)
	c, secret, err := tboidc.CreateClient(context.Background(), e.store, e.kr, tboidc.NewClient{
		ID: "pkjwt-app", GrantTypes: []string{tboidc.GrantClientCredentials}, Scopes: []string{},
		TokenEndpointAuthMethod: tboidc.AuthPrivateKeyJWT, JWKS: jwks,
	})
	if err != nil || secret != "" || c.TokenEndpointAuthMethod != "private_key_jwt" {
		t.Fatalf("CreateClient: %v, secret %q", err, secret)
	}
	sm2Signer, err := jose.NewSigner(jose.SigningKey{Algorithm: smjose.AlgSM2, Key: smjose.NewSigner(sm2Key, "sm2-1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ecSigner, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: ecKey}, (&jose.SignerOptions{}).WithHeader("kid", "ec-1"))
	otherSigner, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: otherKey}, (&jose.SignerOptions{}).WithHeader("kid", "ec-1"))
	sm2, ec, other := assertionKey{sm2Signer}, assertionKey{ecSigner}, assertionKey{otherSigner}
	tokenURL := e.issuer + "/token"
	jti := 0
	next := func() string { jti++; return fmt.Sprintf("jti-%d-%d", jti, time.Now().UnixNano()) }
	send := func(path, assertion string, extra url.Values) (int, map[string]any) {
		form := url.Values{"client_assertion_type": {tboidc.ClientAssertionType}, "client_assertion": {assertion}}
		for k, v := range extra {
			form[k] = v
		}
		return e.postForm(path, "", "", form)
	}
	grant := url.Values{"grant_type": {"client_credentials"}}
	exp := func() time.Time { return e.clock.Now().Add(2 * time.Minute) }

	// SM2 and ES256 keys both authenticate; the token works at introspection.
	a := e.assertion(sm2, c.ID, c.ID, tokenURL, exp(), next())
	status, out := send("/token", a, grant)
	if status != 200 || out["access_token"] == nil {
		t.Fatalf("SM2 assertion: %d %v", status, out)
	}
	at := out["access_token"].(string)
	if status, out := send("/token", e.assertion(ec, c.ID, c.ID, []string{"https://other.example", e.issuer}, exp(), next()), grant); status != 200 {
		t.Errorf("ES256 assertion (aud = issuer in a list): %d %v", status, out)
	}
	if status, out := send("/introspect", e.assertion(ec, c.ID, c.ID, e.issuer+"/introspect", exp(), next()), url.Values{"token": {at}}); status != 200 || !active(out) {
		t.Errorf("introspection with private_key_jwt: %d %v", status, out)
	}
	// A replayed jti is refused.
	if status, out := send("/token", a, grant); status != 401 || !strings.Contains(fmt.Sprint(out["error_description"]), "already used") {
		t.Errorf("replayed assertion: %d %v", status, out)
	}
	// Each wrong claim or key is refused.
	tamper := func(s string) string {
		b := []byte(s)
		b[len(b)-3] ^= 0x01
		if b[len(b)-3] == '.' || b[len(b)-3] == 0 {
			b[len(b)-3] = 'A'
		}
		return string(b)
	}
	for _, tc := range []struct {
		name      string
		assertion string
		extra     url.Values
	}{
		{"wrong aud", e.assertion(ec, c.ID, c.ID, "https://other.example/token", exp(), next()), nil},
		{"wrong iss", e.assertion(ec, "someone-else", c.ID, tokenURL, exp(), next()), nil},
		{"sub of another app", e.assertion(ec, "app-1", "app-1", tokenURL, exp(), next()), nil},
		{"expired", e.assertion(ec, c.ID, c.ID, tokenURL, e.clock.Now().Add(-time.Second), next()), nil},
		{"exp too far ahead", e.assertion(ec, c.ID, c.ID, tokenURL, e.clock.Now().Add(time.Hour), next()), nil},
		{"no jti", e.assertion(ec, c.ID, c.ID, tokenURL, exp(), ""), nil},
		{"unregistered key", e.assertion(other, c.ID, c.ID, tokenURL, exp(), next()), nil},
		{"tampered SM2 signature", tamper(e.assertion(sm2, c.ID, c.ID, tokenURL, exp(), next())), nil},
		{"tampered ES256 signature", tamper(e.assertion(ec, c.ID, c.ID, tokenURL, exp(), next())), nil},
		{"client_id mismatch", e.assertion(ec, c.ID, c.ID, tokenURL, exp(), next()), url.Values{"client_id": {"app-1"}}},
	} {
		extra := clone(grant)
		for k, v := range tc.extra {
			extra[k] = v
		}
		if status, out := send("/token", tc.assertion, extra); status != 401 || out["error"] != "invalid_client" {
			t.Errorf("%s: %d %v", tc.name, status, out)
		}
	}
	// The wrong assertion type, and a secret app presenting an assertion, are refused.
	form := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {"urn:other"}, "client_assertion": {e.assertion(ec, c.ID, c.ID, tokenURL, exp(), next())}}
	if status, _ := e.postForm("/token", "", "", form); status != 401 {
		t.Errorf("wrong assertion type: %d", status)
	}
	secretApp := e.newRP(tboidc.NewClient{GrantTypes: []string{tboidc.GrantClientCredentials}, Scopes: []string{}})
	if status, _ := send("/token", e.assertion(ec, secretApp.client.ID, secretApp.client.ID, tokenURL, exp(), next()), grant); status != 401 {
		t.Errorf("assertion for a secret app: %d", status)
	}
}

func testAppTransitions(t *testing.T, e *env) {
	ctx := context.Background()
	r := e.newRP(tboidc.NewClient{})
	id := r.client.ID
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"approve published without change", tboidc.ApproveClient(ctx, e.store, audit.Shell, id), tboidc.ErrInvalidTransition},
		{"reject published without change", tboidc.RejectClient(ctx, e.store, audit.Shell, id, "x"), tboidc.ErrClientNotPendingReview},
		{"resume published", tboidc.ResumeClient(ctx, e.store, audit.Shell, id), tboidc.ErrInvalidTransition},
		{"reject without reason", tboidc.RejectClient(ctx, e.store, audit.Shell, id, " "), tboidc.ErrReasonRequired},
		{"unknown app", tboidc.ApproveClient(ctx, e.store, audit.Shell, "no-such-app"), storage.ErrNotFound},
		{"bad change", tboidc.ProposeClientChange(ctx, e.store, audit.Shell, id, tboidc.ClientChange{Scopes: []string{"admin"}}), tboidc.ErrInvalidScope},
		{"bad department", func() error {
			_, _, err := tboidc.IssueInitialAccessToken(ctx, e.store, e.kr, audit.Shell, "Gong An", 0)
			return err
		}(), tboidc.ErrInvalidDepartment},
		{"bad ttl", func() error {
			_, _, err := tboidc.IssueInitialAccessToken(ctx, e.store, e.kr, audit.Shell, "gongan", 31*24*time.Hour)
			return err
		}(), tboidc.ErrInvalidTTL},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	// A rejected pending change leaves the published metadata alone.
	if err := tboidc.ProposeClientChange(ctx, e.store, audit.Shell, id, tboidc.ClientChange{Name: "新名称"}); err != nil {
		t.Fatal(err)
	}
	if err := tboidc.RejectClient(ctx, e.store, audit.Shell, id, "名称不规范"); err != nil {
		t.Fatal(err)
	}
	c, _ := e.store.GetClient(ctx, id)
	if c.Name != r.client.Name || c.PendingChange != nil || c.EffectiveStatus() != storage.ClientPublished || c.ReviewNote != "名称不规范" {
		t.Errorf("after rejecting a change: %+v", c)
	}
	if err := tboidc.RetireClient(ctx, e.store, audit.Shell, id, "停止\x00服务"); !errors.Is(err, tboidc.ErrReasonRequired) {
		t.Errorf("retire with a control character in the reason: %v", err)
	}
	if err := tboidc.RetireClient(ctx, e.store, audit.Shell, id, " 业务已停办 "); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.store.GetClient(ctx, id); c.ReviewNote != "业务已停办" || c.EffectiveStatus() != storage.ClientRetired || c.TokensNotBefore.IsZero() {
		t.Errorf("after retiring with a reason: %q %s %v", c.ReviewNote, c.Status, c.TokensNotBefore)
	}
	if !e.auditHas("client.retire", id, "->retired") || e.auditHas("client.retire", id, "停办") {
		t.Error("retirement not audited, or its reason in the audit log")
	}
	if err := tboidc.ResumeClient(ctx, e.store, audit.Shell, id); !errors.Is(err, tboidc.ErrClientRetired) {
		t.Errorf("resume retired: %v", err)
	}
}

// manyRedirects returns n distinct https redirect URIs.
func manyRedirects(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("https://a.example.gov.cn/cb/%d", i)
	}
	return out
}
