-- Authorised agents of licences (经办人/授权代理人) and lookup of licences by kind and number.
-- Keep in step with storage/sqlite/migrations.

-- +goose Up
CREATE TABLE licence_agents (
    licence_id  TEXT COLLATE "C" NOT NULL REFERENCES licences (id) ON DELETE CASCADE,
    agent_index BYTEA NOT NULL,
    PRIMARY KEY (licence_id, agent_index)
);
CREATE INDEX licence_agents_by_agent ON licence_agents (agent_index);

-- FindLicences: (kind, number) over every issuer; UNIQUE (kind, issuer, number) does not serve it.
CREATE INDEX licences_by_number ON licences (kind, number, issuer);

-- +goose Down
DROP INDEX licences_by_number;
DROP TABLE licence_agents;
