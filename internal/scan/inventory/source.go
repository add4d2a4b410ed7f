package inventory

import (
	"context"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
)

// Blobs opens blobs (image configs and layers) by digest. Berth's
// blob.Store has this method, so any store is a Blobs as it is; the caller
// passes digests only from manifests of the repository being scanned, whose
// blobs the registry linked to it when they were pushed.
type Blobs interface {
	Open(ctx context.Context, d digest.Digest) (io.ReadSeekCloser, int64, error)
}

// Manifests returns the manifests an index lists, with their media types.
// Berth keeps manifests in its metadata store, not as blobs.
type Manifests interface {
	Manifest(ctx context.Context, d digest.Digest) (content []byte, mediaType string, err error)
}

// ManifestFunc makes a function a Manifests.
type ManifestFunc func(ctx context.Context, d digest.Digest) ([]byte, string, error)

// Manifest calls f.
func (f ManifestFunc) Manifest(ctx context.Context, d digest.Digest) ([]byte, string, error) {
	return f(ctx, d)
}

// Source is where an inventory reads an image from.
type Source struct {
	Blobs Blobs
	// Manifests is needed only to take the inventory of an index.
	Manifests Manifests
}

// blobImage is an image manifest whose config and layers are Berth's blobs,
// seen by go-containerregistry as a v1.Image (partial.CompressedToImage
// adds the rest: layer lists, decompression by sniffing gzip or zstd). The
// methods of a v1.Image take no context, so the image keeps the one the
// inventory runs under.
type blobImage struct {
	ctx       context.Context
	blobs     Blobs
	manifest  []byte
	parsed    *v1.Manifest
	mediaType types.MediaType
	config    []byte
}

func newV1Image(ctx context.Context, blobs Blobs, manifest []byte, parsed *v1.Manifest, mediaType string, config []byte) (v1.Image, error) {
	return partial.CompressedToImage(&blobImage{
		ctx: ctx, blobs: blobs, manifest: manifest, parsed: parsed, mediaType: types.MediaType(mediaType), config: config,
	})
}

func (i *blobImage) RawConfigFile() ([]byte, error)      { return i.config, nil }
func (i *blobImage) MediaType() (types.MediaType, error) { return i.mediaType, nil }
func (i *blobImage) RawManifest() ([]byte, error)        { return i.manifest, nil }
func (i *blobImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	m := i.parsed
	for _, l := range m.Layers {
		if l.Digest == h {
			return &blobLayer{img: i, desc: l}, nil
		}
	}
	if m.Config.Digest == h {
		return &blobLayer{img: i, desc: m.Config}, nil
	}
	return nil, fmt.Errorf("the manifest names no blob %s", h)
}

// blobLayer is one layer blob, streamed from the store each time it is
// opened.
type blobLayer struct {
	img  *blobImage
	desc v1.Descriptor
}

func (l *blobLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *blobLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *blobLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *blobLayer) Compressed() (io.ReadCloser, error) {
	rc, _, err := l.img.blobs.Open(l.img.ctx, digest.Digest(l.desc.Digest.String()))
	if err != nil {
		return nil, &storeFault{fmt.Errorf("open blob %s: %w", l.desc.Digest, err)}
	}
	return storeReader{rc}, nil
}

// readBlob reads a small blob (an image config) whole, refusing one larger
// than limit.
func readBlob(ctx context.Context, blobs Blobs, d digest.Digest, limit int64) ([]byte, error) {
	rc, size, err := blobs.Open(ctx, d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > limit {
		return nil, fmt.Errorf("blob %s is %d bytes, more than the %d an image config may have", d, size, limit)
	}
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("blob %s is more than the %d bytes an image config may have", d, limit)
	}
	return b, nil
}
