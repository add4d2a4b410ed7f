package vulndb

import (
	"errors"
	"testing"
)

// TestCompareVersions pins down each ecosystem's ordering on the cases
// that tell a real comparator from a naive one: epochs, tildes, pre- and
// post-releases, revisions, qualifiers. Each row is "a < b", "a = b" or
// "a > b", and is also checked the other way round.
func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		eco  string
		a    string
		want int
		b    string
	}{
		// Debian (dpkg): epoch first, ~ sorts before everything, even
		// the end of the string; revisions compare as versions.
		{"Debian:12", "1:1.0-1", +1, "2.0-1"},
		{"Debian:12", "0:1.0-1", 0, "1.0-1"},
		{"Debian:12", "1.0~rc1-1", -1, "1.0-1"},
		{"Debian:12", "1.0~~", -1, "1.0~"},
		{"Debian:12", "1.0~", -1, "1.0"},
		{"Debian:12", "3.0.11-1~deb12u2", -1, "3.0.11-1"},
		{"Debian:12", "2.36-9+deb12u4", -1, "2.36-9+deb12u7"},
		{"Debian:12", "1.0-1", -1, "1.0-1+deb12u1"},
		{"Debian:12", "1.0+dfsg-1", +1, "1.0-1"},
		{"Debian:12", "1.2.3-1", -1, "1.2.3-1.1"},
		{"Debian:12", "1.10-1", +1, "1.9-1"},
		{"Debian", "7.88.1-10+deb12u5", -1, "7.88.1-10+deb12u12"},
		{"Ubuntu:22.04:LTS", "2.35-0ubuntu3.1", -1, "2.35-0ubuntu3.8"},

		// Alpine (apk): -rN revisions, _rc/_alpha before the release,
		// _p after it, a letter after the number.
		{"Alpine:v3.19", "1.2.3-r0", -1, "1.2.3-r1"},
		{"Alpine:v3.19", "1.2.3_rc1-r0", -1, "1.2.3-r0"},
		{"Alpine:v3.19", "2.0_alpha1-r0", -1, "2.0_beta1-r0"},
		{"Alpine:v3.19", "1.2.3_p1-r0", +1, "1.2.3-r5"},
		{"Alpine:v3.19", "1.2.3a-r0", +1, "1.2.3-r9"},
		{"Alpine:v3.19", "1.10-r0", +1, "1.9-r0"},
		{"Alpine:v3.19", "3.1.4-r5", -1, "3.3.0-r0"},

		// Red Hat (rpm): epochs, ~ before the release, the release's
		// own dotted parts.
		{"Red Hat", "1:1.0-1.el8", +1, "2.0-1.el8"},
		{"Red Hat", "1.0-1.el8", -1, "1.0-1.el8_2"},
		{"Red Hat", "1.0~rc1-1", -1, "1.0-1"},
		{"Red Hat", "3.0.7-25.el9_3", -1, "3.0.7-27.el9"},
		{"Rocky Linux", "1.10-1", +1, "1.9-1"},

		// Go: SemVer with a "v" the records leave out; the standard
		// library's "go" prefix; pseudo-versions are pre-releases.
		{"Go", "v1.2.3", 0, "1.2.3"},
		{"Go", "1.2.3-rc.1", -1, "1.2.3"},
		{"Go", "1.2.3-rc.2", -1, "1.2.3-rc.10"},
		{"Go", "v0.0.0-20230101000000-abcdef123456", -1, "0.1.0"},
		{"Go", "go1.21.3", -1, "1.21.10"},
		{"Go", "v2.0.0+incompatible", 0, "2.0.0"},

		// npm: SemVer 2's precedence example, in order.
		{"npm", "1.0.0-alpha", -1, "1.0.0-alpha.1"},
		{"npm", "1.0.0-alpha.1", -1, "1.0.0-alpha.beta"},
		{"npm", "1.0.0-alpha.beta", -1, "1.0.0-beta"},
		{"npm", "1.0.0-beta", -1, "1.0.0-beta.2"},
		{"npm", "1.0.0-beta.2", -1, "1.0.0-beta.11"},
		{"npm", "1.0.0-beta.11", -1, "1.0.0-rc.1"},
		{"npm", "1.0.0-rc.1", -1, "1.0.0"},
		{"npm", "4.17.21", +1, "4.17.9"},

		// PyPI (PEP 440): dev < pre < release < post, epochs, implicit
		// zeros, the spellings PEP 440 normalises.
		{"PyPI", "1.0.dev0", -1, "1.0a1"},
		{"PyPI", "1.0a1.dev1", -1, "1.0a1"},
		{"PyPI", "1.0a1", -1, "1.0b2"},
		{"PyPI", "1.0b2", -1, "1.0rc1"},
		{"PyPI", "1.0rc1", -1, "1.0"},
		{"PyPI", "1.0", -1, "1.0.post1"},
		{"PyPI", "1.0.post1.dev0", -1, "1.0.post1"},
		{"PyPI", "1.0", 0, "1.0.0"},
		{"PyPI", "1!1.0", +1, "2.0"},
		{"PyPI", "2.0.0-rc1", 0, "2.0.0rc1"},
		{"PyPI", "1.0-1", 0, "1.0.post1"},
		{"PyPI", "3.2.10", +1, "3.2.9"},

		// Maven: qualifiers alpha < beta < milestone < rc < snapshot <
		// release < sp; trailing zeros and "final" are nothing.
		{"Maven", "1.0-alpha-1", -1, "1.0-beta"},
		{"Maven", "1.0-beta", -1, "1.0-RC1"},
		{"Maven", "1.0-RC1", -1, "1.0-SNAPSHOT"},
		{"Maven", "1.0-SNAPSHOT", -1, "1.0"},
		{"Maven", "1.0", -1, "1.0-sp1"},
		{"Maven", "1", 0, "1.0.0"},
		{"Maven", "2.0.0.Final", 0, "2.0.0"},
		{"Maven", "2.17.1", +1, "2.9.1"},

		// crates.io: SemVer.
		{"crates.io", "0.9.0", -1, "0.10.0"},
		{"crates.io", "1.0.0-beta.1", -1, "1.0.0"},
	} {
		got, err := CompareVersions(tc.eco, tc.a, tc.b)
		if err != nil || got != tc.want {
			t.Errorf("%s: compare %q with %q = %d, %v; want %d", tc.eco, tc.a, tc.b, got, err, tc.want)
		}
		back, err := CompareVersions(tc.eco, tc.b, tc.a)
		if err != nil || back != -tc.want {
			t.Errorf("%s: compare %q with %q = %d, %v; want %d", tc.eco, tc.b, tc.a, back, err, -tc.want)
		}
	}
}

func TestParseVersionErrors(t *testing.T) {
	// The rules are lenient, as dpkg and pip are: a PyPI version that
	// is not PEP 440 is a "legacy" version, below all others. What they
	// refuse is what cannot be read at all.
	for _, tc := range []struct{ eco, v string }{
		{"Debian:12", "x:1.0-1"},
	} {
		if _, err := ParseVersion(tc.eco, tc.v); err == nil {
			t.Errorf("%s version %q parsed", tc.eco, tc.v)
		}
	}
	if c, err := CompareVersions("PyPI", "not a version", "0.0.1"); err != nil || c != -1 {
		t.Errorf("a PyPI legacy version compared with 0.0.1 = %d, %v; want -1", c, err)
	}
	if _, err := ParseVersion("GitHub Actions", "1.0"); !errors.Is(err, ErrUnsupportedEcosystem) {
		t.Errorf("an ecosystem without version rules: error %v, want ErrUnsupportedEcosystem", err)
	}
}
