package meta

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestMigrations(t *testing.T) {
	file := &fstest.MapFile{Data: []byte("SELECT 1;")}
	ms, err := Migrations(fstest.MapFS{"migrations/0010_b.sql": file, "migrations/0002_a.sql": file, "migrations/README": file})
	if err != nil || len(ms) != 2 || ms[0].Version != 2 || ms[1].Version != 10 || ms[0].Name != "migrations/0002_a.sql" {
		t.Fatalf("Migrations = %+v, %v", ms, err)
	}
	for _, tc := range []struct {
		files fstest.MapFS
		want  string
	}{
		{fstest.MapFS{"migrations/init.sql": file}, "does not start with a version number"},
		{fstest.MapFS{"migrations/0001_a.sql": file, "migrations/1_b.sql": file}, "share a version"},
	} {
		if _, err := Migrations(tc.files); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.files, err, tc.want)
		}
	}
}
