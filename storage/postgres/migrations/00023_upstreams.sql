-- upstreams: the upstream OpenID providers tongban brokers logins to (storage.Upstreams): another
-- province's tongban, the national platform, any standard OP. client_secret_sealed is sealed by
-- the keyring; scopes is a JSON string list; acr_map a JSON object upstream acr -> local acr.
-- upstream_links: an upstream subject (upstream id + sub) linked to a local person.
-- upstream_sessions: the login sessions made by a brokered login, with the upstream and subject
-- (the `idp` claim of the ID tokens issued in them; upstream logout finds them).
-- Keep in step with storage/sqlite/migrations.

-- +goose Up
CREATE TABLE upstreams (
    id                   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    issuer               TEXT NOT NULL,
    client_id            TEXT NOT NULL,
    client_secret_sealed BYTEA NOT NULL,
    scopes               TEXT NOT NULL,
    id_number_claim      TEXT NOT NULL,
    trusted_id_numbers   BOOLEAN NOT NULL,
    allow_jit            BOOLEAN NOT NULL,
    silent_sso           BOOLEAN NOT NULL,
    acr_map              TEXT NOT NULL,
    label_zh             TEXT NOT NULL,
    label_en             TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE TABLE upstream_links (
    upstream_id  TEXT COLLATE "C" NOT NULL REFERENCES upstreams (id) ON DELETE CASCADE,
    subject      TEXT COLLATE "C" NOT NULL,
    person_id    TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    PRIMARY KEY (upstream_id, subject)
);
CREATE INDEX upstream_links_by_person ON upstream_links (person_id, created_at);
CREATE TABLE upstream_sessions (
    session_id  TEXT NOT NULL PRIMARY KEY REFERENCES login_sessions (id) ON DELETE CASCADE,
    upstream_id TEXT NOT NULL REFERENCES upstreams (id) ON DELETE CASCADE,
    subject     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX upstream_sessions_by_subject ON upstream_sessions (upstream_id, subject);

-- +goose Down
DROP TABLE upstream_sessions;
DROP TABLE upstream_links;
DROP TABLE upstreams;
