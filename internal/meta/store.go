// Package meta defines Berth's transactional metadata store: repositories,
// blob links, manifests, tags and upload sessions. Each method is one
// transaction; the checks a method makes (a manifest's references exist, a
// tag is not immutable) happen inside it, so concurrent requests on several
// nodes cannot interleave between check and write.
//
// Every implementation passes the suite in package metatest.
package meta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
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

// RegistryKey names a registry: an (account, region) pair as in ECR.
type RegistryKey struct {
	Account string
	Region  string
}

// Repository is one repository of a registry.
type Repository struct {
	ID        int64
	Registry  RegistryKey
	Name      string
	CreatedAt time.Time
	// TagMutability is ECR's imageTagMutability: MUTABLE, IMMUTABLE, or one
	// of the exclusion-filter variants; the domain interprets it.
	TagMutability string
	// Settings holds the rest of the repository's ECR configuration as the
	// domain encodes it (scanning, encryption, mutability filters, tags).
	Settings json.RawMessage
}

// Blob is a committed blob known to the metadata.
type Blob struct {
	Digest string
	Size   int64
}

// RefKind says what a manifest reference points at.
type RefKind string

const (
	RefBlob     RefKind = "blob"
	RefManifest RefKind = "manifest"
)

// Ref is a descriptor a manifest holds that must exist in its repository.
type Ref struct {
	Digest string
	Kind   RefKind
}

// Manifest is a stored manifest, its exact bytes and what the domain
// extracted from them.
type Manifest struct {
	Digest       string
	MediaType    string
	ArtifactType string
	// Subject is the digest named by the manifest's subject field, if any.
	Subject     string
	Annotations map[string]string
	Content     []byte
	// Size is len(Content) plus the sizes of the blobs it references, as
	// ECR's imageSizeInBytes reports; the bytes of Content are Content's.
	ImageSize    int64
	PushedAt     time.Time
	LastPulledAt time.Time
	Tags         []string
}

// TagWrite asks PutManifest to point a tag at the manifest.
type TagWrite struct {
	Name string
	// Immutable refuses the write with ErrTagImmutable when the tag already
	// points at a different manifest.
	Immutable bool
}

// PutManifest describes one manifest push.
type PutManifest struct {
	RepoID   int64
	Manifest Manifest
	// Refs must all exist in the repository, or the push fails with a
	// *MissingRefError. Refs are recorded so that the blobs and child
	// manifests stay alive while the manifest does.
	Refs []Ref
	Tags []TagWrite
}

// Upload is an upload session in progress.
type Upload struct {
	ID     string
	RepoID int64
	// Offset is the number of bytes staged and hashed so far.
	Offset int64
	// HashState is the marshalled state of the running hash over the
	// first Offset bytes.
	HashState []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Referrer describes a manifest whose subject is another manifest.
type Referrer struct {
	Digest       string
	MediaType    string
	ArtifactType string
	Size         int64
	Annotations  map[string]string
}

// TagStatus selects images by whether tags point at them, as ECR's
// tagStatus filter does.
type TagStatus string

const (
	TagStatusAny      TagStatus = "ANY"
	TagStatusTagged   TagStatus = "TAGGED"
	TagStatusUntagged TagStatus = "UNTAGGED"
)

// ImageQuery selects one page of a repository's manifests.
type ImageQuery struct {
	// TagStatus filters by tags; "" means TagStatusAny.
	TagStatus TagStatus
	// After is exclusive: the page starts after this digest.
	After string
	// Limit <= 0 means no limit.
	Limit int
}

// Pull is one pull of a manifest, as recorded for lastRecordedPullTime.
type Pull struct {
	RepoID int64
	Digest string
	At     time.Time
}

// Store is the metadata store.
type Store interface {
	CreateRepository(ctx context.Context, r *Repository) error
	GetRepository(ctx context.Context, reg RegistryKey, name string) (*Repository, error)
	// ListRepositories returns up to limit repositories of a registry whose
	// names sort after after, in name order.
	ListRepositories(ctx context.Context, reg RegistryKey, after string, limit int) ([]*Repository, error)
	UpdateRepository(ctx context.Context, r *Repository) error
	// DeleteRepository removes a repository. Without force it fails with
	// ErrRepositoryNotEmpty while the repository holds manifests.
	DeleteRepository(ctx context.Context, repoID int64, force bool) error

	// ModifyRepository reads a repository, lets fn change its TagMutability
	// and Settings, and stores the result, in one transaction: concurrent
	// read-modify-writes (two TagResource calls) cannot lose each other's
	// changes. An error from fn aborts the change and is returned wrapped.
	// A missing repository fails with ErrRepositoryUnknown.
	ModifyRepository(ctx context.Context, repoID int64, fn func(r *Repository) error) error
	// GetRegistrySetting returns a registry-wide setting (ECR's account
	// settings), or ErrNotFound when it was never set.
	GetRegistrySetting(ctx context.Context, reg RegistryKey, name string) (string, error)
	// PutRegistrySetting sets or replaces a registry-wide setting.
	PutRegistrySetting(ctx context.Context, reg RegistryKey, name, value string) error

	// LinkBlob records a committed blob (once per deployment) and makes it
	// readable from the repository.
	LinkBlob(ctx context.Context, repoID int64, b Blob) error
	// GetBlob returns a blob linked to the repository, or ErrBlobUnknown.
	GetBlob(ctx context.Context, repoID int64, digest string) (Blob, error)
	// UnlinkBlob removes the link; the bytes stay until garbage collection.
	UnlinkBlob(ctx context.Context, repoID int64, digest string) error
	// BlobRepositories names up to limit repositories of a registry that
	// link the blob, in name order: the candidates for a mount that names
	// no source.
	BlobRepositories(ctx context.Context, reg RegistryKey, digest string, limit int) ([]string, error)

	CreateUpload(ctx context.Context, u *Upload) error
	GetUpload(ctx context.Context, repoID int64, id string) (*Upload, error)
	// AdvanceUpload records new progress; it fails with ErrOffsetMismatch
	// unless the stored offset is still from.
	AdvanceUpload(ctx context.Context, id string, from int64, u *Upload) error
	// CompleteUpload deletes the upload session and links the blob in one
	// transaction.
	CompleteUpload(ctx context.Context, id string, repoID int64, b Blob) error
	DeleteUpload(ctx context.Context, id string) error
	// UploadIDs lists every upload session, across repositories.
	UploadIDs(ctx context.Context) ([]string, error)
	// StaleUploads lists the upload sessions last updated before before.
	StaleUploads(ctx context.Context, before time.Time) ([]string, error)

	PutManifest(ctx context.Context, p *PutManifest) error
	// GetManifest returns a manifest by digest, with its tags.
	GetManifest(ctx context.Context, repoID int64, digest string) (*Manifest, error)
	// ResolveTag returns the digest a tag points at, or ErrTagUnknown.
	ResolveTag(ctx context.Context, repoID int64, tag string) (string, error)
	// DeleteManifest removes a manifest and every tag that points at it. It
	// fails with a *ReferencedError while an index in the repository lists it.
	DeleteManifest(ctx context.Context, repoID int64, digest string) error
	DeleteTag(ctx context.Context, repoID int64, tag string) error
	// ListTags returns up to limit tag names after after, in lexical order.
	ListTags(ctx context.Context, repoID int64, after string, limit int) ([]string, error)
	// ListReferrers returns the manifests whose subject is digest, filtered
	// by artifactType when it is not empty.
	ListReferrers(ctx context.Context, repoID int64, digest, artifactType string) ([]Referrer, error)

	// ListImages returns the manifests of a page (see ImageQuery) in
	// digest order, with their tags and without Content.
	ListImages(ctx context.Context, repoID int64, q ImageQuery) ([]*Manifest, error)
	// RecordPulls moves each pulled manifest's LastPulledAt forward to the
	// pull's time (never back). Pulls of manifests that are gone are
	// skipped.
	RecordPulls(ctx context.Context, pulls []Pull) error
	// ManifestsReferencing returns up to limit digests, in order, of the
	// repository's manifests that reference the blob.
	ManifestsReferencing(ctx context.Context, repoID int64, blobDigest string, limit int) ([]string, error)
	// DeleteUntaggedManifest removes a manifest unless a tag points at it
	// or an index lists it, in one transaction, and reports whether it did.
	DeleteUntaggedManifest(ctx context.Context, repoID int64, digest string) (bool, error)

	Close() error
}
