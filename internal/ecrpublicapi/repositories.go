package ecrpublicapi

import (
	"context"
	"encoding/base64"
	"regexp"
	"slices"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/registry"
)

type repositoryOut struct {
	RepositoryArn  string            `json:"repositoryArn"`
	RegistryID     string            `json:"registryId"`
	RepositoryName string            `json:"repositoryName"`
	RepositoryURI  string            `json:"repositoryUri"`
	CreatedAt      *awsapi.EpochTime `json:"createdAt,omitempty"`
}

// repositoryOut describes a repository of the registry whose primary
// alias is alias.
func (a *API) repositoryOut(ri *registry.RepositoryInfo, alias string) repositoryOut {
	reg := ri.Registry
	return repositoryOut{
		RepositoryArn:  onRepositoryOf(reg, ri.Name).Resource,
		RegistryID:     reg.Account,
		RepositoryName: ri.Name,
		RepositoryURI:  a.host + "/" + alias + "/" + ri.Name,
		CreatedAt:      awsapi.NewEpochTime(ri.CreatedAt),
	}
}

// catalogDataIn is the model's RepositoryCatalogDataInput; the logo comes
// base64-encoded, as the JSON protocol sends blobs.
type catalogDataIn struct {
	Description      string   `json:"description"`
	Architectures    []string `json:"architectures"`
	OperatingSystems []string `json:"operatingSystems"`
	LogoImageBlob    []byte   `json:"logoImageBlob"`
	AboutText        string   `json:"aboutText"`
	UsageText        string   `json:"usageText"`
}

func (in *catalogDataIn) domain() *registry.CatalogInput {
	if in == nil {
		return nil
	}
	return &registry.CatalogInput{
		CatalogData: registry.CatalogData{
			Description: in.Description, AboutText: in.AboutText, UsageText: in.UsageText,
			Architectures: in.Architectures, OperatingSystems: in.OperatingSystems,
		},
		Logo: in.LogoImageBlob,
	}
}

// catalogDataOut is the model's RepositoryCatalogData; logoUrl serves
// the logo from Berth (LogoHandler).
type catalogDataOut struct {
	Description          string   `json:"description,omitempty"`
	LogoURL              string   `json:"logoUrl,omitempty"`
	Architectures        []string `json:"architectures,omitempty"`
	OperatingSystems     []string `json:"operatingSystems,omitempty"`
	AboutText            string   `json:"aboutText,omitempty"`
	UsageText            string   `json:"usageText,omitempty"`
	MarketplaceCertified bool     `json:"marketplaceCertified"`
}

func (a *API) catalogOut(reg registry.Key, cd *registry.CatalogData) catalogDataOut {
	if cd == nil {
		return catalogDataOut{}
	}
	out := catalogDataOut{Description: cd.Description, Architectures: cd.Architectures, OperatingSystems: cd.OperatingSystems,
		AboutText: cd.AboutText, UsageText: cd.UsageText}
	if cd.LogoDigest != "" && a.baseURL != nil {
		out.LogoURL = a.baseURL() + LogoPath + reg.Account + "/" + cd.LogoDigest
	}
	return out
}

type resourceTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func resourceTagsIn(in []resourceTag) []registry.ResourceTag {
	out := make([]registry.ResourceTag, len(in))
	for i, t := range in {
		out[i] = registry.ResourceTag{Key: t.Key, Value: t.Value}
	}
	return out
}

func requestTags(in []resourceTag) map[string]string {
	if len(in) == 0 {
		return nil
	}
	m := make(map[string]string, len(in))
	for _, t := range in {
		m[t.Key] = t.Value
	}
	return m
}

type createRepositoryIn struct {
	RepositoryName string         `json:"repositoryName"`
	CatalogData    *catalogDataIn `json:"catalogData"`
	Tags           []resourceTag  `json:"tags"`
}

type createRepositoryOut struct {
	Repository  repositoryOut  `json:"repository"`
	CatalogData catalogDataOut `json:"catalogData"`
}

// createRepositoryChecks: as in ECR, creating with tags also takes the
// right to tag, and both see the request's tags.
func createRepositoryChecks(_ context.Context, c *awsapi.Call, in *createRepositoryIn) ([]awsapi.Check, error) {
	if err := inRegion(c); err != nil {
		return nil, err
	}
	check := onRepositoryOf(registryOf(c, nil), in.RepositoryName)
	check.Tags = requestTags(in.Tags)
	checks := []awsapi.Check{check}
	if len(in.Tags) > 0 {
		check.Action = "ecr-public:TagResource"
		checks = append(checks, check)
	}
	return checks, nil
}

func (a *API) createRepository(ctx context.Context, c *awsapi.Call, in *createRepositoryIn) (*createRepositoryOut, error) {
	reg := registryOf(c, nil)
	alias, err := a.alias(ctx, reg)
	if err != nil {
		return nil, err
	}
	ri, err := a.reg.CreateRepositoryWith(ctx, reg, registry.RepositorySpec{
		Name:    in.RepositoryName,
		Tags:    resourceTagsIn(in.Tags),
		Catalog: in.CatalogData.domain(),
	})
	if err != nil {
		return nil, err
	}
	return &createRepositoryOut{a.repositoryOut(ri, alias), a.catalogOut(reg, ri.Config.Catalog)}, nil
}

type describeRepositoriesIn struct {
	RegistryID      *string  `json:"registryId"`
	RepositoryNames []string `json:"repositoryNames"`
	NextToken       *string  `json:"nextToken"`
	MaxResults      *int     `json:"maxResults"`
}

type describeRepositoriesOut struct {
	Repositories []repositoryOut `json:"repositories"`
	NextToken    string          `json:"nextToken,omitempty"`
}

func describeRepositoriesChecks(_ context.Context, c *awsapi.Call, in *describeRepositoriesIn) ([]awsapi.Check, error) {
	if err := inRegion(c); err != nil {
		return nil, err
	}
	reg := registryOf(c, in.RegistryID)
	if len(in.RepositoryNames) == 0 {
		return []awsapi.Check{onRepositoryOf(reg, "*")}, nil
	}
	var checks []awsapi.Check
	for _, name := range uniqueNames(in.RepositoryNames) {
		checks = append(checks, onRepositoryOf(reg, name))
	}
	return checks, nil
}

func uniqueNames(names []string) []string {
	var seen []string
	for _, name := range names {
		if !slices.Contains(seen, name) {
			seen = append(seen, name)
		}
	}
	return seen
}

// DescribeRepositories pages by name: the token is the page's last name,
// base64-encoded so that callers treat it as opaque.
const defaultPage = 100

func (a *API) describeRepositories(ctx context.Context, c *awsapi.Call, in *describeRepositoriesIn) (*describeRepositoriesOut, error) {
	reg := registryOf(c, in.RegistryID)
	alias, err := a.alias(ctx, reg)
	if err != nil {
		return nil, err
	}
	out := &describeRepositoriesOut{Repositories: []repositoryOut{}}
	if len(in.RepositoryNames) > 0 {
		if in.MaxResults != nil || in.NextToken != nil {
			return nil, invalidParameter("Invalid parameter: maxResults and nextToken cannot be used together with repositoryNames")
		}
		for _, name := range uniqueNames(in.RepositoryNames) {
			ri, err := a.reg.DescribeRepository(ctx, reg, name)
			if err != nil {
				return nil, err
			}
			out.Repositories = append(out.Repositories, a.repositoryOut(ri, alias))
		}
		return out, nil
	}
	after := ""
	if in.NextToken != nil {
		b, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		if err != nil || registry.ValidateRepositoryName(string(b)) != nil {
			return nil, invalidParameter("Invalid parameter at 'nextToken': the token is not one that DescribeRepositories returned")
		}
		after = string(b)
	}
	n := defaultPage
	if in.MaxResults != nil {
		n = *in.MaxResults
	}
	page, more, err := a.reg.ListRepositoryInfos(ctx, reg, after, n)
	if err != nil {
		return nil, err
	}
	for _, ri := range page {
		out.Repositories = append(out.Repositories, a.repositoryOut(ri, alias))
	}
	if more && len(page) > 0 {
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(page[len(page)-1].Name))
	}
	return out, nil
}

type deleteRepositoryIn struct {
	repoRef
	Force bool `json:"force"`
}

type repositoryResult struct {
	Repository repositoryOut `json:"repository"`
}

func (a *API) deleteRepository(ctx context.Context, c *awsapi.Call, in *deleteRepositoryIn) (*repositoryResult, error) {
	reg := in.registry(c)
	alias, err := a.alias(ctx, reg)
	if err != nil {
		return nil, err
	}
	ri, err := a.reg.DeleteRepository(ctx, reg, in.RepositoryName, in.Force)
	if err != nil {
		return nil, err
	}
	return &repositoryResult{a.repositoryOut(ri, alias)}, nil
}

type catalogDataResult struct {
	CatalogData catalogDataOut `json:"catalogData"`
}

func (a *API) getRepositoryCatalogData(ctx context.Context, c *awsapi.Call, in *repoRef) (*catalogDataResult, error) {
	reg := in.registry(c)
	ri, err := a.reg.DescribeRepository(ctx, reg, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	return &catalogDataResult{a.catalogOut(reg, ri.Config.Catalog)}, nil
}

type putRepositoryCatalogDataIn struct {
	repoRef
	CatalogData *catalogDataIn `json:"catalogData"`
}

func (a *API) putRepositoryCatalogData(ctx context.Context, c *awsapi.Call, in *putRepositoryCatalogDataIn) (*catalogDataResult, error) {
	reg := in.registry(c)
	cd, err := a.reg.PutCatalogData(ctx, reg, in.RepositoryName, *in.CatalogData.domain())
	if err != nil {
		return nil, err
	}
	return &catalogDataResult{a.catalogOut(reg, cd)}, nil
}

type repositoryPolicyIn struct {
	repoRef
	PolicyText string `json:"policyText"`
	Force      bool   `json:"force"`
}

type repositoryPolicyOut struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	PolicyText     string `json:"policyText,omitempty"`
}

func (a *API) setRepositoryPolicy(ctx context.Context, c *awsapi.Call, in *repositoryPolicyIn) (*repositoryPolicyOut, error) {
	reg := in.registry(c)
	if _, err := a.reg.SetRepositoryPolicy(ctx, reg, in.RepositoryName, in.PolicyText); err != nil {
		return nil, err
	}
	return &repositoryPolicyOut{reg.Account, in.RepositoryName, in.PolicyText}, nil
}

func (a *API) getRepositoryPolicy(ctx context.Context, c *awsapi.Call, in *repoRef) (*repositoryPolicyOut, error) {
	reg := in.registry(c)
	text, err := a.reg.RepositoryPolicy(ctx, reg, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	return &repositoryPolicyOut{reg.Account, in.RepositoryName, text}, nil
}

func (a *API) deleteRepositoryPolicy(ctx context.Context, c *awsapi.Call, in *repoRef) (*repositoryPolicyOut, error) {
	reg := in.registry(c)
	text, err := a.reg.DeleteRepositoryPolicy(ctx, reg, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	return &repositoryPolicyOut{reg.Account, in.RepositoryName, text}, nil
}

// ECR Public's repository ARN: arn:aws:ecr-public::<account>:repository/<name>.
var repositoryARNRE = regexp.MustCompile(`^arn:aws:ecr-public::([0-9]{12}):repository/(.+)$`)

type resourceRef struct {
	ResourceArn string `json:"resourceArn"`
}

func (r resourceRef) arn() string { return r.ResourceArn }

type namesResource interface{ arn() string }

func taggedRepository(arn string) (registry.Key, string, error) {
	m := repositoryARNRE.FindStringSubmatch(arn)
	if m == nil || registry.ValidateRepositoryName(m[2]) != nil {
		return registry.Key{}, "", invalidParameter("Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'")
	}
	return registry.PublicRegistry(m[1]), m[2], nil
}

func onTaggedResource[In namesResource](_ context.Context, c *awsapi.Call, in *In) ([]awsapi.Check, error) {
	if err := inRegion(c); err != nil {
		return nil, err
	}
	reg, name, err := taggedRepository((*in).arn())
	if err != nil {
		return nil, err
	}
	return []awsapi.Check{onRepositoryOf(reg, name)}, nil
}

type tagResourceIn struct {
	resourceRef
	Tags []resourceTag `json:"tags"`
}

func tagResourceChecks(ctx context.Context, c *awsapi.Call, in *tagResourceIn) ([]awsapi.Check, error) {
	checks, err := onTaggedResource(ctx, c, in)
	if err != nil {
		return nil, err
	}
	checks[0].Tags = requestTags(in.Tags)
	return checks, nil
}

func (a *API) tagResource(ctx context.Context, _ *awsapi.Call, in *tagResourceIn) (struct{}, error) {
	reg, name, err := taggedRepository(in.ResourceArn)
	if err != nil {
		return struct{}{}, err
	}
	return struct{}{}, a.reg.TagRepository(ctx, reg, name, resourceTagsIn(in.Tags))
}

type untagResourceIn struct {
	resourceRef
	TagKeys []string `json:"tagKeys"`
}

func (a *API) untagResource(ctx context.Context, _ *awsapi.Call, in *untagResourceIn) (struct{}, error) {
	reg, name, err := taggedRepository(in.ResourceArn)
	if err != nil {
		return struct{}{}, err
	}
	return struct{}{}, a.reg.UntagRepository(ctx, reg, name, in.TagKeys)
}

type listTagsForResourceOut struct {
	Tags []resourceTag `json:"tags"`
}

func (a *API) listTagsForResource(ctx context.Context, _ *awsapi.Call, in *resourceRef) (*listTagsForResourceOut, error) {
	reg, name, err := taggedRepository(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	ri, err := a.reg.DescribeRepository(ctx, reg, name)
	if err != nil {
		return nil, err
	}
	out := &listTagsForResourceOut{Tags: make([]resourceTag, 0, len(ri.Config.Tags))}
	for _, t := range ri.Config.Tags {
		out.Tags = append(out.Tags, resourceTag{Key: t.Key, Value: t.Value})
	}
	return out, nil
}
