package sqlite

import (
	"strings"
	"testing"
)

// TestScanQueryPlans keeps the reads of image scans and scan requests to
// index seeks, one per digest asked about, and continuous scanning's
// question to a range of image_scans_stale that never reads the rows.
func TestScanQueryPlans(t *testing.T) {
	s, _ := openTemp(t)
	for _, tc := range []struct {
		name, query, want string
		args              []any
	}{
		{"ImageScan", imageScanQuery, "USING INDEX sqlite_autoindex_image_scans_1 (digest=?)", []any{"sha256:x"}},
		{"ImageScans", imageScansQuery, "USING INDEX sqlite_autoindex_image_scans_1 (digest=?)", []any{`["sha256:x","sha256:y"]`}},
		{"ScanRequests", scanRequestsQuery, "USING PRIMARY KEY (repo_id=? AND digest=?)", []any{1, `["sha256:x","sha256:y"]`}},
		{"RequestsForDigest", requestsForDigestQuery, "USING INDEX scan_requests_digest (digest=?)", []any{"sha256:x"}},
		{"StaleImageScans", staleImageScansQuery, "USING COVERING INDEX image_scans_stale (digest>?)", []any{3, "sha256:a", 10}},
	} {
		plan := queryPlan(t, s, tc.name, tc.query, tc.args...)
		joined := strings.Join(plan, "; ")
		for _, step := range plan {
			// The JSON array of digests is walked; the tables are not.
			if strings.HasPrefix(step, "SCAN") && !strings.HasPrefix(step, "SCAN json_each") || strings.Contains(step, "AUTOMATIC") {
				t.Errorf("%s: plan has %q: %s", tc.name, step, joined)
			}
		}
		if !strings.Contains(joined, tc.want) {
			t.Errorf("%s: plan does not seek %s: %s", tc.name, tc.want, joined)
		}
	}
}
