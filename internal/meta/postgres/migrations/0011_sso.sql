-- IAM Identity Center: the deployment's instance, its identity store's
-- users, permission sets and their account assignments, and the OAuth
-- device flow's clients, authorizations and tokens. Bearer secrets are
-- kept as SHA-256 hashes (hex) only. Lists (emails, managed policies,
-- scopes) are JSON arrays read and written whole.
CREATE TABLE sso_instances (
    singleton         integer NOT NULL DEFAULT 1 UNIQUE CHECK (singleton = 1), -- one instance per deployment
    arn               text COLLATE "C" PRIMARY KEY,
    identity_store_id text COLLATE "C" NOT NULL,
    account           text COLLATE "C" NOT NULL,
    created_at        timestamptz
);

CREATE TABLE sso_users (
    identity_store_id text COLLATE "C" NOT NULL,
    user_id           text COLLATE "C" NOT NULL,
    user_key          text COLLATE "C" NOT NULL, -- lower(user_name): names compare case-insensitively
    user_name         text COLLATE "C" NOT NULL,
    display_name      text COLLATE "C" NOT NULL,
    given_name        text COLLATE "C" NOT NULL,
    family_name       text COLLATE "C" NOT NULL,
    emails            text COLLATE "C" NOT NULL,
    password_hash     text COLLATE "C" NOT NULL,
    created_at        timestamptz,
    PRIMARY KEY (identity_store_id, user_id),
    UNIQUE (identity_store_id, user_key)
);

CREATE TABLE sso_permission_sets (
    arn              text COLLATE "C" PRIMARY KEY,
    instance_arn     text COLLATE "C" NOT NULL,
    name_key         text COLLATE "C" NOT NULL,
    name             text COLLATE "C" NOT NULL,
    description      text COLLATE "C" NOT NULL,
    session_duration text COLLATE "C" NOT NULL,
    managed_policies text COLLATE "C" NOT NULL,
    inline_policy    text COLLATE "C" NOT NULL,
    created_at       timestamptz,
    UNIQUE (instance_arn, name_key)
);

CREATE TABLE sso_assignments (
    instance_arn       text COLLATE "C" NOT NULL,
    permission_set_arn text COLLATE "C" NOT NULL REFERENCES sso_permission_sets (arn),
    account            text COLLATE "C" NOT NULL,
    principal_type     text COLLATE "C" NOT NULL,
    principal_id       text COLLATE "C" NOT NULL,
    created_at         timestamptz,
    PRIMARY KEY (account, permission_set_arn, principal_type, principal_id)
);

CREATE INDEX sso_assignments_principal ON sso_assignments (principal_id);
CREATE INDEX sso_assignments_permission_set ON sso_assignments (permission_set_arn);

CREATE TABLE sso_clients (
    client_id   text COLLATE "C" PRIMARY KEY,
    secret_hash text COLLATE "C" NOT NULL,
    name        text COLLATE "C" NOT NULL,
    type        text COLLATE "C" NOT NULL,
    scopes      text COLLATE "C" NOT NULL,
    created_at  timestamptz,
    expires_at  timestamptz
);

CREATE INDEX sso_clients_expiry ON sso_clients (expires_at);

CREATE TABLE sso_device_authorizations (
    device_code_hash text COLLATE "C" PRIMARY KEY,
    user_code        text COLLATE "C" NOT NULL UNIQUE,
    client_id        text COLLATE "C" NOT NULL,
    start_url        text COLLATE "C" NOT NULL,
    interval_seconds integer NOT NULL,
    created_at       timestamptz,
    expires_at       timestamptz,
    approved_by      text COLLATE "C" NOT NULL,
    approved_at      timestamptz,
    last_polled_at   timestamptz
);

CREATE INDEX sso_device_authorizations_expiry ON sso_device_authorizations (expires_at);

CREATE TABLE sso_tokens (
    token_hash        text COLLATE "C" PRIMARY KEY,
    kind              text COLLATE "C" NOT NULL,
    client_id         text COLLATE "C" NOT NULL,
    identity_store_id text COLLATE "C" NOT NULL,
    user_id           text COLLATE "C" NOT NULL,
    created_at        timestamptz,
    expires_at        timestamptz
);

CREATE INDEX sso_tokens_user ON sso_tokens (identity_store_id, user_id);
CREATE INDEX sso_tokens_expiry ON sso_tokens (expires_at);
