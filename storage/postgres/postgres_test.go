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
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storagetest.AuditAppendOnly(t, s, db,
		"UPDATE audit SET actor = 'mallory'",
		"DELETE FROM audit",
		"TRUNCATE audit",
	)
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
