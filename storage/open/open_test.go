package open

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tongban/tongban/storage/postgres"
	"github.com/tongban/tongban/storage/sqlite"
	"github.com/tongban/tongban/storage/storagetest"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, dsn   string
		wantBackend Backend
		wantTarget  string
	}{
		{"ok/postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", Postgres, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"},
		{"ok/postgresql", "postgresql://u:p@db/tongban", Postgres, "postgresql://u:p@db/tongban"},
		{"ok/postgres in capitals", "POSTGRES://u:P@DB/Tongban", Postgres, "postgres://u:P@DB/Tongban"},
		{"ok/postgresql mixed case", "PostgreSQL://db/x", Postgres, "postgresql://db/x"},
		{"ok/relative path", "data/idp.db", SQLite, "data/idp.db"},
		{"ok/absolute path", "/var/lib/tongban/idp.db", SQLite, "/var/lib/tongban/idp.db"},
		{"ok/sqlite prefix", "sqlite:data/idp.db", SQLite, "data/idp.db"},
		{"ok/sqlite URL", "sqlite:///var/lib/idp.db", SQLite, "/var/lib/idp.db"},
		{"ok/sqlite prefix in capitals", "SQLITE:data/idp.db", SQLite, "data/idp.db"},
		{"ok/file named postgres", "postgres.db", SQLite, "postgres.db"},
		{"ok/keyword-value string is a path", "host=db dbname=x", SQLite, "host=db dbname=x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, target := Parse(tc.dsn)
			if b != tc.wantBackend || target != tc.wantTarget {
				t.Errorf("Parse(%q) = %q, %q; want %q, %q", tc.dsn, b, target, tc.wantBackend, tc.wantTarget)
			}
			if IsPostgres(tc.dsn) != (tc.wantBackend == Postgres) {
				t.Errorf("IsPostgres(%q) = %v", tc.dsn, IsPostgres(tc.dsn))
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ name, dsn, want string }{
		{"ok/password", "postgres://idp:hunter2@db:5432/idp?sslmode=disable", "postgres://idp:xxxxx@db:5432/idp?sslmode=disable"},
		{"ok/capital scheme", "POSTGRESQL://idp:hunter2@db/idp", "postgresql://idp:xxxxx@db/idp"},
		{"ok/no password", "postgres://idp@db/idp", "postgres://idp@db/idp"},
		{"ok/unparsable", "postgres://idp:hunter2@[db/idp", "postgres://(unparsable URL)"},
		{"ok/sqlite path", "./var/tongban.db", "./var/tongban.db"},
		{"ok/sqlite prefix", "sqlite:var/tongban.db", "sqlite:var/tongban.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.dsn); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.dsn, got, tc.want)
			}
		})
	}
}

// TestOpenSQLite: the sqlite: prefix is stripped, a missing directory is created with mode
// 0700 and the file with mode 0600.
func TestOpenSQLite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "var")
	path := filepath.Join(dir, "idp.db")
	for _, dsn := range []string{"sqlite:" + path, path, "SQLite://" + path} {
		s, err := Open(t.Context(), dsn)
		if err != nil {
			t.Fatalf("Open(%q): %v", dsn, err)
		}
		if _, ok := s.(*sqlite.Store); !ok {
			t.Errorf("Open(%q) returned %T, want *sqlite.Store", dsn, s)
		}
		s.Close()
	}
	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %#o, want %#o", p, st.Mode().Perm(), want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		name, dsn string
		want      string
	}{
		{"fail/sqlite prefix without a path", "sqlite:", "need the path of a database file"},
		{"fail/sqlite in memory", ":memory:", "need the path of a database file"},
		// Nothing listens on port 1: the connection is refused at once.
		{"fail/postgres password not shown", "postgres://idp:hunter2@127.0.0.1:1/idp?sslmode=disable&connect_timeout=5", "open database postgres://idp:xxxxx@127.0.0.1:1/idp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(t.Context(), tc.dsn)
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q, want it to contain %q and no password", err, tc.want)
			}
		})
	}
}

// TestRedactErr: a driver error that quotes the password loses it from its text but is still
// found by errors.Is.
func TestRedactErr(t *testing.T) {
	cause := context.DeadlineExceeded
	quoting := errors.Join(errors.New(`bad password "hunter2"`), cause)
	err := redactErr(quoting, "postgres://idp:hunter2@db/idp")
	if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), `"xxxxx"`) || !errors.Is(err, cause) {
		t.Errorf("redactErr = %q (errors.Is: %v)", err, errors.Is(err, cause))
	}
	plain := errors.New("connection refused")
	if got := redactErr(plain, "postgres://idp:hunter2@db/idp"); got != plain {
		t.Errorf("an error without the password was rewritten: %v", got)
	}
}

func TestOpenPostgres(t *testing.T) {
	dsn := storagetest.PostgresDSN(t)
	// The scheme in capitals opens the same database.
	for _, d := range []string{dsn, strings.ToUpper(dsn[:len("postgres")]) + dsn[len("postgres"):]} {
		s, err := Open(t.Context(), d)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.(*postgres.Store); !ok {
			t.Errorf("Open returned %T, want *postgres.Store", s)
		}
		s.Close()
	}
}
