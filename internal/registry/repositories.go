package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/berth-registry/berth/internal/changes"
	"github.com/berth-registry/berth/internal/meta"
)

// ECR's imageTagMutability values.
const (
	TagMutable                = "MUTABLE"
	TagImmutable              = "IMMUTABLE"
	TagMutableWithExclusion   = "MUTABLE_WITH_EXCLUSION"
	TagImmutableWithExclusion = "IMMUTABLE_WITH_EXCLUSION"
)

var tagMutabilities = []string{TagMutable, TagImmutable, TagMutableWithExclusion, TagImmutableWithExclusion}

// ECR's encryption types.
const (
	EncryptionAES256  = "AES256"
	EncryptionKMS     = "KMS"
	EncryptionKMSDSSE = "KMS_DSSE"
)

// FilterWildcard is the one type of tag mutability exclusion filter ECR has.
const FilterWildcard = "WILDCARD"

// ECR's limits on resource tags.
const (
	MaxResourceTags   = 50
	maxResourceTagKey = 128
	maxResourceTagVal = 256
)

// TagFilter is an image tag mutability exclusion filter: a tag pattern in
// which '*' stands for any run of characters.
type TagFilter struct {
	Type   string `json:"filterType"`
	Filter string `json:"filter"`
}

// ResourceTag is a key-value tag on a repository (not an image tag).
type ResourceTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Encryption is a repository's encryption at rest as configured. Berth keeps
// and reports it; the blob store's own encryption applies whatever it says.
type Encryption struct {
	Type   string `json:"type"`
	KMSKey string `json:"kmsKey,omitempty"`
}

// RepositoryConfig is the configuration of a repository beyond its tag
// mutability, stored as JSON in meta.Repository.Settings.
type RepositoryConfig struct {
	ScanOnPush bool       `json:"scanOnPush,omitempty"`
	Encryption Encryption `json:"encryption"`
	// TagMutabilityExclusions are the tags exempt from TagMutability, for
	// the *_WITH_EXCLUSION settings.
	TagMutabilityExclusions []TagFilter   `json:"tagMutabilityExclusions,omitempty"`
	Tags                    []ResourceTag `json:"tags,omitempty"`
	// Policy is the repository policy's text, as set.
	Policy string `json:"policy,omitempty"`
	// Catalog is a public repository's gallery entry (ECR Public).
	Catalog *CatalogData `json:"catalog,omitempty"`
}

// RepositoryInfo is a repository with its configuration decoded.
type RepositoryInfo struct {
	*meta.Repository
	Config RepositoryConfig
}

// RepositorySpec describes a repository to create. Zero values take ECR's
// defaults: MUTABLE tags, no scan on push, AES256 encryption, no tags.
type RepositorySpec struct {
	Name                    string
	TagMutability           string
	TagMutabilityExclusions []TagFilter
	ScanOnPush              bool
	Encryption              *Encryption
	Tags                    []ResourceTag
	// Catalog is a public repository's catalog data (ECR Public).
	Catalog *CatalogInput
}

func invalidParameter(member, format string, args ...any) *Error {
	return &Error{
		Kind:    ErrParameterInvalid,
		Message: fmt.Sprintf("Invalid parameter at '%s' failed to satisfy constraint: '%s'", member, fmt.Sprintf(format, args...)),
	}
}

// decodeConfig reads a repository's configuration. Repositories without
// settings (created on first push) have the defaults.
func decodeConfig(r *meta.Repository) (RepositoryConfig, error) {
	var c RepositoryConfig
	if len(r.Settings) > 0 {
		if err := json.Unmarshal(r.Settings, &c); err != nil {
			return c, fmt.Errorf("repository %s: stored settings are not readable: %w", r.Name, err)
		}
	}
	if c.Encryption.Type == "" {
		c.Encryption.Type = EncryptionAES256
	}
	return c, nil
}

func info(r *meta.Repository) (*RepositoryInfo, error) {
	c, err := decodeConfig(r)
	if err != nil {
		return nil, err
	}
	return &RepositoryInfo{Repository: r, Config: c}, nil
}

// checkTagMutability applies the rules between imageTagMutability and its
// exclusion filters that the API model cannot state, and returns the
// setting to store.
func checkTagMutability(mutability string, filters []TagFilter) (string, error) {
	if mutability == "" {
		mutability = TagMutable
	}
	if !slices.Contains(tagMutabilities, mutability) {
		return "", invalidParameter("imageTagMutability", "Member must satisfy enum value set: [%s]", strings.Join(tagMutabilities, ", "))
	}
	withExclusion := strings.HasSuffix(mutability, "_WITH_EXCLUSION")
	switch {
	case withExclusion && len(filters) == 0:
		return "", invalidParameter("imageTagMutabilityExclusionFilters", "ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as %s", mutability)
	case !withExclusion && len(filters) > 0:
		return "", invalidParameter("imageTagMutabilityExclusionFilters", "ImageTagMutabilityExclusionFilters must be null when imageTagMutability is set as %s; use %s_WITH_EXCLUSION", mutability, mutability)
	}
	for i, f := range filters {
		if f.Type != FilterWildcard {
			return "", invalidParameter(fmt.Sprintf("imageTagMutabilityExclusionFilters.%d.member.filterType", i+1), "Member must satisfy enum value set: [%s]", FilterWildcard)
		}
	}
	return mutability, nil
}

// checkEncryption validates an encryption configuration and fills in the
// default key of the KMS types.
func checkEncryption(reg meta.RegistryKey, e *Encryption) (Encryption, error) {
	if e == nil {
		return Encryption{Type: EncryptionAES256}, nil
	}
	out := *e
	switch out.Type {
	case "", EncryptionAES256:
		out.Type = EncryptionAES256
		if out.KMSKey != "" {
			return out, invalidParameter("encryptionConfiguration.kmsKey", "A KMS key can only be specified with the %s or %s encryption type, not with %s", EncryptionKMS, EncryptionKMSDSSE, EncryptionAES256)
		}
	case EncryptionKMS, EncryptionKMSDSSE:
		if out.KMSKey == "" {
			// As in ECR: no key means the AWS managed key for ECR.
			out.KMSKey = fmt.Sprintf("arn:aws:kms:%s:%s:alias/aws/ecr", reg.Region, reg.Account)
		}
	default:
		return out, invalidParameter("encryptionConfiguration.encryptionType", "Member must satisfy enum value set: [%s, %s, %s]", EncryptionAES256, EncryptionKMS, EncryptionKMSDSSE)
	}
	return out, nil
}

func tagInvalid(format string, args ...any) *Error {
	return errorf(ErrResourceTagInvalid, format, args...)
}

// checkResourceTags applies ECR's rules to the tags of one request.
func checkResourceTags(tags []ResourceTag) error {
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if err := checkResourceTagKey(t.Key); err != nil {
			return err
		}
		if n := utf8.RuneCountInString(t.Value); n > maxResourceTagVal {
			return tagInvalid("The value of tag '%s' is %d characters long. Tag keys can have a maximum character length of %d characters, and tag values can have a maximum length of %d characters.", truncate(t.Key, 128), n, maxResourceTagKey, maxResourceTagVal)
		}
		if seen[t.Key] {
			return tagInvalid("The tag key '%s' appears more than once in the request. Tag keys must be unique.", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

func checkResourceTagKey(key string) error {
	n := utf8.RuneCountInString(key)
	switch {
	case n == 0:
		return tagInvalid("A tag key must be at least 1 character long.")
	case n > maxResourceTagKey:
		return tagInvalid("The tag key '%s' is %d characters long. Tag keys can have a maximum character length of %d characters, and tag values can have a maximum length of %d characters.", truncate(key, 128), n, maxResourceTagKey, maxResourceTagVal)
	case strings.HasPrefix(strings.ToLower(key), "aws:"):
		return tagInvalid("The tag key '%s' uses the prefix 'aws:', which is reserved for AWS use.", key)
	}
	return nil
}

func tooManyTags(name string, n int) *Error {
	return errorf(ErrTooManyResourceTags, "The list of tags on the repository is over the limit. The maximum number of tags that can be applied to a repository is %d; repository '%s' would have %d.", MaxResourceTags, name, n)
}

// mergeResourceTags adds tags to have, replacing the values of keys it
// already holds, and keeps the result sorted by key.
func mergeResourceTags(have, add []ResourceTag) []ResourceTag {
	out := slices.Clone(have)
	for _, t := range add {
		i := slices.IndexFunc(out, func(h ResourceTag) bool { return h.Key == t.Key })
		if i >= 0 {
			out[i].Value = t.Value
		} else {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b ResourceTag) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// CreateRepositoryWith creates a repository configured by spec.
func (s *Service) CreateRepositoryWith(ctx context.Context, reg meta.RegistryKey, spec RepositorySpec) (*RepositoryInfo, error) {
	if err := ValidateRepositoryName(spec.Name); err != nil {
		return nil, err
	}
	mutability, err := checkTagMutability(spec.TagMutability, spec.TagMutabilityExclusions)
	if err != nil {
		return nil, err
	}
	enc, err := checkEncryption(reg, spec.Encryption)
	if err != nil {
		return nil, err
	}
	if err := checkResourceTags(spec.Tags); err != nil {
		return nil, err
	}
	if len(spec.Tags) > MaxResourceTags {
		return nil, tooManyTags(spec.Name, len(spec.Tags))
	}
	catalog, err := s.catalogOf(ctx, reg, spec.Catalog)
	if err != nil {
		return nil, err
	}
	c := RepositoryConfig{
		Catalog:                 catalog,
		ScanOnPush:              spec.ScanOnPush,
		Encryption:              enc,
		TagMutabilityExclusions: slices.Clone(spec.TagMutabilityExclusions),
		Tags:                    mergeResourceTags(nil, spec.Tags),
	}
	settings, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode repository settings: %w", err)
	}
	r := &meta.Repository{Registry: reg, Name: spec.Name, CreatedAt: s.now().UTC(), TagMutability: mutability, Settings: settings}
	err = s.meta.CreateRepository(ctx, r)
	if errors.Is(err, meta.ErrRepositoryExists) {
		return nil, errorf(ErrRepositoryExists, "The repository with name '%s' already exists in the registry with id '%s'", spec.Name, reg.Account)
	}
	if err != nil {
		return nil, fmt.Errorf("create repository %s: %w", spec.Name, err)
	}
	// Decisions made while the repository did not exist ignored its tags.
	s.changes.Changed(ctx, changes.Policies, changes.Repositories)
	return &RepositoryInfo{Repository: r, Config: c}, nil
}

// DescribeRepository returns a repository with its configuration.
func (s *Service) DescribeRepository(ctx context.Context, reg meta.RegistryKey, name string) (*RepositoryInfo, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, err
	}
	return info(r)
}

// ListRepositoryInfos returns up to n repositories of a registry whose names
// sort after after, and whether more follow.
func (s *Service) ListRepositoryInfos(ctx context.Context, reg meta.RegistryKey, after string, n int) ([]*RepositoryInfo, bool, error) {
	if n < 1 || n > MaxPageSize {
		return nil, false, errorf(ErrPaginationInvalid, "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and %d'", MaxPageSize)
	}
	repos, err := s.meta.ListRepositories(ctx, reg, after, n+1)
	if err != nil {
		return nil, false, fmt.Errorf("list repositories: %w", err)
	}
	more := len(repos) > n
	if more {
		repos = repos[:n]
	}
	out := make([]*RepositoryInfo, 0, len(repos))
	for _, r := range repos {
		ri, err := info(r)
		if err != nil {
			return nil, false, err
		}
		out = append(out, ri)
	}
	return out, more, nil
}

// DeleteRepository deletes a repository and returns it as it was. Without
// force a repository that holds images is kept.
func (s *Service) DeleteRepository(ctx context.Context, reg meta.RegistryKey, name string, force bool) (*RepositoryInfo, error) {
	ri, err := s.DescribeRepository(ctx, reg, name)
	if err != nil {
		return nil, err
	}
	err = s.meta.DeleteRepository(ctx, ri.ID, force)
	switch {
	case errors.Is(err, meta.ErrRepositoryNotEmpty):
		return nil, errorf(ErrRepositoryNotEmpty, "The repository with name '%s' in registry with id '%s' cannot be deleted because it still contains images", name, reg.Account)
	case errors.Is(err, meta.ErrRepositoryUnknown):
		return nil, repositoryNotFound(name, reg.Account)
	case err != nil:
		return nil, fmt.Errorf("delete repository %s: %w", name, err)
	}
	// Its policy and tags go with it.
	s.changes.Changed(ctx, changes.Policies, changes.Repositories)
	return ri, nil
}

// modify changes a repository's configuration in one store transaction.
func (s *Service) modify(ctx context.Context, reg meta.RegistryKey, name string, fn func(r *meta.Repository, c *RepositoryConfig) error) (*RepositoryInfo, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, err
	}
	var out *RepositoryInfo
	err = s.meta.ModifyRepository(ctx, r.ID, func(m *meta.Repository) error {
		c, err := decodeConfig(m)
		if err != nil {
			return err
		}
		if err := fn(m, &c); err != nil {
			return err
		}
		if m.Settings, err = json.Marshal(c); err != nil {
			return fmt.Errorf("encode repository settings: %w", err)
		}
		out = &RepositoryInfo{Repository: m, Config: c}
		return nil
	})
	var de *Error
	switch {
	case errors.As(err, &de):
		return nil, de
	case errors.Is(err, meta.ErrRepositoryUnknown):
		// Deleted since we looked it up.
		return nil, repositoryNotFound(name, reg.Account)
	case err != nil:
		return nil, fmt.Errorf("update repository %s: %w", name, err)
	}
	// A repository's policy and tags feed authorization decisions.
	s.changes.Changed(ctx, changes.Policies, changes.Repositories)
	return out, nil
}

// SetTagMutability sets a repository's imageTagMutability and its
// exclusion filters.
func (s *Service) SetTagMutability(ctx context.Context, reg meta.RegistryKey, name, mutability string, filters []TagFilter) (*RepositoryInfo, error) {
	mutability, err := checkTagMutability(mutability, filters)
	if err != nil {
		return nil, err
	}
	return s.modify(ctx, reg, name, func(r *meta.Repository, c *RepositoryConfig) error {
		r.TagMutability = mutability
		c.TagMutabilityExclusions = slices.Clone(filters)
		return nil
	})
}

// SetScanOnPush sets whether pushed images are scanned.
func (s *Service) SetScanOnPush(ctx context.Context, reg meta.RegistryKey, name string, on bool) (*RepositoryInfo, error) {
	return s.modify(ctx, reg, name, func(_ *meta.Repository, c *RepositoryConfig) error {
		c.ScanOnPush = on
		return nil
	})
}

// TagRepository adds resource tags to a repository, replacing the values
// of keys it already has.
func (s *Service) TagRepository(ctx context.Context, reg meta.RegistryKey, name string, tags []ResourceTag) error {
	if err := checkResourceTags(tags); err != nil {
		return err
	}
	_, err := s.modify(ctx, reg, name, func(_ *meta.Repository, c *RepositoryConfig) error {
		merged := mergeResourceTags(c.Tags, tags)
		if len(merged) > MaxResourceTags {
			return tooManyTags(name, len(merged))
		}
		c.Tags = merged
		return nil
	})
	return err
}

// UntagRepository removes resource tags by key; keys the repository does
// not have are ignored.
func (s *Service) UntagRepository(ctx context.Context, reg meta.RegistryKey, name string, keys []string) error {
	for _, k := range keys {
		if err := checkResourceTagKey(k); err != nil {
			return err
		}
	}
	_, err := s.modify(ctx, reg, name, func(_ *meta.Repository, c *RepositoryConfig) error {
		c.Tags = slices.DeleteFunc(c.Tags, func(t ResourceTag) bool { return slices.Contains(keys, t.Key) })
		return nil
	})
	return err
}

// tagImmutableUnder applies an imageTagMutability setting and its
// exclusion filters to one tag.
func tagImmutableUnder(mutability string, exclusions []TagFilter, tag string) bool {
	switch mutability {
	case TagImmutable:
		return true
	case TagImmutableWithExclusion:
		return !matchesAnyFilter(exclusions, tag)
	case TagMutableWithExclusion:
		return matchesAnyFilter(exclusions, tag)
	}
	return false
}

// tagExclusions reads a repository's exclusion filters for the push path.
// Unreadable settings count as none: the setting itself still applies.
func tagExclusions(r *meta.Repository) []TagFilter {
	if !strings.HasSuffix(r.TagMutability, "_WITH_EXCLUSION") {
		return nil
	}
	c, _ := decodeConfig(r)
	return c.TagMutabilityExclusions
}

func matchesAnyFilter(filters []TagFilter, tag string) bool {
	for _, f := range filters {
		if f.Type == FilterWildcard && MatchWildcard(f.Filter, tag) {
			return true
		}
	}
	return false
}

// MatchWildcard reports whether s matches pattern as a whole, where '*'
// matches any run of characters, the empty run included, and every other
// character only itself (case-sensitively).
func MatchWildcard(pattern, s string) bool {
	// Greedy matching with backtracking to the last star: linear in
	// practice, O(len(pattern)·len(s)) at worst.
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
