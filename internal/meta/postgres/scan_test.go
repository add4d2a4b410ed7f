package postgres

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/berth-registry/berth/internal/meta/postgres/pgtest"
)

// TestScanQueryPlans keeps the reads of image scans and scan requests to
// index lookups (a digest's requests look their repositories up by key),
// and continuous scanning's walk to image_scans_stale, in its order. The
// tables get rows and statistics first, so that the planner chooses as it
// would in use.
func TestScanQueryPlans(t *testing.T) {
	s := openURL(t, pgtest.NewDatabase(t))
	defer s.Close()
	ctx := t.Context()
	_, err := s.pool.Exec(ctx, `
		INSERT INTO repositories (account, region, name) SELECT '1', 'r', 'repo' || i FROM generate_series(1, 5000) i;
		INSERT INTO image_scans (digest, status, started_at, completed_at, vuln_version, findings)
			SELECT 'sha256:' || md5(i::text), CASE WHEN i % 20 = 0 THEN 'UNSUPPORTED_IMAGE' ELSE 'COMPLETE' END,
				now(), now() - i * interval '1 minute', CASE WHEN i % 100 = 0 THEN 4 ELSE 5 END, '\x00'
			FROM generate_series(1, 20000) i;
		INSERT INTO scan_requests (repo_id, digest, requested_at, trigger)
			SELECT 1 + i % 200, 'sha256:' || md5(i::text), now(), 'push' FROM generate_series(1, 20000) i;
		ANALYZE`)
	if err != nil {
		t.Fatal(err)
	}
	digests := []string{"sha256:x", "sha256:y", "sha256:z"}
	for _, tc := range []struct {
		name, query, index string
		args               []any
	}{
		{"ImageScan", imageScanQuery, "image_scans_pkey", []any{"sha256:x"}},
		{"ImageScans", imageScansQuery, "image_scans_pkey", []any{digests}},
		{"ScanRequests", scanRequestsQuery, "scan_requests_pkey", []any{1, digests}},
		{"RequestsForDigest", requestsForDigestQuery, "scan_requests_digest", []any{"sha256:x"}},
		{"StaleImageScans", staleImageScansQuery, "image_scans_stale", []any{5, "sha256:a", 100}},
	} {
		var plan []string
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			rows, _ := tx.Query(ctx, "EXPLAIN "+tc.query, tc.args...)
			var err error
			plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		joined := strings.Join(plan, "\n")
		if strings.Contains(joined, "Seq Scan") || !strings.Contains(joined, tc.index) {
			t.Errorf("%s: want %s, no sequential scan; plan:\n%s", tc.name, tc.index, joined)
		}
	}
}
