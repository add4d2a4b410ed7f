package vulndb

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/osv-scalibr/semantic"
)

// Versions are compared by each ecosystem's own rules — dpkg's for Debian
// and Ubuntu, apk's for Alpine, rpm's (epochs included) for Red Hat and
// its kin, PEP 440 for PyPI, Maven's, SemVer 2 for Go, npm and crates.io,
// and so on — by osv-scalibr's semantic package, which is what osv.dev and
// osv-scanner match with. Only that package of the module is linked; it
// needs nothing beyond the standard library.

// ErrUnsupportedEcosystem is what comparing in an ecosystem whose version
// rules Berth does not know fails with; such an ecosystem's records match
// by their versions lists alone.
var ErrUnsupportedEcosystem = semantic.ErrUnsupportedEcosystem

// Version is a version parsed by its ecosystem's rules, to compare with
// others of the ecosystem.
type Version struct {
	v     semantic.Version
	goish bool // Go's rules: what it is compared with loses its "v" or "go" too
}

// ParseVersion parses v as ecosystem (with or without its release) spells
// versions. A Go version may carry its "v" (modules) or "go" (the
// standard library) prefix, which OSV's Go records leave out.
func ParseVersion(ecosystem, v string) (Version, error) {
	eco := Base(NormalizeEcosystem(ecosystem))
	if eco == "Go" {
		v = goVersion(v)
	}
	sv, err := semantic.Parse(v, eco)
	if err != nil {
		return Version{}, fmt.Errorf("version %q of %s: %w", v, ecosystem, err)
	}
	return Version{v: sv, goish: eco == "Go"}, nil
}

// parseSemver parses v by SemVer 2's rules, whatever the ecosystem: the
// rules of a SEMVER range. A leading "v" goes, as Go's does.
func parseSemver(v string) Version {
	return Version{v: semantic.ParseSemverVersion(goVersion(v)), goish: true}
}

func goVersion(v string) string {
	v = strings.TrimPrefix(v, "go")
	return strings.TrimPrefix(v, "v")
}

// Compare returns -1, 0 or +1 as v is lower than, equal to or higher than
// w, which is parsed by v's rules.
func (v Version) Compare(w string) (int, error) {
	if v.v == nil {
		return 0, errors.New("vulndb: compare with an unparsed version")
	}
	if v.goish {
		w = goVersion(w)
	}
	c, err := v.v.CompareStr(w)
	if err != nil {
		return 0, fmt.Errorf("version %q: %w", w, err)
	}
	return c, nil
}

// CompareVersions compares two versions of ecosystem: -1, 0 or +1 as a is
// lower than, equal to or higher than b.
func CompareVersions(ecosystem, a, b string) (int, error) {
	v, err := ParseVersion(ecosystem, a)
	if err != nil {
		return 0, err
	}
	return v.Compare(b)
}
