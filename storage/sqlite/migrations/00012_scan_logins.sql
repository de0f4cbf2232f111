-- scan_logins: scan-to-login requests (扫码登录, storage.ScanLogins): a QR code shown on a
-- computer, opened and confirmed on a phone that is logged in, finished by the computer's
-- browser that holds the binding secret (binding_hash is its HMAC-SM3). state moves
-- pending → scanned → approved|denied → used by conditional updates; rows go once expired.
-- Keep in step with storage/postgres/migrations.

-- +goose Up
CREATE TABLE scan_logins (
    id           TEXT   NOT NULL PRIMARY KEY,
    binding_hash BLOB  NOT NULL,
    pending      TEXT   NOT NULL,
    client_id    TEXT   NOT NULL,
    browser      TEXT   NOT NULL,
    state        TEXT   NOT NULL,
    session_id   TEXT   NOT NULL,
    person_id    TEXT   NOT NULL,
    acr          TEXT   NOT NULL,
    amr          TEXT   NOT NULL,
    auth_time    BIGINT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX scan_logins_by_expiry ON scan_logins (expires_at);

-- +goose Down
DROP TABLE scan_logins;
