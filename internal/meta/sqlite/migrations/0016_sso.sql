-- IAM Identity Center: the deployment's instance, its identity store's
-- users, permission sets and their account assignments, and the OAuth
-- device flow's clients, authorizations and tokens. Bearer secrets are
-- kept as SHA-256 hashes (hex) only. Lists (emails, managed policies,
-- scopes) are JSON arrays read and written whole.
CREATE TABLE sso_instances (
    singleton         INTEGER NOT NULL DEFAULT 1 UNIQUE CHECK (singleton = 1), -- one instance per deployment
    arn               TEXT PRIMARY KEY,
    identity_store_id TEXT NOT NULL,
    account           TEXT NOT NULL,
    created_at        INTEGER
) WITHOUT ROWID;

CREATE TABLE sso_users (
    identity_store_id TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    user_key          TEXT NOT NULL, -- lower(user_name): names compare case-insensitively
    user_name         TEXT NOT NULL,
    display_name      TEXT NOT NULL,
    given_name        TEXT NOT NULL,
    family_name       TEXT NOT NULL,
    emails            TEXT NOT NULL,
    password_hash     TEXT NOT NULL,
    created_at        INTEGER,
    PRIMARY KEY (identity_store_id, user_id),
    UNIQUE (identity_store_id, user_key)
) WITHOUT ROWID;

CREATE TABLE sso_permission_sets (
    arn              TEXT PRIMARY KEY,
    instance_arn     TEXT NOT NULL,
    name_key         TEXT NOT NULL,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL,
    session_duration TEXT NOT NULL,
    managed_policies TEXT NOT NULL,
    inline_policy    TEXT NOT NULL,
    created_at       INTEGER,
    UNIQUE (instance_arn, name_key)
) WITHOUT ROWID;

CREATE TABLE sso_assignments (
    instance_arn       TEXT NOT NULL,
    permission_set_arn TEXT NOT NULL REFERENCES sso_permission_sets (arn),
    account            TEXT NOT NULL,
    principal_type     TEXT NOT NULL,
    principal_id       TEXT NOT NULL,
    created_at         INTEGER,
    PRIMARY KEY (account, permission_set_arn, principal_type, principal_id)
) WITHOUT ROWID;

CREATE INDEX sso_assignments_principal ON sso_assignments (principal_id);
CREATE INDEX sso_assignments_permission_set ON sso_assignments (permission_set_arn);

CREATE TABLE sso_clients (
    client_id   TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    created_at  INTEGER,
    expires_at  INTEGER
) WITHOUT ROWID;

CREATE INDEX sso_clients_expiry ON sso_clients (expires_at);

CREATE TABLE sso_device_authorizations (
    device_code_hash TEXT PRIMARY KEY,
    user_code        TEXT NOT NULL UNIQUE,
    client_id        TEXT NOT NULL,
    start_url        TEXT NOT NULL,
    interval_seconds INTEGER NOT NULL,
    created_at       INTEGER,
    expires_at       INTEGER,
    approved_by      TEXT NOT NULL,
    approved_at      INTEGER,
    last_polled_at   INTEGER
) WITHOUT ROWID;

CREATE INDEX sso_device_authorizations_expiry ON sso_device_authorizations (expires_at);

CREATE TABLE sso_tokens (
    token_hash        TEXT PRIMARY KEY,
    kind              TEXT NOT NULL,
    client_id         TEXT NOT NULL,
    identity_store_id TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    created_at        INTEGER,
    expires_at        INTEGER
) WITHOUT ROWID;

CREATE INDEX sso_tokens_user ON sso_tokens (identity_store_id, user_id);
CREATE INDEX sso_tokens_expiry ON sso_tokens (expires_at);
