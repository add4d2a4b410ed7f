// Package rules is ECR's replication configuration as pure functions: its
// shape, the limits ECR puts on it beyond what the API model states, which
// destinations a repository's image goes to, and Berth's tag filter
// extension. It knows nothing of storage or of the network.
package rules

import (
	"fmt"
	"slices"
	"strings"
)

// ECR's limits on a replication configuration (Amazon ECR service quotas
// and the private image replication guide).
const (
	MaxRules = 10
	// MaxDestinations counts unique destinations across all rules.
	MaxDestinations = 25
	// MaxFilters is per rule.
	MaxFilters = 100
)

// FilterPrefixMatch is the one repository filter type ECR has.
const FilterPrefixMatch = "PREFIX_MATCH"

// Config is a registry's replication configuration, as
// PutReplicationConfiguration takes it and DescribeRegistry shows it.
type Config struct {
	Rules []Rule `json:"rules"`
}

// Rule sends the images of the repositories its filters match (every
// repository when it has none) to each of its destinations.
type Rule struct {
	Destinations      []Destination `json:"destinations"`
	RepositoryFilters []Filter      `json:"repositoryFilters,omitempty"`
}

// Destination is a registry: a region of an account.
type Destination struct {
	Region     string `json:"region"`
	RegistryID string `json:"registryId"`
}

func (d Destination) String() string { return d.RegistryID + " in " + d.Region }

// Filter selects repositories by the start of their names.
type Filter struct {
	Filter     string `json:"filter"`
	FilterType string `json:"filterType"`
}

// Invalid is a configuration ECR refuses: the member at fault and why, in
// the words of ECR's "Invalid parameter at '<member>' failed to satisfy
// constraint: '<why>'".
type Invalid struct {
	Member string
	Reason string
}

func (e *Invalid) Error() string {
	return fmt.Sprintf("Invalid parameter at '%s' failed to satisfy constraint: '%s'", e.Member, e.Reason)
}

func invalid(member, format string, args ...any) *Invalid {
	return &Invalid{Member: member, Reason: fmt.Sprintf(format, args...)}
}

// Validate checks c as the configuration of registry self (its own account
// and region): ECR's limits, and what the model cannot say — a rule needs a
// destination, a destination is another registry than self, and is named
// once per rule.
func Validate(c Config, self Destination) error {
	if len(c.Rules) > MaxRules {
		return invalid("replicationConfiguration.rules", "a replication configuration has at most %d rules; this one has %d", MaxRules, len(c.Rules))
	}
	unique := map[Destination]bool{}
	for i, r := range c.Rules {
		member := fmt.Sprintf("replicationConfiguration.rules.%d", i+1)
		if len(r.Destinations) == 0 {
			return invalid(member+".destinations", "a replication rule needs at least one destination")
		}
		inRule := map[Destination]bool{}
		for j, d := range r.Destinations {
			dm := fmt.Sprintf("%s.destinations.%d", member, j+1)
			if !validRegion(d.Region) {
				return invalid(dm+".region", "Member must satisfy regular expression pattern: [0-9a-z-]{2,25}")
			}
			if !validAccount(d.RegistryID) {
				return invalid(dm+".registryId", "Member must satisfy regular expression pattern: [0-9]{12}")
			}
			if d == self {
				return invalid(dm, "the destination %s is the registry the configuration is for: an image cannot be replicated to its own registry", d)
			}
			if inRule[d] {
				return invalid(dm, "the destination %s appears twice in the rule", d)
			}
			inRule[d], unique[d] = true, true
		}
		if len(r.RepositoryFilters) > MaxFilters {
			return invalid(member+".repositoryFilters", "a replication rule has at most %d repository filters; this one has %d", MaxFilters, len(r.RepositoryFilters))
		}
		for j, f := range r.RepositoryFilters {
			fm := fmt.Sprintf("%s.repositoryFilters.%d", member, j+1)
			if f.FilterType != FilterPrefixMatch {
				return invalid(fm+".filterType", "Member must satisfy enum value set: [%s]", FilterPrefixMatch)
			}
			if len(f.Filter) < 2 || len(f.Filter) > 256 {
				return invalid(fm+".filter", "Member must have length between 2 and 256")
			}
		}
	}
	if len(unique) > MaxDestinations {
		return invalid("replicationConfiguration.rules", "a replication configuration has at most %d unique destinations across its rules; this one has %d", MaxDestinations, len(unique))
	}
	return nil
}

func validRegion(s string) bool {
	if len(s) < 2 || len(s) > 25 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func validAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Destinations are the registries an image of repository repo goes to
// under c: those of every rule that has no filter or a filter that
// prefixes the name, each once, in the order the rules name them.
func Destinations(c Config, repo string) []Destination {
	var out []Destination
	for _, r := range c.Rules {
		if !r.matches(repo) {
			continue
		}
		for _, d := range r.Destinations {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}

func (r Rule) matches(repo string) bool {
	if len(r.RepositoryFilters) == 0 {
		return true
	}
	for _, f := range r.RepositoryFilters {
		if f.FilterType == FilterPrefixMatch && strings.HasPrefix(repo, f.Filter) {
			return true
		}
	}
	return false
}
