-- Legal persons and agents (issue 9, part E): a company's legal representative (法定代表人),
-- the authorisations of its agents (经办人) to log in to apps acting for it, and the grants
-- issued while acting, so that a withdrawal revokes them.
-- Keep in step with storage/postgres/migrations.

-- +goose Up
CREATE TABLE company_representatives (
    company_id TEXT    NOT NULL PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    person_id  TEXT    NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    set_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX company_representatives_by_person ON company_representatives (person_id);

CREATE TABLE agent_authorisations (
    company_id   TEXT    NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    agent_id     TEXT    NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    clients      TEXT    NOT NULL,
    scopes       TEXT    NOT NULL,
    valid_until  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    withdrawn_at INTEGER NOT NULL DEFAULT 0,
    withdrawn_by TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (company_id, agent_id)
) STRICT;
CREATE INDEX agent_authorisations_by_agent ON agent_authorisations (agent_id);

CREATE TABLE acting_grants (
    request_id TEXT    NOT NULL PRIMARY KEY,
    company_id TEXT    NOT NULL,
    agent_id   TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX acting_grants_by_authorisation ON acting_grants (company_id, agent_id);
CREATE INDEX acting_grants_by_expiry ON acting_grants (expires_at);

-- +goose Down
DROP TABLE acting_grants;
DROP TABLE agent_authorisations;
DROP TABLE company_representatives;
