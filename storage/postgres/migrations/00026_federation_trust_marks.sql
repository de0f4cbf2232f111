-- Trust marks (OpenID Federation 1.0 §7, storage.Federation): those this instance issued as
-- trust-mark issuer (expires_at NULL: no exp), and those issued to it that its entity
-- configuration publishes (one per type).
-- Keep in step with storage/sqlite/migrations.

-- +goose Up
CREATE TABLE federation_issued_trust_marks (
    id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    trust_mark_type TEXT NOT NULL,
    subject         TEXT NOT NULL,
    issued_at       BIGINT NOT NULL,
    expires_at      BIGINT,
    created_by      TEXT NOT NULL
);
CREATE INDEX federation_issued_trust_marks_by_time ON federation_issued_trust_marks (issued_at, id);
CREATE TABLE federation_held_trust_marks (
    trust_mark_type TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    trust_mark      TEXT NOT NULL,
    added_at        BIGINT NOT NULL,
    added_by        TEXT NOT NULL
);

-- +goose Down
DROP TABLE federation_held_trust_marks;
DROP TABLE federation_issued_trust_marks;
