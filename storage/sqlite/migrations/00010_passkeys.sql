-- Passkeys (WebAuthn credentials, storage.Passkeys): one row per credential, keyed by the
-- credential ID the authenticator chose; and one WebAuthn user handle per person (a random
-- value, never the person ID or an identity number), by which a passwordless login finds the
-- person. Both go with the person (ON DELETE CASCADE).
-- Keep in step with the other backend's migrations.

-- +goose Up
CREATE TABLE passkey_user_handles (
    person_id TEXT NOT NULL PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    handle    BLOB NOT NULL UNIQUE
) STRICT, WITHOUT ROWID;

CREATE TABLE passkeys (
    credential_id      BLOB    NOT NULL PRIMARY KEY,
    person_id          TEXT    NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    public_key         BLOB    NOT NULL,
    sign_count         INTEGER NOT NULL,
    aaguid             BLOB,
    attestation_type   TEXT    NOT NULL,
    attestation_format TEXT    NOT NULL,
    transports         TEXT    NOT NULL,
    user_verified      INTEGER NOT NULL,
    backup_eligible    INTEGER NOT NULL,
    backup_state       INTEGER NOT NULL,
    clone_warning      INTEGER NOT NULL,
    name               TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    last_used_at       INTEGER
) STRICT;
CREATE INDEX passkeys_by_person ON passkeys (person_id, created_at);

-- +goose Down
DROP TABLE passkeys;
DROP TABLE passkey_user_handles;
