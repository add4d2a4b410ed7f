package ecrapi

import (
	"errors"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/pullthrough"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/berth-registry/berth/internal/replicate"
	"github.com/berth-registry/berth/internal/scan"
)

// errorTable words each of the registry domain's error kinds as the ECR
// exception an operation answers with: the one place where they meet.
// Every kind the domain declares has a row (TestErrorTableCoversKinds).
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
	registry.ErrManifestReferenced:         "ImageReferencedByManifestListException",
	registry.ErrTagInvalid:                 "InvalidParameterException",
	registry.ErrTagImmutable:               "ImageTagAlreadyExistsException",
	registry.ErrPaginationInvalid:          "InvalidParameterException",
	registry.ErrRepositoryPolicyNotFound:   "RepositoryPolicyNotFoundException",
	registry.ErrRegistryPolicyNotFound:     "RegistryPolicyNotFoundException",
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
	registry.ErrLayerInaccessible:          "LayerInaccessibleException",
	registry.ErrLifecyclePolicyInvalid:     "InvalidParameterException",
	registry.ErrLifecyclePolicyNotFound:    "LifecyclePolicyNotFoundException",
	registry.ErrLifecyclePreviewNotFound:   "LifecyclePolicyPreviewNotFoundException",
	registry.ErrLifecyclePreviewInProgress: "LifecyclePolicyPreviewInProgressException",
	registry.ErrTemplateExists:             "TemplateAlreadyExistsException",
	registry.ErrTemplateNotFound:           "TemplateNotFoundException",
	registry.ErrLimitExceeded:              "LimitExceededException",
}

// scanErrorTable words the scanning domain's error kinds (every one:
// TestErrorTableCoversKinds).
var scanErrorTable = map[error]string{
	scan.ErrConfigInvalid:    "InvalidParameterException",
	scan.ErrScanLimit:        "LimitExceededException",
	scan.ErrUnsupportedImage: "UnsupportedImageTypeException",
	scan.ErrScanNotFound:     "ScanNotFoundException",
	scan.ErrTokenInvalid:     "InvalidParameterException",
}

// replicationErrorTable words the replication domain's error kinds.
var replicationErrorTable = map[error]string{
	replicate.ErrConfigInvalid: "InvalidParameterException",
}

// pullThroughErrorTable words the pull through cache's error kinds (every
// one: TestErrorTableCoversKinds). The upstream's failures reach the data
// plane only; should one reach the API it is a ServerException's kin.
var pullThroughErrorTable = map[error]string{
	pullthrough.ErrInvalid:             "InvalidParameterException",
	pullthrough.ErrRuleExists:          "PullThroughCacheRuleAlreadyExistsException",
	pullthrough.ErrRuleNotFound:        "PullThroughCacheRuleNotFoundException",
	pullthrough.ErrLimit:               "LimitExceededException",
	pullthrough.ErrUnsupportedUpstream: "UnsupportedUpstreamRegistryException",
	pullthrough.ErrSecretNotFound:      "SecretNotFoundException",
	pullthrough.ErrSecretAccess:        "UnableToAccessSecretException",
	pullthrough.ErrSecretDecrypt:       "UnableToDecryptSecretValueException",
	pullthrough.ErrUpstreamUnavailable: "ServerException",
	pullthrough.ErrUpstreamRateLimited: "LimitExceededException",
	pullthrough.ErrUpstreamDenied:      "UnableToAccessSecretException",
}

// domainError words a registry domain error as ECR does, with the
// domain's message; anything else (or a kind with no row) is a server
// fault, for the front door to log and answer.
func domainError(err error) *awsapi.Error {
	if kind, msg, _, ok := registry.KindOf(err); ok {
		if code, ok := errorTable[kind]; ok {
			return awsapi.Errorf(code, msg)
		}
	}
	if kind, msg, ok := pullthrough.KindOf(err); ok {
		if code, ok := pullThroughErrorTable[kind]; ok {
			return awsapi.Errorf(code, msg)
		}
	}
	if kind, msg, ok := scan.KindOf(err); ok {
		if code, ok := scanErrorTable[kind]; ok {
			return awsapi.Errorf(code, msg)
		}
	}
	if kind, msg, ok := replicate.KindOf(err); ok {
		if code, ok := replicationErrorTable[kind]; ok {
			return awsapi.Errorf(code, msg)
		}
	}
	return nil
}

// domainMessage is a domain error's message, without its kind.
func domainMessage(err error) string {
	var de *registry.Error
	if errors.As(err, &de) {
		return de.Message
	}
	return err.Error()
}
