-- tongban storage schema, PostgreSQL dialect. Keep in step with storage/sqlite/migrations.
-- Times are Unix microseconds (UTC) in BIGINT, as in SQLite, so both backends round-trip
-- exactly the same values; string lists are JSON text. Text that is sorted on is COLLATE "C"
-- (byte order, as SQLite), so both backends list in the same order whatever the locale.

-- +goose Up
CREATE TABLE people (
    id                TEXT    NOT NULL PRIMARY KEY,
    kind              TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    id_number_sealed  BYTEA,
    id_number_index   BYTEA   UNIQUE,
    id_number_masked  TEXT    NOT NULL,
    phone_sealed      BYTEA,
    phone_index       BYTEA   UNIQUE,
    password_hash     TEXT    NOT NULL,
    otp_secret_sealed BYTEA,
    disabled          BOOLEAN NOT NULL,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL
);

CREATE TABLE clients (
    id                           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name                         TEXT    NOT NULL,
    secret_hash                  BYTEA,
    public                       BOOLEAN NOT NULL,
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
    created_at                   BIGINT  NOT NULL
);

CREATE TABLE tokens (
    kind         TEXT    NOT NULL,
    signature    TEXT    NOT NULL,
    request_id   TEXT    NOT NULL,
    client_id    TEXT COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject      TEXT    NOT NULL,
    active       BOOLEAN NOT NULL,
    requested_at BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    data         BYTEA,
    PRIMARY KEY (kind, signature)
);
CREATE INDEX tokens_by_request ON tokens (kind, request_id);
CREATE INDEX tokens_by_expiry ON tokens (expires_at);
CREATE INDEX tokens_by_client ON tokens (client_id);

CREATE TABLE login_sessions (
    id         TEXT   NOT NULL PRIMARY KEY,
    person_id  TEXT   NOT NULL,
    auth_time  BIGINT NOT NULL,
    acr        TEXT   NOT NULL,
    amr        TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX login_sessions_by_person ON login_sessions (person_id);

CREATE TABLE consents (
    person_id  TEXT   NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    client_id  TEXT COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes     TEXT   NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (person_id, client_id)
);
CREATE INDEX consents_by_client ON consents (client_id);

CREATE TABLE keys (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    purpose    TEXT   NOT NULL,
    algorithm  TEXT   NOT NULL,
    sealed     BYTEA,
    public     BYTEA,
    created_at BIGINT NOT NULL,
    not_before BIGINT NOT NULL,
    retired_at BIGINT,
    expires_at BIGINT
);
CREATE INDEX keys_by_purpose ON keys (purpose, created_at);

CREATE TABLE licences (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    kind          TEXT COLLATE "C" NOT NULL,
    number        TEXT COLLATE "C" NOT NULL,
    issuer        TEXT COLLATE "C" NOT NULL,
    holder_index  BYTEA,
    holder_sealed BYTEA,
    fields_sealed BYTEA,
    status        TEXT   NOT NULL,
    valid_from    BIGINT NOT NULL,
    valid_until   BIGINT,
    updated_at    BIGINT NOT NULL,
    UNIQUE (kind, issuer, number)
);
CREATE INDEX licences_by_holder ON licences (holder_index, kind, number);

CREATE TABLE nonces (
    namespace  TEXT   NOT NULL,
    value      TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (namespace, value)
);
CREATE INDEX nonces_by_expiry ON nonces (expires_at);

CREATE TABLE audit (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time      BIGINT NOT NULL,
    actor     TEXT   NOT NULL,
    action    TEXT   NOT NULL,
    subject   TEXT   NOT NULL,
    client_id TEXT   NOT NULL,
    detail    TEXT   NOT NULL
);

-- The audit log is append-only at the database level: UPDATE, DELETE and TRUNCATE raise.
-- +goose StatementBegin
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: % refused', TG_OP;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_no_update_delete BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

CREATE TABLE throttle_failures (
    key TEXT   NOT NULL,
    at  BIGINT NOT NULL
);
CREATE INDEX throttle_failures_by_key ON throttle_failures (key, at);
CREATE INDEX throttle_failures_by_time ON throttle_failures (at);

-- +goose Down
DROP TABLE throttle_failures;
DROP TABLE audit;
DROP FUNCTION audit_append_only();
DROP TABLE nonces;
DROP TABLE licences;
DROP TABLE keys;
DROP TABLE consents;
DROP TABLE login_sessions;
DROP TABLE tokens;
DROP TABLE clients;
DROP TABLE people;
