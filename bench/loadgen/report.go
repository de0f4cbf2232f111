package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Targets of issue 3 (2 cores, load generator on the same machine, SQLite, 16 connections).
const (
	targetCCPerSec    = 2000.0 // client-credentials tokens/s
	targetCCP99ms     = 50.0   // client-credentials p99
	targetSSOPerSec   = 500.0  // SSO round trips/s
	targetLoginFactor = 0.9    // logins/s ≥ 0.9 × cores ÷ hash time
	targetIdleRSSMB   = 100.0
	targetLoadRSSMB   = 300.0
)

// record is one JSON line of a results file: a loadgen result, a hash measurement or an RSS
// sample written by bench/run.sh.
type record struct {
	Kind string `json:"kind"`
	result
	// hash
	Iterations  int     `json:"iterations"`
	HashMs      float64 `json:"hash_ms"`
	HashMedian  float64 `json:"hash_median_ms"`
	HashesAll   float64 `json:"hashes_per_second_all_cores"`
	Cores       int     `json:"cores"`
	LoginTarget float64 `json:"login_target_per_second"`
	// rss
	Phase string `json:"phase"`
	KB    int    `json:"kb"`
}

func report(path string, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var (
		results []result
		hash    *record
		rss     = map[string]int{}
		order   []string
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		switch r.Kind {
		case "result":
			results = append(results, r.result)
		case "hash":
			h := r
			hash = &h
		case "rss":
			if _, ok := rss[r.Phase]; !ok {
				order = append(order, r.Phase)
			}
			rss[r.Phase] = max(rss[r.Phase], r.KB)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}

	fmt.Fprintf(w, "| scenario | conns | iterations/s | p50 ms | p90 ms | p99 ms | max ms | errors | server CPU ms/iter | server cores | loadgen cores | other processes' cores | peak RSS MB |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	byName := map[string]result{}
	for _, r := range results {
		byName[r.Scenario] = r
		fmt.Fprintf(w, "| %s | %d | %.0f | %.2f | %.2f | %.2f | %.2f | %d | %.3f | %.2f | %.2f | %.2f | %.1f |\n",
			r.Scenario, r.Connections, r.PerSecond, r.P50ms, r.P90ms, r.P99ms, r.MaxMs, r.Errors,
			r.ServerCPUms, r.ServerCores, r.LoadgenCores, max(0, r.MachineCores-r.ServerCores-r.LoadgenCores),
			float64(rss[r.Scenario])/1024)
	}
	fmt.Fprintln(w)
	if len(order) > 0 {
		fmt.Fprintf(w, "RSS:")
		for _, p := range order {
			fmt.Fprintf(w, " %s %.1f MB;", p, float64(rss[p])/1024)
		}
		fmt.Fprintln(w)
	}
	if hash != nil {
		fmt.Fprintf(w, "Password hash: PBKDF2-HMAC-SM3, %d iterations, %.2f ms on one core (fastest of the rounds; median %.2f ms); %d cores → login target %.1f/s\n",
			hash.Iterations, hash.HashMs, hash.HashMedian, hash.Cores, hash.LoginTarget)
		fmt.Fprintf(w, "All %d cores hashing at once: %.1f hashes/s (%.0f%% of cores ÷ hash time)\n",
			hash.Cores, hash.HashesAll, 100*hash.HashesAll*hash.HashMs/1000/float64(hash.Cores))
		if r, ok := byName["login"]; ok && r.ServerCPUms > 0 {
			fmt.Fprintf(w, "Login cost: %.2f ms of server CPU per login (%.2f× the idle-core hash time); %.2f cores used, of %d\n",
				r.ServerCPUms, r.ServerCPUms/hash.HashMs, r.ServerCores, hash.Cores)
		}
	}
	if hz, ok := byName["healthz"]; ok && hz.PerSecond > 0 {
		fmt.Fprintf(w, "Baseline /healthz: %.0f/s.", hz.PerSecond)
		for _, n := range []string{"client-credentials", "sso", "login"} {
			if r, ok := byName[n]; ok {
				fmt.Fprintf(w, " %s = %.3f× baseline;", n, r.PerSecond/hz.PerSecond)
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)

	check := func(name string, ok bool, format string, args ...any) {
		mark := "PASS"
		if !ok {
			mark = "MISS"
		}
		fmt.Fprintf(w, "%s  %-34s %s\n", mark, name, fmt.Sprintf(format, args...))
	}
	if r, ok := byName["client-credentials"]; ok {
		check("client-credentials ≥ 2000/s", r.PerSecond >= targetCCPerSec && r.Errors == 0, "%.0f/s, %d errors", r.PerSecond, r.Errors)
		check("client-credentials p99 < 50 ms", r.P99ms < targetCCP99ms, "%.2f ms", r.P99ms)
	}
	if r, ok := byName["sso"]; ok {
		check("SSO round trips ≥ 500/s", r.PerSecond >= targetSSOPerSec && r.Errors == 0, "%.0f/s, %d errors", r.PerSecond, r.Errors)
	}
	if r, ok := byName["login"]; ok && hash != nil {
		target := targetLoginFactor * float64(hash.Cores) / (hash.HashMs / 1000)
		check("logins ≥ 0.9 × cores ÷ hash time", r.PerSecond >= target && r.Errors == 0, "%.1f/s vs %.1f/s (%.0f%% of cores ÷ hash time), %d errors",
			r.PerSecond, target, 100*r.PerSecond*hash.HashMs/1000/float64(hash.Cores), r.Errors)
	}
	if kb, ok := rss["idle"]; ok {
		check("RSS idle < 100 MB", float64(kb)/1024 < targetIdleRSSMB, "%.1f MB", float64(kb)/1024)
	}
	peak := 0
	for p, kb := range rss {
		if p != "idle" {
			peak = max(peak, kb)
		}
	}
	if peak > 0 {
		check("RSS under load < 300 MB", float64(peak)/1024 < targetLoadRSSMB, "%.1f MB", float64(peak)/1024)
	}
	return nil
}
