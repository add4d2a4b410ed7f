package blob

import (
	"context"
	"time"

	"github.com/opencontainers/go-digest"
)

// ModTimer is the optional power of a Store to say when a committed blob
// was last written. Garbage collection uses it to leave alone, for a grace
// period, blobs that have bytes but no metadata record yet: a crash's
// leftovers are removed only once they are old. A Store without it keeps
// such leftovers.
type ModTimer interface {
	// ModTime fails with ErrNotFound for a missing blob.
	ModTime(ctx context.Context, d digest.Digest) (time.Time, error)
}

// Redirector is the optional power of a Store whose blobs clients can
// fetch from the store itself (S3's presigned URLs): the data plane then
// answers a blob GET with a redirect instead of streaming the bytes
// through the node, as ECR does.
type Redirector interface {
	// RedirectURL returns a URL that serves the committed blob d to
	// anyone holding it until ttl has passed.
	RedirectURL(ctx context.Context, d digest.Digest, ttl time.Duration) (string, error)
}

// BatchDeleter is the optional power of a Store that deletes many blobs in
// one request (S3's DeleteObjects): garbage collection then deletes a page
// of blobs at a time.
type BatchDeleter interface {
	// DeleteBlobs removes committed blobs; missing ones are not an error.
	DeleteBlobs(ctx context.Context, ds []digest.Digest) error
}

// PartialWriteSweeper is the optional power of a Store whose writes of a
// blob can be left half done, by a crash, where neither Walk nor Uploads
// sees them: an object store's multipart uploads at a blob's own key (a
// Commit or a direct put cut short). They cost storage but no reader ever
// sees them. Garbage collection removes the old ones.
type PartialWriteSweeper interface {
	// AbortPartialWrites discards the unfinished writes begun before
	// before and says how many it discarded.
	AbortPartialWrites(ctx context.Context, before time.Time) (int, error)
}
