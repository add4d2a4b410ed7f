package inventory

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// The layers of an image are read from the top one down, each once, as a
// stream, so that each file can be handed on as the walk meets it, final,
// with no second pass and no copy of a layer anywhere. A path is decided by
// the highest layer that mentions it: an entry of a lower layer is in the
// image only if no layer above it has the same path, deleted it (a whiteout
// ".wh.<name>"), hid its directory's older contents (an opaque directory,
// ".wh..wh..opq"), or put something other than a directory at one of its
// parents — which includes a layer that deleted or replaced a parent below
// one that made it a directory again: that directory starts empty.
// FuzzFlatten checks the walk against a model that applies layers base
// first, as a container runtime does.
//
// What the walk remembers is the paths of the layers read so far, not their
// contents: memory grows with the number of paths in the image, never with
// the size of a layer. The bottom layer's paths are not remembered, since
// no layer below it asks.

const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// pathState is what the upper layers said about a path.
type pathState uint8

const (
	stateDir     pathState = 1 << iota // a directory: lower layers' entries under it stay
	stateOther                         // a file, symlink, device…: hides lower entries at and under it
	stateDeleted                       // a whiteout: hides lower entries at and under it
	stateOpaque                        // an opaque directory: hides lower entries under it
)

// layerReader is one layer to walk: a way to open its uncompressed tar
// stream and what to call it in errors.
type layerReader struct {
	index int
	open  func() (io.ReadCloser, error)
}

// visitFunc receives each entry of the image's final filesystem that is
// not a directory: name is clean and relative ("usr/bin/env"), and r reads
// a regular file's content (only until the next call). A visitFunc that
// returns an error stops the walk with it.
type visitFunc func(name string, hdr *tar.Header, r io.Reader) error

// flatten walks layers (base first, as a manifest lists them) from the top
// down and calls visit for every entry that survives in the image. An error
// reading layer i is a *layerFault carrying i.
func flatten(ctx context.Context, layers []layerReader, visit visitFunc) error {
	seen := make(map[string]pathState)
	for i := len(layers) - 1; i >= 0; i-- {
		if err := flattenLayer(ctx, layers[i], seen, i == 0, visit); err != nil {
			return err
		}
		if seen[""]&stateOpaque != 0 {
			return nil // an opaque root: nothing below is in the image
		}
	}
	return nil
}

// layerFault is an error reading one layer, told apart from the errors a
// visitFunc returns so that only the former become a LayerError.
type layerFault struct {
	index int
	err   error
}

func (f *layerFault) Error() string { return fmt.Sprintf("layer %d: %v", f.index, f.err) }
func (f *layerFault) Unwrap() error { return f.err }

func flattenLayer(ctx context.Context, l layerReader, seen map[string]pathState, bottom bool, visit visitFunc) error {
	rc, err := l.open()
	if err != nil {
		return &layerFault{l.index, layerError(err, 0)}
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	// A layer's whiteouts and opaque markers hide what lies below it, not
	// its own entries, which may come before or after them in the tar.
	var whiteouts, opaques []string
	for n := 0; ; n++ {
		if n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &layerFault{l.index, layerError(err, n)}
		}
		name := cleanName(hdr.Name)
		if name == "" {
			continue // the root itself
		}
		dir, base := path.Split(name)
		dir = strings.TrimSuffix(dir, "/")
		switch {
		case base == opaqueMarker:
			opaques = append(opaques, dir)
			continue
		case strings.HasPrefix(base, whiteoutPrefix):
			whiteouts = append(whiteouts, path.Join(dir, base[len(whiteoutPrefix):]))
			continue
		}
		if st, ok := seen[name]; ok && st&stateDir != 0 && hdr.Typeflag != tar.TypeDir {
			// An upper layer has a directory where this one has a file:
			// that directory was made anew, and nothing of the lower
			// layers' directory is in it.
			seen[name] = st | stateOpaque
		}
		if hidden(seen, name) {
			continue
		}
		if hdr.Typeflag == tar.TypeDir {
			if !bottom {
				seen[name] = stateDir
			}
			continue
		}
		if !bottom {
			seen[name] = stateOther
		}
		if err := visit(name, hdr, faultReader{tr}); err != nil {
			// A read error here is the layer's (a truncated gzip stream), a
			// visitFunc's own errors are not.
			var rf *readFault
			if errors.As(err, &rf) {
				return &layerFault{l.index, layerError(fmt.Errorf("reading /%s: %w", name, rf.err), n)}
			}
			return err
		}
	}
	if bottom {
		return nil
	}
	for _, w := range whiteouts {
		st, ok := seen[w]
		switch {
		case !ok:
			seen[w] = stateDeleted
		case st&stateDir != 0:
			// An upper layer made the directory again: what it held
			// before this deletion stays hidden, as under an opaque one.
			seen[w] = st | stateOpaque
		}
	}
	for _, o := range opaques {
		if st, ok := seen[o]; !ok || st&stateDir != 0 {
			seen[o] = st | stateDir | stateOpaque
		}
	}
	return nil
}

// hidden reports whether an upper layer decided name already: it has an
// entry at name itself (the upper one wins; for two directories, the lower
// adds nothing the walk needs), or deleted, replaced or made opaque one of
// its parents.
func hidden(seen map[string]pathState, name string) bool {
	if len(seen) == 0 {
		return false
	}
	if _, ok := seen[name]; ok {
		return true
	}
	for p := name; ; {
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return false
		}
		p = p[:i]
		if st, ok := seen[p]; ok && st&(stateOther|stateDeleted|stateOpaque) != 0 {
			return true
		}
	}
}

// cleanName turns a tar entry's name ("./usr/bin/", "/etc/passwd") into a
// clean relative path; "" for the root. Names cannot climb out of the
// root: path.Clean of an absolute path drops any "..".
func cleanName(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// readFault marks an error reading the layer stream (as opposed to
// writing a spooled copy) while a visitFunc consumed an entry.
type readFault struct{ err error }

func (f *readFault) Error() string { return f.err.Error() }
func (f *readFault) Unwrap() error { return f.err }

// faultReader tags the errors of the entry reader as the layer's.
type faultReader struct{ r io.Reader }

func (f faultReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err != nil && err != io.EOF {
		err = &readFault{err}
	}
	return n, err
}

// storeFault marks an error of the blob store itself (a disk or a bucket
// that failed), which says nothing about the layer's content.
type storeFault struct{ err error }

func (f *storeFault) Error() string { return f.err.Error() }
func (f *storeFault) Unwrap() error { return f.err }

// storeReader tags the errors of a blob's stream as the store's.
type storeReader struct{ rc io.ReadCloser }

func (s storeReader) Read(p []byte) (int, error) {
	n, err := s.rc.Read(p)
	if err != nil && err != io.EOF {
		err = &storeFault{err}
	}
	return n, err
}

func (s storeReader) Close() error { return s.rc.Close() }

// layerError words a failure to read a layer's tar stream after entries
// entries: the store's own failures as they are, anything else (a bad tar
// header, a corrupt or truncated gzip or zstd stream) as a layer that is
// not a readable tar archive.
func layerError(err error, entries int) error {
	var sf *storeFault
	if errors.As(err, &sf) {
		return fmt.Errorf("reading the blob: %w", sf.err)
	}
	if entries == 0 {
		return fmt.Errorf("%w: %v", ErrUnreadableLayer, err)
	}
	return fmt.Errorf("%w: after %d entries: %v", ErrUnreadableLayer, entries, err)
}
