package vulndb

import (
	"slices"
	"strings"
	"time"
)

// Package is a package found in an image, as an inventory reports it.
type Package struct {
	// Ecosystem is OSV's name for it ("Go", "npm", "PyPI", "Maven",
	// "crates.io"), with the release for a distribution's packages
	// ("Debian:12", "Alpine:v3.19"); NormalizeEcosystem's spellings do too.
	Ecosystem string
	Name      string
	Version   string
	// Source is the source package a distribution built it from (dpkg's
	// Source field, apk's origin), when it is not Name: Debian's and
	// Alpine's records name source packages ("openssl" for "libssl3").
	Source string
}

// Finding is a record that affects a package.
type Finding struct {
	Package Package
	// ID is the record's; Name is what ECR names a finding: its CVE, when
	// the record is one or names one, else ID.
	ID      string
	Name    string
	Aliases []string
	// Description is the record's summary, else its details.
	Description string
	// URI is the record's first ADVISORY reference, else its page on
	// osv.dev.
	URI      string
	Severity SeverityLevel
	// CVSS are the vectors the record gives, best first (see severityOf).
	CVSS []CVSS
	// FixedIn is the lowest version that fixes what Package's version
	// has, when the record names one.
	FixedIn   string
	Published time.Time
	Modified  time.Time
}

// Affects reports whether the affected entry a covers version of a package
// in ecosystem, the way OSV specifies it: version is in a's versions list,
// or in one of its ECOSYSTEM or SEMVER ranges (GIT ranges, of commits, are
// skipped). fixedIn is the version that fixes it, when a range names one.
//
// A version the ecosystem's rules cannot parse, or an ecosystem whose rules
// Berth does not know, is matched by the versions list alone. An event
// whose version cannot be parsed is left out of its range: a range missing
// its fix then reads as still open, so the doubt falls on the side of
// reporting.
func Affects(a *Affected, ecosystem, version string) (affected bool, fixedIn string) {
	pv, perr := ParseVersion(ecosystem, version)
	for _, lv := range a.Versions {
		if lv == version {
			return true, ""
		}
		if perr == nil {
			if c, err := pv.Compare(lv); err == nil && c == 0 {
				return true, ""
			}
		}
	}
	for _, r := range a.Ranges {
		var v Version
		parse := func(s string) (Version, error) { return ParseVersion(ecosystem, s) }
		switch r.Type {
		case RangeEcosystem:
			if perr != nil {
				continue
			}
			v = pv
		case RangeSemver:
			v = parseSemver(version)
			parse = func(s string) (Version, error) { return parseSemver(s), nil }
		default:
			continue
		}
		if in, fixed := inRange(v, r.Events, parse); in {
			return true, fixed
		}
	}
	return false, ""
}

// event is a range's event with its version parsed; ver is unset for the
// introduced "0" (lower than all) and the limit "*" (higher than all).
type event struct {
	Event
	raw string
	ver *Version
}

func (e event) lowest() bool  { return e.Introduced == "0" }
func (e event) highest() bool { return e.Limit == "*" }

// inRange evaluates a range's events for v as OSV's schema does: in the
// order of their versions, an introduced at or below v makes v affected,
// a fixed at or below v, or a last_affected below v, unaffected; and v
// must be below one of the limits, if there are any.
func inRange(v Version, events []Event, parse func(string) (Version, error)) (bool, string) {
	var evs []event
	for _, e := range events {
		raw := e.Introduced + e.Fixed + e.LastAffected + e.Limit // one is set
		ev := event{Event: e, raw: raw}
		if !ev.lowest() && !ev.highest() {
			p, err := parse(raw)
			if err != nil {
				continue
			}
			ev.ver = &p
		}
		evs = append(evs, ev)
	}
	slices.SortStableFunc(evs, compareEvents)

	// cmp is v against an event: -1, 0, +1; ok is false when they cannot
	// be compared.
	cmp := func(e event) (int, bool) {
		switch {
		case e.lowest():
			return 1, true
		case e.highest():
			return -1, true
		}
		c, err := v.Compare(e.raw)
		return c, err == nil
	}
	affected := false
	var limits, below int
	for _, e := range evs {
		c, ok := cmp(e)
		if !ok {
			continue
		}
		switch {
		case e.Introduced != "":
			if c >= 0 {
				affected = true
			}
		case e.Fixed != "":
			if c >= 0 {
				affected = false
			}
		case e.LastAffected != "":
			if c > 0 {
				affected = false
			}
		case e.Limit != "":
			limits++
			if c < 0 {
				below++
			}
		}
	}
	if !affected || limits > 0 && below == 0 {
		return false, ""
	}
	for _, e := range evs {
		if c, ok := cmp(e); ok && e.Fixed != "" && c < 0 {
			return true, e.Fixed
		}
	}
	return true, ""
}

func compareEvents(a, b event) int {
	switch {
	case a.lowest() || b.highest():
		if a.lowest() && b.lowest() || a.highest() && b.highest() {
			return 0
		}
		return -1
	case a.highest() || b.lowest():
		return 1
	}
	c, err := a.ver.Compare(b.raw)
	if err != nil {
		return 0
	}
	return c
}

// newFinding is what the record v says through its entry a, of any
// package the entry affects; the caller sets Package and FixedIn.
func newFinding(v *Vulnerability, a *Affected) Finding {
	sev, scores := severityOf(v, a)
	f := Finding{
		ID:          v.ID,
		Name:        findingName(v),
		Aliases:     v.Aliases,
		Description: v.Summary,
		URI:         "https://osv.dev/vulnerability/" + v.ID,
		Severity:    sev,
		CVSS:        scores,
		Published:   v.Published.Time,
		Modified:    v.Modified.Time,
	}
	if f.Description == "" {
		f.Description = v.Details
	}
	for _, r := range v.References {
		if r.Type == "ADVISORY" {
			f.URI = r.URL
			break
		}
	}
	return f
}

// findingName is the record's CVE: its id, an alias, or the record it
// derives from (Debian's DEBIAN-CVE-… records name theirs so); else its
// id.
func findingName(v *Vulnerability) string {
	for _, list := range [][]string{{v.ID}, v.Aliases, v.Upstream} {
		for _, id := range list {
			if strings.HasPrefix(id, "CVE-") {
				return id
			}
		}
	}
	return v.ID
}
