package main

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/storage/storagetest"
)

// TestKillDuringRefresh kills `idp serve` with SIGKILL in the middle of a refresh — after it
// claimed the refresh token, before it committed — and retries the same refresh token on a
// restarted server: the retry succeeds and no reuse is reported, because the claim died with
// its transaction (before this change, the family was revoked with a false "refresh token
// reused" alarm). To stop the refresh at that point the test holds a lock on the revoked-grant
// list, which a refresh writes after its claim (PostgreSQL only: it needs a second session on
// the same database).
func TestKillDuringRefresh(t *testing.T) {
	dsn := storagetest.PostgresDSN(t)
	dir := t.TempDir()
	db := []string{"--db", dsn, "--kek-file", dir + "/kek"}
	s := startServe(t, dir, nil, db...)
	mustOK(t, idp(t, dir, testPassword+"\n", nil, append([]string{"people", "add", "--id-number", testIDNumber, "--name", "中断"}, db...)...), "people add")
	secret := addTestApp(t, dir, db...)
	code, verifier, _ := loginCode(t, s.base)
	status, tok, _ := postToken(t, s.base, secret, redeemForm(code, verifier))
	if status != http.StatusOK {
		t.Fatalf("redeem: %d %v", status, tok)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}

	ctx := context.Background()
	pg, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	lock, err := pg.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.ExecContext(ctx, "LOCK TABLE grant_revocations IN EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	go func() { // blocks on the lock, after the claim; its connection dies with the server
		req, _ := http.NewRequest("POST", s.base+"/token", strings.NewReader(refresh.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("rp", secret)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	// Wait until the refresh waits on the lock: its claim (the UPDATE) is then done.
	for deadline := time.Now().Add(20 * time.Second); ; {
		var waiting int
		if err := pg.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
			WHERE c.relname = 'grant_revocations' AND NOT l.granted`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the refresh never reached the revoked-grant list")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.done
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}

	s2 := startServe(t, dir, nil, db...)
	status, out, _ := postToken(t, s2.base, secret, refresh)
	if status != http.StatusOK {
		t.Fatalf("the same refresh after kill -9 and a restart: %d %v, want 200", status, out)
	}
	if strings.Contains(s2.stderr.String(), "reused") {
		t.Errorf("a reuse was reported:\n%s", s2.stderr)
	}
	if !introspect(t, s2.base, secret, out["access_token"].(string)) || !introspect(t, s2.base, secret, out["refresh_token"].(string)) {
		t.Error("the tokens of the retried refresh are not active")
	}
}
