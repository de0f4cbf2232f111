-- When an app's access tokens start to count again (storage.Client.TokensNotBefore, UnixMicro;
-- 0 = none): access tokens of the app issued at or before it are inactive at introspection
-- and UserInfo. Set by suspending, resuming and retiring an app, and by rotating its secret
-- with no overlap (oidc/apps.go). Keep in step with storage/postgres/migrations.

-- +goose Up
ALTER TABLE clients ADD COLUMN tokens_not_before INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE clients DROP COLUMN tokens_not_before;
