-- The audit chain (package audit, docs/formats/audit-chain.md): each entry's position in the
-- chain (1, 2, 3 … without gaps) and its SM3 chain hash; signed checkpoints of the chain.
-- Entries written before this migration carry no position until the first append after it
-- chains them (in seq order): the one UPDATE the trigger lets through is setting chain_pos and
-- hash on a row that has none, leaving every other column as it was.
-- Keep in step with the other backend's migrations.

-- +goose Up
ALTER TABLE audit ADD COLUMN chain_pos BIGINT;
ALTER TABLE audit ADD COLUMN hash BYTEA;
CREATE UNIQUE INDEX audit_by_pos ON audit (chain_pos);
CREATE INDEX audit_by_time ON audit (time);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.chain_pos IS NULL AND NEW.chain_pos IS NOT NULL AND NEW.hash IS NOT NULL
            AND (NEW.seq, NEW.time, NEW.actor, NEW.action, NEW.subject, NEW.client_id, NEW.detail)
                IS NOT DISTINCT FROM
                (OLD.seq, OLD.time, OLD.actor, OLD.action, OLD.subject, OLD.client_id, OLD.detail) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit log is append-only: % refused', TG_OP;
END;
$$;
-- +goose StatementEnd

CREATE TABLE audit_checkpoints (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chain_pos BIGINT NOT NULL,
    hash      BYTEA  NOT NULL,
    time      BIGINT NOT NULL,
    replica   TEXT   NOT NULL,
    key_id    TEXT   NOT NULL,
    signature BYTEA  NOT NULL
);
CREATE INDEX audit_checkpoints_by_pos ON audit_checkpoints (chain_pos);
-- +goose StatementBegin
CREATE FUNCTION audit_checkpoints_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit checkpoints are append-only: % refused', TG_OP;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_append_only();

-- +goose Down
DROP TABLE audit_checkpoints;
DROP FUNCTION audit_checkpoints_append_only();
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: % refused', TG_OP;
END;
$$;
-- +goose StatementEnd
DROP INDEX audit_by_time;
DROP INDEX audit_by_pos;
ALTER TABLE audit DROP COLUMN hash;
ALTER TABLE audit DROP COLUMN chain_pos;
