package meta

import (
	"errors"
	"fmt"
)

var (
	ErrNotFound           = errors.New("meta: not found")
	ErrRepositoryExists   = errors.New("meta: repository already exists")
	ErrRepositoryUnknown  = errors.New("meta: repository not found")
	ErrManifestUnknown    = errors.New("meta: manifest not found")
	ErrBlobUnknown        = errors.New("meta: blob not found")
	ErrTagUnknown         = errors.New("meta: tag not found")
	ErrUploadUnknown      = errors.New("meta: upload not found")
	ErrRepositoryNotEmpty = errors.New("meta: repository not empty")
	// ErrRepositoryChanged is returned when a change was decided on a
	// reading of the repository that is no longer current
	// (PutManifest.Repository): read it again and decide again.
	ErrRepositoryChanged = errors.New("meta: repository changed since it was read")
	// ErrTagImmutable is returned when a push would move an immutable tag.
	ErrTagImmutable = errors.New("meta: tag is immutable")
	// ErrManifestReferenced is returned when deleting a manifest that an
	// index in the same repository still lists.
	ErrManifestReferenced = errors.New("meta: manifest referenced by an index")
	// ErrOffsetMismatch is returned when an upload was advanced by someone
	// else since it was read.
	ErrOffsetMismatch = errors.New("meta: upload offset changed")
)

// MissingRefError names a reference a manifest makes that the repository
// does not hold. It wraps ErrBlobUnknown or ErrManifestUnknown.
type MissingRefError struct {
	Ref Ref
}

func (e *MissingRefError) Error() string {
	return fmt.Sprintf("meta: %s %s not in repository", e.Ref.Kind, e.Ref.Digest)
}

func (e *MissingRefError) Unwrap() error {
	if e.Ref.Kind == RefManifest {
		return ErrManifestUnknown
	}
	return ErrBlobUnknown
}

// ReferencedError names the index that keeps a manifest from being deleted.
type ReferencedError struct {
	By string
}

func (e *ReferencedError) Error() string {
	return "meta: manifest is referenced by index " + e.By
}

func (e *ReferencedError) Unwrap() error { return ErrManifestReferenced }

// ErrUnavailable is wrapped by any method's error when the store cannot
// reach its database: it cannot connect, or the connection dropped (the
// server stopped, the network failed). A call whose connection dropped
// while it committed may have taken effect or not — whole or not at all,
// as every method is one transaction; trying again later is the remedy.
// The front doors answer it as a temporary failure (HTTP 503), not as a
// fault, without importing meta: they look for the Unavailable method
// (see IsUnavailable).
var ErrUnavailable error = unavailable{}

type unavailable struct{}

func (unavailable) Error() string { return "meta: the metadata database is unavailable" }

// Unavailable marks the error for callers that must not import meta.
func (unavailable) Unavailable() bool { return true }

// IsUnavailable reports whether err, or an error it wraps, says its store
// (or any dependency) is unavailable, by its Unavailable method.
func IsUnavailable(err error) bool {
	var u interface{ Unavailable() bool }
	return errors.As(err, &u) && u.Unavailable()
}
