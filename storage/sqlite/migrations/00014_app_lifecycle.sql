-- App lifecycle (issue 9, docs/design/app-management.md): review status, department, logo,
-- pending change, RFC 7592 registration access token, secret rotation overlap, registered
-- JWKS (private_key_jwt), and the initial access tokens of RFC 7591 §3.
-- status '' (old rows) means published. Keep in step with storage/postgres/migrations.

-- +goose Up
ALTER TABLE clients ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN department TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN logo_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN review_note TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN pending_change BLOB;
ALTER TABLE clients ADD COLUMN registration_token_hash BLOB;
ALTER TABLE clients ADD COLUMN previous_secret_hash BLOB;
ALTER TABLE clients ADD COLUMN previous_secret_expires_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN jwks BLOB;
ALTER TABLE clients ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX clients_by_department ON clients (department, id);
CREATE INDEX clients_by_status ON clients (status, id);

CREATE TABLE initial_access_tokens (
    hash       BLOB    NOT NULL PRIMARY KEY,
    department TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    uses_left  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX initial_access_tokens_by_expiry ON initial_access_tokens (expires_at);

-- +goose Down
DROP TABLE initial_access_tokens;
DROP INDEX clients_by_status;
DROP INDEX clients_by_department;
ALTER TABLE clients DROP COLUMN updated_at;
ALTER TABLE clients DROP COLUMN jwks;
ALTER TABLE clients DROP COLUMN previous_secret_expires_at;
ALTER TABLE clients DROP COLUMN previous_secret_hash;
ALTER TABLE clients DROP COLUMN registration_token_hash;
ALTER TABLE clients DROP COLUMN pending_change;
ALTER TABLE clients DROP COLUMN review_note;
ALTER TABLE clients DROP COLUMN logo_uri;
ALTER TABLE clients DROP COLUMN department;
ALTER TABLE clients DROP COLUMN status;
