-- Single logout (issue 8, part 4): OpenID Connect Back-Channel Logout 1.0 and Front-Channel
-- Logout 1.0. A client's logout endpoints (storage.Client.BackchannelLogoutURI …), the clients
-- that took part in each SSO session (session_clients: which grant, which sub), and the durable
-- outbox of back-channel logout deliveries (logout_outbox), processed by oidc's logout worker.
-- Keep in step with storage/postgres/migrations.

-- +goose Up
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN backchannel_logout_session_required INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN frontchannel_logout_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN frontchannel_logout_session_required INTEGER NOT NULL DEFAULT 0;

CREATE TABLE session_clients (
    session_id TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    person_id  TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, request_id)
) STRICT;
CREATE INDEX session_clients_by_expiry ON session_clients (expires_at);
CREATE INDEX session_clients_by_person ON session_clients (person_id);

CREATE TABLE logout_outbox (
    id           TEXT    NOT NULL PRIMARY KEY,
    client_id    TEXT    NOT NULL,
    uri          TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    sid          TEXT    NOT NULL,
    attempts     INTEGER NOT NULL,
    next_attempt INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX logout_outbox_due ON logout_outbox (next_attempt);

-- +goose Down
DROP TABLE logout_outbox;
DROP TABLE session_clients;
ALTER TABLE clients DROP COLUMN frontchannel_logout_session_required;
ALTER TABLE clients DROP COLUMN frontchannel_logout_uri;
ALTER TABLE clients DROP COLUMN backchannel_logout_session_required;
ALTER TABLE clients DROP COLUMN backchannel_logout_uri;
