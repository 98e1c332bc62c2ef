-- The operators' admin page: changes to department clients waiting for a second
-- operator's approval (maker-checker), and one-time enrolment links for operators.

CREATE TABLE client_changes (
    id          TEXT    NOT NULL PRIMARY KEY,
    client_id   TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('create', 'update')),
    -- JSON: the settings the change would give the client, and those it had (before/after).
    proposal    TEXT    NOT NULL,
    previous    TEXT    NOT NULL DEFAULT '{}',
    proposed_by TEXT    NOT NULL,
    proposed_at BIGINT  NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by  TEXT,
    decided_at  BIGINT
);
-- At most one change per client waits for approval at a time.
CREATE UNIQUE INDEX client_changes_one_pending ON client_changes (client_id) WHERE status = 'pending';
CREATE INDEX client_changes_status ON client_changes (status, proposed_at);

CREATE TABLE enrolments (
    digest      BYTEA    NOT NULL PRIMARY KEY,
    username    TEXT    NOT NULL,
    name_en     TEXT    NOT NULL,
    role        TEXT    NOT NULL CHECK (role IN ('operator')),
    created_by  TEXT,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    used_at     BIGINT,
    citizen_id  TEXT
);
