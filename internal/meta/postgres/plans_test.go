package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/berth-registry/berth/internal/meta/postgres/pgtest"
)

// TestQueryPlans keeps the reads of every request to indexed lookups and
// claiming a job to one ordered walk of jobs_due: a sequential scan or a
// sort would grow with the tables. The tables get some rows and statistics
// first, so that the planner chooses as it would in use.
func TestQueryPlans(t *testing.T) {
	s := openURL(t, pgtest.NewDatabase(t))
	defer s.Close()
	_, err := s.pool.Exec(t.Context(), `
		INSERT INTO repositories (account, region, name) SELECT '1', 'r', 'repo' || i FROM generate_series(1, 2000) i;
		INSERT INTO manifests (repo_id, digest, media_type, subject, content, image_size)
			SELECT r.id, 'sha256:' || md5(r.id || '/' || i), 'x', CASE WHEN i % 10 = 0 THEN 'sha256:x' ELSE '' END, '\x00', 1
			FROM repositories r, generate_series(1, 100) i WHERE r.id <= 50;
		INSERT INTO blobs (digest, size, created_at) SELECT 'sha256:' || md5(i::text), i, now() FROM generate_series(1, 5000) i;
		INSERT INTO repo_blobs (repo_id, digest, linked_at) SELECT 1 + i % 50, 'sha256:' || md5(i::text), now() FROM generate_series(1, 5000) i;
		INSERT INTO tags (repo_id, name, digest) SELECT repo_id, 'v' || substr(digest, 8, 8), digest FROM manifests;
		INSERT INTO jobs (queue, state, run_after, created_at, updated_at, finished_at)
			SELECT 'q' || i % 3, CASE WHEN i % 2 = 0 THEN 'succeeded' ELSE 'pending' END,
				CASE WHEN i % 5 = 0 THEN now() END, now(), now(), CASE WHEN i % 2 = 0 THEN now() END
			FROM generate_series(1, 5000) i;
		ANALYZE`)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, tc := range []struct {
		name, query, index string
		args               []any
	}{
		{"GetManifest", getManifestQuery, "manifests_pkey", []any{1, "sha256:x"}},
		{"ResolveTag", resolveTagQuery, "tags_pkey", []any{1, "latest"}},
		{"GetTaggedManifest", getTaggedManifestQuery, "tags_pkey", []any{1, "latest"}},
		{"GetBlob", getBlobQuery, "using repo_blobs_", []any{1, "sha256:x"}},
		{"GetRepository", getRepositoryQuery, "repositories_account_region_name_key", []any{"1", "r", "repo1"}},
		{"ClaimJob", claimJobQuery, "jobs_due", []any{[]string{"q1", "q2"}, "w", now.Add(time.Minute), now}},
		{"PruneJobs", pruneJobsQuery, "jobs_finished", []any{now}},
	} {
		var plan []string
		err = pgx.BeginFunc(t.Context(), s.pool, func(tx pgx.Tx) error {
			rows, _ := tx.Query(t.Context(), "EXPLAIN "+tc.query, tc.args...)
			var err error
			plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		joined := strings.Join(plan, "\n")
		if strings.Contains(joined, "Seq Scan") || strings.Contains(joined, "Sort") || !strings.Contains(joined, tc.index) {
			t.Errorf("%s: want %s, no sequential scan, no sort; plan:\n%s", tc.name, tc.index, joined)
		}
	}
}
