package policy

import (
	"testing"
	"time"
)

func TestWildcards(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		fold, want bool
	}{
		{"*", "", false, true},
		{"*", "anything", false, true},
		{"a*", "a", false, true},
		{"a*b", "ab", false, true},
		{"a*b", "axxb", false, true},
		{"a*b", "axxbc", false, false},
		{"a*b*c", "abxbxc", false, true},
		{"a*b*c", "acb", false, false},
		{"?", "é", false, true},
		{"??", "é", false, false},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"*a", "bbba", false, true},
		{"**a", "a", false, true},
		{"Get*", "getimage", true, true},
		{"Get*", "getimage", false, false},
		{"", "", false, true},
		{"", "x", false, false},
	} {
		p := compilePattern(tc.pattern, true, false)
		if got, _ := p.match(nil, tc.s, tc.fold); got != tc.want {
			t.Errorf("%q matching %q (fold %v) = %v; want %v", tc.pattern, tc.s, tc.fold, got, tc.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	for s, want := range map[string]string{
		"2024":                      "2024-01-01T00:00:00Z",
		"2024-02":                   "2024-02-01T00:00:00Z",
		"2024-02-03":                "2024-02-03T00:00:00Z",
		"2024-02-03T04:05Z":         "2024-02-03T04:05:00Z",
		"2024-02-03T04:05:06+01:00": "2024-02-03T03:05:06Z",
		"2024-02-03T04:05:06.5Z":    "2024-02-03T04:05:06.5Z",
		"2024-02-03T04:05:06":       "2024-02-03T04:05:06Z",
		"1700000000":                "2023-11-14T22:13:20Z",
		"0":                         "1970-01-01T00:00:00Z",
	} {
		got, ok := parseDate(s)
		if !ok || got.UTC().Format(time.RFC3339Nano) != want {
			t.Errorf("parseDate(%q) = %v, %v; want %s", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "now", "2024-13-01", "24-01-01", "-1x", "2024-01-01T25:00:00Z"} {
		if _, ok := parseDate(s); ok {
			t.Errorf("parseDate(%q) accepted", s)
		}
	}
}
