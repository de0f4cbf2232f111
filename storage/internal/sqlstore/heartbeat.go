package sqlstore

import (
	"context"
	"time"
)

// Heartbeat upserts (instance, at) into the heartbeats table: one small write, which fails
// when the database refuses writes.
func (s *Store) Heartbeat(ctx context.Context, instance string, at time.Time) error {
	_, err := s.exec(ctx, "heartbeat", `INSERT INTO heartbeats (instance, at) VALUES (?, ?)
		ON CONFLICT (instance) DO UPDATE SET at = excluded.at`, instance, micros(at))
	return err
}
