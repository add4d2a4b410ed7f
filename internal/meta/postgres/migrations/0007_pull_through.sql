-- Pull through cache rules (meta/pullthrough.go): one row per rule of a
-- registry, keyed by its repository prefix.
CREATE TABLE pull_through_rules (
    account         text COLLATE "C" NOT NULL,
    region          text COLLATE "C" NOT NULL,
    prefix          text COLLATE "C" NOT NULL,
    upstream_url    text NOT NULL,
    upstream        text NOT NULL,
    upstream_prefix text NOT NULL,
    credential_arn  text NOT NULL,
    custom_role_arn text NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz,
    PRIMARY KEY (account, region, prefix)
);

-- When each cached tag was last found current upstream; a tag checked
-- longer ago than the refresh interval is asked about again.
CREATE TABLE pull_through_checks (
    repo_id    bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    tag        text COLLATE "C" NOT NULL,
    checked_at timestamptz NOT NULL,
    PRIMARY KEY (repo_id, tag)
);
