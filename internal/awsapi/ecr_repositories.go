package awsapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"slices"

	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
)

func init() {
	registerECR("CreateRepository", createRepository)
	registerECR("DescribeRepositories", describeRepositories)
	registerECR("DeleteRepository", deleteRepository)
	registerECR("PutImageTagMutability", putImageTagMutability)
	registerECR("PutImageScanningConfiguration", putImageScanningConfiguration)
	registerECR("TagResource", tagResource)
	registerECR("UntagResource", untagResource)
	registerECR("ListTagsForResource", listTagsForResource)
}

// The ECR shapes of a repository's configuration, as the model names them.
type (
	ecrRepositoryOut struct {
		RepositoryArn                      string              `json:"repositoryArn"`
		RegistryID                         string              `json:"registryId"`
		RepositoryName                     string              `json:"repositoryName"`
		RepositoryURI                      string              `json:"repositoryUri"`
		CreatedAt                          *epochTime          `json:"createdAt,omitempty"`
		ImageTagMutability                 string              `json:"imageTagMutability"`
		ImageTagMutabilityExclusionFilters []ecrTagFilter      `json:"imageTagMutabilityExclusionFilters,omitempty"`
		ImageScanningConfiguration         ecrScanningConfig   `json:"imageScanningConfiguration"`
		EncryptionConfiguration            ecrEncryptionConfig `json:"encryptionConfiguration"`
	}
	ecrTagFilter struct {
		FilterType string `json:"filterType"`
		Filter     string `json:"filter"`
	}
	ecrScanningConfig struct {
		ScanOnPush bool `json:"scanOnPush"`
	}
	ecrEncryptionConfig struct {
		EncryptionType string `json:"encryptionType"`
		KmsKey         string `json:"kmsKey,omitempty"`
	}
	ecrResourceTag struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	}
)

func (e *ecrAPI) repositoryOut(ri *registry.RepositoryInfo) ecrRepositoryOut {
	reg := ri.Registry
	mutability := ri.TagMutability
	if mutability == "" {
		mutability = registry.TagMutable
	}
	return ecrRepositoryOut{
		RepositoryArn:                      authz.RepositoryARN(reg.Region, reg.Account, ri.Name),
		RegistryID:                         reg.Account,
		RepositoryName:                     ri.Name,
		RepositoryURI:                      e.repositoryURI(reg, ri.Name),
		CreatedAt:                          newEpoch(ri.CreatedAt),
		ImageTagMutability:                 mutability,
		ImageTagMutabilityExclusionFilters: tagFiltersOut(ri.Config.TagMutabilityExclusions),
		ImageScanningConfiguration:         ecrScanningConfig{ScanOnPush: ri.Config.ScanOnPush},
		EncryptionConfiguration: ecrEncryptionConfig{
			EncryptionType: ri.Config.Encryption.Type,
			KmsKey:         ri.Config.Encryption.KMSKey,
		},
	}
}

// repositoryURI is the repository's address for docker: the data plane's
// host for the registry, without scheme, then the name.
func (e *ecrAPI) repositoryURI(reg meta.RegistryKey, name string) string {
	base := e.s.opts.Endpoint(reg.Account, reg.Region)
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		base = u.Host
	}
	return base + "/" + name
}

func tagFiltersIn(in []ecrTagFilter) []registry.TagFilter {
	if in == nil {
		return nil
	}
	out := make([]registry.TagFilter, len(in))
	for i, f := range in {
		out[i] = registry.TagFilter{Type: f.FilterType, Filter: f.Filter}
	}
	return out
}

func tagFiltersOut(in []registry.TagFilter) []ecrTagFilter {
	if len(in) == 0 {
		return nil
	}
	out := make([]ecrTagFilter, len(in))
	for i, f := range in {
		out[i] = ecrTagFilter{FilterType: f.Type, Filter: f.Filter}
	}
	return out
}

func resourceTagsIn(in []ecrResourceTag) []registry.ResourceTag {
	out := make([]registry.ResourceTag, len(in))
	for i, t := range in {
		out[i] = registry.ResourceTag{Key: t.Key, Value: t.Value}
	}
	return out
}

func createRepository(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		RegistryID                         *string              `json:"registryId"`
		RepositoryName                     string               `json:"repositoryName"`
		Tags                               []ecrResourceTag     `json:"tags"`
		ImageTagMutability                 string               `json:"imageTagMutability"`
		ImageTagMutabilityExclusionFilters []ecrTagFilter       `json:"imageTagMutabilityExclusionFilters"`
		ImageScanningConfiguration         *ecrScanningConfig   `json:"imageScanningConfiguration"`
		EncryptionConfiguration            *ecrEncryptionConfig `json:"encryptionConfiguration"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	if err := e.authorizeTags(ctx, c, "ecr:CreateRepository", reg, in.RepositoryName, in.Tags); err != nil {
		return nil, err
	}
	// As in ECR, creating a repository with tags also takes the right to tag it.
	if len(in.Tags) > 0 {
		if err := e.authorizeTags(ctx, c, "ecr:TagResource", reg, in.RepositoryName, in.Tags); err != nil {
			return nil, err
		}
	}
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
	ri, err := e.reg.CreateRepositoryWith(ctx, reg, spec)
	if err != nil {
		return nil, ecrError(err, nil)
	}
	// Decisions made while the repository did not exist ignored its tags.
	e.s.policiesChanged()
	return struct {
		Repository ecrRepositoryOut `json:"repository"`
	}{e.repositoryOut(ri)}, nil
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
		return "", errorf("InvalidParameterException", "Invalid parameter at 'nextToken' failed to satisfy constraint: 'the token is not one that DescribeRepositories returned'")
	}
	return string(b), nil
}

func describeRepositories(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		RegistryID      *string  `json:"registryId"`
		RepositoryNames []string `json:"repositoryNames"`
		NextToken       *string  `json:"nextToken"`
		MaxResults      *int     `json:"maxResults"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	var out struct {
		Repositories []ecrRepositoryOut `json:"repositories"`
		NextToken    string             `json:"nextToken,omitempty"`
	}
	out.Repositories = []ecrRepositoryOut{}

	if len(in.RepositoryNames) > 0 {
		if in.MaxResults != nil {
			return nil, errorf("InvalidParameterException", "Invalid parameter at 'maxResults' failed to satisfy constraint: 'maxResults cannot be used together with repositoryNames'")
		}
		if in.NextToken != nil {
			return nil, errorf("InvalidParameterException", "Invalid parameter at 'nextToken' failed to satisfy constraint: 'nextToken cannot be used together with repositoryNames'")
		}
		var seen []string
		for _, name := range in.RepositoryNames {
			if slices.Contains(seen, name) {
				continue
			}
			seen = append(seen, name)
			if err := e.authorize(ctx, c, "ecr:DescribeRepositories", reg, name); err != nil {
				return nil, err
			}
			ri, err := e.reg.DescribeRepository(ctx, reg, name)
			if err != nil {
				return nil, ecrError(err, nil)
			}
			out.Repositories = append(out.Repositories, e.repositoryOut(ri))
		}
		return out, nil
	}

	if err := e.authorize(ctx, c, "ecr:DescribeRepositories", reg, "*"); err != nil {
		return nil, err
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
	page, more, err := e.reg.ListRepositoryInfos(ctx, reg, after, n)
	if err != nil {
		return nil, ecrError(err, nil)
	}
	for _, ri := range page {
		out.Repositories = append(out.Repositories, e.repositoryOut(ri))
	}
	if more && len(page) > 0 {
		out.NextToken = encodeRepositoryToken(page[len(page)-1].Name)
	}
	return out, nil
}

func deleteRepository(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		RegistryID     *string `json:"registryId"`
		RepositoryName string  `json:"repositoryName"`
		Force          bool    `json:"force"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	if err := e.authorize(ctx, c, "ecr:DeleteRepository", reg, in.RepositoryName); err != nil {
		return nil, err
	}
	ri, err := e.reg.DeleteRepository(ctx, reg, in.RepositoryName, in.Force)
	if err != nil {
		return nil, ecrError(err, nil)
	}
	// Its policy goes with it.
	e.s.policiesChanged()
	return struct {
		Repository ecrRepositoryOut `json:"repository"`
	}{e.repositoryOut(ri)}, nil
}

func putImageTagMutability(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		RegistryID                         *string        `json:"registryId"`
		RepositoryName                     string         `json:"repositoryName"`
		ImageTagMutability                 string         `json:"imageTagMutability"`
		ImageTagMutabilityExclusionFilters []ecrTagFilter `json:"imageTagMutabilityExclusionFilters"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	if err := e.authorize(ctx, c, "ecr:PutImageTagMutability", reg, in.RepositoryName); err != nil {
		return nil, err
	}
	ri, err := e.reg.SetTagMutability(ctx, reg, in.RepositoryName, in.ImageTagMutability, tagFiltersIn(in.ImageTagMutabilityExclusionFilters))
	if err != nil {
		return nil, ecrError(err, nil)
	}
	return struct {
		RegistryID                         string         `json:"registryId"`
		RepositoryName                     string         `json:"repositoryName"`
		ImageTagMutability                 string         `json:"imageTagMutability"`
		ImageTagMutabilityExclusionFilters []ecrTagFilter `json:"imageTagMutabilityExclusionFilters,omitempty"`
	}{reg.Account, ri.Name, ri.TagMutability, tagFiltersOut(ri.Config.TagMutabilityExclusions)}, nil
}

func putImageScanningConfiguration(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		RegistryID                 *string            `json:"registryId"`
		RepositoryName             string             `json:"repositoryName"`
		ImageScanningConfiguration *ecrScanningConfig `json:"imageScanningConfiguration"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	if err := e.authorize(ctx, c, "ecr:PutImageScanningConfiguration", reg, in.RepositoryName); err != nil {
		return nil, err
	}
	var scan ecrScanningConfig
	if in.ImageScanningConfiguration != nil {
		scan = *in.ImageScanningConfiguration
	}
	ri, err := e.reg.SetScanOnPush(ctx, reg, in.RepositoryName, scan.ScanOnPush)
	if err != nil {
		return nil, ecrError(err, nil)
	}
	return struct {
		RegistryID                 string            `json:"registryId"`
		RepositoryName             string            `json:"repositoryName"`
		ImageScanningConfiguration ecrScanningConfig `json:"imageScanningConfiguration"`
	}{reg.Account, ri.Name, ecrScanningConfig{ScanOnPush: ri.Config.ScanOnPush}}, nil
}

// repositoryARNRE matches a repository ARN; the name is checked apart.
var repositoryARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:ecr:([a-z0-9-]+):([0-9]{12}):repository/(.+)$`)

// taggedRepository resolves a TagResource-family resourceArn, which must
// name a repository in the region the call was sent to.
func taggedRepository(c *Call, arn string) (meta.RegistryKey, string, error) {
	m := repositoryARNRE.FindStringSubmatch(arn)
	if m == nil || registry.ValidateRepositoryName(m[3]) != nil {
		return meta.RegistryKey{}, "", errorf("InvalidParameterException", "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'")
	}
	if m[1] != c.Region {
		return meta.RegistryKey{}, "", errorf("InvalidParameterException",
			fmt.Sprintf("Invalid parameter at 'resourceArn' failed to satisfy constraint: 'the ARN names region %s but the request was sent to region %s'", m[1], c.Region))
	}
	return meta.RegistryKey{Account: m[2], Region: m[1]}, m[3], nil
}

func tagResource(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		ResourceArn string           `json:"resourceArn"`
		Tags        []ecrResourceTag `json:"tags"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg, name, err := taggedRepository(c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if err := e.authorizeTags(ctx, c, "ecr:TagResource", reg, name, in.Tags); err != nil {
		return nil, err
	}
	if err := e.reg.TagRepository(ctx, reg, name, resourceTagsIn(in.Tags)); err != nil {
		return nil, ecrError(err, nil)
	}
	e.s.policiesChanged()
	return struct{}{}, nil
}

func untagResource(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		ResourceArn string   `json:"resourceArn"`
		TagKeys     []string `json:"tagKeys"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg, name, err := taggedRepository(c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if err := e.authorize(ctx, c, "ecr:UntagResource", reg, name); err != nil {
		return nil, err
	}
	if err := e.reg.UntagRepository(ctx, reg, name, in.TagKeys); err != nil {
		return nil, ecrError(err, nil)
	}
	e.s.policiesChanged()
	return struct{}{}, nil
}

func listTagsForResource(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		ResourceArn string `json:"resourceArn"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg, name, err := taggedRepository(c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if err := e.authorize(ctx, c, "ecr:ListTagsForResource", reg, name); err != nil {
		return nil, err
	}
	ri, err := e.reg.DescribeRepository(ctx, reg, name)
	if err != nil {
		return nil, ecrError(err, nil)
	}
	out := struct {
		Tags []ecrResourceTag `json:"tags"`
	}{Tags: make([]ecrResourceTag, 0, len(ri.Config.Tags))}
	for _, t := range ri.Config.Tags {
		out.Tags = append(out.Tags, ecrResourceTag{Key: t.Key, Value: t.Value})
	}
	return out, nil
}
