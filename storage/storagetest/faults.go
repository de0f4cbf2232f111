package storagetest

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/tongban/tongban/storage/postgres"
	"github.com/tongban/tongban/storage/sqlite"
)

// ErrInjected is the error of a statement that Faults made fail.
var ErrInjected = errors.New("storagetest: injected fault")

// Faults makes one chosen database statement of a store fail, for the tests that prove a
// transaction leaves nothing half done. It sits between database/sql and the driver
// (Connector), so the store under test is the real one on a real database: the statement that
// fails is simply never sent, and the store sees an error as from the driver.
//
// Statements are counted across every connection of the store, in the order they start: each
// Exec and Query (on a connection or a prepared statement), each BEGIN and each COMMIT.
// Preparing a statement and rolling back are not counted and never fail.
type Faults struct {
	mu     sync.Mutex
	n      int      // statements since the last Arm
	failAt int      // the statement that fails (1-based), 0 = none
	failed []string // what was made to fail
}

// Arm resets the count and makes the nth statement from now fail with ErrInjected (n ≥ 1);
// n = 0 disarms.
func (f *Faults) Arm(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n, f.failAt, f.failed = 0, n, nil
}

// Count returns the number of statements since the last Arm.
func (f *Faults) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// Failed returns the statements made to fail since the last Arm ("exec: INSERT …", "commit").
func (f *Faults) Failed() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.failed...)
}

// next counts one statement and returns ErrInjected when it is the one to fail.
func (f *Faults) next(what string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if f.n != f.failAt {
		return nil
	}
	if len(what) > 60 {
		what = what[:60] + "…"
	}
	f.failed = append(f.failed, what)
	return fmt.Errorf("%w (statement %d: %s)", ErrInjected, f.n, what)
}

// Connector wraps c so that every connection it opens consults f.
func (f *Faults) Connector(c driver.Connector) driver.Connector { return faultConnector{c, f} }

// SQLiteWithFaults opens a new SQLite store (as SQLite) whose statements f counts and fails.
func SQLiteWithFaults(t testing.TB, f *Faults) *sqlite.Store {
	t.Helper()
	s, err := sqlite.OpenWith(context.Background(), tempDBPath(t), sqlite.Options{WrapConnector: f.Connector})
	if err != nil {
		t.Fatalf("storagetest: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// PostgresWithFaults opens a PostgreSQL store in a fresh schema (as Postgres) whose statements
// f counts and fails. It skips when $TONGBAN_TEST_POSTGRES is unset.
func PostgresWithFaults(t testing.TB, f *Faults) *postgres.Store {
	t.Helper()
	dsn := PostgresDSN(t)
	s, err := postgres.OpenWith(context.Background(), dsn, postgres.Options{WrapConnector: f.Connector})
	if err != nil {
		t.Fatalf("storagetest: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type faultConnector struct {
	driver.Connector
	f *Faults
}

func (c faultConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &faultConn{conn, c.f}, nil
}

// faultConn forwards every optional interface the SQLite and pgx connections implement, so
// database/sql behaves as without the wrapper (see modernc.org/sqlite.NewConnector).
type faultConn struct {
	driver.Conn
	f *Faults
}

var (
	_ driver.ConnBeginTx        = (*faultConn)(nil)
	_ driver.ConnPrepareContext = (*faultConn)(nil)
	_ driver.ExecerContext      = (*faultConn)(nil)
	_ driver.QueryerContext     = (*faultConn)(nil)
	_ driver.Pinger             = (*faultConn)(nil)
	_ driver.SessionResetter    = (*faultConn)(nil)
	_ driver.Validator          = (*faultConn)(nil)
	_ driver.NamedValueChecker  = (*faultConn)(nil)
)

// Unwrap returns the driver's connection.
func (c *faultConn) Unwrap() driver.Conn { return c.Conn }

func (c *faultConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.f.next("begin"); err != nil {
		return nil, err
	}
	b, ok := c.Conn.(driver.ConnBeginTx)
	if !ok {
		return nil, errors.New("storagetest: driver without BeginTx")
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return faultTx{tx, c.f}, nil
}

func (c *faultConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	p, ok := c.Conn.(driver.ConnPrepareContext)
	if !ok {
		return nil, errors.New("storagetest: driver without PrepareContext")
	}
	st, err := p.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &faultStmt{st, c.f, query}, nil
}

func (c *faultConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	if err := c.f.next("exec: " + query); err != nil {
		return nil, err
	}
	return e.ExecContext(ctx, query, args)
}

func (c *faultConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	if err := c.f.next("query: " + query); err != nil {
		return nil, err
	}
	return q.QueryContext(ctx, query, args)
}

func (c *faultConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *faultConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *faultConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *faultConn) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.Conn.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type faultTx struct {
	driver.Tx
	f *Faults
}

func (t faultTx) Commit() error {
	if err := t.f.next("commit"); err != nil {
		// The transaction must still end: a failed COMMIT leaves nothing committed.
		_ = t.Tx.Rollback()
		return err
	}
	return t.Tx.Commit()
}

type faultStmt struct {
	driver.Stmt
	f     *Faults
	query string
}

func (s *faultStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.f.next("exec: " + s.query); err != nil {
		return nil, err
	}
	if e, ok := s.Stmt.(driver.StmtExecContext); ok {
		return e.ExecContext(ctx, args)
	}
	return nil, errors.New("storagetest: driver statement without ExecContext")
}

func (s *faultStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.f.next("query: " + s.query); err != nil {
		return nil, err
	}
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		return q.QueryContext(ctx, args)
	}
	return nil, errors.New("storagetest: driver statement without QueryContext")
}

func (s *faultStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
