package registry

import (
	"regexp"
	"strings"

	"github.com/opencontainers/go-digest"
)

// ECR's repository name grammar, as the current ECR API model states it
// (the OCI distribution grammar), and ECR's length limits.
var repoNameRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)

const (
	minRepoName = 2
	maxRepoName = 256
	maxTag      = 128
)

var tagRE = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

// ValidateRepositoryName checks a name against ECR's rules and says what is
// wrong with it.
func ValidateRepositoryName(name string) error {
	switch {
	case len(name) < minRepoName:
		return errorf(ErrNameInvalid, "invalid repository name %q: must be at least %d characters", name, minRepoName)
	case len(name) > maxRepoName:
		return errorf(ErrNameInvalid, "invalid repository name: %d characters is more than the %d allowed", len(name), maxRepoName)
	case !repoNameRE.MatchString(name):
		return errorf(ErrNameInvalid, "invalid repository name %q: use lowercase letters and digits, separated by '.', '_', '__' or runs of '-', in '/'-separated components", truncate(name, 300))
	}
	return nil
}

// ValidateTag checks a tag against the OCI grammar.
func ValidateTag(tag string) error {
	if !tagRE.MatchString(tag) {
		return errorf(ErrTagInvalid, "invalid tag %q: a tag is 1 to %d characters of letters, digits, '_', '.' and '-', not starting with '.' or '-'", truncate(tag, 200), maxTag)
	}
	return nil
}

// ParseDigest parses and validates a digest, accepting the algorithms Berth
// can verify (sha256 and sha512).
func ParseDigest(s string) (digest.Digest, error) {
	d, err := digest.Parse(s)
	if err != nil {
		return "", errorf(ErrDigestInvalid, "invalid digest %q: %v", truncate(s, 200), err)
	}
	switch d.Algorithm() {
	case digest.SHA256, digest.SHA512:
		return d, nil
	}
	return "", errorf(ErrDigestInvalid, "unsupported digest algorithm %q: use sha256 or sha512", d.Algorithm())
}

// IsDigest tells a manifest reference that is a digest from a tag.
func IsDigest(ref string) bool { return strings.Contains(ref, ":") }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
