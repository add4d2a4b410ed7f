// Package ecrapi answers Amazon ECR's API (AmazonEC2ContainerRegistry_V20150921)
// over the AWS front door: one function per operation and one row for it
// in the table below. The front door (package awsapi) decodes, validates
// against the model and authorizes the row's checks before a function
// runs; a function calls the registry domain and shapes its answer, and the
// domain's errors become ECR's exceptions in errors.go.
package ecrapi

import (
	"context"
	"log/slog"
	"net/url"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/pullthrough"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/berth-registry/berth/internal/replicate"
	"github.com/berth-registry/berth/internal/scan"
)

// Options configure the ECR API.
type Options struct {
	Registry *registry.Service
	// Scans is image scanning; nil answers DescribeImages without scan
	// statuses (tests that need no scanning).
	Scans *scan.Service
	// Replication is image replication; nil answers DescribeRegistry with
	// no rules (tests that need none).
	Replication *replicate.Service
	// PullThrough is the pull through cache; nil answers its operations
	// as not served.
	PullThrough *pullthrough.Service
	// Tokens issues the logins and seals nextTokens and download links.
	Tokens *authn.Tokens
	// Endpoint returns the base URL ("http://host:port") at which clients
	// reach the data plane of an (account, region) registry.
	Endpoint func(account, region string) string
	Logger   *slog.Logger
	Now      func() time.Time
}

// API is ECR's operations over the registry domain.
type API struct {
	reg         *registry.Service
	scans       *scan.Service
	replication *replicate.Service
	pullThrough *pullthrough.Service
	tokens      *authn.Tokens
	endpoint    func(account, region string) string
	log         *slog.Logger
	now         func() time.Time
}

// New returns the ECR API.
func New(opts Options) *API {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &API{reg: opts.Registry, scans: opts.Scans, replication: opts.Replication, pullThrough: opts.PullThrough, tokens: opts.Tokens,
		endpoint: opts.Endpoint, log: opts.Logger, now: opts.Now}
}

// Service is ECR's description for the front door.
func (a *API) Service() *awsapi.Service {
	return &awsapi.Service{
		Name:         "ECR",
		Model:        "ecr",
		ActionPrefix: "ecr",
		FaultCode:    "ServerException",
		Errors:       domainError,
		NotServed:    notServed,
		Operations: []awsapi.Operation{
			awsapi.Op("GetAuthorizationToken", ownAccount, a.getAuthorizationToken),

			awsapi.Op("CreateRepository", createRepositoryChecks, a.createRepository),
			awsapi.Op("DescribeRepositories", describeRepositoriesChecks, a.describeRepositories),
			awsapi.Op("DeleteRepository", onRepository, a.deleteRepository),
			awsapi.Op("PutImageTagMutability", onRepository, a.putImageTagMutability),
			awsapi.Op("PutImageScanningConfiguration", onRepository, a.putImageScanningConfiguration),
			awsapi.Op("TagResource", tagResourceChecks, a.tagResource),
			awsapi.Op("UntagResource", onTaggedResource, a.untagResource),
			awsapi.Op("ListTagsForResource", onTaggedResource, a.listTagsForResource),

			awsapi.Op("ListImages", onRepository, a.listImages),
			awsapi.Op("DescribeImages", onRepository, a.describeImages),
			awsapi.Op("BatchGetImage", onRepository, a.batchGetImage),
			awsapi.Op("BatchDeleteImage", onRepository, a.batchDeleteImage),
			awsapi.Op("PutImage", onRepository, a.putImage),
			// ECR documents that listing referrers takes ecr:BatchGetImage: it
			// reveals what pulling the referrers would.
			awsapi.Op("ListImageReferrers", onRepository, a.listImageReferrers).WithAction("ecr:BatchGetImage"),

			awsapi.Op("BatchCheckLayerAvailability", onRepository, a.batchCheckLayerAvailability),
			awsapi.Op("InitiateLayerUpload", onRepository, a.initiateLayerUpload),
			awsapi.Op("UploadLayerPart", onRepository, a.uploadLayerPart),
			awsapi.Op("CompleteLayerUpload", onRepository, a.completeLayerUpload),
			awsapi.Op("GetDownloadUrlForLayer", onRepository, a.getDownloadURLForLayer),

			awsapi.Op("SetRepositoryPolicy", onRepository, a.setRepositoryPolicy),
			awsapi.Op("GetRepositoryPolicy", onRepository, a.getRepositoryPolicy),
			awsapi.Op("DeleteRepositoryPolicy", onRepository, a.deleteRepositoryPolicy),
			awsapi.Op("PutRegistryPolicy", onRegistry, a.putRegistryPolicy),
			awsapi.Op("GetRegistryPolicy", onRegistry, a.getRegistryPolicy),
			awsapi.Op("DeleteRegistryPolicy", onRegistry, a.deleteRegistryPolicy),

			awsapi.Op("DescribeRegistry", onRegistry, a.describeRegistry),
			awsapi.Op("PutReplicationConfiguration", onRegistry, a.putReplicationConfiguration),
			awsapi.Op("DescribeImageReplicationStatus", onRepository, a.describeImageReplicationStatus),
			awsapi.Op("GetAccountSetting", onRegistry, a.getAccountSetting),
			awsapi.Op("PutAccountSetting", onRegistry, a.putAccountSetting),

			awsapi.Op("PutRegistryScanningConfiguration", onRegistry, a.putRegistryScanningConfiguration),
			awsapi.Op("GetRegistryScanningConfiguration", onRegistry, a.getRegistryScanningConfiguration),
			awsapi.Op("BatchGetRepositoryScanningConfiguration", onRepositories, a.batchGetRepositoryScanningConfiguration),
			awsapi.Op("StartImageScan", onRepository, a.startImageScan),
			awsapi.Op("DescribeImageScanFindings", onRepository, a.describeImageScanFindings),

			awsapi.Op("CreatePullThroughCacheRule", onRegistryOf, a.createPullThroughCacheRule),
			awsapi.Op("DescribePullThroughCacheRules", onRegistryOf, a.describePullThroughCacheRules),
			awsapi.Op("UpdatePullThroughCacheRule", onRegistryOf, a.updatePullThroughCacheRule),
			awsapi.Op("DeletePullThroughCacheRule", onRegistryOf, a.deletePullThroughCacheRule),
			awsapi.Op("ValidatePullThroughCacheRule", onRegistryOf, a.validatePullThroughCacheRule),

			awsapi.Op("PutLifecyclePolicy", onRepository, a.putLifecyclePolicy),
			awsapi.Op("GetLifecyclePolicy", onRepository, a.getLifecyclePolicy),
			awsapi.Op("DeleteLifecyclePolicy", onRepository, a.deleteLifecyclePolicy),
			awsapi.Op("StartLifecyclePolicyPreview", onRepository, a.startLifecyclePolicyPreview),
			awsapi.Op("GetLifecyclePolicyPreview", onRepository, a.getLifecyclePolicyPreview),

			awsapi.Op("CreateRepositoryCreationTemplate", createTemplateChecks, a.createRepositoryCreationTemplate),
			awsapi.Op("UpdateRepositoryCreationTemplate", updateTemplateChecks, a.updateRepositoryCreationTemplate),
			awsapi.Op("DescribeRepositoryCreationTemplates", onRegistry, a.describeRepositoryCreationTemplates),
			awsapi.Op("DeleteRepositoryCreationTemplate", onRegistry, a.deleteRepositoryCreationTemplate),
		},
	}
}

// notServed are ECR's operations Berth does not serve yet.
var notServed = []string{
	"DeleteSigningConfiguration",
	"DeregisterPullTimeUpdateExclusion",
	"DescribeImageSigningStatus",
	"GetSigningConfiguration",
	"ListPullTimeUpdateExclusions",
	"PutSigningConfiguration",
	"RegisterPullTimeUpdateExclusion",
	"UpdateImageStorageClass",
}

// repoRef is how most inputs name their repository; an input that embeds
// it is authorized on that repository by onRepository.
type repoRef struct {
	RegistryID     *string `json:"registryId"`
	RepositoryName string  `json:"repositoryName"`
}

func (r repoRef) ref() repoRef { return r }

// registry is the registry the input addresses: registryId, or the
// caller's own account, in the call's region.
func (r repoRef) registry(c *awsapi.Call) registry.Key { return registryOf(c, r.RegistryID) }

// namesRepository is an input that embeds repoRef.
type namesRepository interface{ ref() repoRef }

// registryOf resolves an optional registryId to the registry the call
// addresses: the caller's own account in the call's region by default.
func registryOf(c *awsapi.Call, registryID *string) registry.Key {
	acct := c.Principal.Account
	if registryID != nil && *registryID != "" {
		acct = *registryID
	}
	return registry.Key{Account: acct, Region: c.Region}
}

// onRepository authorizes the operation on the repository its input names.
func onRepository[In namesRepository](_ context.Context, c *awsapi.Call, in *In) ([]awsapi.Check, error) {
	r := (*in).ref()
	return []awsapi.Check{onRepositoryOf(r.registry(c), r.RepositoryName)}, nil
}

// onRegistry authorizes the operation on the caller's registry in the
// call's region: ECR's resource for registry-wide actions is every
// repository of it.
func onRegistry[In any](_ context.Context, c *awsapi.Call, _ *In) ([]awsapi.Check, error) {
	return []awsapi.Check{onRepositoryOf(registryOf(c, nil), "*")}, nil
}

// ownAccount authorizes the operation on "*" in the caller's account
// (GetAuthorizationToken).
func ownAccount[In any](_ context.Context, c *awsapi.Call, _ *In) ([]awsapi.Check, error) {
	return []awsapi.Check{{Resource: "*", Account: c.Principal.Account}}, nil
}

func onRepositoryOf(reg registry.Key, repo string) awsapi.Check {
	return awsapi.Check{Resource: authz.RepositoryARN(reg.Region, reg.Account, repo), Account: reg.Account}
}

// invalidParameter is ECR's answer to a parameter the model accepts but the
// operation does not.
func invalidParameter(msg string) *awsapi.Error {
	return awsapi.Errorf("InvalidParameterException", msg)
}

// repositoryURI is the repository's address for docker: the data plane's
// host for the registry, without scheme, then the name.
func (a *API) repositoryURI(reg registry.Key, name string) string {
	base := a.endpoint(reg.Account, reg.Region)
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		base = u.Host
	}
	return base + "/" + name
}
