package open

import (
	"context"
	"strings"

	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/postgres"
	"github.com/tongban/tongban/storage/sqlite"
)

// Backend names what a DSN selects.
type Backend string

const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// Parse returns the backend dsn selects and what that backend's Open takes:
//   - "postgres://…" and "postgresql://…" select PostgreSQL; the DSN is passed on whole.
//   - Anything else is the path of a SQLite file, with an optional "sqlite:" prefix
//     ("sqlite:data/idp.db" is data/idp.db; "sqlite:///var/lib/idp.db" is /var/lib/idp.db).
func Parse(dsn string) (Backend, string) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return Postgres, dsn
	case strings.HasPrefix(dsn, "sqlite://"):
		return SQLite, strings.TrimPrefix(dsn, "sqlite://")
	case strings.HasPrefix(dsn, "sqlite:"):
		return SQLite, strings.TrimPrefix(dsn, "sqlite:")
	}
	return SQLite, dsn
}

// Open opens the backend that dsn selects (see Parse) with sqlite.Open or postgres.Open,
// applying its migrations. The caller closes the returned storage.
func Open(ctx context.Context, dsn string) (storage.Storage, error) {
	backend, target := Parse(dsn)
	if backend == Postgres {
		s, err := postgres.Open(ctx, target)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := sqlite.Open(ctx, target)
	if err != nil {
		return nil, err
	}
	return s, nil
}
