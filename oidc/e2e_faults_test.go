package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// A token request that fails for a reason of the server after the code or refresh token was
// claimed leaves nothing half done: the database statement that fails is each one of the
// request's in turn (storagetest.Faults, at the driver), the answer is a 5xx server_error —
// never invalid_grant, never "The error is unrecognizable" — and the very code or refresh token
// is redeemed afterwards as if nothing had happened, with no reuse alarm.

func TestTokenFaultsSQLite(t *testing.T) {
	testTokenFaults(t, func(t testing.TB, f *storagetest.Faults) storage.Storage { return storagetest.SQLiteWithFaults(t, f) })
}

func TestTokenFaultsPostgres(t *testing.T) {
	testTokenFaults(t, func(t testing.TB, f *storagetest.Faults) storage.Storage { return storagetest.PostgresWithFaults(t, f) })
}

func testTokenFaults(t *testing.T, open func(testing.TB, *storagetest.Faults) storage.Storage) {
	f := &storagetest.Faults{}
	e := newEnv(t, open(t, f), envOptions{})
	_, num := e.person("故障", "")
	r := e.newRP(tboidc.NewClient{})
	rs := e.newRP(tboidc.NewClient{}) // introspects
	a := r.authURL()
	code := e.browser().signIn(a, num)
	codeSig := code[strings.LastIndexByte(code, '.')+1:]

	// failInTurn posts form with its 1st, 2nd, … database statement failing until the request
	// succeeds, and checks after each failure that the presented code or refresh token (kind,
	// sig) is still active. It returns the successful response.
	failInTurn := func(what string, form url.Values, kind storage.TokenKind, sig string) map[string]any {
		t.Helper()
		for n := 1; n < 60; n++ {
			f.Arm(n)
			status, out := e.postForm("/token", r.client.ID, r.secret, clone(form))
			failed := f.Failed()
			f.Arm(0)
			if len(failed) == 0 {
				if status != http.StatusOK {
					t.Fatalf("%s: no statement failed, yet %d %v", what, status, out)
				}
				if n < 3 {
					t.Fatalf("%s ran through with %d statements only", what, n-1)
				}
				t.Logf("%s: statements 1…%d each failed in turn; then it succeeded", what, n-1)
				return out
			}
			if status < 500 || out["error"] != "server_error" {
				t.Fatalf("%s with statement %d (%s) failing: %d %v, want a 5xx server_error", what, n, failed[0], status, out)
			}
			rec, err := e.store.GetToken(e.ctx, kind, sig)
			if err != nil || !rec.Active {
				t.Fatalf("%s: statement %d (%s) failed and the %s is no longer active (%v)", what, n, failed[0], kind, err)
			}
		}
		t.Fatalf("%s never succeeded", what)
		return nil
	}

	tok := failInTurn("code exchange", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {r.redirect}, "code_verifier": {a.verifier}}, storage.KindAuthorizeCode, codeSig)
	at1, rt1 := tok["access_token"].(string), tok["refresh_token"].(string)
	if !active(e.introspect(rs, at1)) || !active(e.introspect(rs, rt1)) {
		t.Fatal("the tokens of the code exchange are not active")
	}
	// The code is used up now: a replay is refused and revokes what it issued.
	if status, out := e.postForm("/token", r.client.ID, r.secret, url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "redirect_uri": {r.redirect}, "code_verifier": {a.verifier}}); status != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("replay: %d %v", status, out)
	}
	if active(e.introspect(rs, at1)) || active(e.introspect(rs, rt1)) {
		t.Fatal("the replay did not revoke the tokens of the code")
	}

	// A refresh, on a new grant.
	tok2 := r.login(t, e.browser(), num)
	rtSig := tok2.RefreshToken[strings.LastIndexByte(tok2.RefreshToken, '.')+1:]
	out := failInTurn("refresh", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok2.RefreshToken}},
		storage.KindRefreshToken, rtSig)
	at3, rt3 := out["access_token"].(string), out["refresh_token"].(string)
	if !active(e.introspect(rs, at3)) || !active(e.introspect(rs, rt3)) {
		t.Fatal("the refreshed tokens are not active")
	}
	if active(e.introspect(rs, tok2.AccessToken)) {
		t.Error("the access token from before the refresh is still active")
	}
	if strings.Contains(e.logs.String(), "refresh token reused") {
		t.Error("a failed refresh raised a reuse alarm")
	}

	// A revocation (a logout) with each of its statements failing in turn: 503 with
	// Retry-After, never 200, and nothing revoked — until it runs through.
	for n := 1; ; n++ {
		if n > 40 {
			t.Fatal("the revocation never succeeded")
		}
		f.Arm(n)
		req, _ := http.NewRequest("POST", e.issuer+"/revoke", strings.NewReader(url.Values{"token": {rt3}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(r.client.ID, r.secret)
		resp, err := e.hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		failed := f.Failed()
		f.Arm(0)
		if len(failed) == 0 {
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("revocation: %d", resp.StatusCode)
			}
			t.Logf("revocation: statements 1…%d each failed in turn; then it succeeded", n-1)
			break
		}
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("revocation with statement %d (%s) failing: %d, want 503 with Retry-After", n, failed[0], resp.StatusCode)
		}
		if !active(e.introspect(rs, rt3)) || !active(e.introspect(rs, at3)) {
			t.Fatalf("revocation with statement %d (%s) failing revoked something", n, failed[0])
		}
	}
	if active(e.introspect(rs, rt3)) || active(e.introspect(rs, at3)) {
		t.Error("the revocation left the grant active")
	}
}

// A logout (revocation) racing a refresh of the same grant: whichever commits first, once
// the revocation has answered 200 nothing the grant issued is active — not the tokens the
// refresh returned either.

func TestRevokeRefreshRaceSQLite(t *testing.T) {
	testRevokeRefreshRace(t, storagetest.SQLite(t))
}

func TestRevokeRefreshRacePostgres(t *testing.T) {
	testRevokeRefreshRace(t, storagetest.Postgres(t))
}

func testRevokeRefreshRace(t *testing.T, store storage.Storage) {
	e := newEnv(t, store, envOptions{})
	_, num := e.person("竞态", "")
	r := e.newRP(tboidc.NewClient{})
	for round := range 20 {
		tok := r.login(t, e.browser(), num)
		var wg sync.WaitGroup
		var status, revoked int
		var out map[string]any
		wg.Add(2)
		go func() {
			defer wg.Done()
			status, out = e.postForm("/token", r.client.ID, r.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
		}()
		go func() {
			defer wg.Done()
			token := tok.RefreshToken
			if round%2 == 1 {
				token = tok.AccessToken
			}
			revoked, _ = e.postForm("/revoke", r.client.ID, r.secret, url.Values{"token": {token}})
		}()
		wg.Wait()
		if revoked != http.StatusOK {
			t.Fatalf("round %d: revoke: %d", round, revoked)
		}
		if status == http.StatusOK {
			for _, k := range []string{"access_token", "refresh_token"} {
				if active(e.introspect(r, out[k].(string))) {
					t.Errorf("round %d: the %s of a refresh that raced a logout is active after it", round, k)
				}
			}
		} else if status != http.StatusBadRequest || out["error"] != "invalid_grant" {
			t.Errorf("round %d: refresh: %d %v", round, status, out)
		}
	}
}
