-- IAM: accounts, users, groups, roles, policies, access keys and role
-- sessions. Names are kept as first written; name_key is their ASCII
-- lower case, because IAM names compare case-insensitively. The store's
-- transactions keep the references between these tables whole (no user is
-- deleted while it has keys or memberships), so there are no foreign keys.

CREATE TABLE iam_accounts (
    id         TEXT PRIMARY KEY,
    created_at INTEGER
) WITHOUT ROWID;

-- Users, groups and roles. The role columns are empty for the others.
CREATE TABLE iam_entities (
    account              TEXT    NOT NULL,
    kind                 TEXT    NOT NULL,
    name_key             TEXT    NOT NULL,
    name                 TEXT    NOT NULL,
    path                 TEXT    NOT NULL,
    id                   TEXT    NOT NULL UNIQUE,
    created_at           INTEGER,
    trust_policy         TEXT    NOT NULL DEFAULT '',
    description          TEXT    NOT NULL DEFAULT '',
    max_session_duration INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, kind, name_key)
) WITHOUT ROWID;

CREATE TABLE iam_group_members (
    account   TEXT NOT NULL,
    group_key TEXT NOT NULL,
    user_key  TEXT NOT NULL,
    PRIMARY KEY (account, group_key, user_key)
) WITHOUT ROWID;

-- ListGroupsForUser, and DeleteUser's check for memberships.
CREATE INDEX iam_group_members_user ON iam_group_members (account, user_key);

CREATE TABLE iam_inline_policies (
    account    TEXT NOT NULL,
    owner_kind TEXT NOT NULL,
    owner_key  TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    name       TEXT NOT NULL,
    document   TEXT NOT NULL,
    PRIMARY KEY (account, owner_kind, owner_key, name_key)
) WITHOUT ROWID;

-- Customer managed policies, one version each.
CREATE TABLE iam_policies (
    account     TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    name        TEXT NOT NULL,
    path        TEXT NOT NULL,
    id          TEXT NOT NULL UNIQUE,
    arn         TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    document    TEXT NOT NULL,
    created_at  INTEGER,
    updated_at  INTEGER,
    PRIMARY KEY (account, name_key)
) WITHOUT ROWID;

CREATE TABLE iam_attachments (
    account    TEXT NOT NULL,
    owner_kind TEXT NOT NULL,
    owner_key  TEXT NOT NULL,
    policy_arn TEXT NOT NULL,
    PRIMARY KEY (account, owner_kind, owner_key, policy_arn)
) WITHOUT ROWID;

-- DeletePolicy's check and the attachment counts.
CREATE INDEX iam_attachments_policy ON iam_attachments (account, policy_arn);

-- user_key is '' for the root's keys.
CREATE TABLE iam_access_keys (
    id         TEXT    PRIMARY KEY,
    account    TEXT    NOT NULL,
    user_key   TEXT    NOT NULL,
    user_name  TEXT    NOT NULL,
    secret     TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    created_at INTEGER
) WITHOUT ROWID;

CREATE INDEX iam_access_keys_user ON iam_access_keys (account, user_key);

CREATE TABLE iam_sessions (
    id           TEXT PRIMARY KEY,
    secret       TEXT NOT NULL,
    token        TEXT NOT NULL,
    account      TEXT NOT NULL,
    role_key     TEXT NOT NULL,
    role_name    TEXT NOT NULL,
    role_path    TEXT NOT NULL,
    role_id      TEXT NOT NULL,
    session_name TEXT NOT NULL,
    source_arn   TEXT NOT NULL,
    created_at   INTEGER,
    expires_at   INTEGER
) WITHOUT ROWID;

CREATE INDEX iam_sessions_role ON iam_sessions (account, role_key);
CREATE INDEX iam_sessions_expiry ON iam_sessions (expires_at);
