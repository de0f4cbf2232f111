package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/tongban/tongban/storage/storagetest"
)

// TestReplicasRace runs two `idp serve` processes on one PostgreSQL database (two replicas
// behind a load balancer) and races 32 redemptions of one authorization code, then 32 refreshes
// of one refresh token, spread over both: at most one request succeeds, every other gets
// invalid_grant (never a 5xx), and afterwards nothing the code (or the refresh token) issued is
// active (docs/design/token-transactions.md). Rounds repeat it, since a race that is lost only
// sometimes is the kind this test is for.
func TestReplicasRace(t *testing.T) {
	dsn := storagetest.PostgresDSN(t)
	dir := t.TempDir()
	db := []string{"--db", dsn, "--kek-file", dir + "/kek"}
	a := startServe(t, dir, nil, append(db, "--issuer", "http://127.0.0.1:8080")...) // creates the KEK
	b := startServe(t, dir, nil, append(db, "--issuer", "http://127.0.0.1:8080")...)
	mustOK(t, idp(t, dir, testPassword+"\n", nil, append([]string{"people", "add", "--id-number", testIDNumber, "--name", "赛跑"}, db...)...), "people add")
	secret := addTestApp(t, dir, db...)
	replicas := []string{a.base, b.base}

	// post sends a token request to replica i%2 and returns its status and JSON.
	post := func(i int, form url.Values) (int, map[string]any) {
		status, out, _ := postToken(t, replicas[i%2], secret, form)
		return status, out
	}
	introspectActive := func(token string) bool { return introspect(t, b.base, secret, token) }
	// race sends n copies of form at once, half to each replica, and returns the successful
	// answers after checking the others.
	race := func(what string, form url.Values) []map[string]any {
		const n = storagetest.Redeemers
		var wg sync.WaitGroup
		start := make(chan struct{})
		status := make([]int, n)
		outs := make([]map[string]any, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				status[i], outs[i] = post(i, form)
			}()
		}
		close(start)
		wg.Wait()
		var ok []map[string]any
		for i := range n {
			switch {
			case status[i] == http.StatusOK:
				ok = append(ok, outs[i])
			case status[i] != http.StatusBadRequest || outs[i]["error"] != "invalid_grant":
				t.Errorf("%s, request %d (replica %d): %d %v, want 200 or 400 invalid_grant", what, i, i%2, status[i], outs[i])
			}
		}
		if len(ok) > 1 {
			t.Errorf("%s: %d of %d requests succeeded, want at most 1", what, len(ok), n)
		}
		t.Logf("%s: %d succeeded, %d invalid_grant", what, len(ok), n-len(ok))
		return ok
	}
	login := func() (string, string) {
		code, verifier, _ := loginCode(t, a.base)
		return code, verifier
	}
	redeem := redeemForm

	for round := range 3 {
		code, verifier := login()
		for _, tok := range race(fmt.Sprintf("round %d: 32 redemptions of one code", round), redeem(code, verifier)) {
			for _, k := range []string{"access_token", "refresh_token"} {
				if introspectActive(tok[k].(string)) {
					t.Errorf("round %d: the %s of the winning redemption is still active after the replays", round, k)
				}
			}
		}

		// A fresh grant, redeemed once; then its refresh token raced.
		code, verifier = login()
		status, tok := post(round, redeem(code, verifier))
		if status != http.StatusOK {
			t.Fatalf("redeem: %d %v", status, tok)
		}
		ok := race(fmt.Sprintf("round %d: 32 refreshes of one token", round),
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}})
		issued := []string{tok["access_token"].(string)}
		for _, o := range ok {
			issued = append(issued, o["access_token"].(string), o["refresh_token"].(string))
		}
		for _, tk := range issued {
			if introspectActive(tk) {
				t.Errorf("round %d: a token of the raced grant is still active after the reuse", round)
			}
		}
	}
	for _, s := range []*server{a, b} {
		if strings.Contains(s.stderr.String(), `"level":"ERROR"`) {
			t.Errorf("a replica logged an error:\n%s", s.stderr)
		}
	}
}
