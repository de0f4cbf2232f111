-- tongban storage schema, SQLite dialect. Keep in step with storage/postgres/migrations.
-- Times are Unix microseconds (UTC); string lists are JSON text; booleans are 0/1.

-- +goose Up
CREATE TABLE people (
    id                TEXT    NOT NULL PRIMARY KEY,
    kind              TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    id_number_sealed  BLOB,
    id_number_index   BLOB    UNIQUE,
    id_number_masked  TEXT    NOT NULL,
    phone_sealed      BLOB,
    phone_index       BLOB    UNIQUE,
    password_hash     TEXT    NOT NULL,
    otp_secret_sealed BLOB,
    disabled          INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE clients (
    id                           TEXT    NOT NULL PRIMARY KEY,
    name                         TEXT    NOT NULL,
    secret_hash                  BLOB,
    public                       INTEGER NOT NULL,
    redirect_uris                TEXT    NOT NULL,
    post_logout_redirect_uris    TEXT    NOT NULL,
    grant_types                  TEXT    NOT NULL,
    response_types               TEXT    NOT NULL,
    scopes                       TEXT    NOT NULL,
    audience                     TEXT    NOT NULL,
    id_token_signed_response_alg TEXT    NOT NULL,
    token_endpoint_auth_method   TEXT    NOT NULL,
    subject_type                 TEXT    NOT NULL,
    sector_identifier            TEXT    NOT NULL,
    created_at                   INTEGER NOT NULL
) STRICT;

CREATE TABLE tokens (
    kind         TEXT    NOT NULL,
    signature    TEXT    NOT NULL,
    request_id   TEXT    NOT NULL,
    client_id    TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject      TEXT    NOT NULL,
    active       INTEGER NOT NULL,
    requested_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    data         BLOB,
    PRIMARY KEY (kind, signature)
) STRICT, WITHOUT ROWID;
CREATE INDEX tokens_by_request ON tokens (kind, request_id);
CREATE INDEX tokens_by_expiry ON tokens (expires_at);
CREATE INDEX tokens_by_client ON tokens (client_id);

CREATE TABLE login_sessions (
    id         TEXT    NOT NULL PRIMARY KEY,
    person_id  TEXT    NOT NULL,
    auth_time  INTEGER NOT NULL,
    acr        TEXT    NOT NULL,
    amr        TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX login_sessions_by_person ON login_sessions (person_id);

CREATE TABLE consents (
    person_id  TEXT    NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    client_id  TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes     TEXT    NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (person_id, client_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX consents_by_client ON consents (client_id);

CREATE TABLE keys (
    id         TEXT    NOT NULL PRIMARY KEY,
    purpose    TEXT    NOT NULL,
    algorithm  TEXT    NOT NULL,
    sealed     BLOB,
    public     BLOB,
    created_at INTEGER NOT NULL,
    not_before INTEGER NOT NULL,
    retired_at INTEGER,
    expires_at INTEGER
) STRICT;
CREATE INDEX keys_by_purpose ON keys (purpose, created_at);

CREATE TABLE licences (
    id            TEXT    NOT NULL PRIMARY KEY,
    kind          TEXT    NOT NULL,
    number        TEXT    NOT NULL,
    issuer        TEXT    NOT NULL,
    holder_index  BLOB,
    holder_sealed BLOB,
    fields_sealed BLOB,
    status        TEXT    NOT NULL,
    valid_from    INTEGER NOT NULL,
    valid_until   INTEGER,
    updated_at    INTEGER NOT NULL,
    UNIQUE (kind, issuer, number)
) STRICT;
CREATE INDEX licences_by_holder ON licences (holder_index, kind, number);

CREATE TABLE nonces (
    namespace  TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (namespace, value)
) STRICT, WITHOUT ROWID;
CREATE INDEX nonces_by_expiry ON nonces (expires_at);

-- AUTOINCREMENT: sequence numbers are never reused, even after the highest row is gone.
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    time      INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    client_id TEXT    NOT NULL,
    detail    TEXT    NOT NULL
) STRICT;

-- The audit log is append-only at the database level.
-- +goose StatementBegin
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused');
END;
-- +goose StatementEnd

CREATE TABLE throttle_failures (
    key TEXT    NOT NULL,
    at  INTEGER NOT NULL
) STRICT;
CREATE INDEX throttle_failures_by_key ON throttle_failures (key, at);
CREATE INDEX throttle_failures_by_time ON throttle_failures (at);

-- +goose Down
DROP TABLE throttle_failures;
DROP TABLE audit;
DROP TABLE nonces;
DROP TABLE licences;
DROP TABLE keys;
DROP TABLE consents;
DROP TABLE login_sessions;
DROP TABLE tokens;
DROP TABLE clients;
DROP TABLE people;
