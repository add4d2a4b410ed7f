package postgres

import (
	"fmt"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/postgres/pgtest"
)

func vulnRecords(tag string, n int) iter.Seq2[*meta.VulnRecord, error] {
	return func(yield func(*meta.VulnRecord, error) bool) {
		for i := range n {
			r := &meta.VulnRecord{Ecosystem: "Go", ID: fmt.Sprintf("GO-%s-%d", tag, i), Data: []byte(tag),
				Keys: []meta.VulnKey{{Ecosystem: "Go", Name: fmt.Sprintf("pkg%d", i%50)}}}
			if !yield(r, nil) {
				return
			}
		}
	}
}

func count(t *testing.T, s *Store, query string) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(t.Context(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestVulnPrune checks that pruning removes the rows of replaced and of
// dead imports, in several batches, and nothing current.
func TestVulnPrune(t *testing.T) {
	s := openURL(t, pgtest.NewDatabase(t))
	defer s.Close()
	ctx := t.Context()
	now := time.Unix(1_700_000_000, 0)
	const n = vulnDeleteBatch + 10
	for i, tag := range []string{"a", "b"} {
		if _, err := s.ImportVulns(ctx, meta.VulnImport{Source: tag, LoadedAt: now.Add(time.Duration(i) * time.Second)}, vulnRecords(tag, n)); err != nil {
			t.Fatal(err)
		}
	}
	// A dead import: a staging generation with rows, as a killed process
	// leaves it.
	var dead int64
	if err := s.pool.QueryRow(ctx, `INSERT INTO vuln_generations (ecosystem, state, source, loaded_at)
		VALUES ('Go', 'staging', 'dead', $1) RETURNING id`, now).Scan(&dead); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO vuln_records (generation, id, data) VALUES ($1, 'GO-dead', '\x00')`, dead); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO vuln_packages VALUES ('Go', 'pkg0', $1, 'GO-dead')`, dead); err != nil {
		t.Fatal(err)
	}
	// Not yet stale: only the replaced generation goes.
	if err := s.PruneVulns(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := count(t, s, `SELECT count(*) FROM vuln_records`); got != n+1 {
		t.Errorf("after pruning the replaced import: %d records, want %d", got, n+1)
	}
	// A day later the dead import goes too.
	if err := s.PruneVulns(ctx, now.Add(meta.VulnStaleAfter+time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := count(t, s, `SELECT count(*) FROM vuln_records WHERE id NOT LIKE 'GO-b-%'`); got != 0 {
		t.Errorf("after pruning: %d records not of the current import", got)
	}
	if got := count(t, s, `SELECT count(*) FROM vuln_packages`); got != n {
		t.Errorf("after pruning: %d packages, want %d", got, n)
	}
	if got := count(t, s, `SELECT count(*) FROM vuln_generations`); got != 1 {
		t.Errorf("after pruning: %d generations, want 1", got)
	}
}

// TestVulnQueryPlan keeps FindVulns to index seeks in vuln_packages and
// vuln_records, however large they grow.
func TestVulnQueryPlan(t *testing.T) {
	s := openURL(t, pgtest.NewDatabase(t))
	defer s.Close()
	ctx := t.Context()
	for _, eco := range []string{"Go", "npm", "PyPI"} {
		recs := func(yield func(*meta.VulnRecord, error) bool) {
			for i := range 3000 {
				r := &meta.VulnRecord{Ecosystem: eco, ID: fmt.Sprintf("%s-%d", eco, i), Data: []byte("x"),
					Keys: []meta.VulnKey{{Ecosystem: eco, Name: fmt.Sprintf("pkg%d", i)}}}
				if !yield(r, nil) {
					return
				}
			}
		}
		if _, err := s.ImportVulns(ctx, meta.VulnImport{Source: "plan", LoadedAt: time.Now()}, recs); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	var plan []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, "EXPLAIN "+findVulnsQuery, []string{"Go", "npm"}, []string{"pkg1", "pkg2"})
		var err error
		plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(plan, "\n")
	if strings.Contains(joined, "Seq Scan on vuln_packages") || strings.Contains(joined, "Seq Scan on vuln_records") ||
		!strings.Contains(joined, "vuln_packages_pkey") {
		t.Errorf("FindVulns: want index seeks in vuln_packages_pkey and no sequential scan; plan:\n%s", joined)
	}
}
