package scan

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ECR's scan frequencies, weakest first.
const (
	FrequencyManual     = "MANUAL"
	FrequencyOnPush     = "SCAN_ON_PUSH"
	FrequencyContinuous = "CONTINUOUS_SCAN"
)

// ScanTypeBasic is the scan type Berth runs: its own scanner on OSV data.
// ENHANCED is Amazon Inspector's, which Berth does not have.
const ScanTypeBasic = "BASIC"

// FilterWildcard is the only filter type ECR's scanning rules take.
const FilterWildcard = "WILDCARD"

// Limits ECR puts on a registry scanning configuration.
const (
	maxRules          = 2
	maxFiltersPerRule = 100
	maxFilterLength   = 256
)

// Filter picks repositories by name.
type Filter struct {
	Filter     string `json:"filter"`
	FilterType string `json:"filterType"`
}

// Rule scans the repositories its filters pick at its frequency.
type Rule struct {
	ScanFrequency     string   `json:"scanFrequency"`
	RepositoryFilters []Filter `json:"repositoryFilters"`
}

// RegistryConfig is a registry's scanning configuration: ECR's
// RegistryScanningConfiguration.
type RegistryConfig struct {
	ScanType string `json:"scanType"`
	Rules    []Rule `json:"rules"`
}

// defaultRegistryConfig is a registry's configuration before any is put:
// basic scanning, no rules (repositories' scanOnPush alone decides).
func defaultRegistryConfig() *RegistryConfig {
	return &RegistryConfig{ScanType: ScanTypeBasic, Rules: []Rule{}}
}

// Validate checks a configuration the way ECR does, with messages that
// say what to change.
func (c *RegistryConfig) Validate() error {
	switch c.ScanType {
	case ScanTypeBasic:
	case "ENHANCED":
		return invalid("scanType ENHANCED is Amazon Inspector's scanning, which Berth does not have: use BASIC (Berth's own scanner, which also supports CONTINUOUS_SCAN rules)")
	default:
		return invalid("scanType %q: must be BASIC", c.ScanType)
	}
	if len(c.Rules) > maxRules {
		return invalid("%d rules: a scanning configuration takes at most %d", len(c.Rules), maxRules)
	}
	seen := map[string]bool{}
	for i, r := range c.Rules {
		switch r.ScanFrequency {
		case FrequencyOnPush, FrequencyContinuous, FrequencyManual:
		default:
			return invalid("rules[%d].scanFrequency %q: must be SCAN_ON_PUSH, CONTINUOUS_SCAN or MANUAL", i, r.ScanFrequency)
		}
		if seen[r.ScanFrequency] {
			return invalid("two rules with scanFrequency %s: put all its repository filters in one rule", r.ScanFrequency)
		}
		seen[r.ScanFrequency] = true
		if len(r.RepositoryFilters) == 0 {
			return invalid("rules[%d] has no repositoryFilters: give at least one (\"*\" picks every repository)", i)
		}
		if len(r.RepositoryFilters) > maxFiltersPerRule {
			return invalid("rules[%d] has %d repositoryFilters: at most %d", i, len(r.RepositoryFilters), maxFiltersPerRule)
		}
		for j, f := range r.RepositoryFilters {
			if f.FilterType != FilterWildcard {
				return invalid("rules[%d].repositoryFilters[%d].filterType %q: must be WILDCARD", i, j, f.FilterType)
			}
			if f.Filter == "" || len(f.Filter) > maxFilterLength {
				return invalid("rules[%d].repositoryFilters[%d].filter must be 1 to %d characters", i, j, maxFilterLength)
			}
			if strings.ContainsAny(f.Filter, "?[]\\") {
				return invalid("rules[%d].repositoryFilters[%d].filter %q: only * is a wildcard; the characters ?, [, ] and \\ are not allowed", i, j, f.Filter)
			}
		}
	}
	return nil
}

// matches reports whether a WILDCARD filter picks repository name: '*'
// stands for any run of characters, '/' included.
func (f Filter) matches(name string) bool {
	// path.Match's '*' stops at '/', so the pieces between '*'s are
	// matched in order instead.
	parts := strings.Split(f.Filter, "*")
	if len(parts) == 1 {
		return name == f.Filter
	}
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	rest := name[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return strings.HasSuffix(rest, last) && len(rest) >= len(last)
}

// RepositoryConfig is how a repository is scanned: ECR's
// RepositoryScanningConfiguration.
type RepositoryConfig struct {
	ScanOnPush    bool
	ScanFrequency string
	// AppliedFilters are the filters of the rule that set ScanFrequency;
	// empty when the repository's own scanOnPush (or nothing) decides.
	AppliedFilters []Filter
}

// rank orders frequencies, weakest first.
func rank(f string) int {
	switch f {
	case FrequencyContinuous:
		return 2
	case FrequencyOnPush:
		return 1
	}
	return 0
}

// repositoryConfig applies a registry's rules to a repository: the
// strongest frequency whose rule picks it, and the repository's own
// scanOnPush, which ECR still honours.
func (c *RegistryConfig) repositoryConfig(name string, scanOnPush bool) RepositoryConfig {
	out := RepositoryConfig{ScanOnPush: scanOnPush, ScanFrequency: FrequencyManual}
	if scanOnPush {
		out.ScanFrequency = FrequencyOnPush
	}
	for _, r := range c.Rules {
		var applied []Filter
		for _, f := range r.RepositoryFilters {
			if f.matches(name) {
				applied = append(applied, f)
			}
		}
		if len(applied) == 0 {
			continue
		}
		if rank(r.ScanFrequency) > rank(out.ScanFrequency) || (out.AppliedFilters == nil && rank(r.ScanFrequency) == rank(out.ScanFrequency)) {
			out.ScanFrequency, out.AppliedFilters = r.ScanFrequency, applied
		}
	}
	if out.ScanFrequency != FrequencyManual {
		out.ScanOnPush = true
	}
	return out
}

func decodeRegistryConfig(text string) (*RegistryConfig, error) {
	c := defaultRegistryConfig()
	if text == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(text), c); err != nil {
		return nil, fmt.Errorf("stored scanning configuration is not readable: %w", err)
	}
	if c.Rules == nil {
		c.Rules = []Rule{}
	}
	return c, nil
}
