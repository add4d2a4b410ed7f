-- Registry-wide settings (ECR's account settings, which are per account and
-- region): one row per setting that was ever put; a missing row means the
-- default, which the domain knows.
CREATE TABLE registry_settings (
    account TEXT NOT NULL,
    region  TEXT NOT NULL,
    name    TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (account, region, name)
) WITHOUT ROWID;
