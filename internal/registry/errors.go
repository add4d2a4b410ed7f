package registry

import (
	"errors"
	"fmt"
)

// The domain's error kinds. Each front door maps them to its own wire format
// (OCI error codes on /v2/, ECR exception types on the API) in one table.
var (
	ErrNameInvalid         = errors.New("repository name invalid")
	ErrNameUnknown         = errors.New("repository not found")
	ErrBlobUnknown         = errors.New("blob unknown")
	ErrBlobUploadUnknown   = errors.New("blob upload unknown")
	ErrBlobUploadInvalid   = errors.New("blob upload invalid")
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
	ErrUnsupported         = errors.New("unsupported")
	ErrPaginationInvalid   = errors.New("pagination invalid")
)

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
