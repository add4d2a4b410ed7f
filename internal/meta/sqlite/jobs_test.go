package sqlite

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/metatest"
)

// crashChildEnv names the database a child of TestCrash writes to.
const crashChildEnv = "BERTH_META_CRASH_CHILD_DB"

// TestCrash kills a process writing changes and their jobs, again and
// again, and checks the file after each kill (see metatest.RunCrash).
func TestCrash(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		runCrashChild(path) // never returns
	}
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	path := filepath.Join(t.TempDir(), "meta.db")
	metatest.RunCrash(t, metatest.Crash{
		Open: func(t *testing.T) meta.Store {
			s, err := Open(path)
			if err != nil {
				t.Fatalf("reopen after kill: %v", err)
			}
			return s
		},
		Child: func(t *testing.T) *exec.Cmd {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
			return cmd
		},
		Check: func(t *testing.T, s meta.Store) {
			db := s.(*Store).r
			var result string
			if err := db.QueryRowContext(t.Context(), "PRAGMA integrity_check").Scan(&result); err != nil || result != "ok" {
				t.Errorf("PRAGMA integrity_check = %q, %v", result, err)
			}
			rows, err := db.QueryContext(t.Context(), "PRAGMA foreign_key_check")
			if err != nil {
				t.Fatalf("PRAGMA foreign_key_check: %v", err)
			}
			defer rows.Close()
			if rows.Next() {
				t.Error("PRAGMA foreign_key_check found a row that breaks a foreign key")
			}
		},
	})
}

// runCrashChild is the child's whole life: it writes until killed.
func runCrashChild(path string) {
	s, err := Open(path)
	if err == nil {
		err = metatest.CrashChild(context.Background(), s, os.Stdout)
	}
	fmt.Fprintln(os.Stderr, err)
	os.Exit(3)
}

// TestJobQueryPlans keeps claiming a seek on jobs_ready and pruning a walk
// of jobs_finished, however many jobs have piled up.
func TestJobQueryPlans(t *testing.T) {
	s, _ := openTemp(t)
	for _, tc := range []struct {
		name, query string
		want        []string
		args        []any
	}{
		{"ClaimJob", readyJobQuery, []string{
			"SEARCH jobs USING COVERING INDEX jobs_ready (queue=? AND state=? AND run_after<?)",
			"SEARCH jobs USING INDEX jobs_ready (queue=? AND state=?)"}, []any{"q", 1}},
		{"PruneJobs", pruneJobsQuery, []string{"SEARCH jobs USING INDEX jobs_finished (finished_at<?)"}, []any{1}},
	} {
		plan := queryPlan(t, s, tc.name, tc.query, tc.args...)
		joined := strings.Join(plan, "; ")
		for _, want := range tc.want {
			if !strings.Contains(joined, want) {
				t.Errorf("%s: plan %q lacks %q", tc.name, plan, want)
			}
		}
		if strings.Contains(joined, "SCAN jobs") {
			t.Errorf("%s: plan %q scans the table", tc.name, plan)
		}
	}
}
