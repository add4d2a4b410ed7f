package registry

import (
	"errors"
	"fmt"
)

// The domain's error kinds, all of them, in one place. Each front door
// words every kind in one table of its own — OCI error codes on /v2/
// (ocidist), ECR exceptions on the API (ecrapi) — and a test of each
// proves that its table has a row for every kind in Kinds.
var (
	// Names, blobs and uploads (both front doors).
	ErrNameInvalid       = errors.New("repository name invalid")
	ErrNameUnknown       = errors.New("repository not found")
	ErrBlobUnknown       = errors.New("blob unknown")
	ErrBlobUploadUnknown = errors.New("blob upload unknown")
	// ErrBlobUploadBusy: another request is writing to the upload.
	ErrBlobUploadBusy      = errors.New("blob upload busy")
	ErrRangeInvalid        = errors.New("range invalid")
	ErrDigestInvalid       = errors.New("digest invalid")
	ErrSizeInvalid         = errors.New("size invalid")
	ErrTooLarge            = errors.New("too large")
	ErrManifestUnknown     = errors.New("manifest unknown")
	ErrManifestInvalid     = errors.New("manifest invalid")
	ErrManifestBlobUnknown = errors.New("manifest blob unknown")
	ErrManifestReferenced  = errors.New("manifest referenced")
	ErrTagInvalid          = errors.New("tag invalid")
	ErrTagImmutable        = errors.New("tag immutable")
	ErrPaginationInvalid   = errors.New("pagination invalid")

	// Images, as ECR's API names them (PutImage, BatchGetImage, …).
	ErrImageIDInvalid         = errors.New("image id invalid")
	ErrImageExists            = errors.New("image already exists")
	ErrImageDigestMismatch    = errors.New("image digest mismatch")
	ErrReferencedImageUnknown = errors.New("referenced image unknown")
	ErrLayerInaccessible      = errors.New("layer inaccessible")

	// Repositories and their configuration.
	ErrRepositoryExists   = errors.New("repository already exists")
	ErrRepositoryNotEmpty = errors.New("repository not empty")
	// ErrParameterInvalid is a request that breaks a rule across its
	// parameters (a KMS key with AES256, filters with plain MUTABLE).
	ErrParameterInvalid    = errors.New("parameter invalid")
	ErrResourceTagInvalid  = errors.New("resource tag invalid")
	ErrTooManyResourceTags = errors.New("too many resource tags")

	// Repository and registry policies.
	ErrRepositoryPolicyNotFound = errors.New("repository policy not found")
	ErrRegistryPolicyNotFound   = errors.New("registry policy not found")
	ErrPolicyInvalid            = errors.New("policy invalid")

	// Lifecycle policies and their previews.
	ErrLifecyclePolicyInvalid     = errors.New("lifecycle policy invalid")
	ErrLifecyclePolicyNotFound    = errors.New("lifecycle policy not found")
	ErrLifecyclePreviewNotFound   = errors.New("lifecycle policy preview not found")
	ErrLifecyclePreviewInProgress = errors.New("lifecycle policy preview in progress")

	// Repository creation templates.
	ErrTemplateExists   = errors.New("repository creation template already exists")
	ErrTemplateNotFound = errors.New("repository creation template not found")
	// ErrLimitExceeded: a registry already holds as many of something as
	// ECR allows (repository creation templates).
	ErrLimitExceeded = errors.New("limit exceeded")
)

// Kinds returns every error kind the domain declares, in the order above.
func Kinds() []error {
	return []error{
		ErrNameInvalid, ErrNameUnknown, ErrBlobUnknown, ErrBlobUploadUnknown, ErrBlobUploadBusy, ErrRangeInvalid,
		ErrDigestInvalid, ErrSizeInvalid, ErrTooLarge, ErrManifestUnknown, ErrManifestInvalid,
		ErrManifestBlobUnknown, ErrManifestReferenced, ErrTagInvalid, ErrTagImmutable, ErrPaginationInvalid,
		ErrImageIDInvalid, ErrImageExists, ErrImageDigestMismatch, ErrReferencedImageUnknown, ErrLayerInaccessible,
		ErrRepositoryExists, ErrRepositoryNotEmpty, ErrParameterInvalid, ErrResourceTagInvalid, ErrTooManyResourceTags,
		ErrRepositoryPolicyNotFound, ErrRegistryPolicyNotFound, ErrPolicyInvalid,
		ErrLifecyclePolicyInvalid, ErrLifecyclePolicyNotFound, ErrLifecyclePreviewNotFound, ErrLifecyclePreviewInProgress,
		ErrTemplateExists, ErrTemplateNotFound, ErrLimitExceeded,
	}
}

// Error is a domain error: a kind from the list above and a message written
// for the person who has to fix the request.
type Error struct {
	Kind    error
	Message string
	// Detail is optional structured context (a digest, a name) that the
	// front door may put in its error body.
	Detail any
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// RepositoryNotFound is the error ECR gives for a missing repository.
func repositoryNotFound(name, account string) *Error {
	return &Error{
		Kind:    ErrNameUnknown,
		Message: fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", name, account),
	}
}

// KindOf finds which of the domain's kinds err is, and the message (and
// detail) for the person who has to fix the request: an *Error's own, or
// err's text for a kind returned bare. ok is false for anything else — a
// server fault, which the front doors log and do not show. Both front
// doors read errors through it, so they fall back the same way.
func KindOf(err error) (kind error, message string, detail any, ok bool) {
	for _, k := range Kinds() {
		if errors.Is(err, k) {
			var de *Error
			if errors.As(err, &de) {
				return k, de.Message, de.Detail, true
			}
			return k, err.Error(), nil, true
		}
	}
	return nil, "", nil, false
}
