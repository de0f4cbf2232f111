package oidc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/accounts/passkey/passkeytest"
	tboidc "github.com/tongban/tongban/oidc"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage/storagetest"
)

// BenchmarkLoginMethods compares, against one provider in one run, a password login and a
// passkey login, each a whole browser round over real HTTP: authorization request → login page
// → credentials → resume → code at the app's redirect URI. The password costs one PBKDF2-HMAC-SM3
// hash with the production parameters (≈50 ms of one core); the passkey costs an ES256
// signature check, a few storage writes (the used challenge, the signature counter) and the
// extra begin round trip. The target: passkey logins per second ≥ 10× password logins
// per second (bench/README.md records the figures). Each parallel worker has its own person
// and software authenticator (passkeytest), as each phone has its own.
//
//	go test -run '^$' -bench LoginMethods -benchtime 5s ./oidc/
func BenchmarkLoginMethods(b *testing.B) {
	e := newLocalhostEnv(b, storagetest.SQLite(b), envOptions{plain: true, mutate: func(c *tboidc.Config) {
		c.ClientCacheTTL = 0
		c.PasswordParams = smcrypto.DefaultPasswordParams
	}})
	e.hs.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	r := e.newRP(tboidc.NewClient{IDTokenAlg: tboidc.AlgSM2})
	const workers = 64
	type person struct {
		id   string
		auth *passkeytest.Authenticator
	}
	people := make([]person, workers)
	for i := range people {
		num := residentID(b)
		if _, err := e.accounts.CreatePerson(context.Background(), accounts.NewPerson{
			IDNumber: num, Name: "基准", Password: []byte(testPassword)}); err != nil {
			b.Fatal(err)
		}
		br := e.browser()
		br.signIn(r.authURL(), num) // consent once; the browser now has a fresh session
		people[i] = person{id: num, auth: enrolOverHTTP(b, e, br)}
	}
	b.SetParallelism(2)
	b.Run("password", func(b *testing.B) {
		var next atomic.Int64
		runTimedWorkers(b, func() func() error {
			p := people[int(next.Add(1)-1)%workers]
			return func() error {
				br := e.browser()
				pg := br.get(r.authURL().url)
				if !pg.isLogin() {
					return fmt.Errorf("no login page: %d", pg.status)
				}
				if q := br.login(pg, p.id, testPassword).callback(b); q.Get("code") == "" {
					return fmt.Errorf("no code: %v", q)
				}
				return nil
			}
		})
	})
	b.Run("passkey", func(b *testing.B) {
		var next atomic.Int64
		runTimedWorkers(b, func() func() error {
			p := people[int(next.Add(1)-1)%workers]
			return func() error {
				br := e.browser()
				pg := br.get(r.authURL().url)
				if !pg.isLogin() {
					return fmt.Errorf("no login page: %d", pg.status)
				}
				redirect, err := passkeyLoginOverHTTP(e, br, pg, p.auth)
				if err != nil {
					return err
				}
				if q := br.get(e.issuer + redirect).callback(b); q.Get("code") == "" {
					return fmt.Errorf("no code: %v", q)
				}
				return nil
			}
		})
	})
}

// runTimedWorkers is runTimed with per-worker state: newWorker runs once in each parallel
// worker and returns its operation (a worker's authenticator is used by that worker alone).
func runTimedWorkers(b *testing.B, newWorker func() func() error) {
	var lat latencies
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		op := newWorker()
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			if err := op(); err != nil {
				b.Error(err)
				break
			}
			mine = append(mine, time.Since(t0))
		}
		lat.add(mine)
	})
	lat.report(b, time.Since(start))
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// postPasskeyJSON posts body as JSON to the provider's path with the CSRF token, as
// tongban.postJSON does, and returns the status and the decoded answer.
func postPasskeyJSON(e *env, br *browser, path, csrf string, body any) (int, map[string]json.RawMessage, error) {
	js, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, e.issuer+path, bytes.NewReader(js))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	resp, err := br.c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("answer %d is not JSON: %.200s", resp.StatusCode, raw)
	}
	return resp.StatusCode, out, nil
}

// enrolOverHTTP enrols a new software authenticator from the account page of br, which has a
// fresh login, as passkey.js does; it returns the authenticator.
func enrolOverHTTP(tb testing.TB, e *env, br *browser) *passkeytest.Authenticator {
	tb.Helper()
	pg := br.get(e.issuer + "/account")
	m := reCSRF.FindStringSubmatch(pg.body)
	if m == nil {
		tb.Fatalf("account page without a CSRF token: %d %s", pg.status, pg.url)
	}
	status, begin, err := postPasskeyJSON(e, br, "/account/passkeys/begin", m[1], map[string]string{})
	if err != nil || status != http.StatusOK {
		tb.Fatalf("begin: %d %v %v", status, begin, err)
	}
	a := passkeytest.New(strings.TrimSuffix(e.issuer, "/"))
	cred, err := a.Create(begin["options"])
	if err != nil {
		tb.Fatal(err)
	}
	var state string
	_ = json.Unmarshal(begin["state"], &state)
	status, fin, err := postPasskeyJSON(e, br, "/account/passkeys/finish", m[1],
		map[string]any{"state": state, "credential": json.RawMessage(cred), "name": "基准手机"})
	if err != nil || status != http.StatusOK {
		tb.Fatalf("finish: %d %v %v", status, fin, err)
	}
	return a
}

// passkeyLoginOverHTTP runs the passkey login of the login page pg as passkey.js does and
// returns the redirect the provider answers (a path on the provider).
func passkeyLoginOverHTTP(e *env, br *browser, pg page, a *passkeytest.Authenticator) (string, error) {
	ma, mc := reAuthz.FindStringSubmatch(pg.body), reCSRF.FindStringSubmatch(pg.body)
	if ma == nil || mc == nil {
		return "", fmt.Errorf("login page without authz or CSRF token")
	}
	status, begin, err := postPasskeyJSON(e, br, "/login/passkey/begin", mc[1], map[string]string{})
	if err != nil || status != http.StatusOK {
		return "", fmt.Errorf("begin: %d %v %v", status, begin, err)
	}
	cred, err := a.Get(begin["options"])
	if err != nil {
		return "", err
	}
	var state string
	_ = json.Unmarshal(begin["state"], &state)
	status, fin, err := postPasskeyJSON(e, br, "/login/passkey/finish", mc[1],
		map[string]any{"authz": html.UnescapeString(ma[1]), "state": state, "credential": json.RawMessage(cred)})
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("finish: %d %s", status, fin["error"])
	}
	var redirect string
	_ = json.Unmarshal(fin["redirect"], &redirect)
	return redirect, nil
}
