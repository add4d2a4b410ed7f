package metatest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// The vulnerability data part of the suite (meta.VulnStore).

func vulnRecord(ecosystem, id string, keys ...string) *meta.VulnRecord {
	r := &meta.VulnRecord{Ecosystem: ecosystem, ID: id, Data: []byte("data of " + id)}
	for _, k := range keys {
		eco, name, _ := strings.Cut(k, "/")
		r.Keys = append(r.Keys, meta.VulnKey{Ecosystem: eco, Name: name})
	}
	return r
}

// vulnSeq yields recs, then err if it is not nil.
func vulnSeq(err error, recs ...*meta.VulnRecord) iter.Seq2[*meta.VulnRecord, error] {
	return func(yield func(*meta.VulnRecord, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
		if err != nil {
			yield(nil, err)
		}
	}
}

func importVulns(t *testing.T, s meta.Store, imp meta.VulnImport, recs ...*meta.VulnRecord) []meta.VulnEcosystem {
	t.Helper()
	got, err := s.ImportVulns(t.Context(), imp, vulnSeq(nil, recs...))
	if err != nil {
		t.Fatalf("ImportVulns(%s): %v", imp.Source, err)
	}
	return got
}

func vulnKeys(keys ...string) []meta.VulnKey {
	var out []meta.VulnKey
	for _, k := range keys {
		eco, name, _ := strings.Cut(k, "/")
		out = append(out, meta.VulnKey{Ecosystem: eco, Name: name})
	}
	return out
}

// findVulnIDs returns "Ecosystem/ID" of what FindVulns finds, checking
// each record's data on the way.
func findVulnIDs(t *testing.T, s meta.Store, keys ...string) []string {
	t.Helper()
	recs, err := s.FindVulns(t.Context(), vulnKeys(keys...))
	if err != nil {
		t.Fatalf("FindVulns(%v): %v", keys, err)
	}
	var ids []string
	for _, r := range recs {
		if !strings.HasSuffix(string(r.Data), r.ID) || len(r.Keys) != 0 {
			t.Errorf("FindVulns(%v): record %s has data %q and keys %v", keys, r.ID, r.Data, r.Keys)
		}
		ids = append(ids, r.Ecosystem+"/"+r.ID)
	}
	return ids
}

func vulnEcosystems(t *testing.T, s meta.Store) []meta.VulnEcosystem {
	t.Helper()
	got, err := s.VulnEcosystems(t.Context())
	if err != nil {
		t.Fatalf("VulnEcosystems: %v", err)
	}
	return got
}

func vulnVersion(t *testing.T, s meta.Store) meta.VulnVersion {
	t.Helper()
	v, err := s.VulnVersion(t.Context())
	if err != nil {
		t.Fatalf("VulnVersion: %v", err)
	}
	return v
}

func testVulnImportFind(t *testing.T, s meta.Store) {
	ctx := t.Context()
	if got := vulnEcosystems(t, s); len(got) != 0 {
		t.Fatalf("VulnEcosystems of an empty store = %v", got)
	}
	if v := vulnVersion(t, s); v != (meta.VulnVersion{}) {
		t.Fatalf("VulnVersion of an empty store = %+v, want zero", v)
	}
	if got := findVulnIDs(t, s, "Go/golang.org/x/net"); len(got) != 0 {
		t.Fatalf("FindVulns in an empty store = %v", got)
	}

	modified := vulnRecord("Go", "GO-2024-0001", "Go/golang.org/x/net")
	modified.Modified = at(-3600)
	got := importVulns(t, s, meta.VulnImport{Source: "first", LoadedAt: at(1)},
		modified,
		// One record, several packages: found by each, returned once.
		vulnRecord("Go", "GO-2024-0002", "Go/golang.org/x/net", "Go/golang.org/x/crypto", "Go/golang.org/x/net"),
		vulnRecord("Go", "GO-2024-0003", "Go/stdlib"),
		// Releases: the ecosystem is Debian, its packages are per release.
		vulnRecord("Debian", "DSA-5000-1", "Debian:11/openssl", "Debian:12/openssl"),
		vulnRecord("Debian", "DEBIAN-CVE-2024-0001", "Debian:12/glibc"),
	)
	want := []meta.VulnEcosystem{
		{Ecosystem: "Debian", Records: 2, Source: "first", LoadedAt: at(1).UTC()},
		{Ecosystem: "Go", Records: 3, Source: "first", LoadedAt: at(1).UTC()},
	}
	if !sameVulnEcosystems(got, want) {
		t.Fatalf("ImportVulns = %v, want %v", got, want)
	}
	if got := vulnEcosystems(t, s); !sameVulnEcosystems(got, want) {
		t.Fatalf("VulnEcosystems = %v, want %v", got, want)
	}
	if v := vulnVersion(t, s); v.Version != 1 || !v.ChangedAt.Equal(at(1)) {
		t.Fatalf("VulnVersion = %+v, want 1 at %v", v, at(1))
	}

	for _, tc := range []struct {
		keys []string
		want []string
	}{
		{[]string{"Go/golang.org/x/net"}, []string{"Go/GO-2024-0001", "Go/GO-2024-0002"}},
		{[]string{"Go/golang.org/x/crypto"}, []string{"Go/GO-2024-0002"}},
		{[]string{"Go/golang.org/x/crypto", "Go/golang.org/x/net", "Go/golang.org/x/crypto"}, []string{"Go/GO-2024-0001", "Go/GO-2024-0002"}},
		{[]string{"Debian:12/openssl", "Go/stdlib", "Debian:12/glibc"}, []string{"Debian/DEBIAN-CVE-2024-0001", "Debian/DSA-5000-1", "Go/GO-2024-0003"}},
		{[]string{"Debian:11/openssl"}, []string{"Debian/DSA-5000-1"}},
		// Keys are exact: another release, another ecosystem, another case.
		{[]string{"Debian:10/openssl", "Debian/openssl", "Alpine:v3.19/openssl", "Go/Stdlib", "PyPI/golang.org/x/net"}, nil},
	} {
		if got := findVulnIDs(t, s, tc.keys...); !slices.Equal(got, tc.want) {
			t.Errorf("FindVulns(%v) = %v, want %v", tc.keys, got, tc.want)
		}
	}

	recs, err := s.FindVulns(ctx, vulnKeys("Go/golang.org/x/net"))
	if err != nil || len(recs) != 2 {
		t.Fatalf("FindVulns = %v, %v", recs, err)
	}
	if !recs[0].Modified.Equal(at(-3600)) || recs[0].Modified.Location() != time.UTC || !recs[1].Modified.IsZero() {
		t.Errorf("Modified read back as %v and %v, want %v and the zero time", recs[0].Modified, recs[1].Modified, at(-3600).UTC())
	}

	// Many packages at once, as a scan of a large image asks.
	var many []string
	for i := range 2000 {
		many = append(many, fmt.Sprintf("npm/package-%d", i))
	}
	many = append(many, "Go/stdlib")
	if got := findVulnIDs(t, s, many...); !slices.Equal(got, []string{"Go/GO-2024-0003"}) {
		t.Errorf("FindVulns of 2001 packages = %v, want the one of stdlib", got)
	}
}

func sameVulnEcosystems(a, b []meta.VulnEcosystem) bool {
	return slices.EqualFunc(a, b, func(x, y meta.VulnEcosystem) bool {
		return x.Ecosystem == y.Ecosystem && x.Records == y.Records && x.Source == y.Source &&
			x.LoadedAt.Equal(y.LoadedAt) && x.LoadedAt.Location() == time.UTC
	})
}

func testVulnReplace(t *testing.T, s meta.Store) {
	importVulns(t, s, meta.VulnImport{Source: "first", LoadedAt: at(1)},
		vulnRecord("Go", "GO-1", "Go/a"), vulnRecord("Go", "GO-2", "Go/b"),
		vulnRecord("PyPI", "PYSEC-1", "PyPI/django"))

	// A new import of Go replaces all of Go, and only Go.
	got := importVulns(t, s, meta.VulnImport{Source: "second", LoadedAt: at(2)},
		vulnRecord("Go", "GO-2", "Go/c"), vulnRecord("Go", "GO-3", "Go/a"))
	if want := []meta.VulnEcosystem{{Ecosystem: "Go", Records: 2, Source: "second", LoadedAt: at(2).UTC()}}; !sameVulnEcosystems(got, want) {
		t.Fatalf("ImportVulns = %v, want %v", got, want)
	}
	if got := findVulnIDs(t, s, "Go/a", "Go/b", "Go/c", "PyPI/django"); !slices.Equal(got, []string{"Go/GO-2", "Go/GO-3", "PyPI/PYSEC-1"}) {
		t.Errorf("after replacing Go: FindVulns = %v", got)
	}
	if got := findVulnIDs(t, s, "Go/b"); len(got) != 0 {
		t.Errorf("a package of the replaced data is still found: %v", got)
	}

	// An ecosystem named by the import is replaced even with nothing.
	got = importVulns(t, s, meta.VulnImport{Source: "third", Ecosystems: []string{"PyPI", "npm"}, LoadedAt: at(3)})
	want := []meta.VulnEcosystem{
		{Ecosystem: "PyPI", Records: 0, Source: "third", LoadedAt: at(3).UTC()},
		{Ecosystem: "npm", Records: 0, Source: "third", LoadedAt: at(3).UTC()},
	}
	if !sameVulnEcosystems(got, want) {
		t.Fatalf("ImportVulns of nothing = %v, want %v", got, want)
	}
	if got := findVulnIDs(t, s, "PyPI/django"); len(got) != 0 {
		t.Errorf("PyPI replaced by nothing still has %v", got)
	}
	all := []meta.VulnEcosystem{{Ecosystem: "Go", Records: 2, Source: "second", LoadedAt: at(2).UTC()}}
	all = append(all, want...)
	if got := vulnEcosystems(t, s); !sameVulnEcosystems(got, all) {
		t.Errorf("VulnEcosystems = %v, want %v", got, all)
	}
	if v := vulnVersion(t, s); v.Version != 3 || !v.ChangedAt.Equal(at(3)) {
		t.Errorf("VulnVersion after three imports = %+v, want 3 at %v", v, at(3))
	}

	// Pruning what the imports replaced changes nothing a lookup sees.
	if err := s.PruneVulns(t.Context(), at(4)); err != nil {
		t.Fatalf("PruneVulns: %v", err)
	}
	if got := findVulnIDs(t, s, "Go/a", "Go/b", "Go/c", "PyPI/django"); !slices.Equal(got, []string{"Go/GO-2", "Go/GO-3"}) {
		t.Errorf("after PruneVulns: FindVulns = %v", got)
	}
	if got := vulnEcosystems(t, s); !sameVulnEcosystems(got, all) {
		t.Errorf("after PruneVulns: VulnEcosystems = %v, want %v", got, all)
	}
}

// testVulnAllOrNothing: an import that fails, however far it got, changes
// nothing a lookup sees, and leaves the store ready for the next one.
func testVulnAllOrNothing(t *testing.T, s meta.Store) {
	importVulns(t, s, meta.VulnImport{Source: "good", LoadedAt: at(1)},
		vulnRecord("Go", "GO-OLD", "Go/pkg"), vulnRecord("Debian", "DSA-OLD", "Debian:12/pkg"))
	before := vulnEcosystems(t, s)

	// Several batches' worth, so that some are written before the failure.
	var many []*meta.VulnRecord
	for i := range 2*meta.VulnBatch + 7 {
		many = append(many, vulnRecord("Go", fmt.Sprintf("GO-NEW-%04d", i), "Go/pkg", "Go/other"))
	}
	broken := errors.New("record 1007 is malformed")
	for _, tc := range []struct {
		what    string
		records iter.Seq2[*meta.VulnRecord, error]
		want    string // in the error
	}{
		{"source error after several batches", vulnSeq(broken, many...), "record 1007 is malformed"},
		{"source error first", vulnSeq(broken), "record 1007 is malformed"},
		{"a record twice", vulnSeq(nil, slices.Concat(many, many[5:6])...), "GO-NEW-0005"},
		{"a record twice in one batch", vulnSeq(nil, vulnRecord("Go", "GO-X", "Go/pkg"), vulnRecord("Go", "GO-X", "Go/pkg")), "GO-X"},
		{"a key of another ecosystem", vulnSeq(nil, slices.Concat(many, []*meta.VulnRecord{vulnRecord("Go", "GO-BAD", "npm/pkg")})...), "GO-BAD"},
		{"an ecosystem with a release", vulnSeq(nil, vulnRecord("Debian:12", "DSA-BAD", "Debian:12/pkg")), "DSA-BAD"},
		{"a record without id", vulnSeq(nil, vulnRecord("Go", "", "Go/pkg")), "no id"},
	} {
		_, err := s.ImportVulns(t.Context(), meta.VulnImport{Source: "bad", Ecosystems: []string{"Debian"}, LoadedAt: at(2)}, tc.records)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ImportVulns error %v, want one naming %q", tc.what, err, tc.want)
		}
		if got := findVulnIDs(t, s, "Go/pkg", "Go/other", "Debian:12/pkg"); !slices.Equal(got, []string{"Debian/DSA-OLD", "Go/GO-OLD"}) {
			t.Errorf("%s: after the failed import FindVulns = %v, want the old data", tc.what, got)
		}
		if got := vulnEcosystems(t, s); !sameVulnEcosystems(got, before) {
			t.Errorf("%s: after the failed import VulnEcosystems = %v, want %v", tc.what, got, before)
		}
		if v := vulnVersion(t, s); v.Version != 1 {
			t.Errorf("%s: a failed import changed the version to %+v", tc.what, v)
		}
	}
	if _, err := s.ImportVulns(t.Context(), meta.VulnImport{Source: "no time"}, vulnSeq(nil)); err == nil {
		t.Errorf("ImportVulns without LoadedAt succeeded")
	}
	if _, err := s.ImportVulns(t.Context(), meta.VulnImport{Source: "bad name", Ecosystems: []string{"Alpine:v3.19"}, LoadedAt: at(2)}, vulnSeq(nil)); err == nil {
		t.Errorf("ImportVulns naming an ecosystem with a release succeeded")
	}

	// A cancelled import fails and changes nothing either.
	ctx, cancel := context.WithCancel(t.Context())
	cancelling := func(yield func(*meta.VulnRecord, error) bool) {
		for i, r := range many {
			if i == meta.VulnBatch+1 {
				cancel()
			}
			if !yield(r, nil) {
				return
			}
		}
	}
	if _, err := s.ImportVulns(ctx, meta.VulnImport{Source: "cancelled", LoadedAt: at(2)}, cancelling); err == nil {
		t.Errorf("a cancelled import succeeded")
	}
	if got := findVulnIDs(t, s, "Go/pkg"); !slices.Equal(got, []string{"Go/GO-OLD"}) {
		t.Errorf("after a cancelled import FindVulns = %v", got)
	}

	// And the next import goes through, with the same ids as the failed ones.
	got := importVulns(t, s, meta.VulnImport{Source: "good again", LoadedAt: at(3)}, many...)
	if len(got) != 1 || got[0].Records != len(many) {
		t.Fatalf("ImportVulns after failures = %v, want Go with %d records", got, len(many))
	}
	if got := findVulnIDs(t, s, "Go/other"); len(got) != len(many) || got[0] != "Go/GO-NEW-0000" {
		t.Errorf("FindVulns after the import = %d records from %v", len(got), got[:min(1, len(got))])
	}
	if err := s.PruneVulns(t.Context(), at(4)); err != nil {
		t.Fatalf("PruneVulns: %v", err)
	}
	if got := findVulnIDs(t, s, "Go/other"); len(got) != len(many) {
		t.Errorf("FindVulns after PruneVulns = %d records, want %d", len(got), len(many))
	}
}

// testVulnConcurrentImports: lookups during imports see one import's data
// whole, never a mix, and of two imports of one ecosystem at once one wins
// whole. With two handles, the imports and the lookups come from both.
func testVulnConcurrentImports(t *testing.T, s meta.Store) {
	const n = meta.VulnBatch + 50 // two batches each
	gen := func(tag string) []*meta.VulnRecord {
		var recs []*meta.VulnRecord
		for i := range n {
			recs = append(recs, vulnRecord("Go", fmt.Sprintf("GO-%s-%04d", tag, i), "Go/pkg"))
		}
		return recs
	}
	importVulns(t, s, meta.VulnImport{Source: "initial", LoadedAt: at(0)}, gen("I")...)
	whole := func(ids []string) string {
		if len(ids) != n {
			return ""
		}
		tag := strings.Split(ids[0], "-")[1]
		for _, id := range ids {
			if strings.Split(id, "-")[1] != tag {
				return ""
			}
		}
		return tag
	}

	var wg sync.WaitGroup
	done := make(chan struct{})
	seen := map[string]bool{}
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			recs, err := s.FindVulns(t.Context(), vulnKeys("Go/pkg"))
			if err != nil {
				t.Errorf("FindVulns during imports: %v", err)
				return
			}
			var ids []string
			for _, r := range recs {
				ids = append(ids, r.ID)
			}
			tag := whole(ids)
			if tag == "" {
				t.Errorf("FindVulns during imports saw %d records, not one import's %d: %v…", len(ids), n, ids[:min(3, len(ids))])
				return
			}
			seen[tag] = true
		}
	})
	var imports sync.WaitGroup
	for i, tag := range []string{"A", "B"} {
		imports.Go(func() {
			if _, err := s.ImportVulns(t.Context(), meta.VulnImport{Source: tag, LoadedAt: at(1 + i)}, vulnSeq(nil, gen(tag)...)); err != nil {
				t.Errorf("ImportVulns(%s): %v", tag, err)
			}
		})
	}
	imports.Wait()
	close(done)
	wg.Wait()

	final := whole(findVulnIDs(t, s, "Go/pkg"))
	if final != "A" && final != "B" {
		t.Fatalf("after two imports at once FindVulns holds %q, want A's or B's whole", final)
	}
	eco := vulnEcosystems(t, s)
	if len(eco) != 1 || eco[0].Source != final || eco[0].Records != n {
		t.Errorf("VulnEcosystems = %v, want Go from %s with %d records", eco, final, n)
	}
	if v := vulnVersion(t, s); v.Version != 3 {
		t.Errorf("VulnVersion after three imports = %d, want 3", v.Version)
	}
	if err := s.PruneVulns(t.Context(), at(5)); err != nil {
		t.Fatalf("PruneVulns: %v", err)
	}
	if got := whole(findVulnIDs(t, s, "Go/pkg")); got != final {
		t.Errorf("after PruneVulns FindVulns holds %q, want %q", got, final)
	}
	t.Logf("lookups saw the data of %v", slices.Sorted(maps.Keys(seen)))
}
