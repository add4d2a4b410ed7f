-- Lifecycle policies, their previews, leases between nodes, and what online
-- garbage collection needs: when links and blobs were made, which blob an
-- upload is committing, and the blobs whose bytes are being deleted.
--
-- The store stamps link and blob times with the database's clock
-- (nowNanos below, unix nanoseconds): every node measures a link's age on
-- one clock, and a trigger can stamp what no Go code sees.

-- One policy per repository, its text kept exactly as put.
CREATE TABLE lifecycle_policies (
    repo_id           INTEGER PRIMARY KEY REFERENCES repositories (id) ON DELETE CASCADE,
    policy_text       TEXT    NOT NULL,
    updated_at        INTEGER,
    last_evaluated_at INTEGER
);

-- The latest preview of each repository; its results are rows of
-- lifecycle_preview_results, replaced with it.
CREATE TABLE lifecycle_previews (
    repo_id     INTEGER PRIMARY KEY REFERENCES repositories (id) ON DELETE CASCADE,
    id          TEXT    NOT NULL,
    policy_text TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    started_at  INTEGER,
    finished_at INTEGER
);

CREATE TABLE lifecycle_preview_results (
    repo_id              INTEGER NOT NULL REFERENCES lifecycle_previews (repo_id) ON DELETE CASCADE,
    digest               TEXT    NOT NULL,
    tags                 TEXT,
    pushed_at            INTEGER,
    action               TEXT    NOT NULL,
    target_storage_class TEXT    NOT NULL DEFAULT '',
    rule_priority        INTEGER NOT NULL,
    storage_class        TEXT    NOT NULL,
    PRIMARY KEY (repo_id, digest)
) WITHOUT ROWID;

-- A lease lets one node at a time do a job (run a repository's lifecycle
-- policy, collect garbage): taken with a conditional upsert, it lapses at
-- expires_at should its holder die.
CREATE TABLE leases (
    name       TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- When a repository's link to a blob was made, made again (the blob pushed
-- again), or stopped being referenced by a manifest of the repository
-- (trigger below): garbage collection removes an unreferenced link only
-- once this is older than its grace period, which protects pushes in flight.
ALTER TABLE repo_blobs ADD COLUMN linked_at INTEGER;
UPDATE repo_blobs SET linked_at = CAST(unixepoch('subsec') * 1000000000 AS INTEGER);

CREATE TRIGGER repo_blobs_linked_at AFTER INSERT ON repo_blobs
WHEN NEW.linked_at IS NULL
BEGIN
    UPDATE repo_blobs SET linked_at = CAST(unixepoch('subsec') * 1000000000 AS INTEGER)
    WHERE repo_id = NEW.repo_id AND digest = NEW.digest;
END;

CREATE TRIGGER manifest_refs_released AFTER DELETE ON manifest_refs
WHEN OLD.kind = 'blob'
BEGIN
    UPDATE repo_blobs SET linked_at = CAST(unixepoch('subsec') * 1000000000 AS INTEGER)
    WHERE repo_id = OLD.repo_id AND digest = OLD.ref_digest;
END;

-- A blob's push time: when its row was first made (its first link).
ALTER TABLE blobs ADD COLUMN created_at INTEGER;
UPDATE blobs SET created_at = CAST(unixepoch('subsec') * 1000000000 AS INTEGER);

CREATE TRIGGER blobs_created_at AFTER INSERT ON blobs
WHEN NEW.created_at IS NULL
BEGIN
    UPDATE blobs SET created_at = CAST(unixepoch('subsec') * 1000000000 AS INTEGER)
    WHERE digest = NEW.digest;
END;

-- Garbage collection asks whether any manifest, in any repository,
-- references a blob. (ref_digest alone: lookups that know the repository
-- keep using manifest_refs_ref.)
CREATE INDEX manifest_refs_digest ON manifest_refs (ref_digest);

-- The digest an upload is committing: set before its bytes are moved into
-- place, so that garbage collection leaves that blob alone until the
-- upload's CompleteUpload links it (and deletes this row).
ALTER TABLE uploads ADD COLUMN commit_digest TEXT;
CREATE INDEX uploads_commit_digest ON uploads (commit_digest) WHERE commit_digest IS NOT NULL;

-- Blobs whose metadata row garbage collection removed: 'deleting' while
-- their bytes are being deleted (no upload may commit the digest), then
-- 'deleted' until pruned or until an upload of the digest brings the bytes
-- back. While a row is here no link to the digest may be made: it would name
-- bytes that are, or soon will be, gone.
CREATE TABLE blob_deletions (
    digest TEXT    PRIMARY KEY,
    state  TEXT    NOT NULL,
    at     INTEGER NOT NULL
) WITHOUT ROWID;
