package postgres

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/metatest"
	"github.com/berth-registry/berth/internal/meta/postgres/pgtest"
)

// The tests run on a real PostgreSQL: BERTH_TEST_POSTGRES's server, or a
// throwaway cluster pgtest starts for this test binary.
func TestMain(m *testing.M) { pgtest.Main(m) }

func openURL(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestStore(t *testing.T) {
	pgtest.Require(t)
	metatest.Run(t, func(t *testing.T) meta.Store {
		return openURL(t, pgtest.NewDatabase(t))
	})
}

// TestStoreShared runs the suite's races on two pools on one database, as
// two nodes have.
func TestStoreShared(t *testing.T) {
	pgtest.Require(t)
	metatest.RunShared(t, func(t *testing.T) (meta.Store, meta.Store) {
		url := pgtest.NewDatabase(t)
		return openURL(t, url), openURL(t, url)
	})
}

// crashChildEnv names the database a child of TestCrash writes to.
const crashChildEnv = "BERTH_META_CRASH_CHILD_POSTGRES"

// TestCrash kills a process writing changes and their jobs through its own
// pool, again and again, and checks the database after each kill (see
// metatest.RunCrash).
func TestCrash(t *testing.T) {
	if url := os.Getenv(crashChildEnv); url != "" {
		runCrashChild(url) // never returns
	}
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	url := pgtest.NewDatabase(t)
	metatest.RunCrash(t, metatest.Crash{
		Open: func(t *testing.T) meta.Store {
			return openURL(t, url)
		},
		Child: func(t *testing.T) *exec.Cmd {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashChildEnv+"="+url)
			return cmd
		},
		// A change is a few round trips to the server, a few ms with the
		// child's statements not yet prepared: the window of 20ms that
		// suits SQLite would kill most children before their first.
		Window: 150 * time.Millisecond,
		Check: func(t *testing.T, s meta.Store) {
			// The dead child's transaction was rolled back by the server,
			// and its locks went with it: a write to everything it wrote
			// does not wait.
			err := pgx.BeginFunc(t.Context(), s.(*Store).pool, func(tx pgx.Tx) error {
				_, err := tx.Exec(t.Context(), `
					SET LOCAL lock_timeout = '5s';
					LOCK TABLE repositories, manifests, manifest_refs, tags, repo_blobs, blobs, jobs IN EXCLUSIVE MODE`)
				return err
			})
			if err != nil {
				t.Errorf("the killed child left locks behind: %v", err)
			}
		},
	})
}

// runCrashChild is the child's whole life: it writes until killed.
func runCrashChild(url string) {
	ctx := context.Background()
	s, err := Open(ctx, url)
	if err == nil {
		err = metatest.CrashChild(ctx, s, os.Stdout)
	}
	fmt.Fprintln(os.Stderr, err)
	os.Exit(3)
}
