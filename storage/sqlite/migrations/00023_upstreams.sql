-- upstreams: the upstream OpenID providers tongban brokers logins to (storage.Upstreams): another
-- province's tongban, the national platform, any standard OP. client_secret_sealed is sealed by
-- the keyring; scopes is a JSON string list; acr_map a JSON object upstream acr -> local acr.
-- upstream_links: an upstream subject (upstream id + sub) linked to a local person.
-- upstream_sessions: the login sessions made by a brokered login, with the upstream and subject
-- (the `idp` claim of the ID tokens issued in them; upstream logout finds them).
-- Keep in step with storage/postgres/migrations.

-- +goose Up
CREATE TABLE upstreams (
    id                   TEXT NOT NULL PRIMARY KEY,
    issuer               TEXT NOT NULL,
    client_id            TEXT NOT NULL,
    client_secret_sealed BLOB NOT NULL,
    scopes               TEXT NOT NULL,
    id_number_claim      TEXT NOT NULL,
    trusted_id_numbers   INTEGER NOT NULL,
    allow_jit            INTEGER NOT NULL,
    silent_sso           INTEGER NOT NULL,
    acr_map              TEXT NOT NULL,
    label_zh             TEXT NOT NULL,
    label_en             TEXT NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
) STRICT;
CREATE TABLE upstream_links (
    upstream_id  TEXT NOT NULL REFERENCES upstreams (id) ON DELETE CASCADE,
    subject      TEXT NOT NULL,
    person_id    TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    PRIMARY KEY (upstream_id, subject)
) STRICT, WITHOUT ROWID;
CREATE INDEX upstream_links_by_person ON upstream_links (person_id, created_at);
CREATE TABLE upstream_sessions (
    session_id  TEXT NOT NULL PRIMARY KEY REFERENCES login_sessions (id) ON DELETE CASCADE,
    upstream_id TEXT NOT NULL REFERENCES upstreams (id) ON DELETE CASCADE,
    subject     TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX upstream_sessions_by_subject ON upstream_sessions (upstream_id, subject);

-- +goose Down
DROP TABLE upstream_sessions;
DROP TABLE upstream_links;
DROP TABLE upstreams;
