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
