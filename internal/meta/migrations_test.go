package meta

import (
	"errors"
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

func TestMigrationsBreakingMarker(t *testing.T) {
	ms, err := Migrations(fstest.MapFS{
		"migrations/0001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER);")},
		"migrations/0002_b.sql": {Data: []byte("-- The column's meaning changes.\n-- berth:breaking\nALTER TABLE a RENAME COLUMN x TO y;")},
		"migrations/0003_c.sql": {Data: []byte("-- not -- berth:breaking, only mentioned\nSELECT 1;")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := [3]bool{ms[0].Breaking, ms[1].Breaking, ms[2].Breaking}; got != [3]bool{false, true, false} {
		t.Fatalf("Breaking = %v, want [false true false]", got)
	}
}

func TestCheckApplied(t *testing.T) {
	ms := []Migration{{Version: 1}, {Version: 2, Breaking: true}, {Version: 3}}
	for _, tc := range []struct {
		name    string
		applied []Applied
		want    string // "" when this build may use the database
	}{
		{"empty database", nil, ""},
		{"older database", []Applied{{Version: 1}}, ""},
		{"same", []Applied{{Version: 1}, {Version: 2, Breaking: true}, {Version: 3}}, ""},
		{"newer, additive", []Applied{{Version: 1}, {Version: 2, Breaking: true}, {Version: 3}, {Version: 4}, {Version: 5}}, ""},
		{"newer, breaking", []Applied{{Version: 1}, {Version: 3}, {Version: 4}, {Version: 6, Breaking: true}, {Version: 5, Breaking: true}},
			"it has migration 6, which older versions cannot work beside, and this Berth knows migrations up to 3"},
	} {
		err := CheckApplied(ms, tc.applied)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: CheckApplied = %v, want nil", tc.name, err)
		case tc.want != "" && (!errors.Is(err, ErrSchemaNewer) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: CheckApplied = %v, want ErrSchemaNewer saying %q", tc.name, err, tc.want)
		}
	}
}

func TestCheckAdditive(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   string // "" when additive
	}{
		{"CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\nCREATE INDEX t_name ON t (name);", ""},
		{"ALTER TABLE t ADD COLUMN note TEXT;", ""},
		{"ALTER TABLE t ADD COLUMN user_name text NOT NULL DEFAULT '';", ""},
		{"ALTER TABLE t ADD COLUMN IF NOT EXISTS n integer NOT NULL DEFAULT 0;", ""},
		{"DROP INDEX t_name;\nCREATE INDEX t_name2 ON t (name, id);", ""},
		{"ALTER TABLE t ALTER COLUMN data SET STORAGE EXTERNAL;", ""},
		{"-- DROP TABLE t; was considered\nSELECT 1;", ""},
		{"/* RENAME later */ SELECT 1;", ""},
		{"DROP TABLE t;", "drops what older nodes use"},
		{"ALTER TABLE t DROP COLUMN name;", "drops what older nodes use"},
		{"ALTER TABLE t RENAME TO u;", "renames"},
		{"ALTER TABLE t RENAME COLUMN name TO title;", "renames"},
		{"ALTER TABLE t ALTER COLUMN name TYPE bytea;", "changes a column"},
		{"ALTER TABLE t ALTER COLUMN note SET NOT NULL;", "changes a column"},
		{"ALTER TABLE t ADD CONSTRAINT t_pos CHECK (id > 0);", "adds a constraint"},
		{"ALTER TABLE t ADD COLUMN owner text NOT NULL;", "NOT NULL column without a default"},
		{"ALTER TABLE t\n  ADD owner text NOT NULL;", "NOT NULL column without a default"},
	} {
		fsys := fstest.MapFS{"migrations/0001_x.sql": {Data: []byte(tc.script)}}
		err := CheckAdditive(fsys)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: CheckAdditive = %v, want nil", tc.script, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: CheckAdditive = %v, want an error saying %q", tc.script, err, tc.want)
		}
		// Marked breaking, anything goes.
		fsys["migrations/0001_x.sql"] = &fstest.MapFile{Data: []byte(BreakingMarker + "\n" + tc.script)}
		if err := CheckAdditive(fsys); err != nil {
			t.Errorf("%q marked breaking: CheckAdditive = %v, want nil", tc.script, err)
		}
	}
}
