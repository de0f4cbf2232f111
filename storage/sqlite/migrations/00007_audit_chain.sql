-- The audit chain (package audit, docs/formats/audit-chain.md): each entry's position in the
-- chain (1, 2, 3 … without gaps) and its SM3 chain hash; signed checkpoints of the chain.
-- Entries written before this migration carry no position until the first append after it
-- chains them (in seq order): the one UPDATE the trigger lets through is setting chain_pos and
-- hash on a row that has none, leaving every other column as it was.
-- Keep in step with the other backend's migrations.

-- +goose Up
ALTER TABLE audit ADD COLUMN chain_pos INTEGER;
ALTER TABLE audit ADD COLUMN hash BLOB;
CREATE UNIQUE INDEX audit_by_pos ON audit (chain_pos);
CREATE INDEX audit_by_time ON audit (time);

DROP TRIGGER audit_no_update;
-- +goose StatementBegin
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
WHEN OLD.chain_pos IS NOT NULL OR NEW.chain_pos IS NULL OR NEW.hash IS NULL
    OR NEW.seq IS NOT OLD.seq OR NEW.time IS NOT OLD.time OR NEW.actor IS NOT OLD.actor
    OR NEW.action IS NOT OLD.action OR NEW.subject IS NOT OLD.subject
    OR NEW.client_id IS NOT OLD.client_id OR NEW.detail IS NOT OLD.detail
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused');
END;
-- +goose StatementEnd

CREATE TABLE audit_checkpoints (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    chain_pos INTEGER NOT NULL,
    hash      BLOB    NOT NULL,
    time      INTEGER NOT NULL,
    replica   TEXT    NOT NULL,
    key_id    TEXT    NOT NULL,
    signature BLOB    NOT NULL
) STRICT;
CREATE INDEX audit_checkpoints_by_pos ON audit_checkpoints (chain_pos);
-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are append-only: UPDATE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are append-only: DELETE refused');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_checkpoints;
DROP TRIGGER audit_no_update;
-- +goose StatementBegin
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused');
END;
-- +goose StatementEnd
DROP INDEX audit_by_time;
DROP INDEX audit_by_pos;
ALTER TABLE audit DROP COLUMN hash;
ALTER TABLE audit DROP COLUMN chain_pos;
