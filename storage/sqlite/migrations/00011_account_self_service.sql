-- The citizen's account pages (issue 10, part 4): each login session records the device and
-- the masked client address it was made from and when it was last used; a person's grants are
-- found by subject; one-time recovery codes, stored as keyed hashes.
-- Keep in step with storage/postgres/migrations.

-- +goose Up
ALTER TABLE login_sessions ADD COLUMN device TEXT NOT NULL DEFAULT '';
ALTER TABLE login_sessions ADD COLUMN client_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE login_sessions ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0;

CREATE INDEX tokens_by_subject ON tokens (subject, client_id);

CREATE TABLE access_recovery_codes (
    person_id  TEXT    NOT NULL PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    code_hash  BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL
) STRICT;
CREATE INDEX access_recovery_codes_by_expiry ON access_recovery_codes (expires_at);

-- +goose Down
DROP TABLE access_recovery_codes;
DROP INDEX tokens_by_subject;
ALTER TABLE login_sessions DROP COLUMN last_seen;
ALTER TABLE login_sessions DROP COLUMN client_ip;
ALTER TABLE login_sessions DROP COLUMN device;
