-- Token exchange policies (RFC 8693, issue 8 part 3): which audiences or resources a client may
-- exchange a citizen's access token for, with which scopes (a JSON string list; empty = any of
-- the subject token's) and the longest lifetime of the issued token (nanoseconds; 0 =
-- the server's access token lifetime). No policy, no exchange.
-- Keep in step with storage/sqlite/migrations.

-- +goose Up
CREATE TABLE exchange_policies (
    client_id    TEXT COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    audience     TEXT COLLATE "C" NOT NULL,
    scopes       TEXT    NOT NULL,
    max_lifetime BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (client_id, audience)
);

-- +goose Down
DROP TABLE exchange_policies;
