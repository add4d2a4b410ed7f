package lifecycle

import "strings"

// matchesTags reports whether an image with these tags meets the rule's
// tag requirements.
//
// "An image is successfully matched if all of the tags in the
// tagPatternList or tagPrefixList value are matched against any of the
// image's tags" (Lifecycle policy evaluation rules), and "If you specify
// multiple tags, only the images with all specified tags are selected"
// (Lifecycle policy properties): every filter must match some tag of the
// image, not necessarily a different one.
func (r *Rule) matchesTags(tags []string) bool {
	switch r.TagStatus {
	case TagStatusAny:
		return true
	case TagStatusUntagged:
		return len(tags) == 0
	case TagStatusTagged:
		if len(tags) == 0 {
			return false
		}
		if r.TagPatternList != nil {
			return allMatchSome(r.TagPatternList, tags, matchPattern)
		}
		return allMatchSome(r.TagPrefixList, tags, strings.HasPrefix)
	}
	return false
}

func allMatchSome(filters, tags []string, match func(tag, filter string) bool) bool {
	for _, f := range filters {
		found := false
		for _, t := range tags {
			if match(t, f) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// matchPattern reports whether tag matches a tagPatternList filter, where
// '*' stands for any run of characters, including none, and every other
// character stands for itself: "prod*" matches prod, prod1 and
// production-team1; "*prod*" matches repo-production and prod-team.
func matchPattern(tag, pattern string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return tag == pattern
	}
	first, last := parts[0], parts[len(parts)-1]
	if len(tag) < len(first)+len(last) || !strings.HasPrefix(tag, first) || !strings.HasSuffix(tag, last) {
		return false
	}
	// The middle parts must appear in order between the fixed ends; taking
	// each at its earliest place leaves the most room for the rest.
	rest := tag[len(first) : len(tag)-len(last)]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return true
}
