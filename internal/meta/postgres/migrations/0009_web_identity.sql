-- OpenID Connect providers, whose ID tokens AssumeRoleWithWebIdentity
-- exchanges for role sessions. client_ids and thumbprints are read and
-- written whole, never queried inside.
CREATE TABLE iam_oidc_providers (
    arn         text COLLATE "C" PRIMARY KEY,
    account     text COLLATE "C" NOT NULL,
    url         text NOT NULL,
    client_ids  text[] NOT NULL,
    thumbprints text[] NOT NULL,
    created_at  timestamptz
);

CREATE INDEX iam_oidc_providers_account ON iam_oidc_providers (account, arn);

-- GetSessionToken's sessions are a user's (or an account root's), not a
-- role's: their role columns are empty and user_name names the user.
ALTER TABLE iam_sessions ADD COLUMN user_name text NOT NULL DEFAULT '';
