package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/tongban/tongban/storage/storagetest"
	"github.com/tongban/tongban/wallet/wallettest"
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
	r := idp(t, dir, "", nil, append([]string{"clients", "add", "--id", "rp", "--redirect-uri", "http://127.0.0.1:9/cb", "--json"}, db...)...)
	mustOK(t, r, "clients add")
	secret := decode[clientJSON](t, r).ClientSecret
	replicas := []string{a.base, b.base}

	// post sends a token request to replica i%2 and returns its status and error code.
	post := func(i int, form url.Values) (int, map[string]any) {
		req, _ := http.NewRequest("POST", replicas[i%2]+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("rp", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var out map[string]any
		_ = json.Unmarshal(body, &out)
		return resp.StatusCode, out
	}
	introspectActive := func(token string) bool {
		_, out := post(0, url.Values{"token": {token}})
		return out["active"] == true
	}
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
	login := func() (code, verifier string) {
		br := wallettest.NewBrowser(t)
		br.Stop = []string{"http://127.0.0.1:9/cb"}
		verifier = randomSuffix(t) + randomSuffix(t) + randomSuffix(t) // 48 characters (RFC 7636 §4.1)
		sum := sha256.Sum256([]byte(verifier))
		q := url.Values{"client_id": {"rp"}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:9/cb"},
			"scope": {"openid offline_access"}, "state": {randomSuffix(t)}, "nonce": {randomSuffix(t)},
			"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
		p := br.LoginAndConsent(br.Get(a.base+"/authorize?"+q.Encode()), testIDNumber, testPassword)
		loc := p.Location()
		if loc == nil || loc.Query().Get("code") == "" {
			t.Fatalf("login ended at %d %s: %.500s", p.Status, p.URL, p.Body)
		}
		return loc.Query().Get("code"), verifier
	}
	redeem := func(code, verifier string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://127.0.0.1:9/cb"}, "code_verifier": {verifier}}
	}

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

// randomSuffix returns 16 random base64url characters.
func randomSuffix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
