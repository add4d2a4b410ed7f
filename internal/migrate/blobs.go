package migrate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"

	"github.com/berth-registry/berth/internal/blob"
	"github.com/berth-registry/berth/internal/meta"
)

// ensureBlobs makes sure the target's blob store has the bytes of every
// blob of a page of links, copying up to Options.Parallel at once.
func (r *run) ensureBlobs(ctx context.Context, page []meta.Blob) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.opts.Parallel)
	for _, b := range page {
		r.mu.Lock()
		seen, known := r.seen[b.Digest], r.inTarget[b.Digest]
		r.seen[b.Digest] = true
		r.mu.Unlock()
		switch {
		case seen: // linked by an earlier repository
			continue
		case known: // found by the check
			r.present(Blobs)
			continue
		}
		g.Go(func() error {
			if err := r.ensureBlob(gctx, b); err != nil {
				return fmt.Errorf("blob %s: %w", b.Digest, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// ensureBlob copies a blob the target's blob store does not have. Each
// digest is handed to one ensureBlob per run (seen), so no two copies of
// one digest run at once.
func (r *run) ensureBlob(ctx context.Context, b meta.Blob) error {
	d, err := digest.Parse(b.Digest)
	if err != nil {
		return fmt.Errorf("the source's metadata names an invalid digest: %w", err)
	}
	size, err := r.dst.Blobs.Stat(ctx, d)
	switch {
	case err == nil && size == b.Size:
		r.present(Blobs)
		r.mu.Lock()
		r.inTarget[b.Digest] = true
		r.mu.Unlock()
	case err == nil:
		if err := r.conflict("blob %s: the target's blob store holds %d bytes under it, the source's metadata says %d", d, size, b.Size); err != nil {
			return err
		}
	case !errors.Is(err, blob.ErrNotFound):
		return err
	case r.dry:
		r.copied(Blobs, 1)
		r.addBytes(b.Size)
	default:
		if err := copyBlob(ctx, r.src.Blobs, r.dst.Blobs, d, b.Size); err != nil {
			return err
		}
		r.copied(Blobs, 1)
		r.addBytes(b.Size)
	}
	return nil
}

func (r *run) addBytes(n int64) {
	r.mu.Lock()
	r.report.BlobBytes += n
	r.mu.Unlock()
}

// copyBlob streams a blob from one store into an upload of the other,
// hashing it on the way, and commits it only once the bytes are the
// digest's and the size is size. Nothing holds the blob in memory: the
// reader goes from the source's file (or object) to the target's Append.
func copyBlob(ctx context.Context, from, to blob.Store, d digest.Digest, size int64) (err error) {
	if !d.Algorithm().Available() {
		return fmt.Errorf("digest algorithm %s is not supported", d.Algorithm())
	}
	rc, n, err := from.Open(ctx, d)
	if errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("the source's metadata links it, but its blob store does not have it: %w", err)
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	if n != size {
		return fmt.Errorf("the source's blob store holds %d bytes under it, its metadata says %d", n, size)
	}
	id := uploadID()
	defer func() {
		if err != nil {
			// The staging must not outlive a failed copy; the caller's
			// context may be what failed.
			to.Abort(context.WithoutCancel(ctx), id)
		}
	}()
	h := d.Algorithm().Hash()
	written, err := to.Append(ctx, id, 0, io.TeeReader(rc, h))
	if err != nil {
		return fmt.Errorf("write to the target: %w", err)
	}
	if got := digest.NewDigest(d.Algorithm(), h); written != size || got != d {
		return fmt.Errorf("the source's copy is damaged: its %d bytes hash to %s", written, got)
	}
	if err := to.Commit(ctx, id, written, d); err != nil {
		return fmt.Errorf("commit on the target: %w", err)
	}
	return nil
}

// uploadID names a migration's staging upload in the target's blob store:
// the characters every blob store accepts, and a prefix that says whose
// it is should one be left behind (the next server start removes it).
func uploadID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "migrate-" + hex.EncodeToString(b)
}
