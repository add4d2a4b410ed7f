-- Continuous scanning walks the finished scans behind the vulnerability
-- data page by page in digest order (StaleImageScans), so that scans it
-- does not rescan (their repositories are not scanned continuously) never
-- hide those it does. Just after an import nearly every scan is behind, so
-- the walk reads the finished scans in digest order and filters on the
-- version, without a sort; status is there only to cover the question (see
-- 0008).
DROP INDEX image_scans_stale;
CREATE INDEX image_scans_stale ON image_scans (digest, vuln_version, status)
    WHERE status IN ('COMPLETE', 'FAILED');
