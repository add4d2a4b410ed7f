package registry

import "github.com/berth-registry/berth/internal/meta"

// The store's records that the domain hands to its callers, under the
// domain's names: a front door calls the domain and never imports meta.
type (
	// Key names a registry: an (account, region) pair, as in ECR.
	Key = meta.RegistryKey
	// Manifest is a stored image manifest and what ECR reports of it.
	Manifest = meta.Manifest
	// TagStatus selects images by whether tags point at them.
	TagStatus = meta.TagStatus
	// LifecyclePolicy is a repository's lifecycle policy.
	LifecyclePolicy = meta.LifecyclePolicy
	// Blob is a committed blob.
	Blob = meta.Blob
	// Referrer is a manifest whose subject is another manifest.
	Referrer = meta.Referrer
)

// Tag statuses, spelled as ECR's tagStatus filter.
const (
	TagStatusAny      = meta.TagStatusAny
	TagStatusTagged   = meta.TagStatusTagged
	TagStatusUntagged = meta.TagStatusUntagged
)

// Lifecycle preview statuses, spelled as ECR's LifecyclePolicyPreviewStatus.
const (
	PreviewInProgress = meta.PreviewInProgress
	PreviewComplete   = meta.PreviewComplete
	PreviewFailed     = meta.PreviewFailed
)
