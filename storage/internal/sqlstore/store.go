package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tongban/tongban/storage"
)

// Dialect is what differs between the SQL databases.
type Dialect struct {
	// Name prefixes every error message, e.g. "storage/sqlite".
	Name string
	// BindType is the sqlx bind-variable style: sqlx.QUESTION or sqlx.DOLLAR. Queries are
	// written with '?' and rebound once.
	BindType int
	// ForUpdate is appended to the SELECT that starts an updater's transaction, e.g.
	// " FOR UPDATE" on PostgreSQL. SQLite needs none: its transactions start with BEGIN
	// IMMEDIATE and so hold the write lock already.
	ForUpdate string
	// AuditLock, when not empty, runs in the audit append's transaction before the INSERT,
	// so that sequence numbers become visible in the order they were assigned (a reader that
	// pages with "Seq > after" never skips an event committed late). PostgreSQL:
	// "LOCK TABLE audit IN SHARE ROW EXCLUSIVE MODE". SQLite has one writer and needs none.
	AuditLock string
	// PrepareWrites keeps the statements run by single writes prepared on the write pool
	// (SQLite: saves parsing on every call, a sixth of a nonce redemption). pgx caches
	// prepared statements per connection by itself, so PostgreSQL leaves this false.
	PrepareWrites bool
	// Classify maps a driver error to storage.ErrConflict (unique or primary-key violation),
	// storage.ErrNotFound (foreign-key violation: the referenced record does not exist), or
	// nil for any other error.
	Classify func(error) error
}

// Store implements storage.Storage over one or two sqlx pools.
type Store struct {
	d Dialect
	w *sqlx.DB // writes and transactions
	r *sqlx.DB // reads; may be the same pool as w

	rebound sync.Map // query with '?' → query in the dialect's bind style
	stmts   sync.Map // query with '?' → *sql.Stmt on w, when d.PrepareWrites

	audit auditBatcher // group commit of audit appends made outside a transaction

	unavailable     atomic.Uint64 // operations refused with storage.ErrUnavailable
	lastUnavailable atomic.Value  // of unavailableErr: the last of them
}

// unavailableErr boxes an error for atomic.Value, which needs one concrete type.
type unavailableErr struct{ err error }

// Unavailable implements storage.Storage: the number of operations refused with
// storage.ErrUnavailable since New, and the last such error.
func (s *Store) Unavailable() (uint64, error) {
	n := s.unavailable.Load()
	if v, ok := s.lastUnavailable.Load().(unavailableErr); ok {
		return n, v.err
	}
	return n, nil
}

var _ storage.Storage = (*Store)(nil)

// New returns a Store that writes through w and reads through r (r may be w). The caller has
// already applied the migrations. Close closes both pools.
func New(d Dialect, w, r *sqlx.DB) *Store {
	if r == nil {
		r = w
	}
	return &Store{d: d, w: w, r: r}
}

// Ping reports whether the database answers on both pools.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return s.wrap("ping", err)
	}
	if s.r != s.w {
		if err := s.r.PingContext(ctx); err != nil {
			return s.wrap("ping", err)
		}
	}
	return nil
}

// Close closes the pools.
func (s *Store) Close() error {
	var err error
	s.stmts.Range(func(_, v any) bool {
		err = errors.Join(err, v.(*sql.Stmt).Close())
		return true
	})
	err = errors.Join(err, s.w.Close())
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	if err != nil {
		return s.wrap("close", err)
	}
	return nil
}

// q returns query in the dialect's bind-variable style.
func (s *Store) q(query string) string {
	if s.d.BindType == sqlx.QUESTION {
		return query
	}
	if v, ok := s.rebound.Load(query); ok {
		return v.(string)
	}
	v := sqlx.Rebind(s.d.BindType, query)
	s.rebound.Store(query, v)
	return v
}

// wrap prefixes err with the dialect name and op, and adds the storage sentinel the driver
// error stands for.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if sentinel := s.d.Classify(err); sentinel != nil {
		err = fmt.Errorf("%s: %s: %w: %w", s.d.Name, op, sentinel, err)
		if sentinel == storage.ErrUnavailable {
			s.lastUnavailable.Store(unavailableErr{err})
			s.unavailable.Add(1)
		}
		return err
	}
	return fmt.Errorf("%s: %s: %w", s.d.Name, op, err)
}

// fail returns sentinel prefixed with the dialect name and op.
func (s *Store) fail(op string, sentinel error) error {
	return fmt.Errorf("%s: %s: %w", s.d.Name, op, sentinel)
}

// conn is what both a pool and a transaction offer.
type conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// txKey is the context key of a Store's transaction: one key per Store, so a context carrying
// a transaction of one store does not make another store's calls join it.
type txKey struct{ s *Store }

// txFrom returns the transaction of s that ctx carries, or nil.
func (s *Store) txFrom(ctx context.Context) *sqlx.Tx {
	tx, _ := ctx.Value(txKey{s}).(*sqlx.Tx)
	return tx
}

// writer returns the transaction ctx carries, else the write pool.
func (s *Store) writer(ctx context.Context) conn {
	if tx := s.txFrom(ctx); tx != nil {
		return tx
	}
	return s.w
}

// reader returns the transaction ctx carries (so a transaction reads its own writes), else
// the read pool.
func (s *Store) reader(ctx context.Context) conn {
	if tx := s.txFrom(ctx); tx != nil {
		return tx
	}
	return s.r
}

// get runs a single-row query on the read pool, or in the transaction ctx carries;
// sql.ErrNoRows becomes storage.ErrNotFound.
func (s *Store) get(ctx context.Context, op string, dest any, query string, args ...any) error {
	err := s.reader(ctx).GetContext(ctx, dest, s.q(query), args...)
	if errors.Is(err, sql.ErrNoRows) {
		return s.fail(op, storage.ErrNotFound)
	}
	return s.wrap(op, err)
}

// stmt returns query prepared on the write pool, preparing it on first use.
func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if v, ok := s.stmts.Load(query); ok {
		return v.(*sql.Stmt), nil
	}
	st, err := s.w.PrepareContext(ctx, s.q(query))
	if err != nil {
		return nil, err
	}
	if v, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return v.(*sql.Stmt), nil
	}
	return st, nil
}

// exec runs a statement on the write pool, or in the transaction ctx carries, and returns the
// number of rows it affected.
func (s *Store) exec(ctx context.Context, op string, query string, args ...any) (int64, error) {
	var res sql.Result
	var err error
	tx := s.txFrom(ctx)
	switch {
	case tx != nil:
		// A statement prepared already is reused on the transaction's connection; one that is
		// not is run unprepared, since preparing it on the pool would wait for the one SQLite
		// write connection, which this transaction holds.
		if v, ok := s.stmts.Load(query); ok {
			res, err = tx.StmtContext(ctx, v.(*sql.Stmt)).ExecContext(ctx, args...)
		} else {
			res, err = tx.ExecContext(ctx, s.q(query), args...)
		}
	case s.d.PrepareWrites:
		var st *sql.Stmt
		if st, err = s.stmt(ctx, query); err == nil {
			res, err = st.ExecContext(ctx, args...)
		}
	default:
		res, err = s.w.ExecContext(ctx, s.q(query), args...)
	}
	if err != nil {
		return 0, s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.wrap(op, err)
	}
	return n, nil
}

// query runs a query returning rows in tx, prepared when it is already prepared on the write
// pool (as exec does), else unprepared.
func (s *Store) query(ctx context.Context, tx *sqlx.Tx, query string, args ...any) (*sql.Rows, error) {
	if v, ok := s.stmts.Load(query); ok {
		return tx.StmtContext(ctx, v.(*sql.Stmt)).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, s.q(query), args...)
}

// execOne runs a statement that must affect one row; zero rows is storage.ErrNotFound.
func (s *Store) execOne(ctx context.Context, op string, query string, args ...any) error {
	n, err := s.exec(ctx, op, query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return s.fail(op, storage.ErrNotFound)
	}
	return nil
}

// inTx runs fn in a transaction on the write pool and commits when fn returns nil; fn's error
// is returned unchanged. When ctx carries a transaction already (InTx), fn runs in it and the
// outer InTx commits.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx *sqlx.Tx) error) error {
	if tx := s.txFrom(ctx); tx != nil {
		return fn(tx)
	}
	return s.InTx(ctx, func(ctx context.Context) error { return fn(s.txFrom(ctx)) })
}

// InTx implements storage.Transactor: fn runs with a context carrying one transaction on the
// write pool (BEGIN IMMEDIATE on SQLite, so it holds the write lock from its start), which
// every method of s joins; it commits when fn returns nil and rolls back otherwise, also when
// fn panics (the panic goes on). A context that carries a transaction of s already is passed
// to fn as it is. The transaction is bound to ctx: cancelling ctx rolls it back.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if s.txFrom(ctx) != nil {
		return fn(ctx)
	}
	tx, err := s.w.BeginTxx(ctx, nil)
	if err != nil {
		return s.wrap("begin transaction", err)
	}
	done := false
	defer func() {
		if !done {
			_ = tx.Rollback()
		}
	}()
	if err := fn(context.WithValue(ctx, txKey{s}, tx)); err != nil {
		done = true
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			return errors.Join(err, s.wrap("roll back transaction", rerr))
		}
		return err
	}
	done = true
	if err := tx.Commit(); err != nil {
		return s.wrap("commit transaction", err)
	}
	return nil
}

// micros returns t as Unix microseconds (floor).
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros is the inverse of micros, in UTC.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// nullMicros stores an optional time.
func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// fromNullMicros reads an optional time.
func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// blob stores a byte slice; empty is NULL.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// fromBlob reads a byte slice; NULL and empty are nil.
func fromBlob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// list stores a string list as JSON ("null" for nil, "[]" for empty).
func list(l []string) string {
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

// fromList reads a string list stored by list.
func fromList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("malformed string list: %w", err)
	}
	return l, nil
}

// randomID returns 16 random bytes, base64url without padding (22 characters).
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
