package vulndb_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/vulndb"
)

// goVulnDB is the version of the Go vulnerability database (a Go module)
// TestGoVulnDB imports whole.
const goVulnDB = "golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018"

// goVulnDBDir finds the database's OSV records, downloading the module
// into the module cache if it is not there yet.
func goVulnDBDir(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("imports the whole Go vulnerability database")
	}
	out, err := exec.Command("go", "mod", "download", "-json", goVulnDB).Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v (the test needs the Go module proxy or the module in the cache; -short skips it)", goVulnDB, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download %s said %s", goVulnDB, out)
	}
	return filepath.Join(mod.Dir, "data", "osv")
}

// TestGoVulnDB imports the real Go vulnerability database and matches
// modules and the standard library against it.
func TestGoVulnDB(t *testing.T) {
	dir := goVulnDBDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) < 4000 {
		t.Fatalf("%s holds %d records, want the whole database", dir, len(files))
	}
	db := newDB(t)
	start := time.Now()
	rep := mustImport(t, db, dir)
	t.Logf("imported %d records (%d withdrawn left out) in %v", rep.Ecosystems[0].Records, rep.Withdrawn, time.Since(start).Round(time.Millisecond))
	if len(rep.Ecosystems) != 1 || rep.Ecosystems[0].Ecosystem != "Go" || rep.Ecosystems[0].Records+rep.Withdrawn+rep.NoPackage != len(files) {
		t.Errorf("import = %+v, %d withdrawn, %d without a package; want Go with all of %d files", rep.Ecosystems, rep.Withdrawn, rep.NoPackage, len(files))
	}

	// Every record's own fixes check against it: a package at the fix
	// of its only range is not affected by the record. All in one
	// Match, as a scan of a large image asks.
	type fix struct{ name, version, id string }
	var pkgs []vulndb.Package
	mustNot, mustBe := map[fix]bool{}, map[fix]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := vulndb.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !v.Withdrawn.IsZero() {
			continue
		}
		entries := map[string]int{}
		for _, a := range v.Affected {
			entries[a.Package.Name]++
		}
		for _, a := range v.Affected {
			if entries[a.Package.Name] != 1 || len(a.Ranges) != 1 {
				continue
			}
			ev := a.Ranges[0].Events
			if len(ev) != 2 || ev[0].Introduced != "0" || ev[1].Fixed == "" {
				continue
			}
			p := vulndb.Package{Ecosystem: "Go", Name: a.Package.Name, Version: "v" + ev[1].Fixed}
			pkgs = append(pkgs, p)
			mustNot[fix{p.Name, p.Version, v.ID}] = true
			// and the version just below a release's fix (its lowest
			// pre-release, -0) is affected
			if !strings.ContainsAny(ev[1].Fixed, "-+") {
				below := vulndb.Package{Ecosystem: "Go", Name: a.Package.Name, Version: "v" + ev[1].Fixed + "-0"}
				pkgs = append(pkgs, below)
				mustBe[fix{below.Name, below.Version, v.ID}] = true
			}
		}
	}
	start = time.Now()
	fs, err := db.Match(t.Context(), pkgs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("matched %d packages in %v: %d findings", len(pkgs), time.Since(start).Round(time.Millisecond), len(fs))
	below := map[fix]bool{}
	for _, f := range fs {
		if mustNot[fix{f.Package.Name, f.Package.Version, f.ID}] {
			t.Errorf("%s: %s at its fix %s is found", f.ID, f.Package.Name, f.Package.Version)
		}
		below[fix{f.Package.Name, f.Package.Version, f.ID}] = true
	}
	for k := range mustBe {
		if !below[k] {
			t.Errorf("%s: %s just below its fix (%s) is not found", k.id, k.name, k.version)
		}
	}
	if len(mustNot) < 1000 || len(mustBe) < 1000 {
		t.Errorf("only %d fixes and %d versions below them were checked", len(mustNot), len(mustBe))
	}

	for _, tc := range []struct {
		pkg  vulndb.Package
		want string // one finding's id
	}{
		{vulndb.Package{Ecosystem: "Go", Name: "github.com/gin-gonic/gin", Version: "v1.5.0"}, "GO-2020-0001"},
		{vulndb.Package{Ecosystem: "Go", Name: "stdlib", Version: "go1.20.6"}, "GO-2023-1987"},
		{vulndb.Package{Ecosystem: "Go", Name: "golang.org/x/net", Version: "v0.16.0"}, "GO-2023-2102"}, // HTTP/2 rapid reset
	} {
		fs, err := db.Match(t.Context(), []vulndb.Package{tc.pkg})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range fs {
			found = found || f.ID == tc.want
		}
		if !found {
			t.Errorf("%s %s: %d findings, none %s", tc.pkg.Name, tc.pkg.Version, len(fs), tc.want)
		}
	}
	fs, err = db.Match(t.Context(), []vulndb.Package{{Ecosystem: "Go", Name: "stdlib", Version: "go1.10.0"}})
	if err != nil || len(fs) < 50 {
		t.Errorf("Go 1.10.0's standard library has %d findings (%v), want many", len(fs), err)
	}
}
