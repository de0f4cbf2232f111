-- DeleteExpiredLoginSessions (the periodic purge) scans login sessions by expiry.
-- Keep in step with storage/postgres/migrations.

-- +goose Up
CREATE INDEX login_sessions_by_expiry ON login_sessions (expires_at);

-- +goose Down
DROP INDEX login_sessions_by_expiry;
