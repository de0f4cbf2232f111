package oidc_test

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	tboidc "github.com/tongban/tongban/oidc"
)

// Redeeming an authorization code wrongly: replays (sequential and concurrent), PKCE
// failures, expired codes.

func testCodeReplay(t *testing.T, e *env) {
	_, num := e.person("朱十", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	code := b.signIn(a, num)
	tok, err := r.exchange(code, a.verifier)
	if err != nil {
		t.Fatal(err)
	}
	if !active(e.introspect(r, tok.AccessToken)) {
		t.Fatal("fresh token inactive")
	}
	_, err = r.exchange(code, a.verifier)
	var re *oauth2.RetrieveError
	if err == nil || !asRetrieve(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("replay: %v", err)
	}
	if active(e.introspect(r, tok.AccessToken)) || active(e.introspect(r, tok.RefreshToken)) {
		t.Fatal("the replay did not revoke the tokens issued for the code")
	}
}

func testCodeReplayConcurrent(t *testing.T, e *env) {
	_, num := e.person("秦一", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	code := b.signIn(a, num)
	const n = 8
	var wg sync.WaitGroup
	toks := make([]*oauth2.Token, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i], _ = r.exchange(code, a.verifier)
		}()
	}
	wg.Wait()
	wins := 0
	for _, tok := range toks {
		if tok != nil {
			wins++
			if active(e.introspect(r, tok.AccessToken)) {
				t.Error("a replayed code left its tokens active")
			}
		}
	}
	if wins > 1 {
		t.Fatalf("%d redemptions of one code succeeded", wins)
	}
}

func asRetrieve(err error, re **oauth2.RetrieveError) bool {
	e, ok := err.(*oauth2.RetrieveError)
	if ok {
		*re = e
	}
	return ok
}

func testPKCE(t *testing.T, e *env) {
	_, num := e.person("尤二", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	b.signIn(r.authURL(), num) // session and consent
	base := func() url.Values {
		return url.Values{"client_id": {r.client.ID}, "response_type": {"code"}, "scope": {"openid profile"},
			"redirect_uri": {r.redirect}, "state": {"state-12345"}, "nonce": {"nonce-12345"}}
	}
	_, challenge := pkcePair()
	for _, tc := range []struct {
		name  string
		extra url.Values
	}{
		{"fail/missing", url.Values{}},
		{"fail/plain", url.Values{"code_challenge": {"abcdefghijabcdefghijabcdefghijabcdefghij123"}, "code_challenge_method": {"plain"}}},
		{"fail/no-method", url.Values{"code_challenge": {challenge}}},
		{"fail/short", url.Values{"code_challenge": {"abc"}, "code_challenge_method": {"S256"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := base()
			for k, v := range tc.extra {
				q[k] = v
			}
			cb := b.get(e.issuer + "/authorize?" + q.Encode()).callback(t)
			if cb.Get("error") != "invalid_request" || cb.Get("state") != "state-12345" || cb.Get("iss") != e.issuer || cb.Get("code") != "" {
				t.Errorf("got %v", cb)
			}
		})
	}
	t.Run("fail/wrong-verifier", func(t *testing.T) {
		a := r.authURL()
		code := b.get(a.url).callback(t).Get("code")
		if _, err := r.exchange(code, oauth2.GenerateVerifier()); err == nil {
			t.Fatal("wrong verifier accepted")
		}
		// The failed attempt used the code up.
		if _, err := r.exchange(code, a.verifier); err == nil {
			t.Fatal("code still redeemable after a failed attempt")
		}
		// …and the retry is logged as what it is, not as a replay.
		if logs := e.logs.String(); !strings.Contains(logs, "authorization code used after a failed redemption") {
			t.Error("retry after a failed redemption not logged as such")
		}
	})
	t.Run("ok/replay-still-logged-as-replay", func(t *testing.T) {
		a := r.authURL()
		code := b.get(a.url).callback(t).Get("code")
		if _, err := r.exchange(code, a.verifier); err != nil {
			t.Fatal(err)
		}
		before := strings.Count(e.logs.String(), "authorization code replayed")
		if _, err := r.exchange(code, a.verifier); err == nil {
			t.Fatal("replay accepted")
		}
		if strings.Count(e.logs.String(), "authorization code replayed") != before+1 {
			t.Error("replay not logged as a replay")
		}
	})
	t.Run("fail/no-verifier", func(t *testing.T) {
		a := r.authURL()
		code := b.get(a.url).callback(t).Get("code")
		status, out := e.postForm("/token", r.client.ID, r.secret, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {r.redirect}})
		if status != 400 || out["error"] != "invalid_grant" {
			t.Errorf("%d %v", status, out)
		}
	})
}

func testExpiredCode(t *testing.T, e *env) {
	_, num := e.person("许三", "")
	r := e.newRP(tboidc.NewClient{})
	b := e.browser()
	a := r.authURL()
	code := b.signIn(a, num)
	e.clock.Advance(61 * time.Second)
	defer e.clock.Advance(-61 * time.Second)
	_, err := r.exchange(code, a.verifier)
	var re *oauth2.RetrieveError
	if err == nil || !asRetrieve(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("expired code: %v", err)
	}
}
