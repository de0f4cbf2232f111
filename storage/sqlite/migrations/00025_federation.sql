-- OpenID Federation 1.0 (storage.Federation): this instance's subordinates (the subordinate
-- statements its fetch endpoint serves; jwks, metadata_policy and constraints are JSON text,
-- entity_types a JSON string list), the trust anchors it resolves chains to (keys configured
-- out of band), its superiors (authority_hints), in the order added.
-- Keep in step with storage/postgres/migrations.

-- +goose Up
CREATE TABLE federation_subordinates (
    entity_id       TEXT NOT NULL PRIMARY KEY,
    jwks            TEXT NOT NULL,
    entity_types    TEXT NOT NULL,
    metadata_policy TEXT NOT NULL,
    constraints     TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    created_by      TEXT NOT NULL,
    updated_by      TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE federation_anchors (
    entity_id  TEXT NOT NULL PRIMARY KEY,
    jwks       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE federation_authority_hints (
    entity_id  TEXT NOT NULL PRIMARY KEY,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE federation_authority_hints;
DROP TABLE federation_anchors;
DROP TABLE federation_subordinates;
