package sqlite

import (
	"database/sql"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/metatest"
)

func TestStore(t *testing.T) {
	metatest.Run(t, func(t *testing.T) meta.Store {
		s, err := Open(filepath.Join(t.TempDir(), "meta.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestStoreShared runs the suite's races on two handles on one database
// file, as two processes would open it.
func TestStoreShared(t *testing.T) {
	metatest.RunShared(t, func(t *testing.T) (meta.Store, meta.Store) {
		path := filepath.Join(t.TempDir(), "meta.db")
		a, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Open(path)
		if err != nil {
			a.Close()
			t.Fatal(err)
		}
		return a, b
	})
}

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// TestPragmas checks that the DSN's _pragma parameters took effect on every
// connection of both pools, not just the first.
func TestPragmas(t *testing.T) {
	s, _ := openTemp(t)
	common := map[string]string{
		"journal_mode": "wal",
		"synchronous":  "1", // NORMAL
		"foreign_keys": "1",
		"busy_timeout": "10000",
	}
	for _, tc := range []struct {
		name      string
		db        *sql.DB
		conns     int
		queryOnly string
	}{
		{"writer", s.w, 1, "0"},
		{"reader", s.r, 3, "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.db.Stats().MaxOpenConnections; tc.name == "writer" && got != 1 {
				t.Errorf("writer pool allows %d connections, want 1", got)
			}
			// Hold several connections at once, so that the pool opens new ones.
			for i := range tc.conns {
				c, err := tc.db.Conn(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				want := maps.Clone(common)
				want["query_only"] = tc.queryOnly
				for pragma, want := range want {
					var got string
					if err := c.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
						t.Fatalf("PRAGMA %s: %v", pragma, err)
					}
					if got != want {
						t.Errorf("connection %d: %s = %s, want %s", i, pragma, got, want)
					}
				}
			}
		})
	}

	if _, err := s.r.ExecContext(t.Context(), `DELETE FROM blobs`); err == nil {
		t.Error("the reader pool accepted a write")
	}
}

// TestReopen checks that data survives closing the store and that opening
// an existing database does not run its migrations again (0001 creates its
// tables without IF NOT EXISTS, so a second run would fail).
func TestReopen(t *testing.T) {
	s, path := openTemp(t)
	repo := &meta.Repository{Registry: meta.RegistryKey{Account: "1", Region: "r"}, Name: "app"}
	if err := s.CreateRepository(t.Context(), repo); err != nil {
		t.Fatal(err)
	}
	m := meta.Manifest{Digest: "sha256:abc", MediaType: "application/vnd.oci.image.manifest.v1+json", Content: []byte("{}")}
	if err := s.PutManifest(t.Context(), &meta.PutManifest{RepoID: repo.ID, Manifest: m, Tags: []meta.TagWrite{{Name: "latest"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for range 2 {
		s, err := Open(path)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		if _, err := s.GetRepository(t.Context(), repo.Registry, "app"); err != nil {
			t.Errorf("GetRepository after reopen: %v", err)
		}
		if d, err := s.ResolveTag(t.Context(), repo.ID, "latest"); err != nil || d != m.Digest {
			t.Errorf("ResolveTag after reopen = %s, %v", d, err)
		}
		if got, want := versions(t, s), embeddedVersions(t); !slices.Equal(got, want) {
			t.Errorf("schema_migrations = %v, want %v", got, want)
		}
		s.Close()
	}
}

// TestMigrations adds migrations to an existing database, as an upgrade of
// Berth would.
func TestMigrations(t *testing.T) {
	_, path := openTemp(t)
	fsys := metatest.CopyMigrations(t, migrations)

	// probe counts how often a migration ran: re-running 0901 would add a
	// row. The test's migrations are numbered above the embedded ones.
	base := embeddedVersions(t)
	after := func(vs ...int) []int { return slices.Concat(base, vs) }
	for _, step := range []struct {
		name         string
		file, script string
		wantErr      bool
		wantVersions []int
		wantProbe    int
	}{
		{"new migration", "migrations/0901_probe.sql",
			"CREATE TABLE IF NOT EXISTS probe (n INTEGER);\nINSERT INTO probe VALUES (2);", false, after(901), 1},
		{"nothing new", "", "", false, after(901), 1},
		{"failing migration", "migrations/0902_broken.sql",
			"INSERT INTO probe VALUES (3);\nINSERT INTO no_such_table VALUES (3);", true, after(901), 1},
		{"fixed migration", "migrations/0902_broken.sql",
			"INSERT INTO probe VALUES (3);", false, after(901, 902), 2},
		{"unpadded number", "migrations/910_late.sql",
			"INSERT INTO probe VALUES (10);", false, after(901, 902, 910), 3},
		{"duplicate version", "migrations/0910_again.sql", "SELECT 1;", true, after(901, 902, 910), 3},
	} {
		t.Run(step.name, func(t *testing.T) {
			if step.file != "" {
				fsys[step.file] = &fstest.MapFile{Data: []byte(step.script)}
			}
			s, err := open(path, fsys, false)
			if step.wantErr {
				if err == nil {
					s.Close()
					t.Fatal("open succeeded")
				}
				delete(fsys, step.file)
				s, err = Open(path) // the older binary still opens it
			}
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer s.Close()
			if got := versions(t, s); !slices.Equal(got, step.wantVersions) {
				t.Errorf("schema_migrations = %v, want %v", got, step.wantVersions)
			}
			var probe int
			if err := s.r.QueryRow(`SELECT count(*) FROM probe`).Scan(&probe); err != nil || probe != step.wantProbe {
				t.Errorf("probe has %d rows (%v), want %d", probe, err, step.wantProbe)
			}
		})
	}
}

// embeddedVersions are the versions of the migrations built into Berth.
func embeddedVersions(t *testing.T) []int {
	t.Helper()
	ms, err := meta.Migrations(migrations)
	if err != nil {
		t.Fatal(err)
	}
	var vs []int
	for _, m := range ms {
		vs = append(vs, m.Version)
	}
	return vs
}

func versions(t *testing.T, s *Store) []int {
	t.Helper()
	rows, err := s.r.Query(`SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

// TestPaths checks that file names are not read as URI syntax.
func TestPaths(t *testing.T) {
	for _, name := range []string{"meta.db", "with space.db", "what?#%20ever.db", "dir?x=1/meta.db"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			if _, err := os.Stat(path); err != nil {
				t.Errorf("database not at %q: %v", path, err)
			}
		})
	}
}

// TestQueryPlans keeps the reads of every pull to indexed lookups: a SCAN
// would grow with the repository.
func TestQueryPlans(t *testing.T) {
	s, _ := openTemp(t)
	for _, tc := range []struct {
		name  string
		query string
		args  []any
	}{
		{"GetManifest", getManifestQuery, []any{1, "sha256:x"}},
		{"ResolveTag", resolveTagQuery, []any{1, "latest"}},
		{"GetTaggedManifest", getTaggedManifestQuery, []any{1, "latest"}},
		{"GetBlob", getBlobQuery, []any{1, "sha256:x"}},
		{"ListReferrers", listReferrersQuery, []any{1, "sha256:x", ""}},
	} {
		plan := queryPlan(t, s, tc.name, tc.query, tc.args...)
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN") || strings.Contains(step, "AUTOMATIC") ||
				tc.name == "ListReferrers" && !strings.Contains(step, "manifests_subject") {
				t.Errorf("%s: plan %q", tc.name, plan)
				break
			}
		}
	}
}

// queryPlan returns the steps of SQLite's plan for query (EXPLAIN QUERY
// PLAN's detail column), for the tests that keep queries on their indexes.
func queryPlan(t *testing.T, s *Store, name, query string, args ...any) []string {
	t.Helper()
	rows, err := s.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return plan
}

// TestMigrationsAdditive holds the embedded migrations to adding only, so
// that nodes can be upgraded one at a time (meta.CheckAdditive).
func TestMigrationsAdditive(t *testing.T) {
	if err := meta.CheckAdditive(migrations); err != nil {
		t.Fatal(err)
	}
}

// TestSchemaNewer: a Berth that does not know a migration opens the
// database beside it when it only adds, and refuses it once it is marked
// breaking (metatest.RunSchemaGuard).
func TestSchemaNewer(t *testing.T) {
	_, path := openTemp(t)
	metatest.RunSchemaGuard(t, migrations, func(fsys fs.FS) error {
		s, err := open(path, fsys, false)
		if err == nil {
			s.Close()
		}
		return err
	})
}

// TestSchemaMigrationsOfAnOlderBerth: a database whose schema_migrations
// predates the breaking column gets it, and opens.
func TestSchemaMigrationsOfAnOlderBerth(t *testing.T) {
	s, path := openTemp(t)
	want := versions(t, s)
	if _, err := s.w.Exec(`ALTER TABLE schema_migrations DROP COLUMN breaking`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("open a database of an older Berth: %v", err)
	}
	defer s.Close()
	if got := versions(t, s); !slices.Equal(got, want) {
		t.Fatalf("schema_migrations = %v, want %v", got, want)
	}
	var breaking int
	if err := s.r.QueryRow(`SELECT count(*) FROM schema_migrations WHERE breaking`).Scan(&breaking); err != nil || breaking != 0 {
		t.Fatalf("breaking migrations recorded: %d, %v; want 0", breaking, err)
	}
}
