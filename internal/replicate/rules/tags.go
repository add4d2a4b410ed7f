package rules

import (
	"fmt"
	"strings"
)

// TagFilter is Berth's extension to ECR's replication, which has repository
// filters only: the tag patterns an image needs one of its tags to match to
// be replicated. ECR's API model has no place for it (RepositoryFilterType
// is PREFIX_MATCH alone, and a filter's pattern admits no wildcard), so it
// is a registry setting of its own (registry.SettingReplicationTagFilter).
// A pattern is a tag in which '*' stands for any run of characters, as in
// ECR's tag mutability exclusion filters and lifecycle tagPatternList.
//
// The zero TagFilter, and the setting's default "*", filter nothing:
// every image is replicated, tagged or not.
type TagFilter struct {
	patterns []string
}

// MaxTagPatterns bounds the patterns of a filter, as ECR bounds a
// lifecycle rule's tagPatternList.
const MaxTagPatterns = 100

// ParseTagFilter reads a filter: patterns separated by commas.
func ParseTagFilter(s string) (TagFilter, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return TagFilter{}, fmt.Errorf("the tag filter is empty: give tag patterns separated by commas, or * for every image")
	}
	var f TagFilter
	for p := range strings.SplitSeq(s, ",") {
		p = strings.TrimSpace(p)
		if p == "*" {
			return TagFilter{}, nil // matches everything, untagged images too
		}
		if err := checkPattern(p); err != nil {
			return TagFilter{}, err
		}
		f.patterns = append(f.patterns, p)
	}
	if len(f.patterns) > MaxTagPatterns {
		return TagFilter{}, fmt.Errorf("the tag filter has %d patterns; the limit is %d", len(f.patterns), MaxTagPatterns)
	}
	return f, nil
}

// checkPattern accepts a tag in which '*' may stand for runs of
// characters: at most 128 characters of [A-Za-z0-9_.*-].
func checkPattern(p string) error {
	if p == "" {
		return fmt.Errorf("the tag filter has an empty pattern")
	}
	if len(p) > 128 {
		return fmt.Errorf("the tag pattern %q is longer than 128 characters", p[:32]+"…")
	}
	for _, c := range p {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || c == '*') {
			return fmt.Errorf("the tag pattern %q has %q: a pattern is a tag ([A-Za-z0-9_.-]) in which * stands for any run of characters", p, c)
		}
	}
	return nil
}

// All reports whether the filter lets every image through.
func (f TagFilter) All() bool { return len(f.patterns) == 0 }

// String is the filter as the setting holds it.
func (f TagFilter) String() string {
	if f.All() {
		return "*"
	}
	return strings.Join(f.patterns, ",")
}

// Tags returns the tags the filter lets through, and whether the image
// is replicated at all: with no filter, every image with all its tags;
// otherwise an image with at least one matching tag, with those tags
// only.
func (f TagFilter) Tags(tags []string) ([]string, bool) {
	if f.All() {
		return tags, true
	}
	var out []string
	for _, t := range tags {
		if f.Match(t) {
			out = append(out, t)
		}
	}
	return out, len(out) > 0
}

// Match reports whether a tag matches one of the patterns.
func (f TagFilter) Match(tag string) bool {
	if f.All() {
		return true
	}
	for _, p := range f.patterns {
		if matchWildcard(p, tag) {
			return true
		}
	}
	return false
}

// matchWildcard reports whether s matches pattern as a whole, '*'
// matching any run of characters: greedy, backtracking to the last star.
func matchWildcard(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
