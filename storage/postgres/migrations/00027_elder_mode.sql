-- 长辈模式 (issue 11): the person's elder-mode setting (large type, high contrast, voice
-- readout), saved when they switch it on the provider's pages while logged in and released as
-- the elder_mode claim (scope profile); off by default.
-- Keep in step with storage/sqlite/migrations.

-- +goose Up
ALTER TABLE people ADD COLUMN elder_mode BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE people DROP COLUMN elder_mode;
