package oidc_test

import (
	"net/url"
	"sync"
	"testing"

	tboidc "github.com/tongban/tongban/oidc"
)

// Refresh tokens: rotation, reuse detection (sequential and concurrent), refused refreshes.

func testRefresh(t *testing.T, e *env) {
	_, num := e.person("王五", "")
	r := e.newRP(tboidc.NewClient{IDTokenAlg: tboidc.AlgSM2})
	rs := e.newRP(tboidc.NewClient{}) // a resource server that introspects
	b := e.browser()
	tok1 := r.login(t, b, num)
	refresh := func(rt string) (int, map[string]any) {
		return e.postForm("/token", r.client.ID, r.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	}
	status, tok2 := refresh(tok1.RefreshToken)
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, tok2)
	}
	rt2, at2 := tok2["refresh_token"].(string), tok2["access_token"].(string)
	if rt2 == "" || rt2 == tok1.RefreshToken || at2 == "" {
		t.Fatalf("refresh response %v", tok2)
	}
	if idt, ok := tok2["id_token"].(string); !ok || idt == "" {
		t.Fatal("no ID token on refresh")
	} else {
		v, _ := NewSM2Verifier(e.ctx, e.issuer, r.client.ID, e.hs.Client())
		got, err := v.Verify(e.ctx, idt)
		if err != nil || got.Nonce != "" {
			t.Fatalf("refreshed ID token: %v nonce %q", err, got.Nonce)
		}
	}
	if active(e.introspect(rs, tok1.AccessToken)) {
		t.Error("the access token issued before the rotation is still active")
	}
	if !active(e.introspect(rs, at2)) || !active(e.introspect(rs, rt2)) {
		t.Fatal("rotated tokens are not active")
	}
	// Reuse of the rotated refresh token revokes the family.
	status, out := refresh(tok1.RefreshToken)
	if status != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("reuse: %d %v", status, out)
	}
	if active(e.introspect(rs, rt2)) || active(e.introspect(rs, at2)) {
		t.Fatal("reuse did not revoke the newest refresh token and access token")
	}
	if status, out := refresh(rt2); status != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("newest refresh token after reuse: %d %v", status, out)
	}
}

func testRefreshConcurrent(t *testing.T, e *env) {
	_, num := e.person("华四", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	tok, err := r.exchange(b.signIn(a, num), a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	got := make([]map[string]any, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, out := e.postForm("/token", r.client.ID, r.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
			if status == 200 {
				got[i] = out
			}
		}()
	}
	wg.Wait()
	wins := 0
	for _, out := range got {
		if out == nil {
			continue
		}
		wins++
		// Every other request was a reuse, which revokes the family: the winner's tokens too.
		if active(e.introspect(r, out["refresh_token"].(string))) || active(e.introspect(r, out["access_token"].(string))) {
			t.Error("concurrent reuse left the rotated tokens active")
		}
	}
	if wins > 1 {
		t.Fatalf("%d concurrent refreshes of one token succeeded", wins)
	}
}

// testRefreshRefusedKeepsToken: a refresh request refused by the client or scope checks does
// not use the refresh token up.
func testRefreshRefusedKeepsToken(t *testing.T, e *env) {
	_, num := e.person("留四", "")
	r := e.newRP(tboidc.NewClient{Scopes: []string{"openid", "profile", "phone", "offline_access"}})
	other := e.newRP(tboidc.NewClient{})
	b := e.browser()
	tok := r.login(t, b, num)
	form := func(scope string) url.Values {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
		if scope != "" {
			f.Set("scope", scope)
		}
		return f
	}
	if status, out := e.postForm("/token", r.client.ID, r.secret, form("openid profile offline_access phone")); status != 400 || out["error"] != "invalid_scope" {
		t.Errorf("broader scope: %d %v", status, out)
	}
	if status, out := e.postForm("/token", other.client.ID, other.secret, form("")); status != 400 || out["error"] != "invalid_grant" {
		t.Errorf("another client's refresh token: %d %v", status, out)
	}
	status, out := e.postForm("/token", r.client.ID, r.secret, form("openid"))
	if status != 200 || out["refresh_token"] == nil {
		t.Fatalf("the refresh token after refused requests: %d %v", status, out)
	}
	if !active(e.introspect(r, out["refresh_token"].(string))) {
		t.Fatal("rotated refresh token inactive")
	}
}
