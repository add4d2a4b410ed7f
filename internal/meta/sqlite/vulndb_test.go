package sqlite

import (
	"fmt"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
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
	if err := s.r.QueryRowContext(t.Context(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestVulnPrune checks that pruning removes the rows of replaced and of
// dead imports, in several batches, and nothing current.
func TestVulnPrune(t *testing.T) {
	s, _ := openTemp(t)
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
	if err := s.w.QueryRowContext(ctx, `INSERT INTO vuln_generations (ecosystem, state, source, loaded_at)
		VALUES ('Go', 'staging', 'dead', ?) RETURNING id`, now.UnixNano()).Scan(&dead); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO vuln_records (generation, id, data) VALUES (?, 'GO-dead', x'00');
		INSERT INTO vuln_packages VALUES ('Go', 'pkg0', ?, 'GO-dead')`, dead, dead); err != nil {
		t.Fatal(err)
	}
	// Not yet stale: only the replaced generation goes.
	if err := s.PruneVulns(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := count(t, s, `SELECT count(*) FROM vuln_records`); got != n+1 {
		t.Errorf("after pruning the replaced import: %d records, want %d", got, n+1)
	}
	if got := count(t, s, `SELECT count(*) FROM vuln_packages`); got != n+1 {
		t.Errorf("after pruning the replaced import: %d packages, want %d", got, n+1)
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
	recs, err := s.FindVulns(ctx, []meta.VulnKey{{Ecosystem: "Go", Name: "pkg0"}})
	if err != nil || len(recs) != (n+49)/50 {
		t.Errorf("FindVulns after pruning = %d records, %v", len(recs), err)
	}
}

// TestVulnQueryPlan keeps FindVulns to one seek in vuln_packages per
// package and one in vuln_records per record.
func TestVulnQueryPlan(t *testing.T) {
	s, _ := openTemp(t)
	plan := queryPlan(t, s, "FindVulns", findVulnsQuery, `[["Go","pkg"]]`)
	joined := strings.Join(plan, "; ")
	for _, bad := range []string{"SCAN p", "SCAN r", "SCAN vuln_packages", "SCAN vuln_records", "AUTOMATIC"} {
		if strings.Contains(joined, bad) {
			t.Errorf("plan has %q: %s", bad, joined)
		}
	}
	if !strings.Contains(joined, "SEARCH p USING PRIMARY KEY") {
		t.Errorf("plan does not seek vuln_packages by its key: %s", joined)
	}
}
