package scan

// The SBOM referrer, a Berth extension (issue #13): where a registry's
// BERTH_SCAN_SBOM account setting names a format, a scan attaches the
// inventory it took to the scanned image as an SBOM, an OCI artifact whose
// subject is the image, so that `oras discover` lists it and the referrers
// API serves it. It is pushed through the registry domain like any
// client's artifact: by digest, no tag (so tag immutability has nothing to
// refuse), its config not an image's (so scanning refuses it a scan).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/berth-registry/berth/internal/scan/inventory"
	"github.com/berth-registry/berth/internal/scan/sbom"
)

// AnnotationSBOMCreator marks the SBOMs Berth attached, with the value
// sbom.Creator: a scan attaches one per image, format and repository, and
// tells its own from an SBOM a client pushed by this annotation.
const AnnotationSBOMCreator = "io.github.berth-registry.creator"

// sbomRegistry is what attaching an SBOM asks of the registry domain,
// beyond Registry: the registry's setting, the image's referrers, and
// pushes. The registry domain has it (checked below); a Registry without
// it (a test's) attaches nothing.
type sbomRegistry interface {
	AccountSetting(ctx context.Context, reg meta.RegistryKey, name string) (string, error)
	Referrers(ctx context.Context, reg meta.RegistryKey, name string, d digest.Digest, artifactType string) ([]meta.Referrer, error)
	PutBlob(ctx context.Context, reg meta.RegistryKey, name string, d digest.Digest, body io.Reader) error
	PutManifest(ctx context.Context, reg meta.RegistryKey, name, ref, contentType string, body []byte, extraTags []string) (*registry.PushedManifest, error)
}

var _ sbomRegistry = (*registry.Service)(nil)

// attachSBOM attaches, to image m of repository repo, the SBOM of the
// inventory inv that the scan started at started took. It runs before the
// scan is recorded COMPLETE, so that a client that waited for the scan
// (aws ecr wait image-scan-complete) finds the SBOM; a failure to push it
// fails the job, which runs the scan again.
func (s *Service) attachSBOM(ctx context.Context, reg meta.RegistryKey, repo string, m *meta.Manifest, started time.Time, inv *inventory.Result) error {
	return s.attach(ctx, reg, repo, m, started, func(context.Context) (*inventory.Result, error) { return inv, nil })
}

// attachSBOMs attaches the SBOM of inventory inv to image m in every
// repository that asked for a scan of it, the job's own first: a request
// made while another repository's scan job for the digest waited or ran
// wrote no job of its own (jobs are keyed by digest), and is answered by
// this scan all the same. Each repository's registry decides by its own
// setting.
func (s *Service) attachSBOMs(ctx context.Context, p scanJob, m *meta.Manifest, started time.Time, inv *inventory.Result) error {
	reqs, err := s.store.RequestsForDigest(ctx, m.Digest)
	if err != nil {
		return err
	}
	job := meta.ScanRequested{Registry: meta.RegistryKey{Account: p.Account, Region: p.Region}, Repository: p.Repository}
	targets := []meta.ScanRequested{job}
	for _, r := range reqs {
		if !containsRepository(targets, r) {
			targets = append(targets, r)
		}
	}
	for _, r := range targets {
		if err := s.attachSBOM(ctx, r.Registry, r.Repository, m, started, inv); err != nil {
			return err
		}
	}
	return nil
}

// attachSharedSBOM attaches an SBOM to image m of repository repo when a
// scan job finds the digest's scan already COMPLETE (the image was pushed
// to another repository first, maybe of another registry that did not opt
// in). The inventory is not stored with the scan, so it is taken again,
// once per repository and format: storing every scan's inventory would
// cost every registry for the few that opt in, and would need the scan
// record to name it; taking it again needs nothing but the image, which
// the repository holds. Its creation time is the shared scan's start, so
// that the document says which scan it belongs to.
func (s *Service) attachSharedSBOM(ctx context.Context, reg meta.RegistryKey, repo string, m *meta.Manifest, prev *meta.ImageScan) error {
	return s.attach(ctx, reg, repo, m, prev.StartedAt, func(ctx context.Context) (*inventory.Result, error) {
		return s.takeInventoryAgain(ctx, reg, repo, m)
	})
}

// attach pushes the SBOM of image m to repo if the registry opted in and
// no SBOM of Berth's in that format is attached yet; take gives the
// inventory, asked only then. Everything it decides on is read from the stores, so any
// node may run it, and two runs at once push the same bytes (the document
// and its manifest are deterministic), which the registry stores once.
func (s *Service) attach(ctx context.Context, reg meta.RegistryKey, repo string, m *meta.Manifest, created time.Time,
	take func(context.Context) (*inventory.Result, error)) error {
	ar, ok := s.reg.(sbomRegistry)
	if !ok {
		return nil
	}
	setting, err := ar.AccountSetting(ctx, reg, registry.SettingScanSBOM)
	if err != nil {
		return fmt.Errorf("sbom setting of %s/%s: %w", reg.Account, reg.Region, err)
	}
	format := sbom.Format(setting)
	if setting == registry.ScanSBOMDisabled || format.MediaType() == "" {
		return nil
	}
	subject := digest.Digest(m.Digest)
	have, err := s.attachedSBOM(ctx, ar, reg, repo, subject, format)
	if err != nil || have != "" {
		return err
	}
	inv, err := take(ctx)
	if err != nil || inv == nil {
		return err
	}
	doc, err := sbom.Encode(format, sbom.Document{Name: repo, Subject: subject, Created: created, Images: inv.Images})
	if err != nil {
		return fmt.Errorf("sbom of %s: %w", subject, err)
	}
	// The image may have gone while it was scanned. A referrer may be
	// pushed before its subject, so the push would not say so; it is
	// asked, and an SBOM of nothing is not pushed.
	_, err = s.reg.GetManifest(ctx, reg, repo, m.Digest)
	switch {
	case errors.Is(err, registry.ErrManifestUnknown), errors.Is(err, registry.ErrNameUnknown):
		return nil
	case err != nil:
		return fmt.Errorf("image %s of %s: %w", subject, repo, err)
	}
	pushed, err := pushSBOM(ctx, ar, reg, repo, m, format, doc, created)
	if err != nil {
		return fmt.Errorf("attach the %s SBOM of %s to %s: %w", format, subject, repo, err)
	}
	s.log.InfoContext(ctx, "sbom attached", "repository", repo, "digest", subject, "format", format, "referrer", pushed, "bytes", len(doc))
	return nil
}

// attachedSBOM returns the digest of the SBOM in format that Berth
// attached to subject in repo, or "".
func (s *Service) attachedSBOM(ctx context.Context, ar sbomRegistry, reg meta.RegistryKey, repo string, subject digest.Digest, format sbom.Format) (string, error) {
	refs, err := ar.Referrers(ctx, reg, repo, subject, format.MediaType())
	if err != nil {
		return "", fmt.Errorf("referrers of %s: %w", subject, err)
	}
	for _, r := range refs {
		if r.ArtifactType == format.MediaType() && r.Annotations[AnnotationSBOMCreator] == sbom.Creator {
			return r.Digest, nil
		}
	}
	return "", nil
}

// sbomFileNames name the SBOM's layer, which is the name `oras pull` saves
// it under (it skips layers without one).
var sbomFileNames = map[sbom.Format]string{sbom.SPDX: "sbom.spdx.json", sbom.CycloneDX: "sbom.cdx.json"}

// sbomManifest is the OCI artifact that carries doc: an image manifest
// with the SBOM's artifact type, the empty config the OCI image spec
// prescribes for artifacts, the document as its one layer, and the image
// as its subject.
func sbomManifest(subject *meta.Manifest, format sbom.Format, doc []byte, created time.Time) ([]byte, error) {
	man := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: format.MediaType(),
		Config:       ocispec.DescriptorEmptyJSON,
		Layers: []ocispec.Descriptor{{
			MediaType:   format.MediaType(),
			Digest:      digest.FromBytes(doc),
			Size:        int64(len(doc)),
			Annotations: map[string]string{ocispec.AnnotationTitle: sbomFileNames[format]},
		}},
		Subject: &ocispec.Descriptor{MediaType: subject.MediaType, Digest: digest.Digest(subject.Digest), Size: int64(len(subject.Content))},
		Annotations: map[string]string{
			ocispec.AnnotationCreated: created.UTC().Truncate(time.Second).Format(time.RFC3339),
			AnnotationSBOMCreator:     sbom.Creator,
		},
	}
	return json.Marshal(man)
}

// pushSBOM pushes the empty config, the document and the manifest, by
// digest, and returns the manifest's digest.
func pushSBOM(ctx context.Context, ar sbomRegistry, reg meta.RegistryKey, repo string, subject *meta.Manifest, format sbom.Format, doc []byte, created time.Time) (digest.Digest, error) {
	body, err := sbomManifest(subject, format, doc, created)
	if err != nil {
		return "", err
	}
	for _, blob := range [][]byte{ocispec.DescriptorEmptyJSON.Data, doc} {
		if err := ar.PutBlob(ctx, reg, repo, digest.FromBytes(blob), bytes.NewReader(blob)); err != nil {
			return "", fmt.Errorf("push blob: %w", err)
		}
	}
	d := digest.FromBytes(body)
	if _, err := ar.PutManifest(ctx, reg, repo, d.String(), ocispec.MediaTypeImageManifest, body, nil); err != nil {
		return "", fmt.Errorf("push manifest: %w", err)
	}
	return d, nil
}

// takeInventoryAgain takes the inventory of image m for an SBOM, as its
// scan did. An image the scan could read and this cannot (unsupported, a
// layer unreadable) gets no SBOM: that is logged, not retried.
func (s *Service) takeInventoryAgain(ctx context.Context, reg meta.RegistryKey, repo string, m *meta.Manifest) (*inventory.Result, error) {
	inv, err := s.takeInventory(ctx, reg, repo, m)
	var layerErr *inventory.LayerError
	switch {
	case errors.Is(err, inventory.ErrUnsupportedImage) || errors.As(err, &layerErr) && errors.Is(err, inventory.ErrUnreadableLayer):
		s.log.WarnContext(ctx, "sbom: the image's inventory cannot be taken again; no SBOM attached", "repository", repo, "digest", m.Digest, "err", err)
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("inventory of %s: %w", m.Digest, err)
	}
	return inv, nil
}
