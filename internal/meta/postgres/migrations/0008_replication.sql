-- The state of each image's replication to each destination registry
-- (DescribeImageReplicationStatus). A status belongs to its image: it
-- goes with the manifest, and with the repository.
CREATE TABLE replication_statuses (
    repo_id      bigint NOT NULL,
    digest       text COLLATE "C" NOT NULL,
    dest_region  text COLLATE "C" NOT NULL,
    dest_account text COLLATE "C" NOT NULL,
    state        text NOT NULL,
    failure      text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (repo_id, digest, dest_region, dest_account),
    FOREIGN KEY (repo_id, digest) REFERENCES manifests (repo_id, digest) ON DELETE CASCADE
);
