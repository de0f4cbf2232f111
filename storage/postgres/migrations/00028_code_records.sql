-- code_records: the codes the wallet minted for holders (亮证记录, storage.CodeRecords): the
-- code's cti, the blind index of the holder it was minted for, the kinds shown (JSON list),
-- the display profile and the code's iat and exp (Unix microseconds). No image and no
-- personal data. One INSERT per code; rows older than the retention period are deleted by
-- the wallet's purge.
-- Keep in step with storage/sqlite/migrations.

-- +goose Up
CREATE TABLE code_records (
    cti          BYTEA NOT NULL PRIMARY KEY,
    holder_index BYTEA NOT NULL,
    kinds        TEXT   NOT NULL,
    profile      INTEGER NOT NULL,
    issued_at    BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX code_records_by_holder ON code_records (holder_index, issued_at, cti);
CREATE INDEX code_records_by_issued ON code_records (issued_at);

-- +goose Down
DROP TABLE code_records;
