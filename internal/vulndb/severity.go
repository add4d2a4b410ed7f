package vulndb

import (
	"encoding/json"
	"math"
	"slices"
	"strings"

	cvss20 "github.com/pandatix/go-cvss/20"
	cvss30 "github.com/pandatix/go-cvss/30"
	cvss31 "github.com/pandatix/go-cvss/31"
	cvss40 "github.com/pandatix/go-cvss/40"
)

// SeverityLevel is ECR's finding severity.
type SeverityLevel string

// ECR's finding severities (FindingSeverity in ECR's API model).
const (
	Critical      SeverityLevel = "CRITICAL"
	High          SeverityLevel = "HIGH"
	Medium        SeverityLevel = "MEDIUM"
	Low           SeverityLevel = "LOW"
	Informational SeverityLevel = "INFORMATIONAL"
	Undefined     SeverityLevel = "UNDEFINED"
)

// LevelOfScore maps a CVSS base score to ECR's severity, by CVSS v3's
// qualitative scale: 9.0 and up critical, 7.0 high, 4.0 medium, above 0
// low, and 0 informational.
func LevelOfScore(score float64) SeverityLevel {
	switch {
	case score >= 9.0:
		return Critical
	case score >= 7.0:
		return High
	case score >= 4.0:
		return Medium
	case score > 0:
		return Low
	}
	return Informational
}

// levelOfRating maps the ratings databases give in words — GitHub's
// LOW/MODERATE/HIGH/CRITICAL, Debian's urgencies, Ubuntu's priorities, Red
// Hat's impacts — to ECR's severity; "" when it is no rating (Debian's
// "not yet assigned", "end-of-life").
func levelOfRating(r string) SeverityLevel {
	// Debian marks urgencies it inferred with stars ("low*", "medium**").
	switch strings.ToLower(strings.TrimRight(strings.TrimSpace(r), "*")) {
	case "critical":
		return Critical
	case "high", "important":
		return High
	case "medium", "moderate":
		return Medium
	case "low":
		return Low
	case "unimportant", "negligible", "none":
		return Informational
	}
	return ""
}

// CVSS is a CVSS vector and the base score computed from it.
type CVSS struct {
	Version string // "2.0", "3.0", "3.1" or "4.0"
	Vector  string
	Score   float64
}

// ParseCVSS computes the base score of a CVSS vector of version 2.0 (no
// prefix), 3.0, 3.1 or 4.0 (a "CVSS:x.y/" prefix); ok is false for a vector
// that is none of these.
func ParseCVSS(vector string) (c CVSS, ok bool) {
	vector = strings.TrimSpace(vector)
	c.Vector = vector
	switch {
	case strings.HasPrefix(vector, "CVSS:3.1/"):
		v, err := cvss31.ParseVector(vector)
		if err != nil {
			return c, false
		}
		c.Version, c.Score = "3.1", v.BaseScore()
	case strings.HasPrefix(vector, "CVSS:3.0/"):
		v, err := cvss30.ParseVector(vector)
		if err != nil {
			return c, false
		}
		c.Version, c.Score = "3.0", v.BaseScore()
	case strings.HasPrefix(vector, "CVSS:4.0/"):
		v, err := cvss40.ParseVector(vector)
		if err != nil {
			return c, false
		}
		c.Version, c.Score = "4.0", v.Score()
	default:
		v, err := cvss20.ParseVector(strings.TrimSuffix(strings.TrimPrefix(vector, "("), ")"))
		if err != nil {
			return c, false
		}
		c.Version, c.Score = "2.0", v.BaseScore()
	}
	// Scores are given to one decimal; floating point may leave 7.499….
	c.Score = math.Round(c.Score*10) / 10
	return c, true
}

// cvssRank orders the CVSS versions a finding's severity is taken from:
// v3 (what ECR's own findings are scored by), then v4, then v2.
func cvssRank(version string) int {
	switch version {
	case "3.1":
		return 0
	case "3.0":
		return 1
	case "4.0":
		return 2
	}
	return 3
}

// severityOf decides a finding's severity from what the record says of
// the affected package and of itself, in this order:
//
//  1. a distribution's own urgency for the package (Debian's "urgency" in
//     ecosystem_specific or database_specific): for a distribution's
//     package its rating is the one that knows how the package is built,
//     which is why Debian rates some CVEs "unimportant";
//  2. a CVSS vector, the affected entry's before the record's, v3 before
//     v4 before v2 (see cvssRank), by its base score;
//  3. a rating in words: a severity[] entry of another type (Ubuntu's), or
//     database_specific.severity (GitHub's MODERATE is MEDIUM);
//  4. else UNDEFINED.
//
// It returns every CVSS vector it could score as well, best first.
func severityOf(v *Vulnerability, a *Affected) (SeverityLevel, []CVSS) {
	var scores []CVSS
	var words []string
	for _, list := range [][]Severity{a.Severity, v.Severity} {
		for _, s := range list {
			switch s.Type {
			case "CVSS_V2", "CVSS_V3", "CVSS_V4":
				if c, ok := ParseCVSS(s.Score); ok {
					scores = append(scores, c)
				}
			default:
				words = append(words, s.Score)
			}
		}
	}
	// Stable: among equals, the affected entry's first.
	slices.SortStableFunc(scores, func(x, y CVSS) int { return cvssRank(x.Version) - cvssRank(y.Version) })

	for _, raw := range []json.RawMessage{a.EcosystemSpecific, a.DatabaseSpecific, v.DatabaseSpecific} {
		if l := levelOfRating(stringField(raw, "urgency")); l != "" {
			return l, scores
		}
	}
	if len(scores) > 0 {
		return LevelOfScore(scores[0].Score), scores
	}
	words = append(words, stringField(a.DatabaseSpecific, "severity"), stringField(v.DatabaseSpecific, "severity"))
	for _, w := range words {
		if l := levelOfRating(w); l != "" {
			return l, scores
		}
	}
	return Undefined, scores
}

// stringField reads the string field name of a JSON object; "" when there
// is none.
func stringField(raw json.RawMessage, name string) string {
	if len(raw) == 0 {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(m[name], &s) != nil {
		return ""
	}
	return s
}
