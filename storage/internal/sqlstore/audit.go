package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/storage"
)

type auditRow struct {
	Seq      int64         `db:"seq"`
	Pos      sql.NullInt64 `db:"chain_pos"`
	Hash     []byte        `db:"hash"`
	Time     int64         `db:"time"`
	Actor    string        `db:"actor"`
	Action   string        `db:"action"`
	Subject  string        `db:"subject"`
	ClientID string        `db:"client_id"`
	Detail   string        `db:"detail"`
}

func (r auditRow) event() storage.AuditEvent {
	return storage.AuditEvent{
		Seq: r.Seq, Pos: r.Pos.Int64, Hash: r.Hash, Time: fromMicros(r.Time),
		Actor: r.Actor, Action: r.Action, Subject: r.Subject, ClientID: r.ClientID, Detail: r.Detail,
	}
}

const auditColumns = `seq, chain_pos, hash, time, actor, action, subject, client_id, detail`

// maxAuditBatch bounds the entries one group commit writes.
const maxAuditBatch = 256

// auditBatcher gathers appends made outside a transaction into one transaction (group commit):
// the first caller to find no batch being written writes every entry queued meanwhile, and goes
// on while more arrive; the others wait for their entry's result.
type auditBatcher struct {
	mu      sync.Mutex
	queue   []*pendingAudit
	writing bool
	last    time.Time // when the last batch was written
}

// auditLinger is how long a group commit under load waits for more entries.
const auditLinger = time.Millisecond

type pendingAudit struct {
	e    storage.AuditEvent
	seq  int64
	err  error
	done chan struct{}
}

// AppendAudit chains e and stores it (storage.Audit): in the transaction ctx carries, or else in
// a group commit with the appends waiting at the same moment.
func (s *Store) AppendAudit(ctx context.Context, e storage.AuditEvent) (int64, error) {
	if s.txFrom(ctx) != nil {
		p := &pendingAudit{e: e}
		err := s.inTx(ctx, "append audit event", func(tx *sqlx.Tx) error {
			return s.appendChained(ctx, tx, []*pendingAudit{p})
		})
		return p.seq, err
	}
	p := &pendingAudit{e: e, done: make(chan struct{})}
	b := &s.audit
	b.mu.Lock()
	b.queue = append(b.queue, p)
	if b.writing {
		b.mu.Unlock()
		<-p.done
		return p.seq, p.err
	}
	b.writing = true
	for len(b.queue) > 0 {
		if time.Since(b.last) < auditLinger && len(b.queue) < maxAuditBatch {
			// Under load (the last batch was written less than auditLinger ago), wait a
			// moment for more: each batch costs a transaction, so fewer, larger batches
			// cost less CPU per entry, at the price of up to auditLinger of latency. An
			// append after a quiet spell is written at once.
			b.mu.Unlock()
			time.Sleep(auditLinger)
			b.mu.Lock()
		}
		n := min(len(b.queue), maxAuditBatch)
		batch := b.queue[:n:n]
		b.queue = b.queue[n:]
		b.mu.Unlock()
		// The batch carries other callers' entries: it must not fail because this caller
		// gave up waiting.
		bctx := context.WithoutCancel(ctx)
		s.prepareAudit(bctx)
		err := s.inTx(bctx, "append audit events", func(tx *sqlx.Tx) error {
			return s.appendChained(bctx, tx, batch)
		})
		for _, q := range batch {
			if err != nil {
				q.seq, q.err = 0, err
			}
			close(q.done)
		}
		b.mu.Lock()
		b.last = time.Now()
	}
	b.writing = false
	b.mu.Unlock()
	return p.seq, p.err
}

// The statements of an append. A batch of n entries is one INSERT of n rows.
const (
	auditHeadQuery     = `SELECT chain_pos, hash FROM audit WHERE chain_pos IS NOT NULL ORDER BY chain_pos DESC LIMIT 1`
	auditInsertColumns = `INSERT INTO audit (time, actor, action, subject, client_id, detail, chain_pos, hash) VALUES `
	auditInsertRow     = `(?, ?, ?, ?, ?, ?, ?, ?)`
	auditReturning     = ` RETURNING chain_pos, seq`
	auditInsertQuery   = auditInsertColumns + auditInsertRow + auditReturning
)

// prepareAudit prepares the head query and the one-row insert on the write pool, before a
// batch's transaction takes the one SQLite write connection, so that appends (in a batch or
// in a caller's transaction) run them prepared (see query). Failures are ignored: the
// statements then run unprepared.
func (s *Store) prepareAudit(ctx context.Context) {
	if s.d.PrepareWrites {
		_, _ = s.stmt(ctx, auditHeadQuery)
		_, _ = s.stmt(ctx, auditInsertQuery)
	}
}

// appendChained writes batch in tx, after the chain's head, under the audit lock. Entries
// written before the chain existed are chained first (once per database).
func (s *Store) appendChained(ctx context.Context, tx *sqlx.Tx, batch []*pendingAudit) error {
	const op = "append audit event"
	if s.d.AuditLock != "" {
		if _, err := tx.ExecContext(ctx, s.d.AuditLock); err != nil {
			return s.wrap(op, err)
		}
	}
	pos, prev, err := s.auditHead(ctx, tx)
	if err != nil {
		return err
	}
	if pos == 0 {
		if pos, prev, err = s.chainUnchained(ctx, tx); err != nil {
			return err
		}
	}
	var (
		l    audit.Linker
		args = make([]any, 0, 8*len(batch))
	)
	for _, p := range batch {
		pos++
		p.e.Pos = pos
		p.e.Hash = l.Link(nil, prev, p.e)
		prev = p.e.Hash
		args = append(args, micros(p.e.Time), p.e.Actor, p.e.Action, p.e.Subject, p.e.ClientID, p.e.Detail, pos, p.e.Hash)
	}
	query := auditInsertQuery
	if len(batch) > 1 {
		query = auditInsertColumns + strings.Repeat(auditInsertRow+", ", len(batch)-1) + auditInsertRow + auditReturning
	}
	rows, err := s.query(ctx, tx, query, args...)
	if err != nil {
		return s.wrap(op, err)
	}
	defer rows.Close()
	first := batch[0].e.Pos
	for rows.Next() {
		var p, seq int64
		if err := rows.Scan(&p, &seq); err != nil {
			return s.wrap(op, err)
		}
		if i := p - first; i >= 0 && i < int64(len(batch)) {
			batch[i].seq = seq
		}
	}
	return s.wrap(op, rows.Err())
}

// auditHead reads the last chained entry's position and hash: (0, audit.Genesis) when none.
func (s *Store) auditHead(ctx context.Context, tx *sqlx.Tx) (int64, []byte, error) {
	rows, err := s.query(ctx, tx, auditHeadQuery)
	if err != nil {
		return 0, nil, s.wrap("read audit chain head", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return 0, nil, s.wrap("read audit chain head", err)
		}
		return 0, audit.Genesis, nil
	}
	var (
		pos  int64
		hash []byte
	)
	if err := rows.Scan(&pos, &hash); err != nil {
		return 0, nil, s.wrap("read audit chain head", err)
	}
	return pos, hash, nil
}

// chainUnchained gives the entries written before the chain existed (migration 00007) their
// positions and hashes, in seq order, and returns the new head. It runs in the first append's
// transaction after the upgrade, under the audit lock.
func (s *Store) chainUnchained(ctx context.Context, tx *sqlx.Tx) (int64, []byte, error) {
	const op = "chain earlier audit events"
	var rows []auditRow
	if err := tx.SelectContext(ctx, &rows, `SELECT `+auditColumns+` FROM audit WHERE chain_pos IS NULL ORDER BY seq`); err != nil {
		return 0, nil, s.wrap(op, err)
	}
	var (
		l    audit.Linker
		pos  int64
		prev = audit.Genesis
	)
	for _, r := range rows {
		pos++
		e := r.event()
		e.Pos = pos
		h := l.Link(nil, prev, e)
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE audit SET chain_pos = ?, hash = ? WHERE seq = ?`), pos, h, r.Seq); err != nil {
			return 0, nil, s.wrap(op, err)
		}
		prev = h
	}
	return pos, prev, nil
}

// ListAudit returns up to limit events with Seq > after, in Seq order. A limit of zero or
// less returns no events.
func (s *Store) ListAudit(ctx context.Context, after int64, limit int) ([]storage.AuditEvent, error) {
	if limit <= 0 {
		return []storage.AuditEvent{}, nil
	}
	return s.selectAudit(ctx, "list audit events", `SELECT `+auditColumns+` FROM audit WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
}

// AuditChain returns up to limit chained entries with Pos > afterPos, in Pos order.
func (s *Store) AuditChain(ctx context.Context, afterPos int64, limit int) ([]storage.AuditEvent, error) {
	if limit <= 0 {
		return []storage.AuditEvent{}, nil
	}
	return s.selectAudit(ctx, "read audit chain", `SELECT `+auditColumns+` FROM audit WHERE chain_pos > ? ORDER BY chain_pos LIMIT ?`, afterPos, limit)
}

// UnchainedAudit returns the seq of up to limit entries without a chain position.
func (s *Store) UnchainedAudit(ctx context.Context, limit int) ([]int64, error) {
	out := []int64{}
	if limit <= 0 {
		return out, nil
	}
	if err := s.reader(ctx).SelectContext(ctx, &out, s.q(`SELECT seq FROM audit WHERE chain_pos IS NULL ORDER BY seq LIMIT ?`), limit); err != nil {
		return nil, s.wrap("find unchained audit events", err)
	}
	return out, nil
}

// QueryAudit returns the entries q selects (storage.AuditQuery), in Pos order.
func (s *Store) QueryAudit(ctx context.Context, q storage.AuditQuery) ([]storage.AuditEvent, error) {
	if q.Limit <= 0 {
		return []storage.AuditEvent{}, nil
	}
	var (
		where []string
		args  []any
	)
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	add("chain_pos IS NOT NULL")
	switch {
	case q.AfterPos > 0 && q.Descending:
		add("chain_pos < ?", q.AfterPos)
	case q.AfterPos > 0:
		add("chain_pos > ?", q.AfterPos)
	}
	if !q.Since.IsZero() {
		add("time >= ?", micros(q.Since))
	}
	if !q.Until.IsZero() {
		add("time < ?", micros(q.Until))
	}
	if q.Action != "" {
		if strings.HasSuffix(q.Action, ".") {
			// A prefix: compare the leading characters rather than LIKE, whose wildcards
			// the action could contain.
			add("substr(action, 1, ?) = ?", len(q.Action), q.Action)
		} else {
			add("action = ?", q.Action)
		}
	}
	if q.Actor != "" {
		add("actor = ?", q.Actor)
	}
	if q.ClientID != "" {
		add("client_id = ?", q.ClientID)
	}
	if q.Person != "" {
		add("(actor = ? OR subject = ?)", q.Person, q.Person)
	}
	order := "ASC"
	if q.Descending {
		order = "DESC"
	}
	args = append(args, q.Limit)
	return s.selectAudit(ctx, "query audit events",
		`SELECT `+auditColumns+` FROM audit WHERE `+strings.Join(where, " AND ")+` ORDER BY chain_pos `+order+` LIMIT ?`, args...)
}

func (s *Store) selectAudit(ctx context.Context, op, query string, args ...any) ([]storage.AuditEvent, error) {
	var rows []auditRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(query), args...); err != nil {
		return nil, s.wrap(op, err)
	}
	out := make([]storage.AuditEvent, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.event())
	}
	return out, nil
}

type checkpointRow struct {
	Pos       int64  `db:"chain_pos"`
	Hash      []byte `db:"hash"`
	Time      int64  `db:"time"`
	Replica   string `db:"replica"`
	KeyID     string `db:"key_id"`
	Signature []byte `db:"signature"`
}

// AddAuditCheckpoint stores a signed checkpoint (storage.Audit).
func (s *Store) AddAuditCheckpoint(ctx context.Context, c storage.AuditCheckpoint) error {
	_, err := s.exec(ctx, "add audit checkpoint", `INSERT INTO audit_checkpoints (chain_pos, hash, time, replica, key_id, signature)
		VALUES (?, ?, ?, ?, ?, ?)`, c.Pos, c.Hash, micros(c.Time), c.Replica, c.KeyID, c.Signature)
	return err
}

// AuditCheckpoints returns every checkpoint in Pos order, then Time (storage.Audit).
func (s *Store) AuditCheckpoints(ctx context.Context) ([]storage.AuditCheckpoint, error) {
	var rows []checkpointRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, `SELECT chain_pos, hash, time, replica, key_id, signature
		FROM audit_checkpoints ORDER BY chain_pos, time, id`); err != nil {
		return nil, s.wrap("list audit checkpoints", err)
	}
	out := make([]storage.AuditCheckpoint, 0, len(rows))
	for _, r := range rows {
		out = append(out, storage.AuditCheckpoint{
			Pos: r.Pos, Hash: r.Hash, Time: fromMicros(r.Time), Replica: r.Replica, KeyID: r.KeyID, Signature: r.Signature,
		})
	}
	return out, nil
}
