// Command loadgen is tongban's load generator for a local `idp serve` (bench/run.sh drives it).
//
// It runs one scenario in a closed loop: -c workers, each starting its next iteration as soon
// as the previous one is answered, through a -warmup and then a measured window of -d (shorter
// when -n > 0 iterations complete first); iterations count when they complete inside the
// window, and no worker is cut off mid-iteration. It prints throughput, latency percentiles,
// errors and, with -server-pid, the server's CPU time per iteration. It only ever sends traffic to a loopback address
// (127.0.0.0/8, ::1, localhost): any other -target is refused.
//
// Scenarios (one iteration each):
//
//	healthz             GET /healthz (baseline: the HTTP stack alone)
//	client-credentials  POST /token grant_type=client_credentials, client_secret_basic
//	sso                 GET /authorize with a live SSO session cookie (PKCE S256) → code →
//	                    POST /token (authorization_code, client_secret_basic); consent was
//	                    granted during set-up
//	login               GET /authorize without a session → login form → POST the password →
//	                    (consent already granted) → code → POST /token
//
// With -gen-ids N it prints N valid test resident ID numbers (for seeding one account per
// worker: concurrent attempts on one account trip the idp's account lockout, which counts
// attempts in flight). With -report FILE it prints the table and target checks of the JSON lines bench/run.sh
// collected. With -measure-hash it instead times smcrypto.HashPassword at -iterations on one core and
// prints the milliseconds per hash.
//
// Usage:
//
//	loadgen -target http://127.0.0.1:8080 -scenario client-credentials -c 16 -d 15s \
//	        -client-id bench-cc -client-secret SECRET
//	loadgen -target … -scenario sso -client-id bench-web -client-secret SECRET \
//	        -redirect-uri http://127.0.0.1:9/cb -username 11010519491231002X -password …
//	loadgen -measure-hash -iterations 110000
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tongban/tongban/idnumber"
	"github.com/tongban/tongban/sm-crypto"
)

// maxDuration bounds -d: a run always stops by itself.
const maxDuration = 10 * time.Minute

type options struct {
	target       string
	scenario     string
	conns        int
	duration     time.Duration
	maxIters     int
	warmup       time.Duration
	timeout      time.Duration
	clientID     string
	clientSecret string
	redirectURI  string
	scope        string
	username     string
	password     string
	jsonOut      bool
	serverPID    int
	header       bool

	report      string
	genIDs      int
	measureHash bool
	iterations  int
	hashRounds  int
}

func main() {
	var o options
	flag.StringVar(&o.target, "target", "http://127.0.0.1:8080", "base URL of the idp (loopback only)")
	flag.StringVar(&o.scenario, "scenario", "client-credentials", "healthz, client-credentials, sso or login")
	flag.IntVar(&o.conns, "c", 16, "concurrent connections (closed-loop workers)")
	flag.DurationVar(&o.duration, "d", 15*time.Second, "measured duration (at most 10m)")
	flag.IntVar(&o.maxIters, "n", 0, "stop after this many iterations (0: duration only)")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up before the measured run")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout")
	flag.StringVar(&o.clientID, "client-id", "", "client ID")
	flag.StringVar(&o.clientSecret, "client-secret", "", "client secret (confidential client)")
	flag.StringVar(&o.redirectURI, "redirect-uri", "http://127.0.0.1:9/cb", "registered redirect URI (never contacted)")
	flag.StringVar(&o.scope, "scope", "openid profile", "scope of authorization requests")
	flag.StringVar(&o.username, "username", "", "login: resident ID number or phone number; a comma-separated list gives worker i the (i mod n)-th")
	flag.StringVar(&o.password, "password", "", "login: password (or env LOADGEN_PASSWORD)")
	flag.IntVar(&o.serverPID, "server-pid", 0, "PID of the idp on this machine: report its CPU time per iteration (from /proc)")
	flag.BoolVar(&o.jsonOut, "json", false, "print the result as one JSON line")
	flag.BoolVar(&o.header, "header", false, "print a header line before the text result")
	flag.IntVar(&o.genIDs, "gen-ids", 0, "print this many valid test resident ID numbers, one a line, and exit")
	flag.StringVar(&o.report, "report", "", "print the table and target checks of a JSON-lines results FILE (bench/run.sh)")
	flag.BoolVar(&o.measureHash, "measure-hash", false, "time the password hash instead of generating load")
	flag.IntVar(&o.iterations, "iterations", smcrypto.DefaultPasswordParams.Iterations, "PBKDF2 iterations for -measure-hash")
	flag.IntVar(&o.hashRounds, "hash-rounds", 20, "hashes timed by -measure-hash")
	flag.Parse()
	if o.password == "" {
		o.password = os.Getenv("LOADGEN_PASSWORD")
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.measureHash {
		return measureHash(o)
	}
	if o.genIDs > 0 {
		return genIDs(o.genIDs)
	}
	if o.report != "" {
		return report(o.report, os.Stdout)
	}
	if err := checkOptions(o); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	t := &http.Transport{
		Proxy:               nil, // never through a proxy: loopback only
		MaxIdleConns:        o.conns * 2,
		MaxIdleConnsPerHost: o.conns * 2,
		MaxConnsPerHost:     o.conns * 2,
		IdleConnTimeout:     30 * time.Second,
		DialContext:         loopbackDialer().DialContext,
	}
	defer t.CloseIdleConnections()
	base, _ := url.Parse(strings.TrimSuffix(o.target, "/"))
	sc, err := newScenario(ctx, o, base, t)
	if err != nil {
		return fmt.Errorf("set-up of %s: %w", o.scenario, err)
	}
	// CPU counters are read at the edges of the measured window, from the window callbacks.
	var (
		srv0, self0    time.Duration
		busy0, total0  int64
		srvErr, mErr   error
		res            result
		srv1, self1    time.Duration
		busy1, total1  int64
		srvErr1, mErr1 error
	)
	res = runWorkers(ctx, o, sc, func() {
		if o.serverPID > 0 {
			srv0, srvErr = cpuTime(o.serverPID)
		}
		self0 = selfCPU()
		busy0, total0, mErr = machineTicks()
	}, func() {
		if o.serverPID > 0 {
			srv1, srvErr1 = cpuTime(o.serverPID)
		}
		self1 = selfCPU()
		busy1, total1, mErr1 = machineTicks()
	})
	if err := errors.Join(srvErr, srvErr1); err != nil {
		return err
	}
	if mErr == nil && mErr1 == nil && total1 > total0 {
		res.MachineCores = float64(busy1-busy0) / float64(total1-total0) * float64(runtime.NumCPU())
	}
	if res.Seconds > 0 {
		res.LoadgenCores = (self1 - self0).Seconds() / res.Seconds
	}
	if res.Iterations > 0 {
		res.LoadgenCPUms = ms(self1-self0) / float64(res.Iterations)
		if o.serverPID > 0 {
			res.ServerCPUms = ms(srv1-srv0) / float64(res.Iterations)
			res.ServerCores = (srv1 - srv0).Seconds() / res.Seconds
		}
	}
	res.Kind, res.Scenario, res.Connections = "result", o.scenario, o.conns
	return res.print(os.Stdout, o)
}

func checkOptions(o options) error {
	u, err := url.Parse(o.target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-target %q: want http://127.0.0.1:PORT", o.target)
	}
	if !isLoopback(u.Hostname()) {
		return fmt.Errorf("-target %q: only loopback addresses (127.0.0.0/8, ::1, localhost) may be loaded", o.target)
	}
	if o.conns < 1 || o.conns > 1024 {
		return errors.New("-c: want 1 to 1024")
	}
	if o.duration <= 0 || o.duration > maxDuration {
		return fmt.Errorf("-d: want a duration in (0, %s]", maxDuration)
	}
	if o.warmup < 0 || o.warmup > time.Minute {
		return errors.New("-warmup: want 0 to 1m")
	}
	switch o.scenario {
	case "healthz":
	case "client-credentials":
		if o.clientID == "" || o.clientSecret == "" {
			return errors.New("client-credentials needs -client-id and -client-secret")
		}
	case "sso", "login":
		if o.clientID == "" || o.clientSecret == "" || o.username == "" || o.password == "" {
			return fmt.Errorf("%s needs -client-id, -client-secret, -username and -password", o.scenario)
		}
	default:
		return fmt.Errorf("-scenario %q: want healthz, client-credentials, sso or login", o.scenario)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackDialer refuses, as a second guard, any connection to a non-loopback address.
func loopbackDialer() *net.Dialer {
	return &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("loadgen: refusing to connect to non-loopback address %s", address)
			}
			return nil
		},
	}
}

// scenario is one kind of iteration. iterate runs one iteration for worker w; it returns the
// number of HTTP requests made and an error naming what failed.
type scenario interface {
	iterate(ctx context.Context, w int) (requests int, err error)
}

// result is the outcome of a measured run.
type result struct {
	Kind        string         `json:"kind"` // "result"
	Scenario    string         `json:"scenario"`
	Connections int            `json:"connections"`
	Seconds     float64        `json:"seconds"`
	Iterations  int            `json:"iterations"`
	Requests    int            `json:"requests"`
	Errors      int            `json:"errors"`
	PerSecond   float64        `json:"per_second"`
	P50ms       float64        `json:"p50_ms"`
	P90ms       float64        `json:"p90_ms"`
	P99ms       float64        `json:"p99_ms"`
	MaxMs       float64        `json:"max_ms"`
	ErrorKinds  map[string]int `json:"error_kinds,omitempty"`
	// ServerCPUms is the idp's CPU time (user+system) per completed iteration, in ms, and
	// ServerCores its average CPU use in cores, both over the measured run (-server-pid).
	// Dividing the cores by ServerCPUms gives the throughput the server would reach with the
	// whole machine to itself. LoadgenCPUms is loadgen's own CPU per iteration.
	ServerCPUms  float64 `json:"server_cpu_ms_per_iteration,omitempty"`
	ServerCores  float64 `json:"server_cores,omitempty"`
	LoadgenCPUms float64 `json:"loadgen_cpu_ms_per_iteration,omitempty"`
	// MachineCores is the whole machine's CPU use in cores over the run (/proc/stat), and
	// LoadgenCores loadgen's own: what is left after the server and loadgen was taken by other
	// processes of a shared machine.
	MachineCores float64 `json:"machine_cores,omitempty"`
	LoadgenCores float64 `json:"loadgen_cores,omitempty"`
}

// runWorkers runs o.conns closed-loop workers through an unmeasured warm-up (o.warmup) and a
// measured window (o.duration, or until o.maxIters iterations completed in it), calling
// begin and end at the window's edges. An iteration counts when it completes inside the
// window. Workers are never cut off: after the window they finish the iteration in flight
// (each request is bounded by -timeout) and stop, so no work the server already started is
// abandoned at either edge — abandoned logins would still cost the server a hash each and
// bias the CPU figures.
func runWorkers(ctx context.Context, o options, sc scenario, begin, end func()) result {
	const (
		warming = iota
		measuring
		stopping
	)
	var (
		phase    atomic.Int32
		counted  atomic.Int64
		full     = make(chan struct{})
		fullOnce sync.Once
		wg       sync.WaitGroup
		mu       sync.Mutex
		lat      []time.Duration
		requests int
		errs     = map[string]int{}
	)
	for w := range o.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			localErrs := map[string]int{}
			localReq := 0
			for phase.Load() != stopping && ctx.Err() == nil {
				t0 := time.Now()
				n, err := sc.iterate(ctx, w)
				d := time.Since(t0)
				if phase.Load() != measuring {
					continue
				}
				localReq += n
				if err != nil {
					if ctx.Err() == nil {
						localErrs[errKind(err)]++
					}
					continue
				}
				local = append(local, d)
				if o.maxIters > 0 && counted.Add(1) >= int64(o.maxIters) {
					fullOnce.Do(func() { close(full) })
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			requests += localReq
			for k, v := range localErrs {
				errs[k] += v
			}
			mu.Unlock()
		}()
	}
	sleep := func(d time.Duration) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-full:
		case <-ctx.Done():
		}
	}
	sleep(o.warmup)
	begin()
	start := time.Now()
	phase.Store(measuring)
	sleep(o.duration)
	phase.Store(stopping)
	elapsed := time.Since(start)
	end()
	wg.Wait()

	slices.Sort(lat)
	r := result{Seconds: elapsed.Seconds(), Iterations: len(lat), Requests: requests, ErrorKinds: errs}
	for _, v := range errs {
		r.Errors += v
	}
	if elapsed > 0 {
		r.PerSecond = float64(len(lat)) / elapsed.Seconds()
	}
	if len(lat) > 0 {
		r.P50ms = ms(percentile(lat, 0.50))
		r.P90ms = ms(percentile(lat, 0.90))
		r.P99ms = ms(percentile(lat, 0.99))
		r.MaxMs = ms(lat[len(lat)-1])
	}
	return r
}

// percentile returns the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// errKind shortens an error to a bounded label: the text before any URL or token.
func errKind(err error) string {
	s := err.Error()
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

func (r result) print(w *os.File, o options) error {
	if o.jsonOut {
		return json.NewEncoder(w).Encode(r)
	}
	if o.header {
		fmt.Fprintf(w, "%-20s %5s %9s %10s %8s %8s %8s %8s %7s\n", "scenario", "conns", "iters", "per_sec", "p50_ms", "p90_ms", "p99_ms", "max_ms", "errors")
	}
	fmt.Fprintf(w, "%-20s %5d %9d %10.1f %8.2f %8.2f %8.2f %8.2f %7d\n",
		r.Scenario, r.Connections, r.Iterations, r.PerSecond, r.P50ms, r.P90ms, r.P99ms, r.MaxMs, r.Errors)
	kinds := make([]string, 0, len(r.ErrorKinds))
	for k := range r.ErrorKinds {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return r.ErrorKinds[kinds[i]] > r.ErrorKinds[kinds[j]] })
	for i, k := range kinds {
		if i == 5 {
			break
		}
		fmt.Fprintf(os.Stderr, "  error ×%d: %s\n", r.ErrorKinds[k], k)
	}
	return nil
}

// measureHash times smcrypto.HashPassword with o.iterations on one goroutine.
func measureHash(o options) error {
	if o.hashRounds < 1 || o.hashRounds > 1000 {
		return errors.New("-hash-rounds: want 1 to 1000")
	}
	p := smcrypto.DefaultPasswordParams
	p.Iterations = o.iterations
	pw := []byte("correct horse battery staple")
	if _, err := smcrypto.HashPassword(pw, p); err != nil { // warm up, and check the parameters
		return err
	}
	times := make([]time.Duration, 0, o.hashRounds)
	for range o.hashRounds {
		t0 := time.Now()
		if _, err := smcrypto.HashPassword(pw, p); err != nil {
			return err
		}
		times = append(times, time.Since(t0))
	}
	slices.Sort(times)
	// The fastest round is the hash's cost on an idle core; on a shared machine the others
	// include time the goroutine waited for a core. The login target uses the fastest, which
	// makes it the strictest.
	per, median := times[0], times[len(times)/2]
	cores := runtime.NumCPU()
	bound := 0.9 * float64(cores) / per.Seconds()

	// All cores at once: what the machine can hash when every core is busy (hyperthreads
	// share a physical core, so this may be less than cores ÷ hash time).
	var wg sync.WaitGroup
	rounds := max(o.hashRounds/cores, 2)
	t0 := time.Now()
	for range cores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				smcrypto.HashPassword(pw, p)
			}
		}()
	}
	wg.Wait()
	parallel := float64(rounds*cores) / time.Since(t0).Seconds()
	if o.jsonOut {
		return json.NewEncoder(os.Stdout).Encode(map[string]any{
			"kind": "hash", "iterations": o.iterations, "hash_ms": ms(per), "hash_median_ms": ms(median),
			"cores": cores, "login_target_per_second": bound, "hashes_per_second_all_cores": parallel,
		})
	}
	fmt.Printf("pbkdf2-sm3 iterations=%d hash_ms=%.2f (median %.2f) cores=%d login_target_per_second=%.1f hashes_per_second_all_cores=%.1f\n",
		o.iterations, ms(per), ms(median), cores, bound, parallel)
	return nil
}

// genIDs prints n valid resident ID numbers: region 110105, birth date 1990-01-01, sequence
// 100 upwards, ISO 7064 MOD 11-2 check character.
func genIDs(n int) error {
	if n > 899 {
		return errors.New("-gen-ids: at most 899")
	}
	for i := range n {
		first := fmt.Sprintf("11010519900101%03d", 100+i)
		c, err := idnumber.ResidentIDCheckChar(first)
		if err != nil {
			return err
		}
		fmt.Printf("%s%c\n", first, c)
	}
	return nil
}
