-- Secrets Manager's secrets (meta.SecretStore); see SQLite's 0011. A
-- change to a secret locks its row first (FOR NO KEY UPDATE), so that two
-- changes moving AWSCURRENT queue instead of both handing AWSPREVIOUS to
-- the same version.
CREATE TABLE secrets (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account       text COLLATE "C" NOT NULL,
    region        text COLLATE "C" NOT NULL,
    name          text COLLATE "C" NOT NULL,
    arn           text COLLATE "C" NOT NULL UNIQUE,
    description   text NOT NULL DEFAULT '',
    kms_key_id    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    changed_at    timestamptz NOT NULL,
    accessed_at   timestamptz,
    deleted_at    timestamptz,
    deletion_date timestamptz,
    UNIQUE (account, region, name)
);

CREATE TABLE secret_versions (
    secret_id  bigint NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    version_id text COLLATE "C" NOT NULL,
    value      bytea NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (secret_id, version_id)
);

CREATE TABLE secret_stages (
    secret_id  bigint NOT NULL,
    stage      text COLLATE "C" NOT NULL,
    version_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (secret_id, stage),
    FOREIGN KEY (secret_id, version_id) REFERENCES secret_versions (secret_id, version_id) ON DELETE CASCADE
);
CREATE INDEX secret_stages_version ON secret_stages (secret_id, version_id);

CREATE TABLE secret_tags (
    secret_id bigint NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    key       text COLLATE "C" NOT NULL,
    value     text NOT NULL,
    PRIMARY KEY (secret_id, key)
);
