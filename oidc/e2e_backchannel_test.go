package oidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/audit"
	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// logoutReceiver is a relying party's back-channel logout endpoint (Back-Channel Logout 1.0
// §2.5): it verifies each logout token with go-oidc's remote key set (the provider's JWKS)
// and keeps the claims of the valid ones; it answers 503 to the first failFirst requests.
type logoutReceiver struct {
	t         testing.TB
	hs        *httptest.Server
	keys      *oidc.RemoteKeySet
	mu        sync.Mutex
	failFirst int
	calls     int
	got       []map[string]any
}

func newLogoutReceiver(e *env, failFirst int) *logoutReceiver {
	lr := &logoutReceiver{t: e.t, keys: oidc.NewRemoteKeySet(e.ctx, e.issuer+"/jwks"), failFirst: failFirst}
	lr.hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lr.mu.Lock()
		lr.calls++
		fail := lr.calls <= lr.failFirst
		lr.mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		tok := r.PostFormValue("logout_token")
		payload, err := lr.keys.VerifySignature(r.Context(), tok)
		if err != nil {
			lr.t.Errorf("logout token signature: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		hdr, _ := base64URLDecode(strings.Split(tok, ".")[0])
		var h map[string]any
		_ = json.Unmarshal(hdr, &h)
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil || h["typ"] != "logout+jwt" {
			lr.t.Errorf("logout token: typ %v, %v", h["typ"], err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		lr.mu.Lock()
		lr.got = append(lr.got, claims)
		lr.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	e.t.Cleanup(lr.hs.Close)
	return lr
}

func (lr *logoutReceiver) tokens() []map[string]any {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return append([]map[string]any(nil), lr.got...)
}

// checkLogoutToken asserts the claims of a logout token for client aud and session sid.
func checkLogoutToken(t *testing.T, e *env, claims map[string]any, aud, sid, sub string) {
	t.Helper()
	now := float64(time.Now().Unix())
	ev, _ := claims["events"].(map[string]any)
	if _, ok := ev[tboidc.EventBackchannelLogout]; !ok || claims["iss"] != e.issuer || claims["aud"] != aud ||
		claims["sid"] != sid || claims["sub"] != sub || claims["jti"] == nil || claims["nonce"] != nil {
		t.Errorf("logout token claims = %v (want aud %s sid %s sub %s)", claims, aud, sid, sub)
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	if exp-iat > 120 || exp < now-5 || iat > now+3600 {
		t.Errorf("iat %v exp %v", iat, exp)
	}
}

func TestBackchannelLogoutSQLite(t *testing.T) {
	testBackchannelLogout(t, storagetest.SQLite(t))
}

func TestBackchannelLogoutPostgres(t *testing.T) {
	testBackchannelLogout(t, storagetest.Postgres(t))
}

func testBackchannelLogout(t *testing.T, store storage.Storage) {
	e := newEnv(t, store, envOptions{mutate: func(c *tboidc.Config) { c.LogoutRetryBase = time.Second }})
	ctx := context.Background()
	ok1, flaky := newLogoutReceiver(e, 0), newLogoutReceiver(e, 2)
	front := "https://front.example.gov.cn/fcl"
	r1 := e.newRP(tboidc.NewClient{BackchannelLogoutURI: ok1.hs.URL + "/bcl", BackchannelLogoutSessionRequired: true,
		FrontchannelLogoutURI: front, FrontchannelLogoutSessionRequired: true})
	r2 := e.newRP(tboidc.NewClient{BackchannelLogoutURI: flaky.hs.URL + "/bcl"})
	r3 := e.newRP(tboidc.NewClient{}) // no logout endpoint: only its grant is revoked
	_, num := e.person("钱十一", "")
	b := e.browser()
	t1, t2, t3 := r1.login(t, b, num), r2.login(t, b, num), r3.login(t, b, num)
	sid := ""
	subs := map[string]string{}
	for _, x := range []struct {
		r   *rp
		tok *oauth2.Token
	}{{r1, t1}, {r2, t2}, {r3, t3}} {
		idt, claims := verifyAnyNonce(t, e, x.r, x.tok)
		s, _ := claims["sid"].(string)
		if s == "" || sid != "" && s != sid {
			t.Fatalf("sid of %s = %q, want one sid for the session (%q)", x.r.client.ID, s, sid)
		}
		sid = s
		subs[x.r.client.ID] = idt.Subject
	}

	// The citizen logs out at the provider: the done page loads the front-channel iframe, and
	// its CSP allows exactly that origin.
	q := url.Values{"id_token_hint": {t1.Extra("id_token").(string)}, "post_logout_redirect_uri": {r1.client.PostLogoutRedirectURIs[0]}}
	p := b.get(e.issuer + "/logout?" + q.Encode())
	if !strings.Contains(p.body, ` href="`+r1.client.PostLogoutRedirectURIs[0]+`">`) {
		t.Errorf("the logout page with iframes does not link to the post-logout redirect URI:\n%s", p.body)
	}
	wantFrame := front + "?" + url.Values{"iss": {e.issuer}, "sid": {sid}}.Encode()
	if p.status != http.StatusOK || !strings.Contains(p.body, `<iframe class="hidden" src="`+strings.ReplaceAll(wantFrame, "&", "&amp;")+`"`) {
		t.Fatalf("logout page %d without the front-channel iframe %q:\n%s", p.status, wantFrame, p.body)
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "; frame-src https://front.example.gov.cn") {
		t.Errorf("logout page CSP = %q", csp)
	}

	// First round: r1 gets its token; r2 fails (503) and is retried later.
	n, err := e.srv.DeliverLogouts(ctx)
	if err != nil || n != 1 {
		t.Fatalf("DeliverLogouts = %d, %v; want 1 sent", n, err)
	}
	if n, _ := e.srv.DeliverLogouts(ctx); n != 0 {
		t.Errorf("a retry was due before its backoff: %d sent", n)
	}
	for round, wait := range []time.Duration{1100 * time.Millisecond, 2100 * time.Millisecond} {
		e.clock.Advance(wait)
		n, err := e.srv.DeliverLogouts(ctx)
		if err != nil || (round == 1) != (n == 1) {
			t.Fatalf("retry %d: %d sent, %v", round+1, n, err)
		}
	}
	if got := ok1.tokens(); len(got) != 1 {
		t.Fatalf("r1 received %d logout tokens, want 1", len(got))
	} else {
		checkLogoutToken(t, e, got[0], r1.client.ID, sid, subs[r1.client.ID])
	}
	if got := flaky.tokens(); len(got) != 1 || flaky.calls != 3 {
		t.Fatalf("r2 received %d logout tokens in %d calls, want 1 in 3", len(got), flaky.calls)
	} else {
		checkLogoutToken(t, e, got[0], r2.client.ID, sid, subs[r2.client.ID])
	}
	if n, _ := store.CountLogouts(ctx); n != 0 {
		t.Errorf("%d deliveries left in the outbox", n)
	}
	// Every grant of the session is revoked: refresh tokens are refused.
	for _, x := range []struct {
		r   *rp
		tok *oauth2.Token
	}{{r1, t1}, {r2, t2}, {r3, t3}} {
		hc := context.WithValue(e.ctx, oauth2.HTTPClient, e.hs.Client())
		old := *x.tok
		old.Expiry = time.Now().Add(-time.Hour)
		if _, err := x.r.oauth.TokenSource(hc, &old).Token(); err == nil {
			t.Errorf("%s: refresh token still works after logout", x.r.client.ID)
		}
	}

	// An operator ends the person's sessions: the same.
	t.Run("operator-end-sessions", func(t *testing.T) {
		p2, num2 := e.person("孙十二", "")
		b2 := e.browser()
		tok := r1.login(t, b2, num2)
		_, claims := verifyAnyNonce(t, e, r1, tok)
		acc, err := accounts.New(accounts.Config{Store: store, Keyring: e.kr, PasswordParams: testPasswordParams,
			OnSessionsEnded: e.srv.PersonSessionsEnded})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := acc.EndSessions(ctx, audit.Shell, p2.ID); err != nil || n != 1 {
			t.Fatalf("EndSessions = %d, %v", n, err)
		}
		if n, err := e.srv.DeliverLogouts(ctx); err != nil || n != 1 {
			t.Fatalf("DeliverLogouts after EndSessions = %d, %v", n, err)
		}
		got := ok1.tokens()
		checkLogoutToken(t, e, got[len(got)-1], r1.client.ID, claims["sid"].(string), claims["sub"].(string))
		if got[len(got)-1]["sid"] == sid {
			t.Error("two sessions share a sid")
		}
	})
}

// verifyAnyNonce checks tok's ID token with go-oidc and returns it and its claims.
func verifyAnyNonce(t *testing.T, e *env, r *rp, tok *oauth2.Token) (*oidc.IDToken, map[string]any) {
	t.Helper()
	idt, err := r.provider.Verifier(&oidc.Config{ClientID: r.client.ID}).Verify(e.ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return idt, claims
}

// TestBackchannelLogoutTwentyApps is the load figure: a session used at 20 apps,
// each of whose back-channel endpoints takes 100 ms; the running worker
// (StartLogoutDelivery) delivers all 20 logout tokens in parallel (one after another would
// take 2 s). The time is logged, not asserted (a loaded machine must not fail the test; the
// budget is 1 s — measured about 150–180 ms on 2 shared cores); 10 s catches a hang.
func TestBackchannelLogoutTwentyApps(t *testing.T) {
	e := newEnv(t, storagetest.SQLite(t), envOptions{})
	ctx := context.Background()
	const apps = 20
	var received sync.WaitGroup
	received.Add(apps)
	_, num := e.person("周二十", "")
	b := e.browser()
	var tok *oauth2.Token
	for range apps {
		var once sync.Once
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(100 * time.Millisecond) // the app ends its session
			w.WriteHeader(http.StatusNoContent)
			once.Do(received.Done)
		}))
		t.Cleanup(hs.Close)
		r := e.newRP(tboidc.NewClient{BackchannelLogoutURI: hs.URL + "/bcl"})
		tok = r.login(t, b, num)
	}
	stop := e.srv.StartLogoutDelivery(ctx)
	defer stop()
	start := time.Now()
	q := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}}
	if p := b.get(e.issuer + "/logout?" + q.Encode()); p.status != http.StatusOK {
		t.Fatalf("logout: %d", p.status)
	}
	page := time.Since(start)
	done := make(chan struct{})
	go func() { received.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("not every app received its logout token within 10 s")
	}
	all := time.Since(start)
	t.Logf("logout page answered in %v; all %d logout tokens delivered %v after the logout", page, apps, all)
}
