-- Berth's metadata in PostgreSQL: the schema of the SQLite store's
-- migrations 0001 to 0006, in PostgreSQL's terms.
--
-- Text that is compared or sorted (names, digests, tags, keys) is
-- COLLATE "C": Berth orders bytewise, as Go compares strings, whatever the
-- locale the database was created with. Timestamps are timestamptz; NULL
-- stands for the zero time.
--
-- Ids come from identity columns: a sequence never hands a value out twice,
-- so a request still holding the id of a deleted repository (or a pruned
-- job) never lands on a newer one.

CREATE TABLE repositories (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account        text COLLATE "C" NOT NULL,
    region         text COLLATE "C" NOT NULL,
    name           text COLLATE "C" NOT NULL,
    created_at     timestamptz,
    tag_mutability text NOT NULL DEFAULT '',
    -- The domain's JSON, kept as text: exactly what was put.
    settings       text,
    UNIQUE (account, region, name)
);

-- Registry-wide settings (ECR's account settings, per account and region);
-- a missing row means the default, which the domain knows.
CREATE TABLE registry_settings (
    account text COLLATE "C" NOT NULL,
    region  text COLLATE "C" NOT NULL,
    name    text COLLATE "C" NOT NULL,
    value   text NOT NULL,
    PRIMARY KEY (account, region, name)
);

-- One row per blob per deployment, whichever repositories link it. created_at
-- is the blob's push time, on the database's clock (the first link).
CREATE TABLE blobs (
    digest     text COLLATE "C" PRIMARY KEY,
    size       bigint NOT NULL,
    created_at timestamptz NOT NULL
);

-- linked_at is when the link was made, made again, or stopped being
-- referenced by a manifest of the repository, on the database's clock:
-- every node measures a link's age for garbage collection on one clock.
CREATE TABLE repo_blobs (
    repo_id   bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest    text COLLATE "C" NOT NULL REFERENCES blobs (digest),
    linked_at timestamptz NOT NULL,
    PRIMARY KEY (repo_id, digest)
);

-- Garbage collection asks which repositories still link a blob.
CREATE INDEX repo_blobs_digest ON repo_blobs (digest);

CREATE TABLE manifests (
    repo_id        bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest         text COLLATE "C" NOT NULL,
    media_type     text NOT NULL,
    artifact_type  text NOT NULL DEFAULT '',
    subject        text COLLATE "C" NOT NULL DEFAULT '',
    annotations    text,
    content        bytea NOT NULL,
    image_size     bigint NOT NULL,
    pushed_at      timestamptz,
    last_pulled_at timestamptz,
    PRIMARY KEY (repo_id, digest)
);

-- ListReferrers, in digest order.
CREATE INDEX manifests_subject ON manifests (repo_id, subject, digest);

-- What each manifest references (blobs and, for an index, child manifests);
-- the rows go with their manifest.
CREATE TABLE manifest_refs (
    repo_id         bigint NOT NULL,
    manifest_digest text COLLATE "C" NOT NULL,
    ref_digest      text COLLATE "C" NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('blob', 'manifest')),
    PRIMARY KEY (repo_id, manifest_digest, kind, ref_digest),
    FOREIGN KEY (repo_id, manifest_digest)
        REFERENCES manifests (repo_id, digest) ON DELETE CASCADE
);

-- "Is this child still listed by an index", "which manifests use this blob".
CREATE INDEX manifest_refs_ref ON manifest_refs (repo_id, ref_digest, kind);

-- Garbage collection asks whether any manifest, in any repository,
-- references a blob.
CREATE INDEX manifest_refs_blob ON manifest_refs (ref_digest) WHERE kind = 'blob';

-- Deleting a manifest deletes the tags pointing at it through the cascade.
CREATE TABLE tags (
    repo_id bigint NOT NULL,
    name    text COLLATE "C" NOT NULL,
    digest  text COLLATE "C" NOT NULL,
    PRIMARY KEY (repo_id, name),
    FOREIGN KEY (repo_id, digest)
        REFERENCES manifests (repo_id, digest) ON DELETE CASCADE
);

-- A manifest's tags, in name order; the cascade above needs it too.
CREATE INDEX tags_digest ON tags (repo_id, digest, name);

CREATE TABLE uploads (
    id            text COLLATE "C" PRIMARY KEY,
    repo_id       bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    "offset"      bigint NOT NULL,
    hash_state    bytea,
    created_at    timestamptz,
    updated_at    timestamptz,
    -- The digest the upload is committing (BeginBlobCommit): garbage
    -- collection leaves that blob alone until the session ends.
    commit_digest text COLLATE "C"
);

CREATE INDEX uploads_repo ON uploads (repo_id);
CREATE INDEX uploads_commit_digest ON uploads (commit_digest) WHERE commit_digest IS NOT NULL;

-- Blobs whose record garbage collection removed: 'deleting' while their
-- bytes are being deleted, then 'deleted' until pruned or until an upload
-- of the digest brings the bytes back. While a row is here no link to the
-- digest may be made.
CREATE TABLE blob_deletions (
    digest text COLLATE "C" PRIMARY KEY,
    state  text NOT NULL CHECK (state IN ('deleting', 'deleted')),
    at     timestamptz NOT NULL
);

-- One policy per repository, its text kept exactly as put.
CREATE TABLE lifecycle_policies (
    repo_id           bigint PRIMARY KEY REFERENCES repositories (id) ON DELETE CASCADE,
    policy_text       text NOT NULL,
    updated_at        timestamptz,
    last_evaluated_at timestamptz
);

-- The latest preview of each repository, and its results.
CREATE TABLE lifecycle_previews (
    repo_id     bigint PRIMARY KEY REFERENCES repositories (id) ON DELETE CASCADE,
    id          text NOT NULL,
    policy_text text NOT NULL,
    status      text NOT NULL,
    reason      text NOT NULL DEFAULT '',
    started_at  timestamptz,
    finished_at timestamptz
);

CREATE TABLE lifecycle_preview_results (
    repo_id              bigint NOT NULL REFERENCES lifecycle_previews (repo_id) ON DELETE CASCADE,
    digest               text COLLATE "C" NOT NULL,
    tags                 text[],
    pushed_at            timestamptz,
    action               text NOT NULL,
    target_storage_class text NOT NULL DEFAULT '',
    rule_priority        integer NOT NULL,
    storage_class        text NOT NULL,
    PRIMARY KEY (repo_id, digest)
);

-- A lease lets one node at a time do a job; it lapses at expires_at should
-- its holder die. Times are the callers'.
CREATE TABLE leases (
    name       text COLLATE "C" PRIMARY KEY,
    holder     text NOT NULL,
    expires_at timestamptz NOT NULL
);

-- The outbox: background work a change asks for, written in the change's own
-- transaction and claimed by workers on any node with a lease.
CREATE TABLE jobs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue       text COLLATE "C" NOT NULL,
    key         text COLLATE "C" NOT NULL DEFAULT '',
    payload     bytea,
    state       text NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed')),
    attempts    integer NOT NULL DEFAULT 0,
    -- NULL for a job that may run at once.
    run_after   timestamptz,
    holder      text NOT NULL DEFAULT '',
    lease_until timestamptz,
    last_error  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    finished_at timestamptz,
    -- When an unfinished job became, or becomes, ready: a pending job at
    -- run_after ("at once" first), a running one when its lease lapses.
    -- One column, so that claiming is one walk of one index in the order
    -- jobs are claimed, whatever their state.
    due         timestamptz GENERATED ALWAYS AS (
        CASE state
            WHEN 'pending' THEN COALESCE(run_after, '-infinity')
            WHEN 'running' THEN lease_until
        END) STORED
);

-- Claiming walks the unfinished jobs by due; finished jobs, the bulk of the
-- table until pruned, are not in it.
CREATE INDEX jobs_due ON jobs (due, id) WHERE state IN ('pending', 'running');

-- A key is unique among a queue's unfinished jobs only: a finished job frees
-- it for the next change that asks for the same work.
CREATE UNIQUE INDEX jobs_key ON jobs (queue, key)
    WHERE key <> '' AND state IN ('pending', 'running');

-- Pruning walks the finished jobs by age.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state IN ('succeeded', 'failed');

-- IAM: accounts, users, groups, roles, policies, access keys and role
-- sessions. Names are kept as first written; name_key is their lower case,
-- ASCII only (lower() under COLLATE "C"), because IAM names compare
-- case-insensitively. Rows that refer to a user, group or role by name hold
-- its name_key. The store's transactions keep those references whole (no
-- user is deleted while it has keys or memberships) with row locks, so
-- there are no foreign keys.

CREATE TABLE iam_accounts (
    id         text COLLATE "C" PRIMARY KEY,
    created_at timestamptz
);

-- Users, groups and roles. The role columns are empty for the others.
CREATE TABLE iam_entities (
    account              text COLLATE "C" NOT NULL,
    kind                 text NOT NULL CHECK (kind IN ('user', 'group', 'role')),
    name                 text COLLATE "C" NOT NULL,
    name_key             text COLLATE "C" GENERATED ALWAYS AS (lower(name)) STORED,
    path                 text COLLATE "C" NOT NULL,
    id                   text COLLATE "C" NOT NULL UNIQUE,
    created_at           timestamptz,
    trust_policy         text NOT NULL DEFAULT '',
    description          text NOT NULL DEFAULT '',
    max_session_duration integer NOT NULL DEFAULT 0,
    PRIMARY KEY (account, kind, name_key)
);

CREATE TABLE iam_group_members (
    account   text COLLATE "C" NOT NULL,
    group_key text COLLATE "C" NOT NULL,
    user_key  text COLLATE "C" NOT NULL,
    PRIMARY KEY (account, group_key, user_key)
);

-- ListGroupsForUser, and DeleteUser's check for memberships.
CREATE INDEX iam_group_members_user ON iam_group_members (account, user_key);

CREATE TABLE iam_inline_policies (
    account    text COLLATE "C" NOT NULL,
    owner_kind text NOT NULL,
    owner_key  text COLLATE "C" NOT NULL,
    name       text COLLATE "C" NOT NULL,
    name_key   text COLLATE "C" GENERATED ALWAYS AS (lower(name)) STORED,
    document   text NOT NULL,
    PRIMARY KEY (account, owner_kind, owner_key, name_key)
);

-- Customer managed policies, one version each.
CREATE TABLE iam_policies (
    account     text COLLATE "C" NOT NULL,
    name        text COLLATE "C" NOT NULL,
    name_key    text COLLATE "C" GENERATED ALWAYS AS (lower(name)) STORED,
    path        text COLLATE "C" NOT NULL,
    id          text COLLATE "C" NOT NULL UNIQUE,
    arn         text COLLATE "C" NOT NULL UNIQUE,
    description text NOT NULL DEFAULT '',
    document    text NOT NULL,
    created_at  timestamptz,
    updated_at  timestamptz,
    PRIMARY KEY (account, name_key)
);

CREATE TABLE iam_attachments (
    account    text COLLATE "C" NOT NULL,
    owner_kind text NOT NULL,
    owner_key  text COLLATE "C" NOT NULL,
    policy_arn text COLLATE "C" NOT NULL,
    PRIMARY KEY (account, owner_kind, owner_key, policy_arn)
);

-- DeletePolicy's check and the attachment counts.
CREATE INDEX iam_attachments_policy ON iam_attachments (account, policy_arn);

-- user_key is '' for the root's keys.
CREATE TABLE iam_access_keys (
    id         text COLLATE "C" PRIMARY KEY,
    account    text COLLATE "C" NOT NULL,
    user_key   text COLLATE "C" NOT NULL,
    user_name  text NOT NULL,
    secret     text NOT NULL,
    status     text NOT NULL,
    created_at timestamptz
);

CREATE INDEX iam_access_keys_user ON iam_access_keys (account, user_key);

CREATE TABLE iam_sessions (
    id           text COLLATE "C" PRIMARY KEY,
    secret       text NOT NULL,
    token        text NOT NULL,
    account      text COLLATE "C" NOT NULL,
    role_key     text COLLATE "C" NOT NULL,
    role_name    text NOT NULL,
    role_path    text NOT NULL,
    role_id      text NOT NULL,
    session_name text NOT NULL,
    source_arn   text NOT NULL,
    created_at   timestamptz,
    expires_at   timestamptz
);

CREATE INDEX iam_sessions_role ON iam_sessions (account, role_key);
CREATE INDEX iam_sessions_expiry ON iam_sessions (expires_at);
