package open_test

import (
	"path/filepath"
	"testing"

	"github.com/tongban/tongban/storage/open"
	"github.com/tongban/tongban/storage/postgres"
	"github.com/tongban/tongban/storage/sqlite"
	"github.com/tongban/tongban/storage/storagetest"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		dsn         string
		wantBackend open.Backend
		wantTarget  string
	}{
		{"postgres://postgres@127.0.0.1:5432/test?sslmode=disable", open.Postgres, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"},
		{"postgresql://u:p@db/tongban", open.Postgres, "postgresql://u:p@db/tongban"},
		{"data/idp.db", open.SQLite, "data/idp.db"},
		{"/var/lib/tongban/idp.db", open.SQLite, "/var/lib/tongban/idp.db"},
		{"sqlite:data/idp.db", open.SQLite, "data/idp.db"},
		{"sqlite:///var/lib/idp.db", open.SQLite, "/var/lib/idp.db"},
		{"postgres.db", open.SQLite, "postgres.db"},
	} {
		t.Run(tc.dsn, func(t *testing.T) {
			b, target := open.Parse(tc.dsn)
			if b != tc.wantBackend || target != tc.wantTarget {
				t.Errorf("Parse = %q, %q; want %q, %q", b, target, tc.wantBackend, tc.wantTarget)
			}
		})
	}
}

func TestOpenSQLite(t *testing.T) {
	s, err := open.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "idp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*sqlite.Store); !ok {
		t.Errorf("Open returned %T, want *sqlite.Store", s)
	}
}

func TestOpenPostgres(t *testing.T) {
	s, err := open.Open(t.Context(), storagetest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*postgres.Store); !ok {
		t.Errorf("Open returned %T, want *postgres.Store", s)
	}
}
