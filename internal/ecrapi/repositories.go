package ecrapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"

	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/registry"
)

// The ECR shapes of a repository's configuration, as the model names them.
type (
	repositoryOut struct {
		RepositoryArn                      string            `json:"repositoryArn"`
		RegistryID                         string            `json:"registryId"`
		RepositoryName                     string            `json:"repositoryName"`
		RepositoryURI                      string            `json:"repositoryUri"`
		CreatedAt                          *awsapi.EpochTime `json:"createdAt,omitempty"`
		ImageTagMutability                 string            `json:"imageTagMutability"`
		ImageTagMutabilityExclusionFilters []tagFilter       `json:"imageTagMutabilityExclusionFilters,omitempty"`
		ImageScanningConfiguration         scanningConfig    `json:"imageScanningConfiguration"`
		EncryptionConfiguration            encryptionConfig  `json:"encryptionConfiguration"`
	}
	tagFilter struct {
		FilterType string `json:"filterType"`
		Filter     string `json:"filter"`
	}
	scanningConfig struct {
		ScanOnPush bool `json:"scanOnPush"`
	}
	encryptionConfig struct {
		EncryptionType string `json:"encryptionType"`
		KmsKey         string `json:"kmsKey,omitempty"`
	}
	resourceTag struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	}
)

func (a *API) repositoryOut(ri *registry.RepositoryInfo) repositoryOut {
	reg := ri.Registry
	mutability := ri.TagMutability
	if mutability == "" {
		mutability = registry.TagMutable
	}
	return repositoryOut{
		RepositoryArn:                      authz.RepositoryARN(reg.Region, reg.Account, ri.Name),
		RegistryID:                         reg.Account,
		RepositoryName:                     ri.Name,
		RepositoryURI:                      a.repositoryURI(reg, ri.Name),
		CreatedAt:                          awsapi.NewEpochTime(ri.CreatedAt),
		ImageTagMutability:                 mutability,
		ImageTagMutabilityExclusionFilters: tagFiltersOut(ri.Config.TagMutabilityExclusions),
		ImageScanningConfiguration:         scanningConfig{ScanOnPush: ri.Config.ScanOnPush},
		EncryptionConfiguration: encryptionConfig{
			EncryptionType: ri.Config.Encryption.Type,
			KmsKey:         ri.Config.Encryption.KMSKey,
		},
	}
}

func tagFiltersIn(in []tagFilter) []registry.TagFilter {
	if in == nil {
		return nil
	}
	out := make([]registry.TagFilter, len(in))
	for i, f := range in {
		out[i] = registry.TagFilter{Type: f.FilterType, Filter: f.Filter}
	}
	return out
}

func tagFiltersOut(in []registry.TagFilter) []tagFilter {
	if len(in) == 0 {
		return nil
	}
	out := make([]tagFilter, len(in))
	for i, f := range in {
		out[i] = tagFilter{FilterType: f.Type, Filter: f.Filter}
	}
	return out
}

func resourceTagsIn(in []resourceTag) []registry.ResourceTag {
	out := make([]registry.ResourceTag, len(in))
	for i, t := range in {
		out[i] = registry.ResourceTag{Key: t.Key, Value: t.Value}
	}
	return out
}

// requestTags are the tags a request sets, for aws:RequestTag conditions.
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

type repositoryResult struct {
	Repository repositoryOut `json:"repository"`
}

type createRepositoryIn struct {
	repoRef
	Tags                               []resourceTag     `json:"tags"`
	ImageTagMutability                 string            `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []tagFilter       `json:"imageTagMutabilityExclusionFilters"`
	ImageScanningConfiguration         *scanningConfig   `json:"imageScanningConfiguration"`
	EncryptionConfiguration            *encryptionConfig `json:"encryptionConfiguration"`
}

// createRepositoryChecks: as in ECR, creating a repository with tags also
// takes the right to tag it, and both see the tags the request sets.
func createRepositoryChecks(_ context.Context, c *awsapi.Call, in *createRepositoryIn) ([]awsapi.Check, error) {
	check := onRepositoryOf(in.registry(c), in.RepositoryName)
	check.Tags = requestTags(in.Tags)
	checks := []awsapi.Check{check}
	if len(in.Tags) > 0 {
		check.Action = "ecr:TagResource"
		checks = append(checks, check)
	}
	return checks, nil
}

func (a *API) createRepository(ctx context.Context, c *awsapi.Call, in *createRepositoryIn) (repositoryResult, error) {
	spec := registry.RepositorySpec{
		Name:                    in.RepositoryName,
		TagMutability:           in.ImageTagMutability,
		TagMutabilityExclusions: tagFiltersIn(in.ImageTagMutabilityExclusionFilters),
		Tags:                    resourceTagsIn(in.Tags),
	}
	if in.ImageScanningConfiguration != nil {
		spec.ScanOnPush = in.ImageScanningConfiguration.ScanOnPush
	}
	if ec := in.EncryptionConfiguration; ec != nil {
		spec.Encryption = &registry.Encryption{Type: ec.EncryptionType, KMSKey: ec.KmsKey}
	}
	ri, err := a.reg.CreateRepositoryWith(ctx, in.registry(c), spec)
	if err != nil {
		return repositoryResult{}, err
	}
	return repositoryResult{a.repositoryOut(ri)}, nil
}

// DescribeRepositories pages by name: the token is the last name of the
// page, base64-encoded so that callers treat it as opaque.
const describeRepositoriesDefaultPage = 100

func encodeRepositoryToken(name string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(name))
}

func decodeRepositoryToken(token string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || registry.ValidateRepositoryName(string(b)) != nil {
		return "", invalidParameter("Invalid parameter at 'nextToken' failed to satisfy constraint: 'the token is not one that DescribeRepositories returned'")
	}
	return string(b), nil
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

// describeRepositoriesChecks: each repository named, or the registry when
// the call lists them all.
func describeRepositoriesChecks(_ context.Context, c *awsapi.Call, in *describeRepositoriesIn) ([]awsapi.Check, error) {
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

func (a *API) describeRepositories(ctx context.Context, c *awsapi.Call, in *describeRepositoriesIn) (*describeRepositoriesOut, error) {
	reg := registryOf(c, in.RegistryID)
	out := &describeRepositoriesOut{Repositories: []repositoryOut{}}
	if len(in.RepositoryNames) > 0 {
		if in.MaxResults != nil {
			return nil, invalidParameter("Invalid parameter at 'maxResults' failed to satisfy constraint: 'maxResults cannot be used together with repositoryNames'")
		}
		if in.NextToken != nil {
			return nil, invalidParameter("Invalid parameter at 'nextToken' failed to satisfy constraint: 'nextToken cannot be used together with repositoryNames'")
		}
		for _, name := range uniqueNames(in.RepositoryNames) {
			ri, err := a.reg.DescribeRepository(ctx, reg, name)
			if err != nil {
				return nil, err
			}
			out.Repositories = append(out.Repositories, a.repositoryOut(ri))
		}
		return out, nil
	}
	after := ""
	if in.NextToken != nil {
		var err error
		if after, err = decodeRepositoryToken(*in.NextToken); err != nil {
			return nil, err
		}
	}
	n := describeRepositoriesDefaultPage
	if in.MaxResults != nil {
		n = *in.MaxResults
	}
	page, more, err := a.reg.ListRepositoryInfos(ctx, reg, after, n)
	if err != nil {
		return nil, err
	}
	for _, ri := range page {
		out.Repositories = append(out.Repositories, a.repositoryOut(ri))
	}
	if more && len(page) > 0 {
		out.NextToken = encodeRepositoryToken(page[len(page)-1].Name)
	}
	return out, nil
}

type deleteRepositoryIn struct {
	repoRef
	Force bool `json:"force"`
}

func (a *API) deleteRepository(ctx context.Context, c *awsapi.Call, in *deleteRepositoryIn) (repositoryResult, error) {
	ri, err := a.reg.DeleteRepository(ctx, in.registry(c), in.RepositoryName, in.Force)
	if err != nil {
		return repositoryResult{}, err
	}
	return repositoryResult{a.repositoryOut(ri)}, nil
}

type tagMutability struct {
	ImageTagMutability                 string      `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []tagFilter `json:"imageTagMutabilityExclusionFilters,omitempty"`
}

type putImageTagMutabilityIn struct {
	repoRef
	tagMutability
}

type putImageTagMutabilityOut struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	tagMutability
}

func (a *API) putImageTagMutability(ctx context.Context, c *awsapi.Call, in *putImageTagMutabilityIn) (*putImageTagMutabilityOut, error) {
	reg := in.registry(c)
	ri, err := a.reg.SetTagMutability(ctx, reg, in.RepositoryName, in.ImageTagMutability, tagFiltersIn(in.ImageTagMutabilityExclusionFilters))
	if err != nil {
		return nil, err
	}
	return &putImageTagMutabilityOut{reg.Account, ri.Name, tagMutability{ri.TagMutability, tagFiltersOut(ri.Config.TagMutabilityExclusions)}}, nil
}

type putImageScanningConfigurationIn struct {
	repoRef
	ImageScanningConfiguration *scanningConfig `json:"imageScanningConfiguration"`
}

type putImageScanningConfigurationOut struct {
	RegistryID                 string         `json:"registryId"`
	RepositoryName             string         `json:"repositoryName"`
	ImageScanningConfiguration scanningConfig `json:"imageScanningConfiguration"`
}

func (a *API) putImageScanningConfiguration(ctx context.Context, c *awsapi.Call, in *putImageScanningConfigurationIn) (*putImageScanningConfigurationOut, error) {
	reg := in.registry(c)
	var scan scanningConfig
	if in.ImageScanningConfiguration != nil {
		scan = *in.ImageScanningConfiguration
	}
	ri, err := a.reg.SetScanOnPush(ctx, reg, in.RepositoryName, scan.ScanOnPush)
	if err != nil {
		return nil, err
	}
	return &putImageScanningConfigurationOut{reg.Account, ri.Name, scanningConfig{ScanOnPush: ri.Config.ScanOnPush}}, nil
}

// repositoryARNRE matches a repository ARN; the name is checked apart.
var repositoryARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:ecr:([a-z0-9-]+):([0-9]{12}):repository/(.+)$`)

// taggedRepository resolves a TagResource-family resourceArn, which must
// name a repository in the region the call was sent to.
func taggedRepository(c *awsapi.Call, arn string) (registry.Key, string, error) {
	m := repositoryARNRE.FindStringSubmatch(arn)
	if m == nil || registry.ValidateRepositoryName(m[3]) != nil {
		return registry.Key{}, "", invalidParameter("Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'")
	}
	if m[1] != c.Region {
		return registry.Key{}, "", invalidParameter(
			fmt.Sprintf("Invalid parameter at 'resourceArn' failed to satisfy constraint: 'the ARN names region %s but the request was sent to region %s'", m[1], c.Region))
	}
	return registry.Key{Account: m[2], Region: m[1]}, m[3], nil
}

// namesResource is an input of the TagResource family.
type namesResource interface{ arn() string }

type resourceRef struct {
	ResourceArn string `json:"resourceArn"`
}

func (r resourceRef) arn() string { return r.ResourceArn }

// onTaggedResource authorizes the operation on the repository the
// resourceArn names.
func onTaggedResource[In namesResource](_ context.Context, c *awsapi.Call, in *In) ([]awsapi.Check, error) {
	reg, name, err := taggedRepository(c, (*in).arn())
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

func (a *API) tagResource(ctx context.Context, c *awsapi.Call, in *tagResourceIn) (struct{}, error) {
	reg, name, err := taggedRepository(c, in.ResourceArn)
	if err != nil {
		return struct{}{}, err
	}
	return struct{}{}, a.reg.TagRepository(ctx, reg, name, resourceTagsIn(in.Tags))
}

type untagResourceIn struct {
	resourceRef
	TagKeys []string `json:"tagKeys"`
}

func (a *API) untagResource(ctx context.Context, c *awsapi.Call, in *untagResourceIn) (struct{}, error) {
	reg, name, err := taggedRepository(c, in.ResourceArn)
	if err != nil {
		return struct{}{}, err
	}
	return struct{}{}, a.reg.UntagRepository(ctx, reg, name, in.TagKeys)
}

type listTagsForResourceOut struct {
	Tags []resourceTag `json:"tags"`
}

func (a *API) listTagsForResource(ctx context.Context, c *awsapi.Call, in *resourceRef) (*listTagsForResourceOut, error) {
	reg, name, err := taggedRepository(c, in.ResourceArn)
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
