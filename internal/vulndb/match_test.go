package vulndb

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta/sqlite"
)

func newTestDB(t *testing.T, opts Options) (*DB, *sqlite.Store) {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	}
	return New(s, opts), s
}

// TestMatch imports the fixtures (real Go records and hand-written ones of
// Debian, Alpine, PyPI and npm, see testdata/osv) and matches packages as
// an inventory reports them.
func TestMatch(t *testing.T) {
	db, _ := newTestDB(t, Options{})
	rep, err := db.Import(t.Context(), filepath.Join("testdata", "osv"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range rep.Ecosystems {
		got = append(got, e.Ecosystem+":"+strconv.Itoa(e.Records))
	}
	if want := []string{"Alpine:1", "Debian:3", "Go:4", "PyPI:3", "npm:3"}; !slices.Equal(got, want) {
		t.Errorf("imported %v, want %v", got, want)
	}
	if rep.Withdrawn != 1 || rep.NoPackage != 1 {
		t.Errorf("import left out %d withdrawn and %d without a package, want 1 and 1", rep.Withdrawn, rep.NoPackage)
	}

	for _, tc := range []struct {
		pkg  Package
		want []string // "ID name severity fixedIn"
	}{
		// Debian: source packages, epochs, releases.
		{Package{"Debian:12", "openssh-server", "1:9.2p1-2+deb12u2", "openssh"}, []string{"DSA-5724-1 CVE-2024-6387 UNDEFINED 1:9.2p1-2+deb12u3"}},
		{Package{"Debian:12", "openssh-client", "1:9.2p1-2+deb12u3", "openssh"}, nil},
		// No epoch is epoch 0: 9.9 is below 1:9.2p1, however its digits read.
		{Package{"Debian:12", "openssh-client", "9.9-1", "openssh"}, []string{"DSA-5724-1 CVE-2024-6387 UNDEFINED 1:9.2p1-2+deb12u3"}},
		{Package{"Debian:12", "openssh", "1:9.2p1-2", ""}, []string{"DSA-5724-1 CVE-2024-6387 UNDEFINED 1:9.2p1-2+deb12u3"}},
		{Package{"Debian:12.5", "libc6", "2.36-9+deb12u1", "glibc"}, []string{
			"DEBIAN-CVE-2019-1010022 CVE-2019-1010022 INFORMATIONAL ",
			"DEBIAN-CVE-2023-4911 CVE-2023-4911 HIGH 2.36-9+deb12u3"}},
		{Package{"debian:bookworm", "libc6", "2.36-9+deb12u3", "glibc"}, []string{"DEBIAN-CVE-2019-1010022 CVE-2019-1010022 INFORMATIONAL "}},
		{Package{"Debian:11", "libc6", "2.31-13+deb11u6", "glibc"}, []string{"DEBIAN-CVE-2023-4911 CVE-2023-4911 HIGH 2.31-13+deb11u7"}},
		{Package{"Debian:11", "libc6", "2.31-13+deb11u7", "glibc"}, nil},
		{Package{"Debian:12", "glibc-doc", "2.36-9+deb12u1", ""}, nil}, // binary name only: no record names it

		// Alpine: origins, releases.
		{Package{"Alpine:3.18.4", "libssl3", "3.1.3-r0", "openssl"}, []string{"ALPINE-CVE-2023-5363 CVE-2023-5363 UNDEFINED 3.1.4-r0"}},
		{Package{"Alpine:v3.18", "libssl3", "3.1.4-r0", "openssl"}, nil},
		{Package{"Alpine:v3.19", "libssl3", "3.1.3-r0", "openssl"}, nil},

		// PyPI: names as PEP 503 normalises them, pre-, dev- and
		// post-releases against introduced and fixed.
		{Package{"PyPI", "Django", "4.2.2", ""}, []string{"GHSA-jh3w-4vvf-mjgr CVE-2023-36053 HIGH 4.2.3"}},
		{Package{"PyPI", "django", "4.2rc1", ""}, nil},
		{Package{"PyPI", "django", "4.1.10", ""}, nil},
		{Package{"PyPI", "django", "3.2.19", ""}, []string{"GHSA-jh3w-4vvf-mjgr CVE-2023-36053 HIGH 3.2.20"}},
		{Package{"pypi", "Requests", "2.31.0.dev0", ""}, []string{"PYSEC-2023-74 CVE-2023-32681 MEDIUM 2.31.0"}},
		{Package{"PyPI", "requests", "2.30.0.post1", ""}, []string{"PYSEC-2023-74 CVE-2023-32681 MEDIUM 2.31.0"}},
		{Package{"PyPI", "requests", "2.3.0rc1", ""}, nil},
		{Package{"PyPI", "requests", "2.31.0", ""}, nil},
		{Package{"PyPI", "protobuf", "3.18.2", ""}, []string{"TEST-MULTI TEST-MULTI CRITICAL 3.18.3"}},

		// npm: SEMVER ranges, last_affected, limit, versions lists.
		{Package{"npm", "lodash", "4.17.20", ""}, []string{"GHSA-35jh-r3h4-6jhm CVE-2021-23337 HIGH 4.17.21"}},
		{Package{"npm", "lodash", "4.17.21", ""}, nil},
		{Package{"npm", "minimist", "1.2.5", ""}, []string{"TEST-LAST-AFFECTED TEST-LAST-AFFECTED HIGH "}},
		{Package{"npm", "minimist", "1.2.6", ""}, nil},
		{Package{"npm", "minimist", "0.1.0", ""}, []string{"TEST-LAST-AFFECTED TEST-LAST-AFFECTED HIGH "}},
		{Package{"npm", "minimist", "0.2.0", ""}, nil},
		{Package{"npm", "minimist", "0.2.1", ""}, []string{"TEST-LAST-AFFECTED TEST-LAST-AFFECTED HIGH "}},
		{Package{"npm", "protobufjs", "6.11.2", ""}, []string{"TEST-MULTI TEST-MULTI CRITICAL 6.11.3"}},
		{Package{"npm", "protobufjs", "6.9.0", ""}, nil},

		// Go: real records; versions with the "v" and "go" prefixes
		// that modules and the toolchain carry.
		{Package{"Go", "github.com/gin-gonic/gin", "v1.5.0", ""}, []string{"GO-2020-0001 CVE-2020-36567 UNDEFINED 1.6.0"}},
		{Package{"Go", "github.com/gin-gonic/gin", "v1.6.0", ""}, nil},
		{Package{"Go", "goa.design/goa/v3", "v3.0.8", ""}, []string{"GO-2020-0032 CVE-2019-25073 UNDEFINED 3.0.9"}},
		{Package{"Go", "github.com/goadesign/goa", "v1.4.2", ""}, []string{"GO-2020-0032 CVE-2019-25073 UNDEFINED 1.4.3"}},
		{Package{"Go", "stdlib", "go1.16.0", ""}, []string{
			"GO-2021-0067 CVE-2021-27919 UNDEFINED 1.16.1",
			"GO-2023-1987 CVE-2023-29409 UNDEFINED 1.19.12"}},
		{Package{"Go", "stdlib", "go1.20.6", ""}, []string{"GO-2023-1987 CVE-2023-29409 UNDEFINED 1.20.7"}},
		{Package{"Go", "stdlib", "1.21.0-rc.3", ""}, []string{"GO-2023-1987 CVE-2023-29409 UNDEFINED 1.21.0-rc.4"}},
		{Package{"Go", "stdlib", "go1.21.0", ""}, nil},
		{Package{"Go", "k8s.io/kubernetes", "v1.20.0", ""}, nil}, // its record is withdrawn
	} {
		findings, err := db.Match(t.Context(), []Package{tc.pkg})
		if err != nil {
			t.Fatalf("Match(%v): %v", tc.pkg, err)
		}
		var got []string
		for _, f := range findings {
			if f.Package != tc.pkg {
				t.Errorf("Match(%v): a finding of %v", tc.pkg, f.Package)
			}
			got = append(got, strings.Join([]string{f.ID, f.Name, string(f.Severity), f.FixedIn}, " "))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Match(%v) =\n\t%q\nwant\n\t%q", tc.pkg, got, tc.want)
		}
	}
}

// TestMatchFinding checks the rest of a finding, and many packages in one
// call, in their order.
func TestMatchFinding(t *testing.T) {
	db, _ := newTestDB(t, Options{})
	if _, err := db.Import(t.Context(), filepath.Join("testdata", "osv")); err != nil {
		t.Fatal(err)
	}
	pkgs := []Package{
		{"npm", "lodash", "4.17.15", ""},
		{"npm", "left-pad", "1.3.0", ""},
		{"PyPI", "django", "4.0.1", ""},
		{"Debian:12", "libc6", "2.36-9+deb12u1", "glibc"},
		{"Go", "stdlib", "go1.20.6", ""},
	}
	fs, err := db.Match(t.Context(), pkgs)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, f := range fs {
		order = append(order, f.Package.Name+" "+f.ID)
	}
	want := []string{"lodash GHSA-35jh-r3h4-6jhm", "django GHSA-jh3w-4vvf-mjgr", "libc6 DEBIAN-CVE-2019-1010022",
		"libc6 DEBIAN-CVE-2023-4911", "stdlib GO-2023-1987"}
	if !slices.Equal(order, want) {
		t.Fatalf("Match of five packages = %q, want %q", order, want)
	}
	lodash, django, unimportant, looney, stdlib := fs[0], fs[1], fs[2], fs[3], fs[4]

	if lodash.Description != "Command Injection in lodash" || lodash.URI != "https://osv.dev/vulnerability/GHSA-35jh-r3h4-6jhm" ||
		!slices.Equal(lodash.Aliases, []string{"CVE-2021-23337"}) {
		t.Errorf("lodash finding: %+v", lodash)
	}
	if want := []CVSS{{"3.1", "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2}}; !slices.Equal(lodash.CVSS, want) {
		t.Errorf("lodash CVSS = %v, want %v", lodash.CVSS, want)
	}
	if django.URI != "https://nvd.nist.gov/vuln/detail/CVE-2023-36053" || django.FixedIn != "4.1.10" ||
		!django.Published.Equal(time.Date(2023, 7, 3, 15, 30, 0, 0, time.UTC)) {
		t.Errorf("django finding: %+v", django)
	}
	// Debian's urgency decides, the CVSS score is still told.
	if unimportant.Severity != Informational || len(unimportant.CVSS) != 1 || unimportant.CVSS[0].Score != 9.8 {
		t.Errorf("unimportant finding: %+v", unimportant)
	}
	if !strings.HasPrefix(looney.Description, "A buffer overflow") || looney.CVSS[0].Score != 7.8 {
		t.Errorf("glibc finding: %+v", looney)
	}
	// The Go database's repository holds its records with zero
	// "modified" and "published" times (its deployment fills them in).
	if stdlib.URI != "https://osv.dev/vulnerability/GO-2023-1987" || !stdlib.Published.IsZero() ||
		stdlib.Description != "Large RSA keys can cause high CPU usage in crypto/tls" {
		t.Errorf("stdlib finding: %+v", stdlib)
	}

	if fs, err := db.Match(t.Context(), nil); err != nil || len(fs) != 0 {
		t.Errorf("Match of nothing = %v, %v", fs, err)
	}
}

// TestMatchBinariesOfOneSource: every binary package built from a source
// package gets its own finding, with its own version's fix.
func TestMatchBinariesOfOneSource(t *testing.T) {
	db, _ := newTestDB(t, Options{})
	if _, err := db.Import(t.Context(), filepath.Join("testdata", "osv", "handwritten")); err != nil {
		t.Fatal(err)
	}
	pkgs := []Package{
		{"Debian:11", "libc6", "2.31-13+deb11u5", "glibc"},
		{"Debian:11", "libc-bin", "2.31-13+deb11u5", "glibc"},
		{"Debian:11", "locales", "2.31-13+deb11u7", "glibc"}, // already fixed
	}
	fs, err := db.Match(t.Context(), pkgs)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0].Package != pkgs[0] || fs[1].Package != pkgs[1] ||
		fs[0].ID != "DEBIAN-CVE-2023-4911" || fs[1].ID != fs[0].ID || fs[1].FixedIn != "2.31-13+deb11u7" || fs[1].Severity != High {
		t.Errorf("Match = %+v", fs)
	}
}
