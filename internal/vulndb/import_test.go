package vulndb_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/sqlite"
	"github.com/berth-registry/berth/internal/vulndb"
	"github.com/berth-registry/berth/internal/vulndb/httpfetch"
)

func newDB(t *testing.T) *vulndb.DB {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return vulndb.New(s, vulndb.Options{Fetcher: httpfetch.Fetcher{}, TempDir: t.TempDir()})
}

// fixtures reads the files of testdata/osv/<dir>, by name.
func fixtures(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	paths, _ := filepath.Glob(filepath.Join("testdata", "osv", dir, "*.json"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	if len(out) == 0 {
		t.Fatalf("no fixtures in %s", dir)
	}
	return out
}

// zipOf makes a zip of files, in name order.
func zipOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func write(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// status is "Ecosystem:records" of what db holds.
func status(t *testing.T, db *vulndb.DB) []string {
	t.Helper()
	st, err := db.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range st {
		out = append(out, fmt.Sprintf("%s:%d", e.Ecosystem, e.Records))
	}
	return out
}

func mustImport(t *testing.T, db *vulndb.DB, sources ...string) *vulndb.ImportReport {
	t.Helper()
	rep, err := db.Import(t.Context(), sources...)
	if err != nil {
		t.Fatalf("Import(%v): %v", sources, err)
	}
	return rep
}

func TestImportSources(t *testing.T) {
	goRecs, hand := fixtures(t, "go"), fixtures(t, "handwritten")
	all := map[string][]byte{}
	for n, b := range goRecs {
		all[n] = b
	}
	for n, b := range hand {
		all[n] = b
	}
	everything := []string{"Alpine:1", "Debian:3", "Go:4", "PyPI:3", "npm:3"}

	t.Run("directory", func(t *testing.T) {
		db := newDB(t)
		mustImport(t, db, filepath.Join("testdata", "osv"))
		if got := status(t, db); !slices.Equal(got, everything) {
			t.Errorf("status = %v, want %v", got, everything)
		}
	})
	t.Run("directory through a symbolic link", func(t *testing.T) {
		db := newDB(t)
		abs, err := filepath.Abs(filepath.Join("testdata", "osv"))
		if err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(t.TempDir(), "osv")
		if err := os.Symlink(abs, link); err != nil {
			t.Skip(err)
		}
		mustImport(t, db, link)
		if got := status(t, db); !slices.Equal(got, everything) {
			t.Errorf("status = %v, want %v", got, everything)
		}
	})
	t.Run("zip", func(t *testing.T) {
		db := newDB(t)
		z := write(t, filepath.Join(t.TempDir(), "all.zip"), zipOf(t, all))
		rep := mustImport(t, db, z)
		if got := status(t, db); !slices.Equal(got, everything) {
			t.Errorf("status = %v, want %v", got, everything)
		}
		if rep.Ecosystems[0].Source != z {
			t.Errorf("source = %q, want %q", rep.Ecosystems[0].Source, z)
		}
	})
	t.Run("one file", func(t *testing.T) {
		db := newDB(t)
		mustImport(t, db, filepath.Join("testdata", "osv", "handwritten", "TEST-MULTI.json"))
		if got, want := status(t, db), []string{"PyPI:1", "npm:1"}; !slices.Equal(got, want) {
			t.Errorf("status = %v, want %v", got, want)
		}
	})
	t.Run("ecosystem layout", func(t *testing.T) {
		// osv.dev's layout: a record of two ecosystems is in both zips,
		// and each zip is its ecosystem's data only.
		db := newDB(t)
		dir := t.TempDir()
		npm := map[string][]byte{}
		for _, n := range []string{"GHSA-35jh-r3h4-6jhm.json", "TEST-LAST-AFFECTED.json", "TEST-MULTI.json"} {
			npm[n] = hand[n]
		}
		write(t, filepath.Join(dir, "npm", "all.zip"), zipOf(t, npm))
		write(t, filepath.Join(dir, "PyPI", "all.zip"), zipOf(t, map[string][]byte{"TEST-MULTI.json": hand["TEST-MULTI.json"]}))
		write(t, filepath.Join(dir, "Go", "all.zip"), zipOf(t, goRecs))
		// Not an ecosystem's name: a zip of whatever its records name.
		write(t, filepath.Join(dir, "extra", "all.zip"), zipOf(t, map[string][]byte{"DSA-5724-1.json": hand["DSA-5724-1.json"]}))
		mustImport(t, db, dir)
		if got, want := status(t, db), []string{"Debian:1", "Go:4", "PyPI:1", "npm:3"}; !slices.Equal(got, want) {
			t.Errorf("status = %v, want %v", got, want)
		}
		// An empty zip of an ecosystem empties it: the ecosystem's data
		// is what the zip holds.
		empty := t.TempDir()
		write(t, filepath.Join(empty, "PyPI", "all.zip"), zipOf(t, map[string][]byte{"README.json.txt": []byte("x")}))
		mustImport(t, db, empty)
		if got, want := status(t, db), []string{"Debian:1", "Go:4", "PyPI:0", "npm:3"}; !slices.Equal(got, want) {
			t.Errorf("after an empty PyPI zip: status = %v, want %v", got, want)
		}
	})
	t.Run("http", func(t *testing.T) {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		tmp := t.TempDir()
		db := vulndb.New(s, vulndb.Options{Fetcher: httpfetch.Fetcher{}, TempDir: tmp})
		npmZip := zipOf(t, map[string][]byte{"GHSA-35jh-r3h4-6jhm.json": hand["GHSA-35jh-r3h4-6jhm.json"]})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/npm/all.zip":
				w.Write(npmZip)
			case "/all.zip":
				w.Write(zipOf(t, all))
			default:
				http.NotFound(w, r)
			}
		}))
		defer srv.Close()
		mustImport(t, db, srv.URL+"/all.zip")
		if got := status(t, db); !slices.Equal(got, everything) {
			t.Errorf("status = %v, want %v", got, everything)
		}
		// A URL of the layout is its ecosystem's data.
		rep := mustImport(t, db, srv.URL+"/npm/all.zip")
		if len(rep.Ecosystems) != 1 || rep.Ecosystems[0].Ecosystem != "npm" || rep.Ecosystems[0].Records != 1 || rep.Ecosystems[0].Source != srv.URL+"/npm/all.zip" {
			t.Errorf("import of npm/all.zip = %+v", rep.Ecosystems)
		}
		_, err = db.Import(t.Context(), srv.URL+"/missing/all.zip")
		if err == nil || !strings.Contains(err.Error(), "404") {
			t.Errorf("import of a missing URL: error %v, want a 404", err)
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Errorf("downloads left behind: %v", left)
		}
	})
	t.Run("several sources at once", func(t *testing.T) {
		db := newDB(t)
		mustImport(t, db, filepath.Join("testdata", "osv", "go"), filepath.Join("testdata", "osv", "handwritten", "DSA-5724-1.json"))
		if got, want := status(t, db), []string{"Debian:1", "Go:4"}; !slices.Equal(got, want) {
			t.Errorf("status = %v, want %v", got, want)
		}
	})
}

// TestImportFailures: a corrupt zip, a malformed record or a record found
// twice fails the import with an error naming the file, and nothing is
// loaded, however many good records came first.
func TestImportFailures(t *testing.T) {
	hand := fixtures(t, "handwritten")
	// More good records than a store batch, so that some are written
	// before the bad one is read.
	many := map[string][]byte{}
	for i := range meta.VulnBatch + 100 {
		id := fmt.Sprintf("GHSA-good-%04d", i)
		many[id+".json"] = bytes.Replace(hand["GHSA-35jh-r3h4-6jhm.json"], []byte("GHSA-35jh-r3h4-6jhm"), []byte(id), 1)
	}
	withBad := func(name, content string) map[string][]byte {
		m := map[string][]byte{name: []byte(content)}
		for n, b := range many {
			m[n] = b
		}
		return m
	}
	corruptMember := zipOf(t, many)
	// Flip bytes in the middle of the last member's compressed data: the
	// zip's directory stays whole, the member's checksum fails.
	last := bytes.Index(corruptMember, []byte("GHSA-good-0599.json")) // its local header
	for i := last + 40; i < last+60; i++ {
		corruptMember[i] ^= 0xff
	}

	for _, tc := range []struct {
		name   string
		source func(t *testing.T) string
		want   []string // all in the error
	}{
		{"not a zip", func(t *testing.T) string {
			return write(t, filepath.Join(t.TempDir(), "all.zip"), []byte("this is not a zip file"))
		}, []string{"all.zip", "zip"}},
		{"truncated zip", func(t *testing.T) string {
			z := zipOf(t, many)
			return write(t, filepath.Join(t.TempDir(), "all.zip"), z[:len(z)/2])
		}, []string{"all.zip"}},
		{"corrupt member", func(t *testing.T) string {
			return write(t, filepath.Join(t.TempDir(), "all.zip"), corruptMember)
		}, []string{"all.zip: GHSA-good-0599.json"}},
		{"malformed JSON in a zip", func(t *testing.T) string {
			return write(t, filepath.Join(t.TempDir(), "all.zip"), zipOf(t, withBad("zz-BAD-1.json", `{"id": "BAD-1", "affected": [`)))
		}, []string{"all.zip: zz-BAD-1.json", "malformed OSV record"}},
		{"no id, in a directory", func(t *testing.T) string {
			dir := t.TempDir()
			for n, b := range withBad("zz/BAD-2.json", `{"summary": "no id"}`) {
				write(t, filepath.Join(dir, n), b)
			}
			return dir
		}, []string{filepath.Join("zz", "BAD-2.json"), "no id"}},
		{"a package without a name", func(t *testing.T) string {
			dir := t.TempDir()
			for n, b := range withBad("zz-BAD-3.json", `{"id": "BAD-3", "affected": [{"package": {"ecosystem": "npm"}}]}`) {
				write(t, filepath.Join(dir, n), b)
			}
			return dir
		}, []string{"zz-BAD-3.json", "BAD-3", "name"}},
		{"an event of two kinds", func(t *testing.T) string {
			dir := t.TempDir()
			for n, b := range withBad("zz-BAD-4.json", `{"id": "BAD-4", "affected": [{"package": {"ecosystem": "npm", "name": "x"},
				"ranges": [{"type": "SEMVER", "events": [{"introduced": "0", "fixed": "1.0.0"}]}]}]}`) {
				write(t, filepath.Join(dir, n), b)
			}
			return dir
		}, []string{"zz-BAD-4.json", "exactly one"}},
		{"a record twice", func(t *testing.T) string {
			dir := t.TempDir()
			for n, b := range withBad("zz/GHSA-good-0007.json", string(many["GHSA-good-0007.json"])) {
				write(t, filepath.Join(dir, n), b)
			}
			return dir
		}, []string{filepath.Join("zz", "GHSA-good-0007.json"), "GHSA-good-0007", "also in"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := newDB(t)
			mustImport(t, db, filepath.Join("testdata", "osv", "handwritten"))
			before := status(t, db)
			v0, _ := db.Version(t.Context())
			_, err := db.Import(t.Context(), tc.source(t))
			if err == nil {
				t.Fatal("the import succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if got := status(t, db); !slices.Equal(got, before) {
				t.Errorf("after the failed import: status %v, want %v", got, before)
			}
			if v, _ := db.Version(t.Context()); v != v0 {
				t.Errorf("the failed import changed the data version: %+v, was %+v", v, v0)
			}
			fs, err := db.Match(t.Context(), []vulndb.Package{{Ecosystem: "npm", Name: "lodash", Version: "4.17.0"}})
			if err != nil || len(fs) != 1 || fs[0].ID != "GHSA-35jh-r3h4-6jhm" {
				t.Errorf("after the failed import lodash matches %v, %v; want the old record only", fs, err)
			}
		})
	}

	db := newDB(t)
	if _, err := db.Import(t.Context(), filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Errorf("import of a missing path succeeded")
	}
	if _, err := db.Import(t.Context()); err == nil {
		t.Errorf("import of no source succeeded")
	}
	noFetch := vulndb.New(nil, vulndb.Options{})
	if _, err := noFetch.Import(t.Context(), "https://example.invalid/all.zip"); err == nil || !strings.Contains(err.Error(), "cannot fetch") {
		t.Errorf("import of a URL without a Fetcher: %v", err)
	}
}
