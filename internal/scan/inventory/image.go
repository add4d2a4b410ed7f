package inventory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/opencontainers/go-digest"
)

// maxConfigBytes bounds an image config read into memory; real ones are a
// few kilobytes, the largest (long histories) a few hundred.
const maxConfigBytes = 8 << 20

// Config media types of container images; any other config makes a
// manifest an artifact (a Helm chart, a signature, an SBOM).
var imageConfigTypes = []string{
	"application/vnd.oci.image.config.v1+json",
	"application/vnd.docker.container.image.v1+json",
}

// IsImageConfig reports whether a manifest whose config has this media
// type is a container image's, as opposed to an artifact's.
func IsImageConfig(mediaType string) bool { return slices.Contains(imageConfigTypes, mediaType) }

// takeIndex takes the inventory of every image an index lists for a
// platform, leaving out attestations and other artifacts.
func takeIndex(ctx context.Context, src Source, own digest.Digest, manifest []byte, opts Options) (*Result, error) {
	idx, err := v1.ParseIndexManifest(bytes.NewReader(manifest))
	if err != nil {
		return nil, fmt.Errorf("parse index %s: %w", own, err)
	}
	if src.Manifests == nil {
		return nil, fmt.Errorf("index %s: the source has no manifests to read its images from", own)
	}
	res := &Result{}
	for _, d := range idx.Manifests {
		if reason := skipInIndex(d); reason != "" {
			opts.Logger.Debug("index entry not scanned", "index", own, "manifest", d.Digest, "reason", reason)
			continue
		}
		dg := digest.Digest(d.Digest.String())
		body, mt, err := src.Manifests.Manifest(ctx, dg)
		if err != nil {
			return nil, fmt.Errorf("read manifest %s of index %s: %w", dg, own, err)
		}
		if mt, err = manifestType(body, mt); err != nil {
			return nil, fmt.Errorf("manifest %s of index %s: %w", dg, own, err)
		}
		if mt == MediaTypeOCIIndex || mt == MediaTypeDockerList {
			opts.Logger.Debug("index entry not scanned", "index", own, "manifest", dg, "reason", "an index within an index")
			continue
		}
		img, err := takeImage(ctx, src, dg, body, d.Platform, opts)
		if errors.Is(err, ErrUnsupportedImage) {
			// An artifact listed for a platform (rare, but an index may
			// hold anything): not an image to scan, not a failure.
			opts.Logger.Debug("index entry not scanned", "index", own, "manifest", dg, "reason", err)
			continue
		}
		if err != nil {
			return nil, err
		}
		res.Images = append(res.Images, *img)
	}
	if len(res.Images) == 0 {
		return nil, fmt.Errorf("%w: index %s lists no Linux container image", ErrUnsupportedImage, own)
	}
	return res, nil
}

// skipInIndex says why an index entry is not an image to scan, or "".
func skipInIndex(d v1.Descriptor) string {
	// BuildKit's provenance and SBOM attestations: image manifests by their
	// media type, tagged by this annotation and an unknown/unknown platform.
	if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
		return "an attestation"
	}
	if p := d.Platform; p != nil {
		if p.OS == "unknown" || p.Architecture == "unknown" {
			return "platform unknown"
		}
		if p.OS != "" && p.OS != "linux" {
			return "not a Linux image (" + p.OS + ")"
		}
	}
	// An artifactType says nothing yet: some tools set it to the config's
	// media type for plain images. takeImage reads the config's type.
	switch string(d.MediaType) {
	case MediaTypeOCIManifest, MediaTypeDockerManifest, MediaTypeOCIIndex, MediaTypeDockerList, "":
		return ""
	}
	return "media type " + string(d.MediaType)
}

// takeImage takes the inventory of one image manifest. platform is what an
// index said of it, or nil.
func takeImage(ctx context.Context, src Source, own digest.Digest, manifest []byte, platform *v1.Platform, opts Options) (*Image, error) {
	start := time.Now()
	if src.Blobs == nil {
		return nil, errors.New("the source has no blobs")
	}
	m, err := v1.ParseManifest(bytes.NewReader(manifest))
	if err != nil {
		return nil, fmt.Errorf("parse manifest %s: %w", own, err)
	}
	if ct := string(m.Config.MediaType); !IsImageConfig(ct) {
		return nil, fmt.Errorf("%w: manifest %s is an artifact (config %s), not a container image", ErrUnsupportedImage, own, ct)
	}
	layers := scannableLayers(m, opts.Logger.With("image", own.String()))
	if len(layers) == 0 {
		return nil, fmt.Errorf("%w: image %s has no filesystem layers", ErrUnsupportedImage, own)
	}
	config, err := readBlob(ctx, src.Blobs, digest.Digest(m.Config.Digest.String()), maxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("read config of image %s: %w", own, err)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(config))
	if err != nil {
		return nil, fmt.Errorf("parse config of image %s: %w", own, err)
	}
	plat := Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
	if platform != nil && platform.OS != "" {
		plat = Platform{OS: platform.OS, Architecture: platform.Architecture, Variant: platform.Variant}
	}
	if plat.OS != "" && plat.OS != "linux" {
		return nil, fmt.Errorf("%w: image %s is for %s; only Linux images are scanned", ErrUnsupportedImage, own, plat.OS)
	}

	img, err := newV1Image(ctx, src.Blobs, manifest, m, string(m.MediaType), config)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", own, err)
	}
	v1Layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("layers of image %s: %w", own, err)
	}
	var read int64 // uncompressed bytes the walk reads, for the log
	walk := make([]layerReader, len(layers))
	for j, i := range layers {
		walk[j] = layerReader{index: i, open: func() (io.ReadCloser, error) {
			rc, err := uncompressed(v1Layers[i])
			if err != nil {
				return nil, err
			}
			return &countingReader{rc: rc, n: &read}, nil
		}}
	}

	exs, err := newExtractors()
	if err != nil {
		return nil, err
	}
	scratch, err := os.MkdirTemp(opts.ScratchDir, "inventory-")
	if err != nil {
		return nil, fmt.Errorf("scratch directory: %w", err)
	}
	defer func() {
		if err := os.RemoveAll(scratch); err != nil {
			opts.Logger.Warn("remove inventory scratch directory", "dir", scratch, "err", err)
		}
	}()
	log := opts.Logger.With("image", own.String(), "platform", plat.String())
	c, err := newCollector(ctx, scratch, exs, opts, log)
	if err != nil {
		return nil, err
	}
	defer c.close()
	if err := flatten(ctx, walk, c.visit); err != nil {
		var lf *layerFault
		if errors.As(err, &lf) {
			return nil, &LayerError{Image: own, Platform: plat, Index: lf.index, Digest: digest.Digest(m.Layers[lf.index].Digest.String()), Err: lf.err}
		}
		return nil, fmt.Errorf("image %s (%s): %w", own, plat, err)
	}
	osInfo := c.finish()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pkgs := c.packages()
	log.Info("inventory taken", "layers", len(walk), "packages", len(pkgs), "filesExamined", c.filesExamined,
		"bytesRead", read, "bytesSpooled", c.bytesSpooled, "took", time.Since(start).Round(time.Millisecond))
	return &Image{Digest: own, Platform: plat, OS: osInfo, Packages: pkgs, Layers: len(walk)}, nil
}

// scannableLayers lists the positions of the layers that hold a
// filesystem. Layers a registry does not hold (Windows base layers) cannot
// be read; layers that are not filesystems (an attestation's in-toto
// statement) have no packages.
func scannableLayers(m *v1.Manifest, log *slog.Logger) []int {
	var layers []int
	for i, l := range m.Layers {
		mt := string(l.MediaType)
		switch {
		case strings.Contains(mt, ".foreign.") || strings.Contains(mt, ".nondistributable."):
			log.Debug("layer not scanned: not distributable", "layer", l.Digest)
		case !strings.Contains(mt, "tar"):
			log.Debug("layer not scanned: not a filesystem", "layer", l.Digest, "mediaType", mt)
		default:
			layers = append(layers, i)
		}
	}
	return layers
}

// countingReader counts the bytes read through it.
type countingReader struct {
	rc io.ReadCloser
	n  *int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	*r.n += int64(n)
	return n, err
}

func (r *countingReader) Close() error { return r.rc.Close() }
