// Package repoprefix is the grammar and the matching of the prefixes of
// ECR's repository creation templates, as pure functions.
//
// A prefix names a namespace: ECR always assumes a '/' after it, so the
// prefix "prod" (or "prod/", the same namespace) matches "prod/app" and
// "prod/team/app" but neither "prod" itself nor "production/app". The
// prefix ROOT matches every repository name. Of the templates that match a
// name, the one with the longest prefix governs it; ROOT governs only names
// no other template matches.
package repoprefix

import (
	"regexp"
	"strings"
)

// Root is the prefix that matches every repository.
const Root = "ROOT"

// MaxLength is the model's bound on a prefix.
const MaxLength = 256

// pattern is the ECR model's Prefix pattern: a repository name, optionally
// ending in '/', or ROOT.
var pattern = regexp.MustCompile(`^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*/?|ROOT)$`)

// Valid reports whether prefix is one the ECR model accepts.
func Valid(prefix string) bool {
	return len(prefix) >= 1 && len(prefix) <= MaxLength && pattern.MatchString(prefix)
}

// Key is the identity of a template's prefix in its registry: ROOT, or the
// namespace without its trailing '/'. Two prefixes with one key name one
// namespace, so a registry holds one template for both.
func Key(prefix string) string {
	if prefix == Root {
		return Root
	}
	return strings.TrimSuffix(prefix, "/")
}

// Matches reports whether the template whose prefix has key matches the
// repository name.
func Matches(key, name string) bool {
	if key == Root {
		return true
	}
	return key != "" && len(name) > len(key) && name[len(key)] == '/' && strings.HasPrefix(name, key)
}

// Best returns the key among keys that governs name: the longest that
// matches it other than ROOT, or ROOT when only ROOT does. ok is false when
// none matches.
func Best(name string, keys []string) (best string, ok bool) {
	root := false
	for _, k := range keys {
		switch {
		case k == Root:
			root = true
		case Matches(k, name) && len(k) > len(best):
			best, ok = k, true
		}
	}
	if !ok && root {
		return Root, true
	}
	return best, ok
}
