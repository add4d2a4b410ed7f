// Package ecrpublicapi answers Amazon ECR Public's API
// (SpencerFrontendService) over the AWS front door, against each account's
// public registry: the registry domain's Key{account, registry.PublicRegion}
// (docs/ecr-public.md). As in package ecrapi, the front door decodes,
// validates against the model and authorizes a row's checks (with
// ecr-public:* actions on ECR Public's ARNs) before its function runs.
package ecrpublicapi

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/registry"
)

// Region is the one region ECR Public's API is served in.
const Region = "us-east-1"

// Options configure the ECR Public API.
type Options struct {
	Registry *registry.Service
	// Tokens issues the logins and seals nextTokens.
	Tokens *authn.Tokens
	// Host is the public registries' data-plane host (--public-registry-host),
	// as it appears in registry and repository URIs.
	Host string
	// BaseURL is where clients reach Berth over HTTP (--public-url), for
	// the logoUrl of catalog data; nil gives no logoUrl.
	BaseURL func() string
	Logger  *slog.Logger
	Now     func() time.Time
}

// API is ECR Public's operations over the registry domain.
type API struct {
	reg     *registry.Service
	tokens  *authn.Tokens
	host    string
	baseURL func() string
	log     *slog.Logger
	now     func() time.Time
}

// New returns the ECR Public API.
func New(opts Options) *API {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &API{reg: opts.Registry, tokens: opts.Tokens, host: opts.Host, baseURL: opts.BaseURL, log: opts.Logger, now: opts.Now}
}

// Service is ECR Public's description for the front door.
func (a *API) Service() *awsapi.Service {
	return &awsapi.Service{
		Name:         "ECR Public",
		Model:        "ecr-public",
		ActionPrefix: "ecr-public",
		FaultCode:    "ServerException",
		Errors:       domainError,
		Operations: []awsapi.Operation{
			awsapi.Op("GetAuthorizationToken", authorizationTokenChecks, a.getAuthorizationToken),
			awsapi.Op("DescribeRegistries", onRegistry, a.describeRegistries),
			awsapi.Op("GetRegistryCatalogData", onRegistry, a.getRegistryCatalogData),
			awsapi.Op("PutRegistryCatalogData", onRegistry, a.putRegistryCatalogData),

			awsapi.Op("CreateRepository", createRepositoryChecks, a.createRepository),
			awsapi.Op("DescribeRepositories", describeRepositoriesChecks, a.describeRepositories),
			awsapi.Op("DeleteRepository", onRepository, a.deleteRepository),
			awsapi.Op("GetRepositoryCatalogData", onRepository, a.getRepositoryCatalogData),
			awsapi.Op("PutRepositoryCatalogData", onRepository, a.putRepositoryCatalogData),
			awsapi.Op("SetRepositoryPolicy", onRepository, a.setRepositoryPolicy),
			awsapi.Op("GetRepositoryPolicy", onRepository, a.getRepositoryPolicy),
			awsapi.Op("DeleteRepositoryPolicy", onRepository, a.deleteRepositoryPolicy),
			awsapi.Op("TagResource", tagResourceChecks, a.tagResource),
			awsapi.Op("UntagResource", onTaggedResource, a.untagResource),
			awsapi.Op("ListTagsForResource", onTaggedResource, a.listTagsForResource),

			awsapi.Op("DescribeImages", onRepository, a.describeImages),
			awsapi.Op("DescribeImageTags", onRepository, a.describeImageTags),
			awsapi.Op("BatchDeleteImage", onLayerRepository[batchDeleteImageIn](a), a.batchDeleteImage),
			awsapi.Op("PutImage", onLayerRepository[putImageIn](a), a.putImage),

			awsapi.Op("BatchCheckLayerAvailability", onLayerRepository[batchCheckLayerAvailabilityIn](a), a.batchCheckLayerAvailability),
			awsapi.Op("InitiateLayerUpload", onLayerRepository[repoRef](a), a.initiateLayerUpload),
			awsapi.Op("UploadLayerPart", onLayerRepository[uploadLayerPartIn](a), a.uploadLayerPart),
			awsapi.Op("CompleteLayerUpload", onLayerRepository[completeLayerUploadIn](a), a.completeLayerUpload),
		},
	}
}

// inRegion refuses a call signed for another region than us-east-1, in the
// words ECR Public's front end in us-west-2 uses for its login.
func inRegion(c *awsapi.Call) error {
	if c.Region != Region {
		return awsapi.Errorf("UnsupportedCommandException", fmt.Sprintf("%s command is only supported in %s.", c.Operation, Region))
	}
	return nil
}

// repoRef is how most inputs name their repository.
type repoRef struct {
	RegistryID     *string `json:"registryId"`
	RepositoryName string  `json:"repositoryName"`
}

func (r repoRef) ref() repoRef { return r }

// registry is the public registry the input addresses: registryId's, or
// the caller's own.
func (r repoRef) registry(c *awsapi.Call) registry.Key { return registryOf(c, r.RegistryID) }

type namesRepository interface{ ref() repoRef }

func registryOf(c *awsapi.Call, registryID *string) registry.Key {
	acct := c.Principal.Account
	if registryID != nil && *registryID != "" {
		acct = *registryID
	}
	return registry.PublicRegistry(acct)
}

func onRepositoryOf(reg registry.Key, repo string) awsapi.Check {
	return awsapi.Check{Resource: authz.RepositoryARN(reg.Region, reg.Account, repo), Account: reg.Account}
}

// onRepository authorizes the operation on the repository its input names.
func onRepository[In namesRepository](_ context.Context, c *awsapi.Call, in *In) ([]awsapi.Check, error) {
	if err := inRegion(c); err != nil {
		return nil, err
	}
	r := (*in).ref()
	return []awsapi.Check{onRepositoryOf(r.registry(c), r.RepositoryName)}, nil
}

// onRegistry authorizes a registry-wide operation on every repository of
// the caller's public registry.
func onRegistry[In any](_ context.Context, c *awsapi.Call, _ *In) ([]awsapi.Check, error) {
	if err := inRegion(c); err != nil {
		return nil, err
	}
	return []awsapi.Check{onRepositoryOf(registryOf(c, nil), "*")}, nil
}

func invalidParameter(format string, args ...any) *awsapi.Error {
	return awsapi.Errorf("InvalidParameterException", fmt.Sprintf(format, args...))
}

// alias is the public registry's primary alias, as its URIs show it: its
// custom one if it has one, else its default one.
func (a *API) alias(ctx context.Context, reg registry.Key) (string, error) {
	return a.reg.PrimaryPublicAlias(ctx, reg.Account)
}
