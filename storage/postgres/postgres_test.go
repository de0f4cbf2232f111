package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/postgres"
	"github.com/tongban/tongban/storage/storagetest"
)

// Set TONGBAN_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run
// these tests; each works in a schema of its own.

func TestConformance(t *testing.T) {
	storagetest.SkipUnlessPostgres(t)
	storagetest.Run(t, func(t *testing.T) storage.Storage { return storagetest.Postgres(t) })
}

func TestFaults(t *testing.T) {
	storagetest.SkipUnlessPostgres(t)
	storagetest.RunFaults(t, func(t *testing.T, f *storagetest.Faults) storage.Storage {
		return storagetest.PostgresWithFaults(t, f)
	})
}

// TestConcurrentOpen: replicas starting together migrate once, under the advisory lock.
func TestConcurrentOpen(t *testing.T) {
	dsn := storagetest.PostgresDSN(t)
	ctx := t.Context()
	const replicas = 4
	stores := make([]*postgres.Store, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(ctx, dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	if t.Failed() {
		return
	}
	// Single use holds across the replicas' pools.
	exp := time.Now().Add(time.Minute)
	used := 0
	for _, s := range stores {
		if err := s.UseNonce(ctx, "ns", "v", exp); err == nil {
			used++
		}
	}
	if used != 1 {
		t.Errorf("nonce used by %d replicas, want 1", used)
	}
}

// openWithRaw opens a store on a fresh schema and a raw connection to the same schema, for
// changes made behind the store's back; both close when the test ends.
func openWithRaw(t *testing.T) (*postgres.Store, *sql.DB) {
	t.Helper()
	dsn := storagetest.PostgresDSN(t)
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return s, db
}

func TestAuditAppendOnly(t *testing.T) {
	s, db := openWithRaw(t)
	storagetest.AuditAppendOnly(t, s, db, append(storagetest.AuditAppendOnlyStatements,
		"TRUNCATE audit", "TRUNCATE audit_checkpoints")...)
}

func TestAuditChainsEarlierEntries(t *testing.T) {
	s, db := openWithRaw(t)
	storagetest.AuditChainsEarlierEntries(t, s, db, func(i int) string { return fmt.Sprintf("$%d", i) })
}

func TestOpenMissingSchema(t *testing.T) {
	dsn := storagetest.PostgresDSN(t)
	dsn = strings.Replace(dsn, "search_path=tongban_test_", "search_path=missing_", 1)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if s, err := postgres.Open(ctx, dsn); err == nil {
		s.Close()
		t.Fatal("Open succeeded without a schema")
	}
}

// TestConnectionLost: when the server ends the store's connections (an administrator, a
// restart, a failover), the operations that meet the broken connection fail with
// storage.ErrUnavailable and are counted; the pool then reconnects.
func TestConnectionLost(t *testing.T) {
	dsn := storagetest.PostgresDSN(t)
	// The application name marks this store's connections, so that only they are ended
	// (other tests may use the same server at the same time).
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	app := "tongban_lost_" + strings.TrimPrefix(q.Get("search_path"), "tongban_test_")
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	ctx := t.Context()
	s, err := postgres.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Heartbeat(ctx, "a", time.Now()); err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", os.Getenv(storagetest.EnvPostgres))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var killed int
	if err := admin.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1`, app).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Fatalf("no connection named %s to end", app)
	}
	err = s.Heartbeat(ctx, "a", time.Now())
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("heartbeat on a terminated connection: %v, want storage.ErrUnavailable", err)
	}
	if n, last := s.Unavailable(); n != 1 || !errors.Is(last, storage.ErrUnavailable) {
		t.Errorf("Unavailable() = %d, %v", n, last)
	}
	if err := s.Heartbeat(ctx, "a", time.Now()); err != nil {
		t.Errorf("heartbeat after reconnecting: %v", err)
	}
}
