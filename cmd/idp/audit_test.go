package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/storage/storagetest"
)

// TestAuditTwoReplicas: two `idp serve` processes on one database write 10,000 audited token
// issues at once; the chain they share verifies, each signed a checkpoint when it stopped, and
// the copy in one replica's file sink matches. Then, with the append-only triggers dropped, one
// edited entry makes `idp audit verify` exit 1 naming its position. On SQLite and PostgreSQL.
func TestAuditTwoReplicas(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "shared.db")
		testAuditTwoReplicas(t, dir, path, "sqlite", path+"?_pragma=busy_timeout(5000)",
			"DROP TRIGGER audit_no_update")
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := storagetest.PostgresDSN(t)
		testAuditTwoReplicas(t, t.TempDir(), dsn, "pgx", dsn, "DROP TRIGGER audit_no_update_delete ON audit")
	})
}

func testAuditTwoReplicas(t *testing.T, dir, dbAddr, driver, rawDSN, dropTrigger string) {
	const total = 10000
	db := []string{"--db", dbAddr, "--kek-file", dir + "/kek"}
	sinkDir := filepath.Join(dir, "sink")
	serve := append([]string{"--issuer", "http://127.0.0.1:8080", "--audit-checkpoint-interval", "0"}, db...)
	a := startServe(t, dir, nil, append(serve, "--audit-sink", "file:"+sinkDir)...) // creates the KEK
	b := startServe(t, dir, nil, serve...)
	r := idp(t, dir, "", nil, append([]string{"clients", "add", "--id", "svc", "--grant-types", "client_credentials", "--scopes", "", "--json"}, db...)...)
	mustOK(t, r, "clients add")
	secret := decode[clientJSON](t, r).ClientSecret

	var (
		next   atomic.Int64
		failed atomic.Int64
		wg     sync.WaitGroup
	)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	for w := range 16 {
		wg.Go(func() {
			base := []string{a.base, b.base}[w%2]
			for next.Add(1) <= total {
				req, _ := http.NewRequest("POST", base+"/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth("svc", secret)
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d token requests failed", n, total)
	}
	for _, s := range []*server{a, b} {
		if err := s.stop(t); err != nil {
			t.Fatalf("idp serve exited with %v:\n%s", err, s.stderr)
		}
	}

	r = idp(t, dir, "", nil, append([]string{"audit", "verify", "--json", "--sink", sinkDir}, db...)...)
	mustOK(t, r, "audit verify")
	var rep audit.Report
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("audit verify --json: %v\n%s", err, r.Stdout)
	}
	// 10,000 token issues and the client registration.
	if rep.Entries < total+1 || rep.Checkpoints < 2 || rep.Signed != rep.Head || rep.SinkRecords != rep.Entries {
		t.Errorf("report: %d entries, %d checkpoints, signed through %d of %d, %d sink records; want ≥ %d entries, 2 shutdown checkpoints covering the head, every entry in the sink",
			rep.Entries, rep.Checkpoints, rep.Signed, rep.Head, rep.SinkRecords, total+1)
	}
	r = idp(t, dir, "", nil, append([]string{"audit", "list", "--action", "token.", "--client", "svc", "--limit", "3", "--json"}, db...)...)
	mustOK(t, r, "audit list")
	if got := decode[[]map[string]any](t, r); len(got) != 3 || got[0]["action"] != "token.issue" || got[0]["pos"].(float64) != float64(rep.Head) {
		t.Errorf("audit list: %v, want the 3 newest token.issue entries", got)
	}

	raw, err := sql.Open(driver, rawDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	const edited = 4321
	for _, stmt := range []string{dropTrigger, fmt.Sprintf("UPDATE audit SET detail = 'grant=client_credentials' WHERE chain_pos = %d", edited)} {
		if _, err := raw.ExecContext(context.Background(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	r = idp(t, dir, "", nil, append([]string{"audit", "verify"}, db...)...)
	if r.Code != 1 || !strings.Contains(r.Stdout, fmt.Sprintf("FIRST BAD: edited: position %d", edited)) {
		t.Errorf("audit verify after an edit: exit %d, want 1 naming position %d\n%s\n%s", r.Code, edited, r.Stdout, r.Stderr)
	}
}
