-- OpenID Federation 1.0 automatic registration (issue 8, part 2): an app registered through the
-- federation (source 'federation', its ID its entity identifier), the trust anchor its chain
-- resolved to, and when its metadata expire (the chain's earliest exp, UnixMicro; 0 = never).
-- Keep in step with storage/postgres/migrations.

-- +goose Up
ALTER TABLE clients ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN trust_anchor TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN federation_expires_at INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE clients DROP COLUMN federation_expires_at;
ALTER TABLE clients DROP COLUMN trust_anchor;
ALTER TABLE clients DROP COLUMN source;
