// Package blob defines Berth's content-addressed byte store.
//
// A Store keeps whole, verified blobs under their digest and the staging
// objects of uploads in progress. Callers stream bytes into an upload with
// Append, hash them as they go, and make the blob visible with Commit, which
// is a single atomic step: a crash at any point leaves either no blob or a
// whole one. The store never buffers a blob in memory.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
)

var (
	// ErrNotFound is returned when a blob or an upload does not exist.
	ErrNotFound = errors.New("blob: not found")
	// ErrInvalidOffset is returned when an append does not start where the
	// staged data ends (or before it, to overwrite a torn tail).
	ErrInvalidOffset = errors.New("blob: invalid offset")
)

// Store is the content-addressed blob store. Every implementation passes the
// suite in package blobtest.
type Store interface {
	// Stat returns the size of a committed blob.
	Stat(ctx context.Context, d digest.Digest) (int64, error)
	// Open returns a reader over a committed blob and its size. A
	// filesystem store returns the *os.File itself, so that the HTTP server
	// can send it to the socket without copying through user space.
	Open(ctx context.Context, d digest.Digest) (io.ReadSeekCloser, int64, error)
	// Delete removes a committed blob. Deleting a missing blob is not an error.
	Delete(ctx context.Context, d digest.Digest) error
	// Walk calls fn for each committed blob; used by garbage collection and
	// consistency checks.
	Walk(ctx context.Context, fn func(d digest.Digest, size int64) error) error

	// Append writes r to the staging object of upload id, starting at
	// offset, creating the upload if offset is 0 and it does not exist.
	// Anything staged beyond offset (a torn write from a crash) is discarded
	// first. It returns the number of bytes written, which are part of the
	// upload even when an error is also returned (a client that hung up).
	Append(ctx context.Context, id string, offset int64, r io.Reader) (int64, error)
	// OpenUpload reads back the staged bytes of an upload, up to size.
	OpenUpload(ctx context.Context, id string, size int64) (io.ReadCloser, error)
	// Commit makes the first size staged bytes of upload id visible as blob
	// d in one atomic step and removes the staging object. The caller has
	// verified that those bytes hash to d. Committing onto an existing blob
	// succeeds and leaves the existing blob in place.
	Commit(ctx context.Context, id string, size int64, d digest.Digest) error
	// Abort removes the staging object of an upload; a missing one is not an
	// error.
	Abort(ctx context.Context, id string) error
	// Uploads lists the ids of all staging objects, so that a starting
	// server can remove those no upload session owns.
	Uploads(ctx context.Context) ([]string, error)
}

// MaxUploadIDLen bounds an upload id.
const MaxUploadIDLen = 128

// ValidUploadID checks that an upload id is 1 to MaxUploadIDLen letters,
// digits, '-' and '_': one harmless element of a file name or an object
// key, on every store.
func ValidUploadID(id string) error {
	if len(id) == 0 || len(id) > MaxUploadIDLen {
		return fmt.Errorf("invalid upload id %q: must be 1 to %d characters", id, MaxUploadIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("invalid upload id %q: only A-Z, a-z, 0-9, '-' and '_' are allowed", id)
		}
	}
	return nil
}

// VerifiedPutter is a Store that can write a blob whose digest is known
// before its bytes straight to the blob's address, without staging and
// committing them: on an object store that saves writing every byte twice.
// The registry uses it for a push whose bytes all arrive in the request
// that names the digest, when nothing is staged yet.
type VerifiedPutter interface {
	// PutVerified reads r to its end, then calls verify, and makes what
	// it read visible as blob d only if verify returns nil. When r, verify
	// or the store fails, nothing is visible at d that was not there
	// before, and the error is returned (verify's as it is). A blob
	// already at d is kept: that is success. It returns how many bytes
	// it read from r. The bytes are never all in memory.
	PutVerified(ctx context.Context, d digest.Digest, r io.Reader, verify func() error) (int64, error)
}
