package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// MaxOpenConns is the size of the connection pool of one Store.
const MaxOpenConns = 25

// PostgreSQL error codes (Appendix A of the PostgreSQL manual).
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

type store = sqlstore.Store

// Store is a storage.Storage in a PostgreSQL database.
type Store struct {
	*store
}

var _ storage.Storage = (*Store)(nil)

// Open connects to the PostgreSQL database named by dsn (a URL, postgres://user@host/db?…,
// or keyword/value "host=… dbname=…", as github.com/jackc/pgx/v5 parses it), and applies the
// embedded migrations. Tables live in the first schema of the search_path (set it with a
// search_path parameter in the dsn to share one database between deployments).
//
// Several replicas may call Open at the same time: the migrations run under a session-level
// advisory lock whose ID is derived from the schema name, so one replica migrates while the
// others wait (polling every second, for up to five minutes) and then find nothing to do.
//
// The pool holds at most MaxOpenConns connections.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenWith(ctx, dsn, Options{})
}

// Options are the settings of OpenWith that Open leaves at their zero value.
type Options struct {
	// WrapConnector, when not nil, wraps the database/sql connector of the pool, to interpose
	// on every physical connection (the storage conformance suite injects faults with it,
	// storagetest.Faults). Nil means none.
	WrapConnector func(driver.Connector) driver.Connector
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dsn string, o Options) (*Store, error) {
	c, err := stdlib.GetDefaultDriver().(driver.DriverContext).OpenConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("storage/postgres: open: %w", err)
	}
	if o.WrapConnector != nil {
		c = o.WrapConnector(c)
	}
	db := sqlx.NewDb(sql.OpenDB(c), "pgx")
	db.SetMaxOpenConns(MaxOpenConns)
	db.SetMaxIdleConns(MaxOpenConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := migrate(ctx, db.DB); err != nil {
		db.Close()
		return nil, err
	}
	return &Store{sqlstore.New(sqlstore.Dialect{
		Name:      "storage/postgres",
		BindType:  sqlx.DOLLAR,
		ForUpdate: " FOR UPDATE",
		AuditLock: "LOCK TABLE audit IN SHARE ROW EXCLUSIVE MODE",
		Classify:  classify,
	}, db, db)}, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	var schema sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("storage/postgres: open: %w", err)
	}
	if !schema.Valid {
		return errors.New("storage/postgres: open: no schema of the search_path exists")
	}
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(lockID(schema.String)),
		lock.WithLockTimeout(1, 300),
		lock.WithUnlockTimeout(1, 60),
	)
	if err != nil {
		return fmt.Errorf("storage/postgres: open: %w", err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("storage/postgres: open: %w", err)
	}
	if err := sqlstore.Migrate(ctx, db, goose.DialectPostgres, sub, goose.WithSessionLocker(locker)); err != nil {
		return fmt.Errorf("storage/postgres: migrate schema %q: %w", schema.String, err)
	}
	return nil
}

// lockID is the advisory-lock key for migrating schema: FNV-1a 64 of "tongban/migrate/" and
// the schema name. Advisory locks are per database; one key per schema lets deployments (and
// test runs) in different schemas of one database migrate without waiting for each other.
func lockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("tongban/migrate/" + schema))
	return int64(h.Sum64())
}

// classify maps PostgreSQL errors to the storage sentinels: unique and foreign-key violations
// to ErrConflict and ErrNotFound; deadlocks, serialization failures and a commit that rolled
// back (a statement had failed) to ErrTxAborted; to
// ErrUnavailable, the errors of a server that cannot take
// the request now — SQLSTATE classes 08 (connection exception) and 53 (insufficient
// resources: disk full, out of memory, too many connections), 25006 (read-only transaction:
// a standby, or default_transaction_read_only), 57P01–57P03 (shutting down, starting up),
// 58030 (I/O error) — and the errors of a connection that cannot be made or was lost.
func classify(err error) error {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		switch {
		case e.Code == uniqueViolation:
			return storage.ErrConflict
		case e.Code == foreignKeyViolation:
			return storage.ErrNotFound
		case e.Code == "40001", e.Code == "40P01":
			return storage.ErrTxAborted
		case strings.HasPrefix(e.Code, "08"), strings.HasPrefix(e.Code, "53"),
			e.Code == "25006", e.Code == "57P01", e.Code == "57P02", e.Code == "57P03", e.Code == "58030":
			return storage.ErrUnavailable
		}
		return nil
	}
	if errors.Is(err, pgx.ErrTxCommitRollback) {
		// A statement of the transaction failed earlier and PostgreSQL rolled it back at the
		// commit: nothing was written, as for a deadlock.
		return storage.ErrTxAborted
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, driver.ErrBadConn),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return storage.ErrUnavailable
	}
	return nil
}
