-- Pull through cache rules (meta/pullthrough.go): one row per rule of a
-- registry, keyed by its repository prefix.
CREATE TABLE pull_through_rules (
    account         TEXT NOT NULL,
    region          TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    upstream_url    TEXT NOT NULL,
    upstream        TEXT NOT NULL,
    upstream_prefix TEXT NOT NULL,
    credential_arn  TEXT NOT NULL,
    custom_role_arn TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER,
    PRIMARY KEY (account, region, prefix)
) WITHOUT ROWID;

-- When each cached tag was last found current upstream; a tag checked
-- longer ago than the refresh interval is asked about again.
CREATE TABLE pull_through_checks (
    repo_id    INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    checked_at INTEGER NOT NULL,
    PRIMARY KEY (repo_id, tag)
) WITHOUT ROWID;
