-- Tessera initial schema, PostgreSQL. Keep in step with ../../sqlite/2026-11-29-000001_initial.
-- Timestamps are Unix seconds (BIGINT); ids are TEXT; lists are JSON array text.

CREATE TABLE citizens (
    id          TEXT    NOT NULL PRIMARY KEY,
    username    TEXT    NOT NULL UNIQUE,
    status      TEXT    NOT NULL CHECK (status IN ('active', 'disabled')),
    roles       TEXT    NOT NULL DEFAULT '[]',
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

CREATE TABLE citizen_profiles (
    citizen_id          TEXT    NOT NULL PRIMARY KEY REFERENCES citizens (id) ON DELETE CASCADE,
    name_en             TEXT    NOT NULL,
    name_zh             TEXT,
    birthdate           TEXT,
    gender              TEXT    NOT NULL CHECK (gender IN ('female', 'male', 'other', 'undisclosed')),
    email               TEXT,
    email_verified      BOOLEAN NOT NULL DEFAULT FALSE,
    phone               TEXT,
    phone_verified      BOOLEAN NOT NULL DEFAULT FALSE,
    residential_address TEXT,
    postal_address      TEXT,
    hkid_sealed         BYTEA
);

CREATE TABLE password_credentials (
    citizen_id  TEXT    NOT NULL PRIMARY KEY REFERENCES citizens (id) ON DELETE CASCADE,
    phc         TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

CREATE TABLE passkeys (
    id              TEXT    NOT NULL PRIMARY KEY,
    citizen_id      TEXT    NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    credential_id   BYTEA   NOT NULL UNIQUE
                    CHECK (octet_length(credential_id) BETWEEN 1 AND 1023),
    passkey_json    TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    sign_count      BIGINT  NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
    backup_eligible BOOLEAN NOT NULL,
    backup_state    BOOLEAN NOT NULL,
    transports      TEXT    NOT NULL DEFAULT '[]',
    created_at      BIGINT  NOT NULL,
    last_used_at    BIGINT
);
CREATE INDEX passkeys_citizen_id ON passkeys (citizen_id);

CREATE TABLE clients (
    id                          TEXT    NOT NULL PRIMARY KEY,
    department_en               TEXT    NOT NULL,
    department_zh               TEXT    NOT NULL,
    name                        TEXT    NOT NULL,
    redirect_uris               TEXT    NOT NULL DEFAULT '[]',
    post_logout_redirect_uris   TEXT    NOT NULL DEFAULT '[]',
    allowed_scopes              TEXT    NOT NULL DEFAULT '[]',
    token_endpoint_auth_method  TEXT    NOT NULL
        CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'none')),
    secret_digest               BYTEA,
    subject_type                TEXT    NOT NULL CHECK (subject_type IN ('pairwise', 'public')),
    sector_identifier           TEXT    NOT NULL,
    require_pkce                BOOLEAN NOT NULL,
    id_token_alg                TEXT    NOT NULL,
    enabled                     BOOLEAN NOT NULL,
    created_at                  BIGINT  NOT NULL,
    updated_at                  BIGINT  NOT NULL
);

CREATE TABLE consents (
    id          TEXT    NOT NULL PRIMARY KEY,
    citizen_id  TEXT    NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    client_id   TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes      TEXT    NOT NULL DEFAULT '[]',
    claims      TEXT    NOT NULL DEFAULT '[]',
    granted_at  BIGINT  NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX consents_citizen_client ON consents (citizen_id, client_id);
-- At most one live consent per citizen and client, even with two nodes granting at once.
CREATE UNIQUE INDEX consents_one_live ON consents (citizen_id, client_id) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
    id          TEXT    NOT NULL PRIMARY KEY,
    digest      BYTEA   NOT NULL UNIQUE,
    family_id   TEXT    NOT NULL,
    client_id   TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    citizen_id  TEXT             REFERENCES citizens (id) ON DELETE CASCADE,
    scope       TEXT    NOT NULL,
    session_id  TEXT,
    auth_time   BIGINT,
    issued_at   BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    rotated_at  BIGINT,
    revoked_at  BIGINT
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_citizen_client ON refresh_tokens (citizen_id, client_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

CREATE TABLE signing_keys (
    kid                 TEXT    NOT NULL PRIMARY KEY,
    alg                 TEXT    NOT NULL,
    state               TEXT    NOT NULL CHECK (state IN ('next', 'active', 'retired')),
    private_key_sealed  BYTEA   NOT NULL,
    public_jwk          TEXT    NOT NULL,
    created_at          BIGINT  NOT NULL,
    activated_at        BIGINT,
    retired_at          BIGINT
);
-- Per algorithm at most one 'next' and one 'active' key, even with two nodes rotating at once.
CREATE UNIQUE INDEX signing_keys_one_per_state ON signing_keys (alg, state) WHERE state <> 'retired';

-- Append-only; references nothing, so deleting a citizen or client keeps its history.
CREATE TABLE audit_events (
    id          BIGSERIAL PRIMARY KEY,
    at          BIGINT  NOT NULL,
    kind        TEXT    NOT NULL,
    actor       TEXT,
    client_id   TEXT,
    ip          TEXT,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('success', 'failure')),
    detail      TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_kind ON audit_events (kind, id);
CREATE INDEX audit_events_actor ON audit_events (actor, id);
CREATE INDEX audit_events_client_id ON audit_events (client_id, id);
