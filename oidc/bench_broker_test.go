//go:build unix

package oidc_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	tboidc "github.com/tongban/tongban/oidc"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

// benchUpstreamEnv turns TestBrokerBenchUpstream into province A of BenchmarkBrokeredLogin,
// run as a subprocess: its value is "<B's issuer> <ID-token alg>".
const benchUpstreamEnv = "TONGBAN_BENCH_UPSTREAM_FOR"

// benchUpstream is what the province-A subprocess tells the benchmark (one JSON line on stdout).
type benchUpstream struct {
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	Secret   string `json:"secret"`
	IDNumber string `json:"id_number"`
}

// TestBrokerBenchUpstream is province A for BenchmarkBrokeredLogin, in its own process so that
// A's CPU time is not counted as B's: a tongban with its own SQLite file, B registered as a
// client, one citizen. It prints a benchUpstream line and serves until its standard input
// closes. Skipped unless started by the benchmark.
func TestBrokerBenchUpstream(t *testing.T) {
	bIssuer, alg, ok := strings.Cut(os.Getenv(benchUpstreamEnv), " ")
	if !ok {
		t.Skip("province A of BenchmarkBrokeredLogin: runs only as its subprocess")
	}
	a := newEnv(t, storagetest.SQLite(t), envOptions{})
	c, secret, err := tboidc.CreateClient(context.Background(), a.store, a.kr, tboidc.NewClient{ID: "province-b",
		Name: "乙省政务服务", RedirectURIs: []string{tboidc.UpstreamRedirectURI(bIssuer)}, IDTokenAlg: alg,
		Scopes: []string{"openid", "profile", tboidc.ScopeIDNumber}})
	if err != nil {
		t.Fatal(err)
	}
	_, num := a.person("张三", "")
	if err := json.NewEncoder(os.Stdout).Encode(benchUpstream{Issuer: a.issuer, ClientID: c.ID, Secret: secret,
		IDNumber: num}); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// startBenchUpstream runs TestBrokerBenchUpstream in a subprocess (this test binary) for
// province B at bIssuer and returns what it printed; the subprocess ends at cleanup.
func startBenchUpstream(b *testing.B, bIssuer, alg string) benchUpstream {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBrokerBenchUpstream$", "-test.count=1")
	cmd.Env = append(os.Environ(), benchUpstreamEnv+"="+bIssuer+" "+alg)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	drained := make(chan struct{})
	b.Cleanup(func() {
		stdin.Close()
		<-drained
		_ = cmd.Wait()
	})
	var up benchUpstream
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if json.Unmarshal(sc.Bytes(), &up) == nil && up.Issuer != "" {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout); close(drained) }()
	if up.Issuer == "" {
		b.Fatal("province A subprocess printed no issuer")
	}
	return up
}

// processCPU returns the CPU time (user + system) this process has used so far, all threads
// included (getrusage RUSAGE_SELF; Linux accounts it to the nanosecond of run time).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuTransport serves the requests for one host (province B) with that host's handler in the
// calling goroutine, adding the process CPU time of each ServeHTTP to cpu[path] (every other
// path adds to cpu["other"]); requests for any other host go to base.
type cpuTransport struct {
	host string
	h    http.Handler
	base http.RoundTripper
	cpu  map[string]time.Duration
}

func (ct *cpuTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != ct.host {
		return ct.base.RoundTrip(req)
	}
	sreq := httptest.NewRequest(req.Method, req.URL.String(), req.Body)
	sreq.Header = req.Header.Clone()
	rec := httptest.NewRecorder()
	start := processCPU()
	ct.h.ServeHTTP(rec, sreq)
	spent := processCPU() - start
	key := req.URL.Path
	if _, ok := ct.cpu[key]; !ok {
		key = "other"
	}
	ct.cpu[key] += spent
	res := rec.Result()
	res.Request = req
	return res, nil
}

// BenchmarkBrokeredLogin measures province B's CPU time per brokered login against B's CPU
// time per local password login, in the same run (issue 8 budget: a brokered login adds ≤ 1 ms
// of tongban CPU beyond the upstream's own time).
//
// Method: province A (a full tongban, TestBrokerBenchUpstream) runs in a subprocess, so none of
// its CPU is in this process. The browser's transport (cpuTransport) serves every request for B
// with B's handler chain (the one B's TLS server runs) directly in the browser's goroutine and
// reads the process's CPU time (getrusage RUSAGE_SELF: every thread, so B's HTTP client
// goroutines, SQLite and the garbage collector too) before and after each ServeHTTP; requests
// for A go over TLS to the subprocess. Only B's handling is summed: the browser's own work,
// its TLS to B and A's work are outside the measured spans. B's side of the code exchange at
// A (request, TLS, response parsing) is inside, as it is B's work.
//
// Each iteration: a brokered login — a fresh browser holding a session at A opens B's app's
// authorization request with idp_hint (B → A with prompt=none → B's /upstream/callback → B's
// authorization endpoint → the app, which must receive a code) — then a local login — B's
// login page and POST /login with the password (hashing cut to 1,000 PBKDF2 iterations as in
// every test here; ≈50 ms in production) → the app. Client cache as in production.
//
// Metrics (B's CPU per login): callback-cpu-ns/login (GET /upstream/callback alone), brokered-
// cpu-ns/login (every B request of the brokered login), local-login-cpu-ns/login (POST /login
// alone), local-cpu-ns/login (every B request of the local login). ns/op includes the browser,
// A and the unmeasured work, and means nothing here.
func BenchmarkBrokeredLogin(b *testing.B) {
	for _, alg := range []string{tboidc.AlgSM2, tboidc.AlgES256} {
		b.Run(alg, func(b *testing.B) { benchBrokeredLogin(b, alg) })
	}
}

func benchBrokeredLogin(b *testing.B, alg string) {
	ctx := context.Background()
	tam := &tamperer{}
	be := newEnv(b, storagetest.SQLite(b), envOptions{mutate: func(c *tboidc.Config) {
		c.UpstreamHTTPClient = &http.Client{Transport: tam, Timeout: 10 * time.Second}
		c.ClientCacheTTL = 0 // the production default
	}})
	tam.base = be.hs.Client().Transport // trusts httptest's certificate, which A's server uses too
	up := startBenchUpstream(b, be.issuer, alg)
	sealed, err := be.kr.SealField([]byte(up.Secret), tboidc.UpstreamSecretAAD(upstreamID))
	if err != nil {
		b.Fatal(err)
	}
	if err := be.store.CreateUpstream(ctx, storage.Upstream{ID: upstreamID, Issuer: up.Issuer, ClientID: up.ClientID,
		ClientSecretSealed: sealed, Scopes: []string{"openid", "profile", tboidc.ScopeIDNumber},
		IDNumberClaim: tboidc.ClaimIDNumber, TrustedIDNumbers: true, LabelZH: "甲省", LabelEN: "Province A",
		CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	p := &brokerPair{t: b, a: &env{issuer: up.Issuer, hs: be.hs}, b: be, tamper: tam, app: be.newRP(tboidc.NewClient{})}
	local := p.localPerson(up.IDNumber)
	// First login: links, consents at A and at B, and leaves a session at A.
	br := p.browser()
	a := p.app.authURL()
	if claims := p.appLogin(p.finish(br, p.startAtB(br, a), up.IDNumber), a); claims["sub"] != local.ID {
		b.Fatalf("first login: sub %v, want %s", claims["sub"], local.ID)
	}
	aURL, _ := url.Parse(up.Issuer)
	aCookies := br.c.Jar.Cookies(aURL)
	bHost := be.hs.Listener.Addr().String()
	brokered := &cpuTransport{host: bHost, h: be.hs.Config.Handler, base: br.c.Transport,
		cpu: map[string]time.Duration{"/upstream/callback": 0}}
	locally := &cpuTransport{host: bHost, h: be.hs.Config.Handler, base: br.c.Transport,
		cpu: map[string]time.Duration{"/login": 0}}

	n := 0
	for b.Loop() {
		// Brokered: a fresh browser at B with the session at A.
		c := p.browser()
		c.c.Transport = brokered
		c.c.Jar.SetCookies(aURL, aCookies)
		ar := p.app.authURL(oauth2.SetAuthURLParam("idp_hint", upstreamID))
		if q := c.get(ar.url).callback(b); q.Get("code") == "" || q.Get("state") != ar.state {
			b.Fatalf("brokered login: no code for B's app: %v", q)
		}
		// Local: B's login page, then the password.
		l := p.browser()
		l.c.Transport = locally
		ar = p.app.authURL(oauth2.SetAuthURLParam("prompt", "login"))
		if q := l.login(l.get(ar.url), up.IDNumber, testPassword).callback(b); q.Get("code") == "" {
			b.Fatalf("local login: no code for B's app: %v", q)
		}
		n++
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n) }
	b.ReportMetric(per(brokered.cpu["/upstream/callback"]), "callback-cpu-ns/login")
	b.ReportMetric(per(brokered.cpu["/upstream/callback"]+brokered.cpu["other"]), "brokered-cpu-ns/login")
	b.ReportMetric(per(locally.cpu["/login"]), "local-login-cpu-ns/login")
	b.ReportMetric(per(locally.cpu["/login"]+locally.cpu["other"]), "local-cpu-ns/login")
}
