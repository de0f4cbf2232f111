-- People administration and corrections (issue 9, part C): single-use password-reset links
-- handed over at a service hall (only a keyed hash of the token is stored), and the
-- corrections (纠错) people file against their records (the proposed value sealed).
-- Keep in step with storage/sqlite/migrations.

-- +goose Up
CREATE TABLE password_resets (
    token_hash BYTEA    NOT NULL PRIMARY KEY,
    person_id  TEXT    NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX password_resets_by_person ON password_resets (person_id);
CREATE INDEX password_resets_by_expiry ON password_resets (expires_at);

CREATE TABLE corrections (
    id              TEXT    NOT NULL PRIMARY KEY,
    person_id       TEXT    NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    target          TEXT    NOT NULL,
    field           TEXT    NOT NULL,
    current_masked  TEXT    NOT NULL,
    proposed_sealed BYTEA    NOT NULL,
    reason          TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'applied', 'rejected')),
    filed_at        BIGINT NOT NULL,
    decided_at      BIGINT NOT NULL DEFAULT 0,
    decided_by      TEXT    NOT NULL DEFAULT '',
    decision_note   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX corrections_by_person ON corrections (person_id, filed_at);
CREATE INDEX corrections_by_status ON corrections (status, filed_at);

-- +goose Down
DROP TABLE corrections;
DROP TABLE password_resets;
