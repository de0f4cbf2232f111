package sqlstore

import (
	"context"
	"time"
)

// RevokeGrant records that the access tokens of grant requestID below generation below are
// revoked until expiresAt, with one upsert that keeps the higher generation and the later
// expiry of the stored entry and the new one.
func (s *Store) RevokeGrant(ctx context.Context, requestID string, below int64, expiresAt time.Time) error {
	_, err := s.exec(ctx, "revoke grant", `INSERT INTO grant_revocations (request_id, below, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (request_id) DO UPDATE SET
			below = CASE WHEN excluded.below > grant_revocations.below THEN excluded.below ELSE grant_revocations.below END,
			expires_at = CASE WHEN excluded.expires_at > grant_revocations.expires_at THEN excluded.expires_at ELSE grant_revocations.expires_at END`,
		requestID, below, micros(expiresAt))
	return err
}

// GrantRevokedBelow returns the generation below which the grant's access tokens are revoked,
// 0 when there is no entry.
func (s *Store) GrantRevokedBelow(ctx context.Context, requestID string) (int64, error) {
	var below []int64
	if err := s.reader(ctx).SelectContext(ctx, &below, s.q(`SELECT below FROM grant_revocations WHERE request_id = ?`), requestID); err != nil {
		return 0, s.wrap("read grant revocation", err)
	}
	if len(below) == 0 {
		return 0, nil
	}
	return below[0], nil
}

// PurgeRevocations deletes the entries that expired before t; returns how many.
func (s *Store) PurgeRevocations(ctx context.Context, before time.Time) (int64, error) {
	return s.exec(ctx, "purge grant revocations", `DELETE FROM grant_revocations WHERE expires_at < ?`, micros(before))
}
