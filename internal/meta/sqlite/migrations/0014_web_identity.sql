-- OpenID Connect providers, whose ID tokens AssumeRoleWithWebIdentity
-- exchanges for role sessions. client_ids and thumbprints are JSON arrays
-- of strings: read and written whole, never queried inside.
CREATE TABLE iam_oidc_providers (
    arn         TEXT    PRIMARY KEY,
    account     TEXT    NOT NULL,
    url         TEXT    NOT NULL,
    client_ids  TEXT    NOT NULL,
    thumbprints TEXT    NOT NULL,
    created_at  INTEGER
) WITHOUT ROWID;

CREATE INDEX iam_oidc_providers_account ON iam_oidc_providers (account, arn);

-- GetSessionToken's sessions are a user's (or an account root's), not a
-- role's: their role columns are empty and user_name names the user.
ALTER TABLE iam_sessions ADD COLUMN user_name TEXT NOT NULL DEFAULT '';
