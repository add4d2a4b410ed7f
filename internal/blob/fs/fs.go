// Package fs is the filesystem implementation of blob.Store, Berth's
// embedded default.
//
// Layout under the root directory:
//
//	blobs/<algorithm>/<first 2 hex>/<hex>   committed blobs
//	uploads/<id>                            staging files
//
// Both trees live under one root so that Commit can be a rename on a single
// filesystem. Only whole, fsynced files are ever renamed into blobs/, so
// everything found there is a complete blob.
package fs

import (
	// Registered so that digest.Digest.Validate accepts sha256, sha384 and
	// sha512; go-digest only knows algorithms whose hash is linked in.
	_ "crypto/sha256"
	_ "crypto/sha512"

	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob"
)

const (
	dirPerm  = 0o755
	filePerm = 0o644
)

// Store is a blob.Store backed by a directory tree.
type Store struct {
	blobs   string
	uploads string
	// noDirect writes every append through the page cache (see direct.go);
	// tests set it to run the suite over both paths.
	noDirect bool
}

var _ blob.Store = (*Store)(nil)

// New opens the store rooted at root, creating its directories if needed.
func New(root string) (*Store, error) {
	s := &Store{
		blobs:   filepath.Join(root, "blobs"),
		uploads: filepath.Join(root, "uploads"),
	}
	for _, dir := range []string{s.blobs, s.uploads} {
		if err := os.MkdirAll(dir, dirPerm); err != nil {
			return nil, fmt.Errorf("blob/fs: %w", err)
		}
	}
	return s, nil
}

// Stat returns the size of a committed blob.
func (s *Store) Stat(_ context.Context, d digest.Digest) (int64, error) {
	p, err := s.blobPath(d)
	if err != nil {
		return 0, fmt.Errorf("blob/fs: stat %s: %w", d, err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return 0, fmt.Errorf("blob/fs: stat %s: %w", d, notFound(err))
	}
	return fi.Size(), nil
}

// Open returns the blob's *os.File, so that net/http can sendfile it.
func (s *Store) Open(_ context.Context, d digest.Digest) (io.ReadSeekCloser, int64, error) {
	p, err := s.blobPath(d)
	if err != nil {
		return nil, 0, fmt.Errorf("blob/fs: open %s: %w", d, err)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, fmt.Errorf("blob/fs: open %s: %w", d, notFound(err))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("blob/fs: open %s: %w", d, err)
	}
	return f, fi.Size(), nil
}

// Delete removes a committed blob. Empty prefix directories are left in
// place: removing them would race with a Commit creating a blob inside.
func (s *Store) Delete(_ context.Context, d digest.Digest) error {
	p, err := s.blobPath(d)
	if err != nil {
		return fmt.Errorf("blob/fs: delete %s: %w", d, err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("blob/fs: delete %s: %w", d, err)
	}
	return nil
}

// Walk calls fn for every well-formed blob, in lexical order. Anything else
// under blobs/ (stray files, unknown algorithms, misplaced names) is skipped.
// An error from fn stops the walk and is returned as is.
func (s *Store) Walk(ctx context.Context, fn func(d digest.Digest, size int64) error) error {
	algs, err := os.ReadDir(s.blobs)
	if err != nil {
		return fmt.Errorf("blob/fs: walk: %w", err)
	}
	for _, a := range algs {
		alg := digest.Algorithm(a.Name())
		if !a.IsDir() || !alg.Available() {
			continue
		}
		prefixes, err := os.ReadDir(filepath.Join(s.blobs, a.Name()))
		if err != nil {
			return fmt.Errorf("blob/fs: walk: %w", err)
		}
		for _, p := range prefixes {
			if !p.IsDir() || len(p.Name()) != 2 {
				continue
			}
			dir := filepath.Join(s.blobs, a.Name(), p.Name())
			entries, err := os.ReadDir(dir)
			if err != nil {
				return fmt.Errorf("blob/fs: walk: %w", err)
			}
			for _, e := range entries {
				name := e.Name()
				d := digest.NewDigestFromEncoded(alg, name)
				if d.Validate() != nil || name[:2] != p.Name() || !e.Type().IsRegular() {
					continue
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				fi, err := e.Info()
				if errors.Is(err, iofs.ErrNotExist) {
					continue // deleted since ReadDir
				}
				if err != nil {
					return fmt.Errorf("blob/fs: walk: %w", err)
				}
				if err := fn(d, fi.Size()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 1<<20)
	return &b
}}

// Append writes r to the staging file of upload id at offset. The data is
// not fsynced here: durability is only promised by Commit, and a staging file
// that lost its tail in a crash is caught by the offset check on the next
// Append.
func (s *Store) Append(_ context.Context, id string, offset int64, r io.Reader) (int64, error) {
	p, err := s.uploadPath(id)
	if err != nil {
		return 0, fmt.Errorf("blob/fs: append %s: %w", id, err)
	}
	if offset < 0 {
		return 0, fmt.Errorf("blob/fs: append %s at %d: %w", id, offset, blob.ErrInvalidOffset)
	}

	var f *os.File
	if offset == 0 {
		// Starting over: whatever was staged before is discarded.
		f, err = os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, filePerm)
	} else {
		f, err = os.OpenFile(p, os.O_WRONLY, 0)
	}
	if err != nil {
		return 0, fmt.Errorf("blob/fs: append %s: %w", id, notFound(err))
	}
	defer f.Close()

	if offset > 0 {
		fi, err := f.Stat()
		if err != nil {
			return 0, fmt.Errorf("blob/fs: append %s: %w", id, err)
		}
		switch {
		case offset > fi.Size():
			return 0, fmt.Errorf("blob/fs: append %s at %d, %d bytes staged: %w",
				id, offset, fi.Size(), blob.ErrInvalidOffset)
		case offset < fi.Size():
			// A torn write: the caller never acknowledged these bytes.
			if err := f.Truncate(offset); err != nil {
				return 0, fmt.Errorf("blob/fs: append %s: %w", id, err)
			}
		}
	}

	if offset%directAlign == 0 && !s.noDirect {
		if df := openDirect(p); df != nil {
			defer df.Close()
			n, err := s.appendDirect(df, f, offset, r)
			if err != nil {
				return n, fmt.Errorf("blob/fs: append %s: %w", id, err)
			}
			if err := f.Close(); err != nil {
				return n, fmt.Errorf("blob/fs: append %s: %w", id, err)
			}
			return n, nil
		}
	}

	buf := bufPool.Get().(*[]byte)
	defer bufPool.Put(buf)
	// writebackWriter has no ReadFrom, so the copy goes through our large
	// buffer instead of os.File's fallback with a fresh 32 KiB one.
	n, err := io.CopyBuffer(&writebackWriter{f: f, off: offset, flushed: offset}, r, *buf)
	if err != nil {
		return n, fmt.Errorf("blob/fs: append %s: %w", id, err)
	}
	if err := f.Close(); err != nil {
		return n, fmt.Errorf("blob/fs: append %s: %w", id, err)
	}
	return n, nil
}

// appendDirect copies r to the file through a directWriter. The count it
// returns is what is in the file, also when r or a write fails.
func (s *Store) appendDirect(df, f *os.File, offset int64, r io.Reader) (int64, error) {
	w := newDirectWriter(df, f, offset)
	var copyErr error
	if wt, ok := r.(io.WriterTo); ok {
		_, copyErr = wt.WriteTo(w)
	} else {
		buf := bufPool.Get().(*[]byte)
		_, copyErr = io.CopyBuffer(struct{ io.Writer }{w}, r, *buf)
		bufPool.Put(buf)
	}
	n, err := w.finish()
	if copyErr != nil {
		return n, copyErr
	}
	return n, err
}

// OpenUpload reads back the first size staged bytes of an upload. Fewer
// staged bytes than size is an error (wrapping io.ErrUnexpectedEOF): the
// upload lost data its session counted on.
func (s *Store) OpenUpload(_ context.Context, id string, size int64) (io.ReadCloser, error) {
	p, err := s.uploadPath(id)
	if err != nil {
		return nil, fmt.Errorf("blob/fs: open upload %s: %w", id, err)
	}
	if size < 0 {
		return nil, fmt.Errorf("blob/fs: open upload %s: negative size %d", id, size)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("blob/fs: open upload %s: %w", id, notFound(err))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob/fs: open upload %s: %w", id, err)
	}
	if fi.Size() < size {
		f.Close()
		return nil, fmt.Errorf("blob/fs: open upload %s: %d bytes staged, want %d: %w",
			id, fi.Size(), size, io.ErrUnexpectedEOF)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, size), f}, nil
}

// Commit moves the staging file into place with a rename, after cutting it
// to size and fsyncing it, so the final path only ever names a whole blob.
func (s *Store) Commit(_ context.Context, id string, size int64, d digest.Digest) error {
	if err := s.commit(id, size, d); err != nil {
		return fmt.Errorf("blob/fs: commit %s: %w", d, err)
	}
	return nil
}

func (s *Store) commit(id string, size int64, d digest.Digest) error {
	src, err := s.uploadPath(id)
	if err != nil {
		return err
	}
	dst, err := s.blobPath(d)
	if err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("negative size %d", size)
	}

	// An existing blob has the same content; keep it. This also makes a
	// retried Commit succeed after a crash that followed the rename.
	if _, err := os.Lstat(dst); err == nil {
		if err := os.Remove(src); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return err
		}
		return nil
	} else if !errors.Is(err, iofs.ErrNotExist) {
		return err
	}

	if err := truncateAndSync(src, size); err != nil {
		return fmt.Errorf("upload %s: %w", id, err)
	}
	dir := filepath.Dir(dst)
	if err := s.mkdirBlobDir(dir); err != nil {
		return err
	}
	// Two uploads of the same blob may both get here; the later rename
	// replaces an identical file, which readers cannot tell apart.
	if err := os.Rename(src, dst); err != nil {
		return notFound(err)
	}
	return syncDir(dir)
}

// truncateAndSync cuts the staging file to size, dropping any torn tail,
// and flushes it to disk before it may be renamed into place.
func truncateAndSync(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return notFound(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	switch {
	case fi.Size() < size:
		return fmt.Errorf("%d bytes staged, want %d: %w", fi.Size(), size, io.ErrUnexpectedEOF)
	case fi.Size() > size:
		if err := f.Truncate(size); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// mkdirBlobDir creates a blob's prefix directory (and algorithm directory)
// and makes the new entries durable, or a committed blob could vanish with
// its directory in a crash.
func (s *Store) mkdirBlobDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return err
	}
	algDir := filepath.Dir(dir)
	if err := syncDir(algDir); err != nil {
		return err
	}
	return syncDir(filepath.Dir(algDir))
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// Abort removes the staging file of an upload.
func (s *Store) Abort(_ context.Context, id string) error {
	p, err := s.uploadPath(id)
	if err != nil {
		return fmt.Errorf("blob/fs: abort %s: %w", id, err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("blob/fs: abort %s: %w", id, err)
	}
	return nil
}

// Uploads lists the ids of all staging files, ignoring anything under
// uploads/ that is not one.
func (s *Store) Uploads(_ context.Context) ([]string, error) {
	entries, err := os.ReadDir(s.uploads)
	if err != nil {
		return nil, fmt.Errorf("blob/fs: uploads: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if e.Type().IsRegular() && validID(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

func (s *Store) blobPath(d digest.Digest) (string, error) {
	// Validate pins the encoded part to lowercase hex of the algorithm's
	// length, so it is safe to use as a path element.
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("invalid digest %q: %w", string(d), err)
	}
	enc := d.Encoded()
	return filepath.Join(s.blobs, string(d.Algorithm()), enc[:2], enc), nil
}

func (s *Store) uploadPath(id string) (string, error) {
	if err := validID(id); err != nil {
		return "", err
	}
	return filepath.Join(s.uploads, id), nil
}

// validID admits the ids every blob store admits.
func validID(id string) error { return blob.ValidUploadID(id) }

// notFound makes a missing file match blob.ErrNotFound while keeping the
// underlying *PathError.
func notFound(err error) error {
	if errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("%w: %w", blob.ErrNotFound, err)
	}
	return err
}
