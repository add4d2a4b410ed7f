package metatest

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/berth-registry/berth/internal/meta"
)

// CopyMigrations copies a store's migrations/*.sql into a map a test can
// add newer migrations to, as a later build of Berth would have them.
func CopyMigrations(t *testing.T, migrations fs.FS) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		data, err := fs.ReadFile(migrations, name)
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: data}
	}
	return fsys
}

// RunSchemaGuard checks meta.CheckApplied through a store's own opening:
// reopen opens one database (kept across calls) with the migrations of
// the fs.FS it is given and closes it again. A build that does not know a
// migration opens the database beside it while it only adds, and refuses
// it, saying what to run, once a newer build applied one marked breaking.
func RunSchemaGuard(t *testing.T, migrations fs.FS, reopen func(fs.FS) error) {
	t.Helper()
	newer := CopyMigrations(t, migrations)
	newer["migrations/0901_probe.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE probe (n integer);")}
	if err := reopen(newer); err != nil {
		t.Fatalf("the newer build: %v", err)
	}
	if err := reopen(migrations); err != nil {
		t.Fatalf("this build beside an additive migration it does not know: %v", err)
	}
	newer["migrations/0902_rename.sql"] = &fstest.MapFile{Data: []byte(meta.BreakingMarker + "\nALTER TABLE probe RENAME TO probe2;")}
	if err := reopen(newer); err != nil {
		t.Fatalf("the newer build with a breaking migration: %v", err)
	}
	err := reopen(migrations)
	if !errors.Is(err, meta.ErrSchemaNewer) || !strings.Contains(err.Error(), "it has migration 902") {
		t.Fatalf("this build after a breaking migration it does not know: %v, want ErrSchemaNewer naming 902", err)
	}
	if err := reopen(newer); err != nil {
		t.Fatalf("the newer build again: %v", err)
	}
}
