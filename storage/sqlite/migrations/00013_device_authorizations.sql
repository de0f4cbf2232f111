-- device_authorizations: OAuth 2.0 device authorization requests (RFC 8628,
-- storage.DeviceAuthorizations). Device and user codes are stored only as keyed hashes.
-- Times are Unix microseconds; interval_s is the polling interval in seconds.
-- Keep in step with storage/postgres/migrations.

-- +goose Up
CREATE TABLE device_authorizations (
    device_code_hash TEXT    NOT NULL PRIMARY KEY,
    user_code_hash   TEXT    NOT NULL UNIQUE,
    request_id       TEXT    NOT NULL,
    client_id        TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes           TEXT    NOT NULL,
    device_kind      TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    interval_s       INTEGER NOT NULL,
    last_poll_at     INTEGER NOT NULL,
    status           TEXT    NOT NULL,
    person_id        TEXT    NOT NULL,
    auth_time        INTEGER NOT NULL,
    acr              TEXT    NOT NULL,
    amr              TEXT    NOT NULL,
    decided_at       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX device_authorizations_by_expiry ON device_authorizations (expires_at);
CREATE INDEX device_authorizations_by_client ON device_authorizations (client_id);

-- +goose Down
DROP TABLE device_authorizations;
