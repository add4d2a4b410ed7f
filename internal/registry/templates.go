package registry

// Repository creation templates: ECR's Create/Describe/Update/Delete
// RepositoryCreationTemplate, and the repositories created from them on a
// push, for replication and for pull-through. Which template governs a
// repository name is package repoprefix's rule; a template is kept as JSON
// in meta.RepositoryTemplate.Settings under the key of its prefix.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/authz/policy"
	"github.com/berth-registry/berth/internal/changes"
	"github.com/berth-registry/berth/internal/lifecycle"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/repoprefix"
)

// The scenarios a repository creation template applies to: ECR's
// RCTAppliedFor values.
const (
	AppliedForCreateOnPush     = "CREATE_ON_PUSH"
	AppliedForReplication      = "REPLICATION"
	AppliedForPullThroughCache = "PULL_THROUGH_CACHE"
)

var appliedForValues = []string{AppliedForReplication, AppliedForPullThroughCache, AppliedForCreateOnPush}

// MaxTemplates is how many repository creation templates a registry holds.
// Amazon's quota page does not list one; Berth takes 100, the default page
// of DescribeRepositoryCreationTemplates, so that one page shows them all.
const MaxTemplates = 100

// maxTemplateDescription is the model's bound on a description.
const maxTemplateDescription = 256

// Template is a repository creation template: the settings a repository
// created on the caller's behalf receives.
type Template struct {
	Registry meta.RegistryKey `json:"-"`
	// Prefix is the prefix as it was created ("prod", "prod/" or ROOT).
	Prefix      string   `json:"prefix"`
	Description string   `json:"description,omitempty"`
	AppliedFor  []string `json:"appliedFor"`
	// TagMutability and its exclusion filters are those of CreateRepository.
	TagMutability           string        `json:"tagMutability"`
	TagMutabilityExclusions []TagFilter   `json:"tagMutabilityExclusions,omitempty"`
	RepositoryPolicy        string        `json:"repositoryPolicy,omitempty"`
	LifecyclePolicy         string        `json:"lifecyclePolicy,omitempty"`
	ResourceTags            []ResourceTag `json:"resourceTags,omitempty"`
	// Encryption is recorded as given (a KMS type may name no key: the
	// repository gets ECR's default key when it is created).
	Encryption Encryption `json:"encryption"`
	// CustomRoleARN is recorded: Berth creates repositories itself and
	// assumes no role to do it.
	CustomRoleARN string    `json:"customRoleArn,omitempty"`
	CreatedAt     time.Time `json:"-"`
	UpdatedAt     time.Time `json:"-"`
}

// AppliesTo reports whether the template is for the scenario appliedFor.
func (t *Template) AppliesTo(appliedFor string) bool {
	return slices.Contains(t.AppliedFor, appliedFor)
}

// TemplateSpec describes a template to create. Zero values take ECR's
// defaults: MUTABLE tags, AES256 encryption, no policies, no tags.
type TemplateSpec struct {
	Prefix                  string
	Description             string
	AppliedFor              []string
	TagMutability           string
	TagMutabilityExclusions []TagFilter
	RepositoryPolicy        string
	LifecyclePolicy         string
	ResourceTags            []ResourceTag
	Encryption              *Encryption
	CustomRoleARN           string
}

// TemplateUpdate changes a template: each member that is not nil replaces
// the template's (an empty policy, description or list clears it), and
// the others are kept. Setting TagMutability without exclusion filters
// clears the filters, as PutImageTagMutability does.
type TemplateUpdate struct {
	Prefix                  string
	Description             *string
	AppliedFor              *[]string
	TagMutability           *string
	TagMutabilityExclusions *[]TagFilter
	RepositoryPolicy        *string
	LifecyclePolicy         *string
	ResourceTags            *[]ResourceTag
	Encryption              *Encryption
	CustomRoleARN           *string
}

func templateNotFound(reg meta.RegistryKey, prefix string) *Error {
	return errorf(ErrTemplateNotFound, "The repository creation template with prefix '%s' does not exist in the registry with id '%s'", prefix, reg.Account)
}

// roleARNRE matches an IAM role's ARN; the account is checked apart.
var roleARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):role/[A-Za-z0-9+=,.@_/-]{1,512}$`)

// checkPrefix refuses a prefix the model does not allow, for callers that
// did not come through the front door's validation.
func checkPrefix(prefix string) error {
	if !repoprefix.Valid(prefix) {
		return invalidParameter("prefix", "The prefix '%s' is not valid: use ROOT, or a repository namespace of lowercase letters and digits separated by '.', '_', '__', '-' or '/', of at most %d characters, such as 'prod' or 'prod/team/'", truncate(prefix, 300), repoprefix.MaxLength)
	}
	return nil
}

// checkTemplate applies ECR's rules to a whole template, as created or as
// an update leaves it, and normalizes what it stores.
func checkTemplate(t *Template) error {
	if err := checkPrefix(t.Prefix); err != nil {
		return err
	}
	if n := len([]rune(t.Description)); n > maxTemplateDescription {
		return invalidParameter("description", "Member must have length less than or equal to %d; the description has %d characters", maxTemplateDescription, n)
	}
	if len(t.AppliedFor) == 0 {
		return invalidParameter("appliedFor", "A repository creation template must apply to at least one of [%s]", strings.Join(appliedForValues, ", "))
	}
	var applied []string
	for i, a := range t.AppliedFor {
		if !slices.Contains(appliedForValues, a) {
			return invalidParameter(fmt.Sprintf("appliedFor.%d.member", i+1), "Member must satisfy enum value set: [%s]; '%s' is not one of them", strings.Join(appliedForValues, ", "), truncate(a, 64))
		}
		if !slices.Contains(applied, a) {
			applied = append(applied, a)
		}
	}
	t.AppliedFor = applied
	mutability, err := checkTagMutability(t.TagMutability, t.TagMutabilityExclusions)
	if err != nil {
		return err
	}
	t.TagMutability = mutability
	if t.RepositoryPolicy != "" {
		if _, err := checkPolicy(policy.Repository, t.RepositoryPolicy, policy.MaxRepositoryPolicySize,
			"Invalid parameter at 'repositoryPolicy' failed to satisfy constraint: 'Invalid repository policy provided'"); err != nil {
			return err
		}
	}
	if t.LifecyclePolicy != "" {
		if _, err := lifecycle.Parse(t.LifecyclePolicy); err != nil {
			return errorf(ErrLifecyclePolicyInvalid, "Invalid parameter at 'lifecyclePolicy' failed to satisfy constraint: '%s'", err.Error())
		}
	}
	if err := checkResourceTags(t.ResourceTags); err != nil {
		return err
	}
	if len(t.ResourceTags) > MaxResourceTags {
		return errorf(ErrTooManyResourceTags, "A repository creation template can have at most %d resource tags; this one has %d.", MaxResourceTags, len(t.ResourceTags))
	}
	t.ResourceTags = mergeResourceTags(nil, t.ResourceTags)
	if t.Encryption.Type == "" {
		t.Encryption.Type = EncryptionAES256
	}
	// The registry only decides the default KMS key, which is not stored.
	if _, err := checkEncryption(t.Registry, &t.Encryption); err != nil {
		return err
	}
	if t.CustomRoleARN != "" {
		m := roleARNRE.FindStringSubmatch(t.CustomRoleARN)
		if m == nil {
			return invalidParameter("customRoleArn", "'%s' is not the ARN of an IAM role (arn:aws:iam::<account>:role/<name>)", truncate(t.CustomRoleARN, 300))
		}
		if m[1] != t.Registry.Account {
			return invalidParameter("customRoleArn", "The role '%s' is in account '%s'; the role must be in the same account as the registry, '%s'", t.CustomRoleARN, m[1], t.Registry.Account)
		}
	}
	return nil
}

func templateOf(mt *meta.RepositoryTemplate) (*Template, error) {
	var t Template
	if err := json.Unmarshal(mt.Settings, &t); err != nil {
		return nil, fmt.Errorf("repository creation template %s: stored settings are not readable: %w", mt.Key, err)
	}
	t.Registry, t.CreatedAt, t.UpdatedAt = mt.Registry, mt.CreatedAt, mt.UpdatedAt
	return &t, nil
}

// CreateTemplate creates a repository creation template.
func (s *Service) CreateTemplate(ctx context.Context, reg meta.RegistryKey, spec TemplateSpec) (*Template, error) {
	now := s.now().UTC()
	t := &Template{
		Registry:                reg,
		Prefix:                  spec.Prefix,
		Description:             spec.Description,
		AppliedFor:              slices.Clone(spec.AppliedFor),
		TagMutability:           spec.TagMutability,
		TagMutabilityExclusions: slices.Clone(spec.TagMutabilityExclusions),
		RepositoryPolicy:        spec.RepositoryPolicy,
		LifecyclePolicy:         spec.LifecyclePolicy,
		ResourceTags:            slices.Clone(spec.ResourceTags),
		CustomRoleARN:           spec.CustomRoleARN,
		CreatedAt:               now,
		UpdatedAt:               now,
	}
	if spec.Encryption != nil {
		t.Encryption = *spec.Encryption
	}
	if err := checkTemplate(t); err != nil {
		return nil, err
	}
	settings, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encode repository creation template: %w", err)
	}
	key := repoprefix.Key(t.Prefix)
	err = s.meta.CreateTemplate(ctx, &meta.RepositoryTemplate{Registry: reg, Key: key, CreatedAt: now, UpdatedAt: now, Settings: settings}, MaxTemplates)
	switch {
	case errors.Is(err, meta.ErrTemplateExists):
		return nil, errorf(ErrTemplateExists, "A repository creation template with prefix '%s' already exists in the registry with id '%s'", t.Prefix, reg.Account)
	case errors.Is(err, meta.ErrTemplateLimit):
		return nil, errorf(ErrLimitExceeded, "The registry with id '%s' already has %d repository creation templates, the most it can have: delete one before creating another", reg.Account, MaxTemplates)
	case err != nil:
		return nil, fmt.Errorf("create repository creation template %s: %w", t.Prefix, err)
	}
	return t, nil
}

// UpdateTemplate changes a repository creation template.
func (s *Service) UpdateTemplate(ctx context.Context, reg meta.RegistryKey, up TemplateUpdate) (*Template, error) {
	if err := checkPrefix(up.Prefix); err != nil {
		return nil, err
	}
	var out *Template
	mt, err := s.meta.ModifyTemplate(ctx, reg, repoprefix.Key(up.Prefix), func(mt *meta.RepositoryTemplate) error {
		t, err := templateOf(mt)
		if err != nil {
			return err
		}
		applyUpdate(t, up)
		t.UpdatedAt = s.now().UTC()
		if err := checkTemplate(t); err != nil {
			return err
		}
		if mt.Settings, err = json.Marshal(t); err != nil {
			return fmt.Errorf("encode repository creation template: %w", err)
		}
		mt.UpdatedAt, out = t.UpdatedAt, t
		return nil
	})
	var de *Error
	switch {
	case errors.As(err, &de):
		return nil, de
	case errors.Is(err, meta.ErrNotFound):
		return nil, templateNotFound(reg, up.Prefix)
	case err != nil:
		return nil, fmt.Errorf("update repository creation template %s: %w", up.Prefix, err)
	}
	out.CreatedAt, out.UpdatedAt = mt.CreatedAt, mt.UpdatedAt
	return out, nil
}

func applyUpdate(t *Template, up TemplateUpdate) {
	if up.Description != nil {
		t.Description = *up.Description
	}
	if up.AppliedFor != nil {
		t.AppliedFor = slices.Clone(*up.AppliedFor)
	}
	if up.TagMutability != nil {
		t.TagMutability, t.TagMutabilityExclusions = *up.TagMutability, nil
	}
	if up.TagMutabilityExclusions != nil {
		t.TagMutabilityExclusions = slices.Clone(*up.TagMutabilityExclusions)
	}
	if up.RepositoryPolicy != nil {
		t.RepositoryPolicy = *up.RepositoryPolicy
	}
	if up.LifecyclePolicy != nil {
		t.LifecyclePolicy = *up.LifecyclePolicy
	}
	if up.ResourceTags != nil {
		t.ResourceTags = slices.Clone(*up.ResourceTags)
	}
	if up.Encryption != nil {
		t.Encryption = *up.Encryption
	}
	if up.CustomRoleARN != nil {
		t.CustomRoleARN = *up.CustomRoleARN
	}
}

// DeleteTemplate deletes a repository creation template and returns it as
// it was.
func (s *Service) DeleteTemplate(ctx context.Context, reg meta.RegistryKey, prefix string) (*Template, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	mt, err := s.meta.DeleteTemplate(ctx, reg, repoprefix.Key(prefix))
	if errors.Is(err, meta.ErrNotFound) {
		return nil, templateNotFound(reg, prefix)
	}
	if err != nil {
		return nil, fmt.Errorf("delete repository creation template %s: %w", prefix, err)
	}
	return templateOf(mt)
}

// DescribeTemplates returns up to n of a registry's templates, in the
// order of their keys after the key after: all of them, or those of the
// prefixes named (a prefix with no template is left out). more says that
// others follow.
func (s *Service) DescribeTemplates(ctx context.Context, reg meta.RegistryKey, prefixes []string, after string, n int) ([]*Template, bool, error) {
	if n < 1 || n > 1000 {
		return nil, false, errorf(ErrPaginationInvalid, "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and 1000'")
	}
	var found []*meta.RepositoryTemplate
	if len(prefixes) == 0 {
		var err error
		if found, err = s.meta.ListTemplates(ctx, reg, after, n+1); err != nil {
			return nil, false, fmt.Errorf("list repository creation templates: %w", err)
		}
	} else {
		var keys []string
		for _, p := range prefixes {
			if err := checkPrefix(p); err != nil {
				return nil, false, err
			}
			if k := repoprefix.Key(p); k > after && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			if len(found) > n {
				break
			}
			mt, err := s.meta.GetTemplate(ctx, reg, k)
			if errors.Is(err, meta.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, false, fmt.Errorf("get repository creation template %s: %w", k, err)
			}
			found = append(found, mt)
		}
	}
	more := len(found) > n
	if more {
		found = found[:n]
	}
	out := make([]*Template, 0, len(found))
	for _, mt := range found {
		t, err := templateOf(mt)
		if err != nil {
			return nil, false, err
		}
		out = append(out, t)
	}
	return out, more, nil
}

// TemplateKey is the key by which a page of DescribeTemplates continues
// after t.
func TemplateKey(t *Template) string { return repoprefix.Key(t.Prefix) }

// TemplateFor returns the registry's template that governs the repository
// name for the scenario appliedFor, or nil when none does: of the
// templates that apply to the scenario, the one whose prefix matches the
// name longest, else ROOT's.
func (s *Service) TemplateFor(ctx context.Context, reg meta.RegistryKey, name, appliedFor string) (*Template, error) {
	// A registry has at most MaxTemplates: read them all.
	all, err := s.meta.ListTemplates(ctx, reg, "", 0)
	if err != nil {
		return nil, fmt.Errorf("list repository creation templates: %w", err)
	}
	byKey := make(map[string]*Template, len(all))
	var keys []string
	for _, mt := range all {
		t, err := templateOf(mt)
		if err != nil {
			return nil, err
		}
		if t.AppliesTo(appliedFor) {
			byKey[mt.Key] = t
			keys = append(keys, mt.Key)
		}
	}
	k, ok := repoprefix.Best(name, keys)
	if !ok {
		return nil, nil
	}
	return byKey[k], nil
}

// CreateRepositoryFromTemplate returns the repository name of reg, creating
// it if it is missing with the settings of the registry's creation template
// for appliedFor that matches the name, or ECR's defaults when none does.
// Two callers creating one name at once, on one node or several, both
// succeed with the one repository that was created.
func (s *Service) CreateRepositoryFromTemplate(ctx context.Context, reg meta.RegistryKey, name, appliedFor string) (*meta.Repository, error) {
	if !slices.Contains(appliedForValues, appliedFor) {
		return nil, fmt.Errorf("create repository %s from a template: unknown scenario %q", name, appliedFor)
	}
	r, _, err := s.createFromTemplate(ctx, reg, name, appliedFor, true, nil)
	return r, err
}

// CreateOnPush creates the repository a push addresses when it does not
// exist and a CREATE_ON_PUSH template governs its name; allow is asked
// first, with the resource tags the repository would get, and its error
// stops the creation (the front door's authorization: the pusher must be
// allowed to create, and to tag, the repository). It reports whether it
// created the repository; with no template, or the repository there, it
// does nothing, and the push goes on to find the repository or not.
func (s *Service) CreateOnPush(ctx context.Context, reg meta.RegistryKey, name string, allow func(tags []ResourceTag) error) (bool, error) {
	_, created, err := s.createFromTemplate(ctx, reg, name, AppliedForCreateOnPush, false, allow)
	return created, err
}

// createFromTemplate finds or creates the repository. Without a template
// it creates one with ECR's defaults only when orDefaults is set.
func (s *Service) createFromTemplate(ctx context.Context, reg meta.RegistryKey, name, appliedFor string, orDefaults bool, allow func([]ResourceTag) error) (*meta.Repository, bool, error) {
	if err := ValidateRepositoryName(name); err != nil {
		return nil, false, err
	}
	r, err := s.meta.GetRepository(ctx, reg, name)
	if err == nil {
		return r, false, nil
	}
	if !errors.Is(err, meta.ErrRepositoryUnknown) {
		return nil, false, fmt.Errorf("get repository %s: %w", name, err)
	}
	t, err := s.TemplateFor(ctx, reg, name, appliedFor)
	if err != nil {
		return nil, false, err
	}
	if t == nil {
		if !orDefaults {
			return nil, false, nil
		}
		t = &Template{TagMutability: TagMutable, Encryption: Encryption{Type: EncryptionAES256}}
	}
	if allow != nil {
		if err := allow(t.ResourceTags); err != nil {
			return nil, false, err
		}
	}
	r, err = s.repositoryFrom(reg, name, t)
	if err != nil {
		return nil, false, err
	}
	err = s.meta.CreateRepositoryWithLifecycle(ctx, r, t.LifecyclePolicy)
	if errors.Is(err, meta.ErrRepositoryExists) {
		// Another creator, maybe on another node, was first.
		if r, err = s.meta.GetRepository(ctx, reg, name); err != nil {
			return nil, false, fmt.Errorf("get repository %s: %w", name, err)
		}
		return r, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("create repository %s: %w", name, err)
	}
	// Decisions made while the repository did not exist ignored its
	// policy and tags.
	s.changes.Changed(ctx, changes.Policies, changes.Repositories)
	prefix := t.Prefix
	if prefix == "" {
		prefix = "(none: ECR's defaults)"
	}
	s.log.InfoContext(ctx, "repository created from a creation template", "registry", reg.Account, "region", reg.Region,
		"repository", name, "applied_for", appliedFor, "template", prefix)
	return r, true, nil
}

// repositoryFrom is the repository a template gives the name.
func (s *Service) repositoryFrom(reg meta.RegistryKey, name string, t *Template) (*meta.Repository, error) {
	enc, err := checkEncryption(reg, &t.Encryption)
	if err != nil {
		return nil, err
	}
	c := RepositoryConfig{
		Encryption:              enc,
		TagMutabilityExclusions: slices.Clone(t.TagMutabilityExclusions),
		Tags:                    mergeResourceTags(nil, t.ResourceTags),
		Policy:                  t.RepositoryPolicy,
	}
	settings, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode repository settings: %w", err)
	}
	mutability := t.TagMutability
	if mutability == "" {
		mutability = TagMutable
	}
	return &meta.Repository{Registry: reg, Name: name, CreatedAt: s.now().UTC(), TagMutability: mutability, Settings: settings}, nil
}
