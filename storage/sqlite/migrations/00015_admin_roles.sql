-- admin_roles: the roles of administrators of the admin console and API (storage.AdminRoleStore):
-- operator, reviewer, auditor, department-admin (the last with its department code; "" for the
-- others). granted_at is Unix microseconds; granted_by the actor who granted it.
-- Keep in step with the other backend's migrations.

-- +goose Up
CREATE TABLE admin_roles (
    person_id  TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    department TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    granted_by TEXT NOT NULL,
    PRIMARY KEY (person_id, role, department)
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE admin_roles;
