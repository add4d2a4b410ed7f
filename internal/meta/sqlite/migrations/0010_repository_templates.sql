-- Repository creation templates (see meta/template.go): a registry's
-- templates by key, the normal form of their prefix. The configuration is
-- the domain's JSON, as a repository's settings are.
CREATE TABLE repository_templates (
    account    TEXT NOT NULL,
    region     TEXT NOT NULL,
    key        TEXT NOT NULL,
    created_at INTEGER,
    updated_at INTEGER,
    settings   TEXT,
    PRIMARY KEY (account, region, key)
) WITHOUT ROWID;
