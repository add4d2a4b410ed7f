package meta

import (
	"context"
	"time"
)

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
	RepoID int64
	// Repository, when set, is the repository as the caller read it to
	// decide which tags are immutable (TagWrite.Immutable). The push fails
	// with ErrRepositoryChanged if the repository's TagMutability or
	// Settings differ inside the transaction: a decision made on a stale
	// read (a cache, another node's change meanwhile) never commits.
	Repository *Repository
	Manifest   Manifest
	// Refs must all exist in the repository, or the push fails with a
	// *MissingRefError. Refs are recorded so that the blobs and child
	// manifests stay alive while the manifest does.
	Refs []Ref
	// Links are committed blobs made readable from the repository in the
	// push's own transaction, before Refs are checked: a replica links
	// the blobs of its source (no byte is copied) together with its
	// manifest, so that neither is there without the other. A blob that
	// garbage collection is deleting fails the push with ErrBlobDeleting.
	Links []Blob
	Tags  []TagWrite
	// Jobs are written in the push's transaction: they exist if and only
	// if the push commits.
	Jobs []NewJob
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

// BlobLinkStore records committed blobs and which repositories may read
// them.
type BlobLinkStore interface {
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
}

// ManifestStore keeps manifests, their tags and references, and what ECR
// reports of images.
type ManifestStore interface {
	PutManifest(ctx context.Context, p *PutManifest) error
	// GetManifest returns a manifest by digest, with its tags.
	GetManifest(ctx context.Context, repoID int64, digest string) (*Manifest, error)
	// ResolveTag returns the digest a tag points at, or ErrTagUnknown.
	ResolveTag(ctx context.Context, repoID int64, tag string) (string, error)
	// GetTaggedManifest returns the manifest a tag points at in one lookup,
	// or ErrTagUnknown. It is the pull path: Tags stays empty.
	GetTaggedManifest(ctx context.Context, repoID int64, tag string) (*Manifest, error)
	// DeleteManifest removes a manifest and every tag that points at it. It
	// fails with a *ReferencedError while an index in the repository lists it.
	//
	// The deleting methods write jobs in their transaction when, and only
	// when, they delete.
	DeleteManifest(ctx context.Context, repoID int64, digest string, jobs []NewJob) error
	DeleteTag(ctx context.Context, repoID int64, tag string, jobs []NewJob) error
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
	DeleteUntaggedManifest(ctx context.Context, repoID int64, digest string, jobs []NewJob) (bool, error)
}
