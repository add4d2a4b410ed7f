package postgres

import (
	"io/fs"
	"slices"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/metatest"
	"github.com/berth-registry/berth/internal/meta/postgres/pgtest"
)

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
	rows, _ := s.pool.Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func probeRows(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM probe`).Scan(&n); err != nil {
		t.Fatalf("count probe rows: %v", err)
	}
	return n
}

// TestMigrations adds migrations to an existing database, as an upgrade of
// Berth would: each applies once, in its own transaction.
func TestMigrations(t *testing.T) {
	url := pgtest.NewDatabase(t)
	fsys := metatest.CopyMigrations(t, migrations)
	base := embeddedVersions(t)
	after := func(vs ...int) []int { return slices.Concat(base, vs) }

	// probe counts how often a migration ran: running 0901 again would
	// add a row. The test's migrations are numbered above the embedded ones.
	for _, step := range []struct {
		name         string
		file, script string
		wantErr      bool
		wantVersions []int
		wantProbe    int
	}{
		{"new migration", "migrations/0901_probe.sql",
			"CREATE TABLE probe (n integer);\nINSERT INTO probe VALUES (2);", false, after(901), 1},
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
			s, err := open(t.Context(), url, fsys)
			if step.wantErr {
				if err == nil {
					s.Close()
					t.Fatal("open succeeded")
				}
				delete(fsys, step.file)
				s, err = Open(t.Context(), url) // the older binary still opens it
			}
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer s.Close()
			if got := versions(t, s); !slices.Equal(got, step.wantVersions) {
				t.Errorf("schema_migrations = %v, want %v", got, step.wantVersions)
			}
			if n := probeRows(t, s); n != step.wantProbe {
				t.Errorf("probe has %d rows, want %d", n, step.wantProbe)
			}
		})
	}
}

// TestConcurrentOpen starts several nodes on one empty database at once:
// every migration is applied once, and every node opens.
func TestConcurrentOpen(t *testing.T) {
	url := pgtest.NewDatabase(t)
	fsys := metatest.CopyMigrations(t, migrations)
	fsys["migrations/0901_probe.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE probe (n integer);\nINSERT INTO probe VALUES (1);")}
	const nodes = 6
	stores := make([]*Store, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range nodes {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = open(t.Context(), url, fsys)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: open: %v", i, err)
		}
		defer stores[i].Close()
	}
	want := append(embeddedVersions(t), 901)
	if got := versions(t, stores[0]); !slices.Equal(got, want) {
		t.Errorf("schema_migrations = %v, want %v", got, want)
	}
	if n := probeRows(t, stores[0]); n != 1 {
		t.Errorf("the probe migration ran %d times, want once", n)
	}

	// Opening again applies nothing, and every node sees the others' writes.
	again, err := open(t.Context(), url, fsys)
	if err != nil {
		t.Fatalf("open again: %v", err)
	}
	defer again.Close()
	if n := probeRows(t, again); n != 1 {
		t.Errorf("after another open the probe migration has run %d times, want once", n)
	}
	r := &meta.Repository{Registry: meta.RegistryKey{Account: "1", Region: "r"}, Name: "app"}
	if err := stores[1].CreateRepository(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	for i, s := range stores {
		if got, err := s.GetRepository(t.Context(), r.Registry, "app"); err != nil || got.ID != r.ID {
			t.Errorf("node %d: GetRepository = %+v, %v", i, got, err)
		}
	}
}

// TestMigrationsAdditive holds the embedded migrations to adding only, so
// that nodes can be upgraded one at a time (meta.CheckAdditive).
func TestMigrationsAdditive(t *testing.T) {
	if err := meta.CheckAdditive(migrations); err != nil {
		t.Fatal(err)
	}
}

// TestSchemaNewer: a node of a version that does not know a migration
// starts beside it when it only adds, and refuses the database once it is
// marked breaking (metatest.RunSchemaGuard).
func TestSchemaNewer(t *testing.T) {
	url := pgtest.NewDatabase(t)
	metatest.RunSchemaGuard(t, migrations, func(fsys fs.FS) error {
		s, err := open(t.Context(), url, fsys)
		if err == nil {
			s.Close()
		}
		return err
	})
}

// TestSchemaMigrationsOfAnOlderBerth: a database whose schema_migrations
// predates the breaking column gets it, and opens.
func TestSchemaMigrationsOfAnOlderBerth(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s, err := Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	want := versions(t, s)
	if _, err := s.pool.Exec(t.Context(), `ALTER TABLE schema_migrations DROP COLUMN breaking`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(t.Context(), url)
	if err != nil {
		t.Fatalf("open a database of an older Berth: %v", err)
	}
	defer s.Close()
	if got := versions(t, s); !slices.Equal(got, want) {
		t.Fatalf("schema_migrations = %v, want %v", got, want)
	}
	var breaking int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations WHERE breaking`).Scan(&breaking); err != nil || breaking != 0 {
		t.Fatalf("breaking migrations recorded: %d, %v; want 0", breaking, err)
	}
}
