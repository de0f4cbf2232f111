package sqlstore

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/tongban/tongban/storage"
)

type auditRow struct {
	Seq      int64  `db:"seq"`
	Time     int64  `db:"time"`
	Actor    string `db:"actor"`
	Action   string `db:"action"`
	Subject  string `db:"subject"`
	ClientID string `db:"client_id"`
	Detail   string `db:"detail"`
}

// AppendAudit stores e (its Seq is ignored) and returns the sequence number the database
// assigned. Sequence numbers rise; within one database they are never reused.
func (s *Store) AppendAudit(ctx context.Context, e storage.AuditEvent) (int64, error) {
	const op = "append audit event"
	var seq int64
	err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		if s.d.AuditLock != "" {
			if _, err := tx.ExecContext(ctx, s.d.AuditLock); err != nil {
				return s.wrap(op, err)
			}
		}
		return s.wrap(op, tx.GetContext(ctx, &seq, s.q(`INSERT INTO audit (time, actor, action, subject, client_id, detail)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING seq`),
			micros(e.Time), e.Actor, e.Action, e.Subject, e.ClientID, e.Detail))
	})
	return seq, err
}

// ListAudit returns up to limit events with Seq > after, in Seq order. A limit of zero or
// less returns no events.
func (s *Store) ListAudit(ctx context.Context, after int64, limit int) ([]storage.AuditEvent, error) {
	out := []storage.AuditEvent{}
	if limit <= 0 {
		return out, nil
	}
	var rows []auditRow
	if err := s.reader(ctx).SelectContext(ctx, &rows, s.q(`SELECT seq, time, actor, action, subject, client_id, detail
		FROM audit WHERE seq > ? ORDER BY seq LIMIT ?`), after, limit); err != nil {
		return nil, s.wrap("list audit events", err)
	}
	for _, r := range rows {
		out = append(out, storage.AuditEvent{
			Seq:      r.Seq,
			Time:     fromMicros(r.Time),
			Actor:    r.Actor,
			Action:   r.Action,
			Subject:  r.Subject,
			ClientID: r.ClientID,
			Detail:   r.Detail,
		})
	}
	return out, nil
}
