// Package inventory lists the software packages inside a container image,
// read from Berth's own blobs: OS packages (dpkg, apk, rpm), Go modules
// from Go binaries' build information, npm packages (package.json), Python
// distributions (dist-info and egg-info metadata), Java archives and Rust
// crates recorded by cargo auditable. Each package carries the ecosystem in
// OSV's spelling ("Debian:12", "Alpine:v3.19", "Go", "npm", "PyPI",
// "Maven", "crates.io"), so that a vulnerability database keyed by OSV
// ecosystem, name and version can match it.
//
// The extraction is Google's osv-scalibr, linked extractor by extractor
// (extractors.go); the image's filesystem is Berth's: the layers are read
// through go-containerregistry's v1.Image over a Source, streamed from the
// top layer down, and whiteouts and opaque directories are applied on the
// way (flatten.go), so that a file is looked at only if it is in the image
// a container would see. Nothing holds a layer in memory: files an
// extractor wants are read whole only when small, otherwise spooled to a
// scratch directory, and OS package databases are written there for the
// extractors that read them as files.
package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Manifest media types an inventory reads.
const (
	MediaTypeOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeOCIIndex       = "application/vnd.oci.image.index.v1+json"
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
)

var (
	// ErrUnsupportedImage is an image or artifact with nothing an inventory
	// can read: no layers, a config that is not a container image's (a Helm
	// chart, a signature, an SBOM), an operating system other than Linux, or
	// an index none of whose manifests is such an image. ECR answers
	// UnsupportedImageTypeException for these.
	ErrUnsupportedImage = errors.New("unsupported image")
	// ErrUnreadableLayer is a layer that is not a tar archive, plain or
	// compressed with gzip or zstd. It comes wrapped in a *LayerError that
	// says which layer and why.
	ErrUnreadableLayer = errors.New("layer is not a readable tar archive")
)

// Result is the inventory of one image manifest or of an index.
type Result struct {
	// Images has one entry for an image manifest and one per platform for
	// an index, in the index's order; attestations and other artifacts an
	// index lists are left out.
	Images []Image
}

// Image is the inventory of one image manifest.
type Image struct {
	Digest   digest.Digest
	Platform Platform
	// OS is what /etc/os-release (or /usr/lib/os-release) says; nil when
	// the image has neither, as in distroless or scratch images.
	OS       *OS
	Packages []Package
	// Layers is the number of layers read.
	Layers int
}

// Platform is an image's os/architecture/variant, from the index that
// lists it or else from its config.
type Platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
}

func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// OS is the operating system an image's os-release names.
type OS struct {
	ID              string // "debian", "alpine", "rhel"
	VersionID       string // "12", "3.19.1"
	VersionCodename string // "bookworm"; empty where the distribution has none
	PrettyName      string // "Debian GNU/Linux 12 (bookworm)"
}

// Package is one package found in an image.
type Package struct {
	Name    string
	Version string
	// Ecosystem is OSV's: "Debian:12", "Alpine:v3.19", "Go", "npm", ….
	// Empty when the package has none OSV knows (an OS package in an image
	// whose os-release names no distribution OSV covers).
	Ecosystem string
	// SourceName is the source package an OS package was built from
	// (dpkg's Source field, apk's origin, the name of rpm's source RPM);
	// empty when it is the package's own name or not recorded. Debian's
	// advisories name source packages.
	SourceName string
	// SourceVersion is dpkg's source version where it differs from
	// Version (a binNMU); empty otherwise.
	SourceVersion string
	PURL          string
	// Paths are where the package was found, absolute in the image: the
	// package database, the binary, the package.json or METADATA file.
	Paths []string
	// Extractor is the osv-scalibr extractor that found it ("os/dpkg",
	// "go/binary", "javascript/packagejson", …).
	Extractor string
}

// LayerError says which layer an inventory could not read, and why.
type LayerError struct {
	Image    digest.Digest // the image manifest
	Platform Platform
	Index    int // the layer's position in the manifest, 0 for the base
	Digest   digest.Digest
	Err      error
}

func (e *LayerError) Error() string {
	return fmt.Sprintf("layer %d (%s) of image %s (%s): %v", e.Index, e.Digest, e.Image, e.Platform, e.Err)
}

func (e *LayerError) Unwrap() error { return e.Err }

// Options tune an inventory. The zero value is usable.
type Options struct {
	// ScratchDir is where a temporary directory is made for the files the
	// extractors read from disk (package databases, large binaries and
	// archives); it is removed before Take returns. It must exist; empty
	// means the system's temporary directory.
	ScratchDir string
	// MaxFileBytes skips files larger than this (they are logged); 0 means
	// DefaultMaxFileBytes.
	MaxFileBytes int64
	// Logger receives the inventory's logs; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultMaxFileBytes bounds the files an inventory reads, and so the
// scratch space one file can take.
const DefaultMaxFileBytes = 1 << 30

// Take lists the packages of the image manifest (or of each image of the
// index) manifest, whose media type is mediaType (empty: the one it
// declares), reading configs and layers from src.Blobs and, for an index,
// its image manifests from src.Manifests. It is safe for concurrent use.
//
// Errors: ErrUnsupportedImage when there is nothing to inventory; a
// *LayerError when a layer cannot be read (wrapping ErrUnreadableLayer when
// it is no tar archive, the store's error otherwise); the context's error
// when ctx ends.
func Take(ctx context.Context, src Source, manifest []byte, mediaType string, opts Options) (*Result, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	if opts.ScratchDir == "" {
		opts.ScratchDir = os.TempDir()
	}
	routeScalibrLogs()
	mt, err := manifestType(manifest, mediaType)
	if err != nil {
		return nil, err
	}
	own := digest.FromBytes(manifest)
	switch mt {
	case MediaTypeOCIIndex, MediaTypeDockerList:
		return takeIndex(ctx, src, own, manifest, opts)
	default:
		img, err := takeImage(ctx, src, own, manifest, nil, opts)
		if err != nil {
			return nil, err
		}
		return &Result{Images: []Image{*img}}, nil
	}
}

// manifestType settles a manifest's media type: the one given, else the
// one it declares, else (OCI allows omitting it) by its shape.
func manifestType(manifest []byte, mediaType string) (string, error) {
	if i := strings.IndexByte(mediaType, ';'); i >= 0 {
		mediaType = strings.TrimSpace(mediaType[:i])
	}
	var doc struct {
		MediaType string          `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal(manifest, &doc); err != nil {
		return "", fmt.Errorf("manifest is not valid JSON: %w", err)
	}
	if mediaType == "" || mediaType == "application/json" {
		mediaType = doc.MediaType
	}
	if mediaType == "" {
		if doc.Manifests != nil {
			return MediaTypeOCIIndex, nil
		}
		return MediaTypeOCIManifest, nil
	}
	switch mediaType {
	case MediaTypeOCIManifest, MediaTypeDockerManifest, MediaTypeOCIIndex, MediaTypeDockerList:
		return mediaType, nil
	}
	return "", fmt.Errorf("%w: manifest media type %q is not an image manifest or index", ErrUnsupportedImage, mediaType)
}
