package meta

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one schema change of a store: a file migrations/NNNN_….sql
// of the store's embedded files. A released file never changes; a new one
// is added with the next number.
type Migration struct {
	Version int
	Name    string // the file's path in its fs.FS
}

// Migrations lists fsys's migrations/*.sql in version order, refusing a
// name that does not start with a version and two files of one version.
func Migrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, name := range names {
		base := path.Base(name)
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name does not start with a version number", base)
		}
		ms = append(ms, Migration{Version: v, Name: name})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share a version", ms[i-1].Name, ms[i].Name)
		}
	}
	return ms, nil
}
