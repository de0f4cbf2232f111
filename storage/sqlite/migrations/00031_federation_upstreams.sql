-- OpenID Federation 1.0 brokering (issue 8, part 2): an upstream found through the federation
-- (federation = 1): issuer is its entity identifier, its OP metadata come from its resolved
-- trust chain, client_id is this instance's entity identifier and client_secret_sealed is
-- empty (private_key_jwt). Keep in step with storage/postgres/migrations.

-- +goose Up
ALTER TABLE upstreams ADD COLUMN federation INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE upstreams DROP COLUMN federation;
