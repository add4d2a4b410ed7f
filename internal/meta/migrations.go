package meta

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Migration is one schema change of a store: a file migrations/NNNN_….sql
// of the store's embedded files. A released file never changes; a new one
// is added with the next number.
//
// A migration only adds (tables, columns that are nullable or have a
// default, indexes), so that a node of the previous version, which does
// not know it, goes on working on the schema it made: that is what lets
// nodes be upgraded one at a time, and rolled back (CheckAdditive, run by
// each store's tests, holds every migration to it). A migration that
// cannot only add says so with a line "-- berth:breaking"; the stores
// record that, and a Berth that does not know such a migration refuses the
// database (CheckApplied) rather than misread it.
type Migration struct {
	Version  int
	Name     string // the file's path in its fs.FS
	Breaking bool
}

// BreakingMarker is the line that marks a migration as one older versions
// of Berth cannot work beside.
const BreakingMarker = "-- berth:breaking"

// Applied is a migration a database has recorded.
type Applied struct {
	Version  int
	Breaking bool
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
		script, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: name, Breaking: isBreaking(string(script))})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share a version", ms[i-1].Name, ms[i].Name)
		}
	}
	return ms, nil
}

func isBreaking(script string) bool {
	for _, line := range strings.Split(script, "\n") {
		if strings.TrimSpace(line) == BreakingMarker {
			return true
		}
	}
	return false
}

// ErrSchemaNewer is returned when a store's database holds a breaking
// migration this build does not know: a newer Berth upgraded it.
var ErrSchemaNewer = errors.New("the database's schema is newer than this Berth can use")

// CheckApplied refuses a database that holds a breaking migration ms does
// not list: a newer Berth has changed what some table means, and this
// build would misread or miswrite it. Unknown additive migrations are
// fine: they are what a rolling upgrade's newer nodes add.
func CheckApplied(ms []Migration, applied []Applied) error {
	known := make(map[int]bool, len(ms))
	latest := 0
	for _, m := range ms {
		known[m.Version] = true
		latest = max(latest, m.Version)
	}
	newest := 0
	for _, a := range applied {
		if a.Breaking && !known[a.Version] {
			newest = max(newest, a.Version)
		}
	}
	if newest == 0 {
		return nil
	}
	return fmt.Errorf("%w: it has migration %d, which older versions cannot work beside, and this Berth knows migrations up to %d; "+
		"a newer Berth upgraded the database: run that version (or a later one) on every node that shares it",
		ErrSchemaNewer, newest, latest)
}

// nonAdditive finds the statements that change or remove what a node of
// the previous version may rely on. Comments are stripped first.
var nonAdditive = []struct {
	re   *regexp.Regexp
	what string
}{
	{regexp.MustCompile(`(?is)\bDROP\s+(TABLE|COLUMN|VIEW|TRIGGER|FUNCTION|TYPE)\b`), "drops what older nodes use"},
	{regexp.MustCompile(`(?is)\bRENAME\b`), "renames what older nodes use"},
	{regexp.MustCompile(`(?is)\bALTER\s+COLUMN\s+\S+\s+(TYPE|SET\s+DATA\s+TYPE|SET\s+NOT\s+NULL|DROP\s+DEFAULT)\b`), "changes a column older nodes write"},
	{regexp.MustCompile(`(?is)\bADD\s+CONSTRAINT\b`), "adds a constraint older nodes' writes may break"},
	{regexp.MustCompile(`(?is)\bADD\s+(COLUMN\s+)?(IF\s+NOT\s+EXISTS\s+)?\S+\s+[^,;]*\bNOT\s+NULL\b[^,;]*`), ""}, // checked below: NOT NULL needs a DEFAULT
}

var (
	lineComment  = regexp.MustCompile(`--[^\n]*`)
	blockComment = regexp.MustCompile(`(?s)/\*.*?\*/`)
	hasDefault   = regexp.MustCompile(`(?i)\bDEFAULT\b`)
)

// CheckAdditive holds every migration of fsys that is not marked breaking
// to adding only: no dropped or renamed tables, columns and the like, no
// changed column types or nullability, no new constraints on existing
// tables, no NOT NULL column without a default. Dropping or adding an index
// is additive (older nodes lose or gain speed, not meaning). The check
// reads statements, not a schema: it catches the usual ways to break a
// rolling upgrade, not every one.
func CheckAdditive(fsys fs.FS) error {
	ms, err := Migrations(fsys)
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range ms {
		if m.Breaking {
			continue
		}
		script, err := fs.ReadFile(fsys, m.Name)
		if err != nil {
			return err
		}
		sql := blockComment.ReplaceAllString(lineComment.ReplaceAllString(string(script), ""), "")
		for _, rule := range nonAdditive {
			for _, hit := range rule.re.FindAllString(sql, -1) {
				what := rule.what
				if what == "" {
					if hasDefault.MatchString(hit) {
						continue
					}
					what = "adds a NOT NULL column without a default, which older nodes' inserts leave out"
				}
				errs = append(errs, fmt.Errorf("%s: %q %s; make it additive, or mark the file %q and upgrade with every node stopped",
					m.Name, strings.Join(strings.Fields(hit), " "), what, BreakingMarker))
			}
		}
	}
	return errors.Join(errs...)
}
