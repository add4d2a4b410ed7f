-- Image scans (see meta/scan.go): the latest scan of each image digest,
-- which every repository holding the digest shares, and each repository's
-- latest request for a scan of one of its images.

-- findings, up to a few MB, is TOASTed out of line: the reads that leave
-- it out (ImageScans) do not touch it.
CREATE TABLE image_scans (
    digest          text COLLATE "C" PRIMARY KEY,
    status          text NOT NULL,
    description     text NOT NULL DEFAULT '',
    started_at      timestamptz,
    completed_at    timestamptz,
    vuln_version    bigint NOT NULL DEFAULT 0,
    vuln_updated_at timestamptz,
    -- The number of findings per severity, as a JSON object.
    severity_counts text,
    findings        bytea
);

-- Continuous scanning asks for the finished scans (UNSUPPORTED_IMAGE is
-- never scanned again) whose data version is behind, oldest first. By
-- version first: when no scan is behind, as between imports, the question
-- is one seek, not a walk of every scan; when scans are behind, the oldest
-- few of them are picked from that range.
CREATE INDEX image_scans_stale ON image_scans (vuln_version, completed_at, digest)
    WHERE status IN ('COMPLETE', 'FAILED');

CREATE TABLE scan_requests (
    repo_id      bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest       text COLLATE "C" NOT NULL,
    requested_at timestamptz NOT NULL,
    trigger      text NOT NULL,
    PRIMARY KEY (repo_id, digest)
);

-- Continuous scanning asks which repositories requested a digest's scan.
CREATE INDEX scan_requests_digest ON scan_requests (digest);
