package postgres_test

import (
	"context"
	"database/sql"
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

func TestAuditAppendOnly(t *testing.T) {
	dsn := storagetest.PostgresDSN(t)
	ctx := t.Context()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.AppendAudit(ctx, storage.AuditEvent{Time: time.Now(), Actor: "operator", Action: "test"}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{
		"UPDATE audit SET actor = 'mallory'",
		"DELETE FROM audit",
		"TRUNCATE audit",
	} {
		_, err := db.ExecContext(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: error %v, want the append-only refusal", stmt, err)
		}
	}
	events, err := s.ListAudit(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Actor != "operator" {
		t.Errorf("audit log changed: %+v", events)
	}
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
