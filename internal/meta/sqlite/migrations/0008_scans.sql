-- Image scans (see meta/scan.go): the latest scan of each image digest,
-- which every repository holding the digest shares, and each repository's
-- latest request for a scan of one of its images.

-- A rowid table: rows carry the findings, up to a few MB, and WITHOUT
-- ROWID tables suit small rows only. findings is the last column, so that
-- the reads that leave it out (ImageScans) stop before its overflow pages.
CREATE TABLE image_scans (
    digest          TEXT    PRIMARY KEY,
    status          TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    started_at      INTEGER,
    completed_at    INTEGER,
    vuln_version    INTEGER NOT NULL DEFAULT 0,
    vuln_updated_at INTEGER,
    -- The number of findings per severity, as a JSON object.
    severity_counts TEXT,
    findings        BLOB
);

-- Continuous scanning asks for the finished scans (UNSUPPORTED_IMAGE is
-- never scanned again) whose data version is behind, oldest first. By
-- version first: when no scan is behind, as between imports, the question
-- is one seek, not a walk of every scan; when scans are behind, the oldest
-- few of them are picked from that range. status is there only so that the
-- index covers the question: SQLite checks a partial index's IN condition
-- again on each row, and would otherwise read the row for it.
CREATE INDEX image_scans_stale ON image_scans (vuln_version, completed_at, digest, status)
    WHERE status IN ('COMPLETE', 'FAILED');

CREATE TABLE scan_requests (
    repo_id      INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest       TEXT    NOT NULL,
    requested_at INTEGER NOT NULL,
    trigger      TEXT    NOT NULL,
    PRIMARY KEY (repo_id, digest)
) WITHOUT ROWID;

-- Continuous scanning asks which repositories requested a digest's scan.
CREATE INDEX scan_requests_digest ON scan_requests (digest);
