-- Secrets Manager's secrets (meta.SecretStore). A secret is named uniquely
-- in its registry and its ARN (with the random suffix) in the deployment;
-- its versions hold values the domain encrypted, opaque here. A staging
-- label is on one version of a secret at most: the label is the key of
-- secret_stages, so moving it is one upsert.
CREATE TABLE secrets (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account       TEXT    NOT NULL,
    region        TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    arn           TEXT    NOT NULL UNIQUE,
    description   TEXT    NOT NULL DEFAULT '',
    kms_key_id    TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    changed_at    INTEGER NOT NULL,
    accessed_at   INTEGER,
    deleted_at    INTEGER,
    deletion_date INTEGER,
    UNIQUE (account, region, name)
);

CREATE TABLE secret_versions (
    secret_id  INTEGER NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    version_id TEXT    NOT NULL,
    value      BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (secret_id, version_id)
);

CREATE TABLE secret_stages (
    secret_id  INTEGER NOT NULL,
    stage      TEXT    NOT NULL,
    version_id TEXT    NOT NULL,
    PRIMARY KEY (secret_id, stage),
    FOREIGN KEY (secret_id, version_id) REFERENCES secret_versions (secret_id, version_id) ON DELETE CASCADE
);
CREATE INDEX secret_stages_version ON secret_stages (secret_id, version_id);

CREATE TABLE secret_tags (
    secret_id INTEGER NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    key       TEXT    NOT NULL,
    value     TEXT    NOT NULL,
    PRIMARY KEY (secret_id, key)
);
