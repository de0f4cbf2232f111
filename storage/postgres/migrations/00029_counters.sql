-- counters: the verifying counters (柜台) of offices (storage.Counters): created with a
-- one-time enrolment code (only its HMAC-SM3 is kept), enrolled once with a P-256 public key
-- (uncompressed point) whose RFC 7638 thumbprint is key_id, disabled by an operator.
-- code_receipts: a counter's signed report that it verified a code (storage.CodeReceipt),
-- one per code and counter; deleted with the code's record.
-- Times are Unix microseconds.
-- Keep in step with storage/sqlite/migrations.

-- +goose Up
CREATE TABLE counters (
    id                   TEXT   NOT NULL PRIMARY KEY,
    name                 TEXT   NOT NULL,
    office               TEXT   NOT NULL,
    enrolment_hash       BYTEA  NOT NULL UNIQUE,
    enrolment_expires_at BIGINT NOT NULL,
    key_id               TEXT   UNIQUE,
    public_key           BYTEA,
    created_at           BIGINT NOT NULL,
    enrolled_at          BIGINT,
    disabled_at          BIGINT
);
CREATE TABLE code_receipts (
    cti         BYTEA NOT NULL REFERENCES code_records (cti) ON DELETE CASCADE,
    counter_id  TEXT   NOT NULL REFERENCES counters (id),
    verified_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (cti, counter_id)
);

-- +goose Down
DROP TABLE code_receipts;
DROP TABLE counters;
