-- The state of each image's replication to each destination registry
-- (DescribeImageReplicationStatus). A status belongs to its image: it
-- goes with the manifest, and with the repository.
CREATE TABLE replication_statuses (
    repo_id     INTEGER NOT NULL,
    digest      TEXT    NOT NULL,
    dest_region TEXT    NOT NULL,
    dest_account TEXT   NOT NULL,
    state       TEXT    NOT NULL,
    failure     TEXT    NOT NULL DEFAULT '',
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (repo_id, digest, dest_region, dest_account),
    FOREIGN KEY (repo_id, digest) REFERENCES manifests (repo_id, digest) ON DELETE CASCADE
) WITHOUT ROWID;
