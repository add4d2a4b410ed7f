package ecrapi

import (
	"context"
	"encoding/base64"

	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/berth-registry/berth/internal/repoprefix"
)

// Repository creation templates. The operations name no registryId: a
// template is always the caller's, in the call's region.

type templateEncryption struct {
	EncryptionType string `json:"encryptionType"`
	KmsKey         string `json:"kmsKey,omitempty"`
}

type templateOut struct {
	Prefix                             string             `json:"prefix"`
	Description                        string             `json:"description,omitempty"`
	EncryptionConfiguration            templateEncryption `json:"encryptionConfiguration"`
	ResourceTags                       []resourceTag      `json:"resourceTags"`
	ImageTagMutability                 string             `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []tagFilter        `json:"imageTagMutabilityExclusionFilters,omitempty"`
	RepositoryPolicy                   string             `json:"repositoryPolicy,omitempty"`
	LifecyclePolicy                    string             `json:"lifecyclePolicy,omitempty"`
	AppliedFor                         []string           `json:"appliedFor"`
	CustomRoleArn                      string             `json:"customRoleArn,omitempty"`
	CreatedAt                          *awsapi.EpochTime  `json:"createdAt,omitempty"`
	UpdatedAt                          *awsapi.EpochTime  `json:"updatedAt,omitempty"`
}

func templateOutOf(t *registry.Template) templateOut {
	out := templateOut{
		Prefix:                             t.Prefix,
		Description:                        t.Description,
		EncryptionConfiguration:            templateEncryption{EncryptionType: t.Encryption.Type, KmsKey: t.Encryption.KMSKey},
		ResourceTags:                       make([]resourceTag, 0, len(t.ResourceTags)),
		ImageTagMutability:                 t.TagMutability,
		ImageTagMutabilityExclusionFilters: tagFiltersOut(t.TagMutabilityExclusions),
		RepositoryPolicy:                   t.RepositoryPolicy,
		LifecyclePolicy:                    t.LifecyclePolicy,
		AppliedFor:                         t.AppliedFor,
		CustomRoleArn:                      t.CustomRoleARN,
		CreatedAt:                          awsapi.NewEpochTime(t.CreatedAt),
		UpdatedAt:                          awsapi.NewEpochTime(t.UpdatedAt),
	}
	for _, tag := range t.ResourceTags {
		out.ResourceTags = append(out.ResourceTags, resourceTag{Key: tag.Key, Value: tag.Value})
	}
	return out
}

type templateResult struct {
	RegistryID                 string      `json:"registryId"`
	RepositoryCreationTemplate templateOut `json:"repositoryCreationTemplate"`
}

func encryptionIn(e *templateEncryption) *registry.Encryption {
	if e == nil {
		return nil
	}
	return &registry.Encryption{Type: e.EncryptionType, KMSKey: e.KmsKey}
}

type createTemplateIn struct {
	Prefix                             string              `json:"prefix"`
	Description                        string              `json:"description"`
	EncryptionConfiguration            *templateEncryption `json:"encryptionConfiguration"`
	ResourceTags                       []resourceTag       `json:"resourceTags"`
	ImageTagMutability                 string              `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []tagFilter         `json:"imageTagMutabilityExclusionFilters"`
	RepositoryPolicy                   string              `json:"repositoryPolicy"`
	LifecyclePolicy                    string              `json:"lifecyclePolicy"`
	AppliedFor                         []string            `json:"appliedFor"`
	CustomRoleArn                      string              `json:"customRoleArn"`
}

// templateChecks: as ECR documents, managing a template takes the
// template action itself on the registry, ecr:CreateRepository, and the
// rights to put each policy the template carries; those three are asked on
// the namespace the template covers (repository/<prefix>/*, or every
// repository for ROOT), so that a policy can scope them to it.
func templateChecks(c *awsapi.Call, prefix string, repositoryPolicy, lifecyclePolicy bool) []awsapi.Check {
	reg := registryOf(c, nil)
	checks := []awsapi.Check{onRepositoryOf(reg, "*")}
	ns := "*"
	if k := repoprefix.Key(prefix); k != repoprefix.Root {
		ns = k + "/*"
	}
	on := func(action string) awsapi.Check {
		return awsapi.Check{Action: action, Resource: authz.RepositoryARN(reg.Region, reg.Account, ns), Account: reg.Account}
	}
	checks = append(checks, on("ecr:CreateRepository"))
	if repositoryPolicy {
		checks = append(checks, on("ecr:SetRepositoryPolicy"))
	}
	if lifecyclePolicy {
		checks = append(checks, on("ecr:PutLifecyclePolicy"))
	}
	return checks
}

func createTemplateChecks(_ context.Context, c *awsapi.Call, in *createTemplateIn) ([]awsapi.Check, error) {
	return templateChecks(c, in.Prefix, in.RepositoryPolicy != "", in.LifecyclePolicy != ""), nil
}

func (a *API) createRepositoryCreationTemplate(ctx context.Context, c *awsapi.Call, in *createTemplateIn) (*templateResult, error) {
	reg := registryOf(c, nil)
	t, err := a.reg.CreateTemplate(ctx, reg, registry.TemplateSpec{
		Prefix:                  in.Prefix,
		Description:             in.Description,
		AppliedFor:              in.AppliedFor,
		TagMutability:           in.ImageTagMutability,
		TagMutabilityExclusions: tagFiltersIn(in.ImageTagMutabilityExclusionFilters),
		RepositoryPolicy:        in.RepositoryPolicy,
		LifecyclePolicy:         in.LifecyclePolicy,
		ResourceTags:            resourceTagsIn(in.ResourceTags),
		Encryption:              encryptionIn(in.EncryptionConfiguration),
		CustomRoleARN:           in.CustomRoleArn,
	})
	if err != nil {
		return nil, err
	}
	return &templateResult{reg.Account, templateOutOf(t)}, nil
}

// updateTemplateIn tells a member left out (nil: kept) from one sent empty
// (cleared).
type updateTemplateIn struct {
	Prefix                             string              `json:"prefix"`
	Description                        *string             `json:"description"`
	EncryptionConfiguration            *templateEncryption `json:"encryptionConfiguration"`
	ResourceTags                       *[]resourceTag      `json:"resourceTags"`
	ImageTagMutability                 *string             `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters *[]tagFilter        `json:"imageTagMutabilityExclusionFilters"`
	RepositoryPolicy                   *string             `json:"repositoryPolicy"`
	LifecyclePolicy                    *string             `json:"lifecyclePolicy"`
	AppliedFor                         *[]string           `json:"appliedFor"`
	CustomRoleArn                      *string             `json:"customRoleArn"`
}

func updateTemplateChecks(_ context.Context, c *awsapi.Call, in *updateTemplateIn) ([]awsapi.Check, error) {
	set := func(s *string) bool { return s != nil && *s != "" }
	return templateChecks(c, in.Prefix, set(in.RepositoryPolicy), set(in.LifecyclePolicy)), nil
}

func (a *API) updateRepositoryCreationTemplate(ctx context.Context, c *awsapi.Call, in *updateTemplateIn) (*templateResult, error) {
	reg := registryOf(c, nil)
	up := registry.TemplateUpdate{
		Prefix:           in.Prefix,
		Description:      in.Description,
		AppliedFor:       in.AppliedFor,
		TagMutability:    in.ImageTagMutability,
		RepositoryPolicy: in.RepositoryPolicy,
		LifecyclePolicy:  in.LifecyclePolicy,
		Encryption:       encryptionIn(in.EncryptionConfiguration),
		CustomRoleARN:    in.CustomRoleArn,
	}
	if in.ImageTagMutabilityExclusionFilters != nil {
		f := tagFiltersIn(*in.ImageTagMutabilityExclusionFilters)
		if f == nil {
			f = []registry.TagFilter{}
		}
		up.TagMutabilityExclusions = &f
	}
	if in.ResourceTags != nil {
		tags := resourceTagsIn(*in.ResourceTags)
		up.ResourceTags = &tags
	}
	t, err := a.reg.UpdateTemplate(ctx, reg, up)
	if err != nil {
		return nil, err
	}
	return &templateResult{reg.Account, templateOutOf(t)}, nil
}

type templatePrefixIn struct {
	Prefix string `json:"prefix"`
}

func (a *API) deleteRepositoryCreationTemplate(ctx context.Context, c *awsapi.Call, in *templatePrefixIn) (*templateResult, error) {
	reg := registryOf(c, nil)
	t, err := a.reg.DeleteTemplate(ctx, reg, in.Prefix)
	if err != nil {
		return nil, err
	}
	return &templateResult{reg.Account, templateOutOf(t)}, nil
}

// describeTemplatesDefaultPage is the model's documented page without
// maxResults.
const describeTemplatesDefaultPage = 100

type describeTemplatesIn struct {
	Prefixes   []string `json:"prefixes"`
	NextToken  *string  `json:"nextToken"`
	MaxResults *int     `json:"maxResults"`
}

type describeTemplatesOut struct {
	RegistryID                  string        `json:"registryId"`
	RepositoryCreationTemplates []templateOut `json:"repositoryCreationTemplates"`
	NextToken                   string        `json:"nextToken,omitempty"`
}

// The token is the key of the page's last template, base64-encoded so that
// callers treat it as opaque.
func decodeTemplateToken(token string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || !repoprefix.Valid(string(b)) {
		return "", invalidParameter("Invalid parameter at 'nextToken' failed to satisfy constraint: 'the token is not one that DescribeRepositoryCreationTemplates returned'")
	}
	return string(b), nil
}

func (a *API) describeRepositoryCreationTemplates(ctx context.Context, c *awsapi.Call, in *describeTemplatesIn) (*describeTemplatesOut, error) {
	reg := registryOf(c, nil)
	after := ""
	if in.NextToken != nil {
		var err error
		if after, err = decodeTemplateToken(*in.NextToken); err != nil {
			return nil, err
		}
	}
	n := describeTemplatesDefaultPage
	if in.MaxResults != nil {
		n = *in.MaxResults
	}
	page, more, err := a.reg.DescribeTemplates(ctx, reg, in.Prefixes, after, n)
	if err != nil {
		return nil, err
	}
	out := &describeTemplatesOut{RegistryID: reg.Account, RepositoryCreationTemplates: make([]templateOut, 0, len(page))}
	for _, t := range page {
		out.RepositoryCreationTemplates = append(out.RepositoryCreationTemplates, templateOutOf(t))
	}
	if more && len(page) > 0 {
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(registry.TemplateKey(page[len(page)-1])))
	}
	return out, nil
}

// createOnPush creates the repository a push through the API addresses
// (InitiateLayerUpload, PutImage) from the registry's CREATE_ON_PUSH
// template, as the data plane does: when it is missing and a template
// governs its name, and the caller may create it, and tag it with the
// template's tags.
func (a *API) createOnPush(ctx context.Context, c *awsapi.Call, reg registry.Key, name string) error {
	_, err := a.reg.CreateOnPush(ctx, reg, name, func(tags []registry.ResourceTag) error {
		in := make([]resourceTag, len(tags))
		for i, t := range tags {
			in[i] = resourceTag{Key: t.Key, Value: t.Value}
		}
		check := onRepositoryOf(reg, name)
		check.Action, check.Tags = "ecr:CreateRepository", requestTags(in)
		checks := []awsapi.Check{check}
		if len(tags) > 0 {
			check.Action = "ecr:TagResource"
			checks = append(checks, check)
		}
		return c.Authorize(ctx, checks...)
	})
	return err
}
