package vulndb

import (
	"encoding/json"
	"testing"
)

func TestParseCVSS(t *testing.T) {
	for _, tc := range []struct {
		vector  string
		version string
		score   float64
		level   SeverityLevel
	}{
		// CVE-2021-44228 (Log4Shell), as NVD scores it.
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "3.1", 10.0, Critical},
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.0", 9.8, Critical},
		// CVE-2023-4911 (glibc's GLIBC_TUNABLES).
		{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", "3.1", 7.8, High},
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N", "3.1", 4.3, Medium},
		// Roundup of 1.7455: CVSS 3.1's rounding, not the nearest tenth.
		{"CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", "3.1", 1.8, Low},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", "3.1", 0, Informational},
		// CVSS v2: the specification's own example, CVE-2002-0392.
		{"AV:N/AC:L/Au:N/C:N/I:N/A:C", "2.0", 7.8, High},
		{"AV:N/AC:L/Au:N/C:P/I:P/A:P", "2.0", 7.5, High},
		{"(AV:N/AC:M/Au:N/C:N/I:P/A:N)", "2.0", 4.3, Medium},
		// CVSS v4.0.
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "4.0", 9.3, Critical},
	} {
		c, ok := ParseCVSS(tc.vector)
		if !ok || c.Version != tc.version || c.Score != tc.score || LevelOfScore(c.Score) != tc.level {
			t.Errorf("ParseCVSS(%s) = %+v, %v, level %s; want %s, %.1f, %s", tc.vector, c, ok, LevelOfScore(c.Score), tc.version, tc.score, tc.level)
		}
	}
	for _, bad := range []string{"", "CVSS:3.1/AV:N", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", "high", "CVSS:5.0/AV:N"} {
		if c, ok := ParseCVSS(bad); ok {
			t.Errorf("ParseCVSS(%q) = %+v, want no score", bad, c)
		}
	}
}

func TestLevelOfScore(t *testing.T) {
	for _, tc := range []struct {
		score float64
		want  SeverityLevel
	}{{10, Critical}, {9.0, Critical}, {8.9, High}, {7.0, High}, {6.9, Medium}, {4.0, Medium}, {3.9, Low}, {0.1, Low}, {0, Informational}} {
		if got := LevelOfScore(tc.score); got != tc.want {
			t.Errorf("LevelOfScore(%.1f) = %s, want %s", tc.score, got, tc.want)
		}
	}
}

// TestSeverityOf checks the order in which a finding's severity is
// decided: a distribution's urgency, then CVSS (v3, v4, v2; the affected
// entry's first), then ratings in words, else UNDEFINED.
func TestSeverityOf(t *testing.T) {
	const (
		v31Medium = `{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N"}`
		v31High   = `{"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"}`
		v2Low     = `{"type": "CVSS_V2", "score": "AV:L/AC:H/Au:N/C:P/I:N/A:N"}`
		v4Crit    = `{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}`
	)
	for _, tc := range []struct {
		name     string
		record   string
		want     SeverityLevel
		firstVec string
	}{
		{"nothing", `{"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "p"}}]}`, Undefined, ""},
		{"GitHub's MODERATE", `{"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "p"}}], "database_specific": {"severity": "MODERATE"}}`, Medium, ""},
		{"GitHub's CRITICAL", `{"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "p"}}], "database_specific": {"severity": "CRITICAL"}}`, Critical, ""},
		{"Red Hat's Important", `{"id": "X", "affected": [{"package": {"ecosystem": "Red Hat", "name": "p"}}], "database_specific": {"severity": "Important"}}`, High, ""},
		{"Ubuntu's priority", `{"id": "X", "affected": [{"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "p"}}], "severity": [{"type": "Ubuntu", "score": "negligible"}]}`, Informational, ""},
		{"CVSS over words", `{"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "p"}}], "severity": [` + v31High + `], "database_specific": {"severity": "LOW"}}`, High, "CVSS:3.1/AV:L"},
		{"v3 over v4 over v2", `{"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "p"}}], "severity": [` + v2Low + `, ` + v4Crit + `, ` + v31Medium + `]}`, Medium, "CVSS:3.1/AV:N"},
		{"v4 over v2", `{"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "p"}}], "severity": [` + v2Low + `, ` + v4Crit + `]}`, Critical, "CVSS:4.0"},
		{"v2 alone", `{"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "p"}}], "severity": [` + v2Low + `]}`, Low, "AV:L"},
		{"affected's CVSS first", `{"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "p"}, "severity": [` + v31High + `]}], "severity": [` + v31Medium + `]}`, High, "CVSS:3.1/AV:L"},
		{"Debian's urgency over CVSS", `{"id": "X", "affected": [{"package": {"ecosystem": "Debian:12", "name": "p"}, "ecosystem_specific": {"urgency": "unimportant"}}], "severity": [` + v31High + `]}`, Informational, "CVSS:3.1/AV:L"},
		{"urgency with Debian's star", `{"id": "X", "affected": [{"package": {"ecosystem": "Debian:12", "name": "p"}, "database_specific": {"urgency": "low*"}}]}`, Low, ""},
		{"urgency not yet assigned", `{"id": "X", "affected": [{"package": {"ecosystem": "Debian:12", "name": "p"}, "ecosystem_specific": {"urgency": "not yet assigned"}}], "severity": [` + v31Medium + `]}`, Medium, "CVSS:3.1/AV:N"},
		{"urgency of the record", `{"id": "X", "affected": [{"package": {"ecosystem": "Debian:12", "name": "p"}}], "database_specific": {"urgency": "medium"}}`, Medium, ""},
		{"a vector that is not one", `{"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "p"}}], "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N"}]}`, Undefined, ""},
	} {
		v, err := Parse([]byte(tc.record))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, scores := severityOf(v, &v.Affected[0])
		first := ""
		if len(scores) > 0 {
			first = scores[0].Vector
		}
		if got != tc.want || len(first) < len(tc.firstVec) || first[:len(tc.firstVec)] != tc.firstVec || (tc.firstVec == "") != (first == "") {
			t.Errorf("%s: severity %s, first vector %q; want %s, %q…", tc.name, got, first, tc.want, tc.firstVec)
		}
	}
}

func TestFindingName(t *testing.T) {
	for _, tc := range []struct {
		v    Vulnerability
		want string
	}{
		{Vulnerability{ID: "CVE-2024-1"}, "CVE-2024-1"},
		{Vulnerability{ID: "GHSA-x", Aliases: []string{"PYSEC-1", "CVE-2024-2"}}, "CVE-2024-2"},
		{Vulnerability{ID: "DEBIAN-CVE-2024-3", Upstream: []string{"CVE-2024-3"}}, "CVE-2024-3"},
		{Vulnerability{ID: "GO-2024-1", Aliases: []string{"GHSA-y"}}, "GO-2024-1"},
	} {
		if got := findingName(&tc.v); got != tc.want {
			t.Errorf("findingName(%s) = %s, want %s", tc.v.ID, got, tc.want)
		}
	}
}

func TestStringField(t *testing.T) {
	for raw, want := range map[string]string{
		`{"urgency": "low"}`: "low", `{"urgency": 3}`: "", `[]`: "", ``: "", `{"other": "x"}`: "",
	} {
		if got := stringField(json.RawMessage(raw), "urgency"); got != want {
			t.Errorf("stringField(%s) = %q, want %q", raw, got, want)
		}
	}
}
