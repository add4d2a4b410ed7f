package ecrpublicapi

import (
	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/registry"
)

// errorTable words each of the registry domain's error kinds as the ECR
// Public exception an operation answers with. Kinds ECR Public's model
// has no exception for (lifecycle, templates: features it lacks) fall to
// its nearest, InvalidParameterException. Every kind has a row
// (TestErrorTableCoversKinds).
var errorTable = map[error]string{
	registry.ErrNameUnknown:                "RepositoryNotFoundException",
	registry.ErrNameInvalid:                "InvalidParameterException",
	registry.ErrManifestUnknown:            "ImageNotFoundException",
	registry.ErrBlobUnknown:                "LayersNotFoundException",
	registry.ErrBlobUploadBusy:             "InvalidLayerPartException",
	registry.ErrBlobUploadUnknown:          "UploadNotFoundException",
	registry.ErrRangeInvalid:               "InvalidLayerPartException",
	registry.ErrDigestInvalid:              "InvalidLayerException",
	registry.ErrSizeInvalid:                "InvalidLayerPartException",
	registry.ErrTooLarge:                   "LimitExceededException",
	registry.ErrManifestInvalid:            "InvalidParameterException",
	registry.ErrManifestBlobUnknown:        "LayersNotFoundException",
	registry.ErrManifestReferenced:         "InvalidParameterException",
	registry.ErrTagInvalid:                 "InvalidParameterException",
	registry.ErrTagImmutable:               "ImageTagAlreadyExistsException",
	registry.ErrPaginationInvalid:          "InvalidParameterException",
	registry.ErrRepositoryPolicyNotFound:   "RepositoryPolicyNotFoundException",
	registry.ErrRegistryPolicyNotFound:     "InvalidParameterException",
	registry.ErrPolicyInvalid:              "InvalidParameterException",
	registry.ErrRepositoryExists:           "RepositoryAlreadyExistsException",
	registry.ErrRepositoryNotEmpty:         "RepositoryNotEmptyException",
	registry.ErrParameterInvalid:           "InvalidParameterException",
	registry.ErrResourceTagInvalid:         "InvalidTagParameterException",
	registry.ErrTooManyResourceTags:        "TooManyTagsException",
	registry.ErrImageIDInvalid:             "InvalidParameterException",
	registry.ErrImageExists:                "ImageAlreadyExistsException",
	registry.ErrImageDigestMismatch:        "ImageDigestDoesNotMatchException",
	registry.ErrReferencedImageUnknown:     "ReferencedImagesNotFoundException",
	registry.ErrLayerInaccessible:          "LayersNotFoundException",
	registry.ErrLifecyclePolicyInvalid:     "InvalidParameterException",
	registry.ErrLifecyclePolicyNotFound:    "InvalidParameterException",
	registry.ErrLifecyclePreviewNotFound:   "InvalidParameterException",
	registry.ErrLifecyclePreviewInProgress: "InvalidParameterException",
	registry.ErrTemplateExists:             "InvalidParameterException",
	registry.ErrTemplateNotFound:           "InvalidParameterException",
	registry.ErrLimitExceeded:              "LimitExceededException",
}

// domainError words a registry domain error as ECR Public does, with the
// domain's message; anything else is a server fault for the front door.
func domainError(err error) *awsapi.Error {
	if kind, msg, _, ok := registry.KindOf(err); ok {
		if code, ok := errorTable[kind]; ok {
			return awsapi.Errorf(code, msg)
		}
	}
	return nil
}
