-- Status index of a licence: its position in the wallet's status list (pre-fetched codes,
-- docs/formats/qr-payload.md §15). Allocated on first need, never changed, never reused;
-- NULL until then. Keep in step with the other backend's migrations.

-- +goose Up
ALTER TABLE licences ADD COLUMN status_idx BIGINT;
CREATE UNIQUE INDEX licences_by_status_idx ON licences (status_idx);

-- +goose Down
DROP INDEX licences_by_status_idx;
ALTER TABLE licences DROP COLUMN status_idx;
