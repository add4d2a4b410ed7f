package meta

import (
	"context"
	"errors"
	"time"
)

// Online garbage collection.
//
// LinkBlob and CompleteUpload stamp a link with the store's clock when they
// make it or make it again; deleting a manifest stamps the links of the
// blobs it referenced. A link's age is measured from that stamp.

// ErrBlobDeleting is returned by BeginBlobCommit, LinkBlob and
// CompleteUpload for a digest whose bytes garbage collection is deleting,
// or has deleted (LinkBlob, CompleteUpload): a link would name bytes that
// are gone.
var ErrBlobDeleting = errors.New("meta: blob deleted by garbage collection")

// BlobLink is a repository's link to a blob.
type BlobLink struct {
	RepoID     int64
	Registry   RegistryKey
	Repository string
	Digest     string
	Size       int64
	LinkedAt   time.Time
}

// RepositoryUsage sums a repository's blob links: those a manifest of the
// repository references, and the others.
type RepositoryUsage struct {
	RepoID            int64
	Registry          RegistryKey
	Repository        string
	ReferencedBlobs   int
	ReferencedBytes   int64
	UnreferencedBlobs int
	UnreferencedBytes int64
}

// GCStore finds what garbage collection may remove and removes it, each
// check made again inside the transaction that removes.
type GCStore interface {
	// StaleBlobLinks returns up to limit links stamped before before that
	// no manifest of their repository references, in (RepoID, Digest)
	// order after (afterRepo, afterDigest).
	StaleBlobLinks(ctx context.Context, before time.Time, afterRepo int64, afterDigest string, limit int) ([]BlobLink, error)
	// RemoveStaleBlobLink removes a link if it is still stale as
	// StaleBlobLinks says, and reports whether it did.
	RemoveStaleBlobLink(ctx context.Context, repoID int64, digest string, before time.Time) (bool, error)
	// UnreferencedBlobs returns up to limit recorded blobs, first recorded
	// before before, that no repository links and no manifest references,
	// in digest order after after.
	UnreferencedBlobs(ctx context.Context, before time.Time, after string, limit int) ([]Blob, error)
	// RecordedBlobs reports which of the digests have a blob record.
	RecordedBlobs(ctx context.Context, digests []string) (map[string]bool, error)
	// ClaimBlobDeletion starts deleting a blob's bytes. If no repository
	// links the digest, no manifest references it, no upload is committing
	// it (BeginBlobCommit) and no deletion of it is under way, it removes
	// the blob's record, if any, marks the digest as being deleted at at,
	// and reports true. From then on BeginBlobCommit fails with
	// ErrBlobDeleting until FinishBlobDeletion.
	ClaimBlobDeletion(ctx context.Context, digest string, at time.Time) (bool, error)
	// FinishBlobDeletion records that a claimed digest's bytes are gone.
	FinishBlobDeletion(ctx context.Context, digest string) error
	// PendingBlobDeletions lists the digests claimed before before whose
	// deletion never finished (their collector stopped).
	PendingBlobDeletions(ctx context.Context, before time.Time) ([]string, error)
	// PruneBlobDeletions forgets finished deletions claimed before before.
	PruneBlobDeletions(ctx context.Context, before time.Time) (int, error)
	// BeginBlobCommit records that upload session id is about to commit
	// the digest's bytes, so that ClaimBlobDeletion leaves the digest alone
	// until the session ends (CompleteUpload, DeleteUpload). It forgets a
	// finished deletion of the digest (the upload brings the bytes back),
	// and fails with ErrBlobDeleting while one is under way, and with
	// ErrUploadUnknown when there is no such session.
	BeginBlobCommit(ctx context.Context, id, digest string) error
	// BlobUsage sums the blob links of every repository that has any, in
	// RepoID order.
	BlobUsage(ctx context.Context) ([]RepositoryUsage, error)
}
