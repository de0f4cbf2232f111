-- grant_revocations: the short-lived list of revoked grants that self-contained access tokens
-- are checked against (storage.Revocations): the tokens of grant request_id with a generation
-- below "below" are revoked; the entry may go once expires_at has passed (by then every access
-- token the grant issued before the revocation has expired).
-- heartbeats: one row per replica, rewritten every few seconds by the readiness check to prove
-- that the database accepts writes (storage.Storage.Heartbeat).
-- Keep in step with the other backend's migrations.

-- +goose Up
CREATE TABLE grant_revocations (
    request_id TEXT PRIMARY KEY,
    below      BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX grant_revocations_by_expiry ON grant_revocations (expires_at);
CREATE TABLE heartbeats (
    instance TEXT PRIMARY KEY,
    at       BIGINT NOT NULL
);

-- +goose Down
DROP TABLE heartbeats;
DROP TABLE grant_revocations;
