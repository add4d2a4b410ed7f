-- Repository creation templates (see meta/template.go): a registry's
-- templates by key, the normal form of their prefix. The configuration is
-- the domain's JSON, as a repository's settings are.
CREATE TABLE repository_templates (
    account    text COLLATE "C" NOT NULL,
    region     text COLLATE "C" NOT NULL,
    key        text COLLATE "C" NOT NULL,
    created_at timestamptz,
    updated_at timestamptz,
    settings   text,
    PRIMARY KEY (account, region, key)
);
