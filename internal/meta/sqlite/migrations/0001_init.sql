-- Timestamps are unix nanoseconds in UTC; NULL stands for the zero time.

-- AUTOINCREMENT so that an id is never reused: a request still holding the
-- id of a deleted repository must not land in a newer one.
CREATE TABLE repositories (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account        TEXT    NOT NULL,
    region         TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    created_at     INTEGER,
    tag_mutability TEXT    NOT NULL DEFAULT '',
    settings       TEXT,
    UNIQUE (account, region, name)
);

-- One row per blob per deployment, whichever repositories link it; garbage
-- collection removes rows no repository links any more.
CREATE TABLE blobs (
    digest TEXT    PRIMARY KEY,
    size   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE repo_blobs (
    repo_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest  TEXT    NOT NULL REFERENCES blobs (digest),
    PRIMARY KEY (repo_id, digest)
) WITHOUT ROWID;

-- Garbage collection asks which repositories still link a blob.
CREATE INDEX repo_blobs_digest ON repo_blobs (digest);

-- A rowid table, unlike the others: rows carry the manifest bytes, and
-- WITHOUT ROWID tables suit small rows only.
CREATE TABLE manifests (
    repo_id        INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest         TEXT    NOT NULL,
    media_type     TEXT    NOT NULL,
    artifact_type  TEXT    NOT NULL DEFAULT '',
    subject        TEXT    NOT NULL DEFAULT '',
    annotations    TEXT,
    content        BLOB    NOT NULL,
    image_size     INTEGER NOT NULL,
    pushed_at      INTEGER,
    last_pulled_at INTEGER,
    PRIMARY KEY (repo_id, digest)
);

-- digest last, so that ListReferrers gets its order from the index too and
-- the planner never prefers walking the repository's primary key.
CREATE INDEX manifests_subject ON manifests (repo_id, subject, digest);

-- What each manifest references (blobs and, for an index, child manifests).
-- Rows go with their manifest, which keeps "is this child still listed by an
-- index" a lookup on manifest_refs_ref.
CREATE TABLE manifest_refs (
    repo_id         INTEGER NOT NULL,
    manifest_digest TEXT    NOT NULL,
    ref_digest      TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    PRIMARY KEY (repo_id, manifest_digest, kind, ref_digest),
    FOREIGN KEY (repo_id, manifest_digest)
        REFERENCES manifests (repo_id, digest) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE INDEX manifest_refs_ref ON manifest_refs (repo_id, ref_digest, kind);

-- Deleting a manifest deletes the tags pointing at it through the cascade.
CREATE TABLE tags (
    repo_id INTEGER NOT NULL,
    name    TEXT    NOT NULL,
    digest  TEXT    NOT NULL,
    PRIMARY KEY (repo_id, name),
    FOREIGN KEY (repo_id, digest)
        REFERENCES manifests (repo_id, digest) ON DELETE CASCADE
) WITHOUT ROWID;

-- GetManifest lists a manifest's tags; the cascade above needs it too.
CREATE INDEX tags_digest ON tags (repo_id, digest);

CREATE TABLE uploads (
    id         TEXT    PRIMARY KEY,
    repo_id    INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    "offset"   INTEGER NOT NULL,
    hash_state BLOB,
    created_at INTEGER,
    updated_at INTEGER
);

CREATE INDEX uploads_repo ON uploads (repo_id);
