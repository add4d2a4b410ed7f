package vulndb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Vulnerability is an OSV record (https://ossf.github.io/osv-schema/), the
// parts of it Berth reads. The record is stored as it came, so fields not
// here are kept.
type Vulnerability struct {
	SchemaVersion string `json:"schema_version,omitempty"`
	ID            string `json:"id"`
	Modified      Time   `json:"modified"`
	Published     Time   `json:"published"`
	// Withdrawn records are not imported.
	Withdrawn Time     `json:"withdrawn"`
	Aliases   []string `json:"aliases,omitempty"`
	// Upstream names the records this one derives from: Debian's and
	// Ubuntu's per-CVE records name their CVE here rather than in Aliases.
	Upstream         []string        `json:"upstream,omitempty"`
	Related          []string        `json:"related,omitempty"`
	Summary          string          `json:"summary,omitempty"`
	Details          string          `json:"details,omitempty"`
	Severity         []Severity      `json:"severity,omitempty"`
	Affected         []Affected      `json:"affected,omitempty"`
	References       []Reference     `json:"references,omitempty"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Severity is a severity[] entry: a CVSS vector by its type (CVSS_V2,
// CVSS_V3, CVSS_V4), or a rating of some database's own ("Ubuntu").
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected is an affected[] entry: a package, the versions of it the
// record affects, and what the database says about it.
type Affected struct {
	// Package is nil in records that name only a repository (GIT ranges).
	Package           *AffectedPackage `json:"package,omitempty"`
	Severity          []Severity       `json:"severity,omitempty"`
	Ranges            []Range          `json:"ranges,omitempty"`
	Versions          []string         `json:"versions,omitempty"`
	EcosystemSpecific json.RawMessage  `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  json.RawMessage  `json:"database_specific,omitempty"`
}

// AffectedPackage names a package in an ecosystem, as the record spells
// both.
type AffectedPackage struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Purl      string `json:"purl,omitempty"`
}

// Range types. GIT ranges are of commits, which images do not record:
// matching skips them.
const (
	RangeEcosystem = "ECOSYSTEM"
	RangeSemver    = "SEMVER"
	RangeGit       = "GIT"
)

// Range is a ranges[] entry.
type Range struct {
	Type   string  `json:"type"`
	Repo   string  `json:"repo,omitempty"`
	Events []Event `json:"events"`
}

// Event is one event of a range; exactly one of its fields is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// UnmarshalJSON refuses an event that is not exactly one of the four
// kinds, as the schema does.
func (e *Event) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("event: %w", err)
	}
	if len(m) != 1 {
		return fmt.Errorf("event %s: want exactly one of introduced, fixed, last_affected, limit", b)
	}
	*e = Event{}
	for k, v := range m {
		switch k {
		case "introduced":
			e.Introduced = v
		case "fixed":
			e.Fixed = v
		case "last_affected":
			e.LastAffected = v
		case "limit":
			e.Limit = v
		default:
			return fmt.Errorf("event %s: unknown kind %q", b, k)
		}
		if v == "" {
			return fmt.Errorf("event %s: empty version", b)
		}
	}
	return nil
}

// Reference is a references[] entry.
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// Time is an OSV timestamp: RFC 3339, in UTC. Some databases leave out the
// zone; such a time is read as UTC rather than refused.
type Time struct{ time.Time }

func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	if s == "" {
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if p, err := time.Parse(layout, s); err == nil {
			t.Time = p.UTC()
			return nil
		}
	}
	return fmt.Errorf("timestamp %q is not RFC 3339", s)
}

func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.Time.UTC().Format(time.RFC3339Nano))
}

// ErrMalformed is what a record that is not OSV fails with.
var ErrMalformed = errors.New("malformed OSV record")

// Parse reads an OSV record and checks what matching relies on: JSON of
// the schema's types, an id, every package named with its ecosystem and
// name, every event exactly one of the four kinds. Anything else a record
// may lack (a summary, a modified time, ranges) it may lack. The error
// wraps ErrMalformed.
func Parse(data []byte) (*Vulnerability, error) {
	var v Vulnerability
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: more than one JSON value", ErrMalformed)
	}
	if strings.TrimSpace(v.ID) == "" {
		return nil, fmt.Errorf("%w: no id", ErrMalformed)
	}
	for i, a := range v.Affected {
		if a.Package == nil {
			continue
		}
		if a.Package.Ecosystem == "" || a.Package.Name == "" {
			return nil, fmt.Errorf("%w: %s: affected[%d]: a package needs an ecosystem and a name", ErrMalformed, v.ID, i)
		}
		for j, r := range a.Ranges {
			if r.Type == "" {
				return nil, fmt.Errorf("%w: %s: affected[%d].ranges[%d]: no type", ErrMalformed, v.ID, i, j)
			}
		}
	}
	return &v, nil
}
