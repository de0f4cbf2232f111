package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// pragmas apply to every connection of both pools (the driver runs busy_timeout first).
// busy_timeout is how long a connection waits for another process's write lock before failing
// with SQLITE_BUSY, in milliseconds.
const pragmas = "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"

type store = sqlstore.Store

// Store is a storage.Storage in one SQLite file.
type Store struct {
	*store
}

var _ storage.Storage = (*Store)(nil)

// Open opens (creating when missing) the SQLite database file at path and applies the
// embedded migrations. A missing directory is created with mode 0700 and a missing file with
// mode 0600 (the -wal and -shm files SQLite creates beside it inherit that mode).
//
// Every connection runs with foreign_keys on, busy_timeout 5 s and synchronous NORMAL; the
// file is switched to WAL journal mode, in which NORMAL is durable against application
// crashes (a power loss may roll back the last transactions, never corrupt the file).
//
// SQLite allows one writer at a time, so the Store writes through a pool of exactly one
// connection whose transactions start with BEGIN IMMEDIATE: concurrent writers in the process
// queue in database/sql instead of failing with SQLITE_BUSY, and a read-modify-write
// transaction holds the write lock from its first statement. Reads use a separate pool of
// read-only (query_only) connections that proceed in parallel with the writer.
//
// path is a file name, not a URI; ":memory:" is refused (the two pools could not share an
// in-memory database).
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWith(ctx, path, Options{})
}

// Options are the settings of OpenWith that Open leaves at their zero value.
type Options struct {
	// WrapConnector, when not nil, wraps the database/sql connector of both pools, to
	// interpose on every physical connection (the storage conformance suite injects faults
	// with it, storagetest.Faults). Nil means none.
	WrapConnector func(driver.Connector) driver.Connector
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, o Options) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("storage/sqlite: open %q: need the path of a database file", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("storage/sqlite: open %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("storage/sqlite: open: %w", err)
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("storage/sqlite: open: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("storage/sqlite: open: %w", err)
	}
	name := fileURI(abs)

	// journal_size_limit: after a checkpoint, truncate a WAL that a burst grew beyond 64 MiB.
	w, err := o.open(name + "?" + pragmas +
		"&_pragma=journal_mode(WAL)&_pragma=journal_size_limit(67108864)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("storage/sqlite: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("storage/sqlite: open: %w", err)
	}
	if err := sqlstore.Migrate(ctx, w.DB, goose.DialectSQLite3, sub); err != nil {
		w.Close()
		return nil, fmt.Errorf("storage/sqlite: migrate %s: %w", abs, err)
	}

	r, err := o.open(name + "?" + pragmas + "&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("storage/sqlite: open: %w", err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)

	s := &Store{sqlstore.New(sqlstore.Dialect{
		Name:          "storage/sqlite",
		BindType:      sqlx.QUESTION,
		PrepareWrites: true,
		Classify:      classify,
	}, w, r)}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// open returns a pool on dsn, through o.WrapConnector when set.
func (o Options) open(dsn string) (*sqlx.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	if o.WrapConnector != nil {
		c = o.WrapConnector(c)
	}
	return sqlx.NewDb(sql.OpenDB(c), "sqlite"), nil
}

// fileURI returns abs as a SQLite URI filename ("file:///dir/name.db"), so that characters
// such as '?' and '#' in a path cannot be read as URI syntax.
func fileURI(abs string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	if !strings.HasPrefix(u.Path, "/") { // Windows drive letters
		u.Path = "/" + u.Path
	}
	return u.String()
}

// classify maps SQLite errors to the storage sentinels: constraint violations to ErrConflict
// and ErrNotFound; the errors of a database that cannot take the write now — SQLITE_FULL
// (disk full), SQLITE_IOERR_* (an I/O error, also a full disk met while writing the WAL),
// SQLITE_READONLY_* (read-only file or file system), SQLITE_CANTOPEN, and SQLITE_BUSY or
// SQLITE_LOCKED after the busy timeout (another process holds the write lock) — to
// ErrUnavailable.
func classify(err error) error {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return nil
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return storage.ErrConflict
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return storage.ErrNotFound
	}
	switch e.Code() & 0xff { // the primary result code of an extended one
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN,
		sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return storage.ErrUnavailable
	}
	return nil
}
