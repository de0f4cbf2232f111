package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/sqlite"
	"github.com/tongban/tongban/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Storage { return storagetest.SQLite(t) })
}

// raw opens the database file without the Store, as an operator with the sqlite3 shell would.
func raw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpen(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, "tongban.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	for _, c := range []struct {
		path string
		mode os.FileMode
	}{{dir, 0o700 | os.ModeDir}, {path, 0o600}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != c.mode {
			t.Errorf("%s: mode %v, want %v", c.path, fi.Mode(), c.mode)
		}
	}
	var mode string
	if err := raw(t, path).QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}

	// Data survives closing and reopening; migrations are not applied twice.
	if err := s.CreateClient(ctx, storage.Client{ID: "kept"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { s2.Close() })
	if _, err := s2.GetClient(ctx, "kept"); err != nil {
		t.Errorf("after reopening: %v", err)
	}
}

func TestOpenRefusesNonFiles(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if s, err := sqlite.Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

func TestOpenOddPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a dir?#%", "db file?.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at the given path: %v", err)
	}
}

func TestAuditAppendOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tongban.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storagetest.AuditAppendOnly(t, s, raw(t, path), storagetest.AuditAppendOnlyStatements...)
}

func TestAuditChainsEarlierEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tongban.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storagetest.AuditChainsEarlierEntries(t, s, raw(t, path), func(int) string { return "?" })
}

// TestTwoStoresOneFile: two Stores (two processes, in effect) on one file take turns
// through busy_timeout instead of failing with SQLITE_BUSY, and single use still holds.
func TestTwoStoresOneFile(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tongban.db")
	a, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	exp := time.Now().Add(time.Minute)
	errs := make(chan error, 200)
	for i := range 200 {
		s := storage.Storage(a)
		if i%2 == 1 {
			s = b
		}
		go func() { errs <- s.UseNonce(ctx, "ns", "v"+string(rune('0'+i%100)), exp) }()
	}
	ok := 0
	for range 200 {
		err := <-errs
		switch {
		case err == nil:
			ok++
		case !strings.Contains(err.Error(), storage.ErrAlreadyUsed.Error()):
			t.Errorf("UseNonce: %v", err)
		}
	}
	if ok != 100 {
		t.Errorf("%d nonces used, want 100", ok)
	}
}

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "tongban")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "idp.db"))
	if err != nil {
		panic(err)
	}
	defer s.Close()
	exp := time.Now().Add(time.Minute)
	_ = s.UseNonce(ctx, "qr-cti", "AAECAwQFBgc", exp)
	err = s.UseNonce(ctx, "qr-cti", "AAECAwQFBgc", exp)
	fmt.Println(err)
	// Output: storage/sqlite: use nonce: storage: already used
}

func TestFaults(t *testing.T) {
	storagetest.RunFaults(t, func(t *testing.T, f *storagetest.Faults) storage.Storage {
		return storagetest.SQLiteWithFaults(t, f)
	})
}
