-- Per-client access token format (DESIGN §4): "opaque" (HMAC-SM3, the default) or "jwt"
-- (RFC 9068). Existing clients keep opaque tokens.
-- Keep in step with storage/postgres/migrations.

-- +goose Up
ALTER TABLE clients ADD COLUMN access_token_format TEXT NOT NULL DEFAULT 'opaque';

-- +goose Down
ALTER TABLE clients DROP COLUMN access_token_format;
