package storagetest

import (
	"context"
	"testing"

	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/postgres"
	"github.com/tongban/tongban/storage/sqlite"
)

// Two replicas on one database add to the same app_stats rows at once.

func TestAppStatsReplicasSQLite(t *testing.T) {
	RunAppStatsReplicas(t, func(t *testing.T) (storage.Storage, storage.Storage) {
		path := tempDBPath(t)
		return openCloser(t, func() (storage.Storage, error) { return sqlite.Open(context.Background(), path) }),
			openCloser(t, func() (storage.Storage, error) { return sqlite.Open(context.Background(), path) })
	})
}

func TestAppStatsReplicasPostgres(t *testing.T) {
	RunAppStatsReplicas(t, func(t *testing.T) (storage.Storage, storage.Storage) {
		dsn := PostgresDSN(t)
		return openCloser(t, func() (storage.Storage, error) { return postgres.Open(context.Background(), dsn) }),
			openCloser(t, func() (storage.Storage, error) { return postgres.Open(context.Background(), dsn) })
	})
}

// openCloser opens a store and closes it when the test ends.
func openCloser(t *testing.T, open func() (storage.Storage, error)) storage.Storage {
	t.Helper()
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}
