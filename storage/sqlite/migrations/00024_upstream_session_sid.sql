-- Upstream back-channel logout (issue 8): an upstream provider's logout token names the
-- upstream session by its sid (OpenID Connect Back-Channel Logout 1.0 §2.4). upstream_sid is
-- the sid claim of the upstream ID token a brokered login was made with ('' when it had none);
-- the index finds the local sessions of one upstream session.
-- Keep in step with storage/postgres/migrations.

-- +goose Up
ALTER TABLE upstream_sessions ADD COLUMN upstream_sid TEXT NOT NULL DEFAULT '';
CREATE INDEX upstream_sessions_by_sid ON upstream_sessions (upstream_id, upstream_sid);

-- +goose Down
DROP INDEX upstream_sessions_by_sid;
ALTER TABLE upstream_sessions DROP COLUMN upstream_sid;
