package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the schema set-up

	"github.com/tongban/tongban/storage/postgres"
	"github.com/tongban/tongban/storage/sqlite"
)

// EnvPostgres names the environment variable that points the tests at a PostgreSQL database,
// e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable. Unset, PostgreSQL tests skip.
const EnvPostgres = "TONGBAN_TEST_POSTGRES"

// skipPostgres is the message of a skipped PostgreSQL test.
const skipPostgres = "set " + EnvPostgres + "=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run the PostgreSQL conformance suite"

// SkipUnlessPostgres skips the test, saying how to enable it, when $TONGBAN_TEST_POSTGRES is
// unset. PostgresDSN and Postgres skip by themselves; call this first in a test that runs
// many subtests so the message appears once.
func SkipUnlessPostgres(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvPostgres) == "" {
		t.Skip(skipPostgres)
	}
}

// SQLite opens a new SQLite store in a file under t.TempDir and closes it when the test ends.
func SQLite(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), tempDBPath(t))
	if err != nil {
		t.Fatalf("storagetest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("storagetest: %v", err)
		}
	})
	return s
}

// tempDBPath returns the path of a new SQLite file under t.TempDir.
func tempDBPath(t testing.TB) string { return filepath.Join(t.TempDir(), "tongban.db") }

// PostgresDSN returns a DSN for the PostgreSQL database named by $TONGBAN_TEST_POSTGRES whose
// search_path is a new, empty schema (tongban_test_<16 hex digits>), dropped with everything
// in it when the test ends; so parallel tests and test binaries never see each other's rows.
// It skips the test, saying how to enable it, when the variable is unset, and fails it when the
// database does not answer.
//
// Open stores on the DSN after calling PostgresDSN, and close them in a t.Cleanup registered
// after it, so they close before the schema is dropped.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	SkipUnlessPostgres(t)
	base := os.Getenv(EnvPostgres)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("storagetest: %s: %v", EnvPostgres, err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "tongban_test_" + hex.EncodeToString(b[:])
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		t.Fatalf("storagetest: %s: create schema: %v", EnvPostgres, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("storagetest: drop schema %s: %v", schema, err)
		}
		db.Close()
	})
	dsn, err := withSearchPath(base, schema)
	if err != nil {
		t.Fatalf("storagetest: %s: %v", EnvPostgres, err)
	}
	return dsn
}

// withSearchPath adds search_path=schema to a URL or keyword/value DSN.
func withSearchPath(dsn, schema string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " search_path=" + schema, nil
}

// Postgres opens a PostgreSQL store in a fresh schema (see PostgresDSN) and closes it when the
// test ends. It skips when $TONGBAN_TEST_POSTGRES is unset.
func Postgres(t testing.TB) *postgres.Store {
	t.Helper()
	dsn := PostgresDSN(t)
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("storagetest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("storagetest: %v", err)
		}
	})
	return s
}
