-- Passkeys (WebAuthn credentials, storage.Passkeys): one row per credential, keyed by the
-- credential ID the authenticator chose; and one WebAuthn user handle per person (a random
-- value, never the person ID or an identity number), by which a passwordless login finds the
-- person. Both go with the person (ON DELETE CASCADE).
-- Keep in step with the other backend's migrations.

-- +goose Up
CREATE TABLE passkey_user_handles (
    person_id TEXT  NOT NULL PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    handle    BYTEA NOT NULL UNIQUE
);

CREATE TABLE passkeys (
    credential_id      BYTEA   NOT NULL PRIMARY KEY,
    person_id          TEXT    NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    public_key         BYTEA   NOT NULL,
    sign_count         BIGINT  NOT NULL,
    aaguid             BYTEA,
    attestation_type   TEXT    NOT NULL,
    attestation_format TEXT    NOT NULL,
    transports         TEXT    NOT NULL,
    user_verified      BOOLEAN NOT NULL,
    backup_eligible    BOOLEAN NOT NULL,
    backup_state       BOOLEAN NOT NULL,
    clone_warning      BOOLEAN NOT NULL,
    name               TEXT    NOT NULL,
    created_at         BIGINT  NOT NULL,
    last_used_at       BIGINT
);
CREATE INDEX passkeys_by_person ON passkeys (person_id, created_at);

-- +goose Down
DROP TABLE passkeys;
DROP TABLE passkey_user_handles;
