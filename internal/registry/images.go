package registry

// Images are the ECR API's view of a repository's manifests: images named by
// (digest, tag) pairs, described, fetched and deleted in batches, pushed
// through PutImage's checks around PutManifest; the layers they reference;
// and the recording of pulls for lastRecordedPullTime.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/opencontainers/go-digest"
)

// ImageID names an image as ECR's ImageIdentifier does: by digest, by tag,
// or by both.
type ImageID struct {
	Digest string
	Tag    string
}

// ECR's ImageFailureCode and LayerFailureCode values.
const (
	FailureInvalidImageDigest         = "InvalidImageDigest"
	FailureInvalidImageTag            = "InvalidImageTag"
	FailureImageTagDoesNotMatchDigest = "ImageTagDoesNotMatchDigest"
	FailureImageNotFound              = "ImageNotFound"
	FailureMissingDigestAndTag        = "MissingDigestAndTag"
	FailureReferencedByManifestList   = "ImageReferencedByManifestList"
	FailureUnsupportedImageType       = "UnsupportedImageType"
	FailureInvalidLayerDigest         = "InvalidLayerDigest"
	FailureMissingLayerDigest         = "MissingLayerDigest"
)

// ImageFailure says why one image of a batch was left alone, in ECR's words.
type ImageFailure struct {
	ID     ImageID
	Code   string
	Reason string
}

// ecrDigestRE is the digest shape ECR accepts in an image or layer id.
var ecrDigestRE = regexp.MustCompile(`^[a-zA-Z0-9_+.-]+:[a-fA-F0-9]+$`)

const (
	reasonImageNotFound  = "Requested image not found"
	reasonInvalidDigest  = "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'"
	reasonInvalidTag     = "Invalid request parameters: image tag should satisfy the regex '[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}'"
	reasonMissingID      = "Invalid request parameters: both tag and digest cannot be null"
	reasonTagNotDigest   = "Invalid request parameters: given tag does not map to the given digest"
	reasonInvalidLayer   = "Invalid request parameters: layer digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'"
	reasonMissingLayerID = "Invalid request parameters: layer digest cannot be null"
)

// messageOf is the message of a domain error without its kind.
func messageOf(err error) string {
	var de *Error
	if errors.As(err, &de) {
		return de.Message
	}
	return err.Error()
}

// orNull prints an absent id member as ECR does.
func orNull(s string) string {
	if s == "" {
		return "null"
	}
	return s
}

func imageNotFound(id ImageID, r *meta.Repository) *Error {
	return &Error{
		Kind: ErrManifestUnknown,
		Message: fmt.Sprintf("The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within the repository with name '%s' in the registry with id '%s'",
			orNull(id.Digest), orNull(id.Tag), r.Name, r.Registry.Account),
	}
}

// findImage resolves an image id. A request that names no image, or one
// that is not there, is a failure in ECR's terms, not an error.
func (s *Service) findImage(ctx context.Context, r *meta.Repository, id ImageID) (*meta.Manifest, *ImageFailure, error) {
	fail := func(code, reason string) (*meta.Manifest, *ImageFailure, error) {
		return nil, &ImageFailure{ID: id, Code: code, Reason: reason}, nil
	}
	switch {
	case id.Digest == "" && id.Tag == "":
		return fail(FailureMissingDigestAndTag, reasonMissingID)
	case id.Digest != "" && !ecrDigestRE.MatchString(id.Digest):
		return fail(FailureInvalidImageDigest, reasonInvalidDigest)
	case id.Tag != "" && ValidateTag(id.Tag) != nil:
		return fail(FailureInvalidImageTag, reasonInvalidTag)
	}
	dg := id.Digest
	if id.Tag != "" {
		got, err := s.meta.ResolveTag(ctx, r.ID, id.Tag)
		if errors.Is(err, meta.ErrTagUnknown) {
			return fail(FailureImageNotFound, reasonImageNotFound)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("resolve tag %s: %w", id.Tag, err)
		}
		if dg != "" && got != dg {
			return fail(FailureImageTagDoesNotMatchDigest, reasonTagNotDigest)
		}
		dg = got
	}
	m, err := s.meta.GetManifest(ctx, r.ID, dg)
	if errors.Is(err, meta.ErrManifestUnknown) {
		return fail(FailureImageNotFound, reasonImageNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get manifest %s: %w", dg, err)
	}
	return m, nil, nil
}

// ListImageIDs returns up to n image ids of a repository after the id
// after (zero to start), and the id to continue after when more follow. An
// image appears once per tag, or once by digest alone when untagged; ids
// come in (digest, tag) order.
func (s *Service) ListImageIDs(ctx context.Context, reg meta.RegistryKey, name string, status meta.TagStatus, after ImageID, n int) ([]ImageID, *ImageID, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, nil, err
	}
	if n <= 0 || n > MaxPageSize {
		return nil, nil, errorf(ErrPaginationInvalid, "the page size must be between 1 and %d", MaxPageSize)
	}
	var out []ImageID
	emit := func(m *meta.Manifest, afterTag string) {
		if len(m.Tags) == 0 {
			if afterTag == "" {
				out = append(out, ImageID{Digest: m.Digest})
			}
			return
		}
		for _, t := range m.Tags {
			if t > afterTag {
				out = append(out, ImageID{Digest: m.Digest, Tag: t})
			}
		}
	}
	// A page may end inside an image's tags: finish that image first.
	if after.Digest != "" && after.Tag != "" && status != meta.TagStatusUntagged {
		m, err := s.meta.GetManifest(ctx, r.ID, after.Digest)
		switch {
		case err == nil:
			if len(m.Tags) > 0 {
				emit(m, after.Tag)
			}
		case !errors.Is(err, meta.ErrManifestUnknown):
			return nil, nil, fmt.Errorf("list images: %w", err)
		}
	}
	cursor := after.Digest
	for len(out) <= n {
		page, err := s.meta.ListImages(ctx, r.ID, meta.ImageQuery{TagStatus: status, After: cursor, Limit: n + 1})
		if err != nil {
			return nil, nil, fmt.Errorf("list images: %w", err)
		}
		for _, m := range page {
			emit(m, "")
		}
		if len(page) < n+1 {
			break
		}
		cursor = page[len(page)-1].Digest
	}
	if len(out) > n {
		next := out[n-1]
		return out[:n], &next, nil
	}
	return out, nil, nil
}

// DescribeImages returns up to n images of a repository whose digests sort
// after after, and whether more follow.
func (s *Service) DescribeImages(ctx context.Context, reg meta.RegistryKey, name string, status meta.TagStatus, after string, n int) ([]*meta.Manifest, bool, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, false, err
	}
	if n <= 0 || n > MaxPageSize {
		return nil, false, errorf(ErrPaginationInvalid, "the page size must be between 1 and %d", MaxPageSize)
	}
	page, err := s.meta.ListImages(ctx, r.ID, meta.ImageQuery{TagStatus: status, After: after, Limit: n + 1})
	if err != nil {
		return nil, false, fmt.Errorf("describe images: %w", err)
	}
	more := len(page) > n
	if more {
		page = page[:n]
	}
	for _, m := range page {
		if err := s.sizeIndex(ctx, r, m); err != nil {
			return nil, false, err
		}
	}
	return page, more, nil
}

// DescribeImagesByID describes the named images, each once; a missing one
// fails the whole call, as in ECR.
func (s *Service) DescribeImagesByID(ctx context.Context, reg meta.RegistryKey, name string, ids []ImageID) ([]*meta.Manifest, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, err
	}
	var out []*meta.Manifest
	for _, id := range ids {
		m, f, err := s.findImage(ctx, r, id)
		if err != nil {
			return nil, err
		}
		if f != nil {
			switch f.Code {
			case FailureImageNotFound, FailureImageTagDoesNotMatchDigest:
				return nil, imageNotFound(id, r)
			default:
				return nil, errorf(ErrImageIDInvalid, "Invalid parameter at 'imageIds': %s", f.Reason)
			}
		}
		if slices.ContainsFunc(out, func(o *meta.Manifest) bool { return o.Digest == m.Digest }) {
			continue
		}
		if err := s.sizeIndex(ctx, r, m); err != nil {
			return nil, err
		}
		m.Content = nil
		out = append(out, m)
	}
	return out, nil
}

// sizeIndex gives an index the size ECR reports for a manifest list: that
// of its largest image.
func (s *Service) sizeIndex(ctx context.Context, r *meta.Repository, m *meta.Manifest) error {
	if !isIndex(m.MediaType) {
		return nil
	}
	content := m.Content
	if content == nil {
		full, err := s.meta.GetManifest(ctx, r.ID, m.Digest)
		if errors.Is(err, meta.ErrManifestUnknown) {
			return nil // deleted meanwhile: leave the stored size
		}
		if err != nil {
			return fmt.Errorf("get manifest %s: %w", m.Digest, err)
		}
		content = full.Content
	}
	var doc manifestDoc
	if err := json.Unmarshal(content, &doc); err != nil {
		return nil // stored bytes were validated on push; keep the stored size
	}
	var largest int64
	for _, d := range doc.Manifests {
		child, err := s.meta.GetManifest(ctx, r.ID, d.Digest)
		if errors.Is(err, meta.ErrManifestUnknown) {
			continue
		}
		if err != nil {
			return fmt.Errorf("get manifest %s: %w", d.Digest, err)
		}
		largest = max(largest, child.ImageSize)
	}
	m.ImageSize = largest
	return nil
}

// Image is one image of a BatchGetImage answer: an id with both members
// set (the tag empty for an untagged image) and the stored manifest.
type Image struct {
	ID       ImageID
	Manifest *meta.Manifest
}

// BatchGetImage fetches images. An id by digest alone yields the image once
// per tag, as ECR does. With acceptedMediaTypes, an image of another type
// is a failure. Every image returned counts as pulled.
func (s *Service) BatchGetImage(ctx context.Context, reg meta.RegistryKey, name string, ids []ImageID, acceptedMediaTypes []string) ([]Image, []ImageFailure, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, nil, err
	}
	images := []Image{}
	failures := []ImageFailure{}
	seen := map[ImageID]bool{}
	for _, id := range ids {
		m, f, err := s.findImage(ctx, r, id)
		if err != nil {
			return nil, nil, err
		}
		if f != nil {
			failures = append(failures, *f)
			continue
		}
		if len(acceptedMediaTypes) > 0 && !slices.Contains(acceptedMediaTypes, m.MediaType) {
			failures = append(failures, ImageFailure{ID: id, Code: FailureUnsupportedImageType,
				Reason: fmt.Sprintf("The image's manifest media type %s is not in acceptedMediaTypes", m.MediaType)})
			continue
		}
		got := []ImageID{{Digest: m.Digest, Tag: id.Tag}}
		if id.Tag == "" && len(m.Tags) > 0 {
			got = got[:0]
			for _, t := range m.Tags {
				got = append(got, ImageID{Digest: m.Digest, Tag: t})
			}
		}
		for _, g := range got {
			if !seen[g] {
				seen[g] = true
				images = append(images, Image{ID: g, Manifest: m})
			}
		}
		s.RecordPull(reg, name, m.Digest)
	}
	return images, failures, nil
}

// BatchDeleteImage deletes images. An id with a tag removes that tag, and
// the image with it when it was the image's last tag; an id by digest alone
// removes the image and all its tags. Ids are resolved first, so two ids
// naming one image delete it once. It returns the ids deleted, each with
// digest and tag.
func (s *Service) BatchDeleteImage(ctx context.Context, reg meta.RegistryKey, name string, ids []ImageID) ([]ImageID, []ImageFailure, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, nil, err
	}
	type target struct {
		whole bool
		tags  []string // tags of the image, when whole; tags to remove otherwise
		ids   []ImageID
	}
	targets := map[string]*target{}
	var order []string
	failures := []ImageFailure{}
	for _, id := range ids {
		m, f, err := s.findImage(ctx, r, id)
		if err != nil {
			return nil, nil, err
		}
		if f != nil {
			failures = append(failures, *f)
			continue
		}
		t := targets[m.Digest]
		if t == nil {
			t = &target{}
			targets[m.Digest] = t
			order = append(order, m.Digest)
		}
		t.ids = append(t.ids, id)
		switch {
		case id.Tag == "":
			t.whole, t.tags = true, m.Tags
		case !t.whole && !slices.Contains(t.tags, id.Tag):
			t.tags = append(t.tags, id.Tag)
		}
	}
	deleted := []ImageID{}
	// Untagging first: removing an index's last tag may free its children.
	for _, dg := range order {
		t := targets[dg]
		if t.whole {
			continue
		}
		for _, tag := range t.tags {
			jobs := s.imageJobs(r, ImageEvent{Action: ImageDeleted, Digest: dg, Tags: []string{tag}})
			err := s.meta.DeleteTag(ctx, r.ID, tag, jobs)
			if errors.Is(err, meta.ErrTagUnknown) {
				failures = append(failures, ImageFailure{ID: ImageID{Digest: dg, Tag: tag}, Code: FailureImageNotFound, Reason: reasonImageNotFound})
				continue
			}
			if err != nil {
				return nil, nil, fmt.Errorf("delete tag %s: %w", tag, err)
			}
			deleted = append(deleted, ImageID{Digest: dg, Tag: tag})
		}
		if _, err := s.meta.DeleteUntaggedManifest(ctx, r.ID, dg, s.imageJobs(r, ImageEvent{Action: ImageDeleted, Digest: dg})); err != nil {
			return nil, nil, fmt.Errorf("delete untagged manifest %s: %w", dg, err)
		}
	}
	// Whole images, in passes: deleting an index in one pass lets its
	// children go in the next.
	pending := map[string]*meta.ReferencedError{}
	for _, dg := range order {
		if targets[dg].whole {
			pending[dg] = nil
		}
	}
	for progress := true; progress && len(pending) > 0; {
		progress = false
		for _, dg := range order {
			if _, ok := pending[dg]; !ok {
				continue
			}
			t := targets[dg]
			err := s.meta.DeleteManifest(ctx, r.ID, dg, s.imageJobs(r, ImageEvent{Action: ImageDeleted, Digest: dg, Tags: t.tags}))
			var refd *meta.ReferencedError
			switch {
			case errors.As(err, &refd):
				pending[dg] = refd
				continue
			case errors.Is(err, meta.ErrManifestUnknown):
				for _, id := range t.ids {
					failures = append(failures, ImageFailure{ID: id, Code: FailureImageNotFound, Reason: reasonImageNotFound})
				}
			case err != nil:
				return nil, nil, fmt.Errorf("delete manifest %s: %w", dg, err)
			case len(t.tags) == 0:
				deleted = append(deleted, ImageID{Digest: dg})
			default:
				for _, tag := range t.tags {
					deleted = append(deleted, ImageID{Digest: dg, Tag: tag})
				}
			}
			delete(pending, dg)
			progress = true
		}
	}
	for _, dg := range order {
		refd, ok := pending[dg]
		if !ok {
			continue
		}
		for _, id := range targets[dg].ids {
			failures = append(failures, ImageFailure{ID: id, Code: FailureReferencedByManifestList,
				Reason: fmt.Sprintf("Requested image referenced by manifest list: [%s]", refd.By)})
		}
	}
	if len(deleted) > 0 {
		s.jobsWritten(len(s.opts.ImageEventQueues))
	}
	return deleted, failures, nil
}

// PutImageInput is a PutImage request.
type PutImageInput struct {
	Manifest []byte
	// MediaType is imageManifestMediaType; required when the manifest has
	// no mediaType member.
	MediaType string
	Tag       string
	// Digest, when set, must be the manifest's digest.
	Digest string
}

// PutImage stores a manifest as ECR's PutImage does: the same push as the
// data plane's, after ECR's own checks (the digest given, a manifest and
// tag already there), with ECR's words for missing references.
func (s *Service) PutImage(ctx context.Context, reg meta.RegistryKey, name string, in PutImageInput) (*meta.Manifest, error) {
	var head struct {
		MediaType string          `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
	}
	if json.Unmarshal(in.Manifest, &head) == nil {
		switch {
		case head.MediaType == "" && in.MediaType == "":
			return nil, errorf(ErrManifestInvalid, "Invalid parameter at 'imageManifestMediaType': the manifest has no mediaType member, so the request must name its media type")
		case head.MediaType != "" && in.MediaType != "" && head.MediaType != in.MediaType:
			return nil, errorf(ErrManifestInvalid, "Invalid parameter at 'imageManifestMediaType': %s does not match the manifest's mediaType %s", truncate(in.MediaType, 200), truncate(head.MediaType, 200))
		}
	}
	got := digest.Canonical.FromBytes(in.Manifest)
	if in.Digest != "" {
		want, err := ParseDigest(in.Digest)
		if err != nil {
			return nil, errorf(ErrImageIDInvalid, "Invalid parameter at 'imageDigest': %s", messageOf(err))
		}
		got = want.Algorithm().FromBytes(in.Manifest)
		if got != want {
			return nil, errorf(ErrImageDigestMismatch, "Manifest digest %s does not match the digest %s given in the request", got, want)
		}
	}
	ref := got.String()
	if in.Tag != "" {
		ref = in.Tag
		if err := ValidateTag(in.Tag); err != nil {
			return nil, errorf(ErrTagInvalid, "Invalid parameter at 'imageTag': %s", messageOf(err))
		}
		if r, err := s.meta.GetRepository(ctx, reg, name); err == nil {
			if cur, err := s.meta.ResolveTag(ctx, r.ID, in.Tag); err == nil && cur == got.String() {
				return nil, errorf(ErrImageExists, "Image with digest '%s' and tag '%s' already exists in the repository with name '%s' in registry with id '%s'",
					got, in.Tag, name, reg.Account)
			}
		}
	}
	pushed, err := s.PutManifest(ctx, reg, name, ref, in.MediaType, in.Manifest, nil)
	var de *Error
	if errors.Is(err, ErrManifestBlobUnknown) && errors.As(err, &de) {
		missing := ""
		if d, ok := de.Detail.(map[string]string); ok {
			missing = d["digest"]
		}
		// An index references manifests only, an image blobs only.
		if head.Manifests != nil || isIndex(head.MediaType) || isIndex(in.MediaType) {
			return nil, &Error{Kind: ErrReferencedImageUnknown, Detail: de.Detail, Message: fmt.Sprintf(
				"Images with digests '[%s]' required for pushing image into repository with name '%s' in the registry with id '%s' do not exist",
				missing, name, reg.Account)}
		}
		return nil, &Error{Kind: ErrManifestBlobUnknown, Detail: de.Detail, Message: fmt.Sprintf(
			"Layers with digests '[%s]' required for pushing image into repository with name '%s' in the registry with id '%s' do not exist",
			missing, name, reg.Account)}
	}
	if err != nil {
		return nil, err
	}
	return s.GetManifest(ctx, reg, name, pushed.Digest.String())
}

// Layer is what BatchCheckLayerAvailability reports of one layer.
type Layer struct {
	Digest    string
	Available bool
	Size      int64
	// MediaType is the layer's type as a manifest of the repository
	// describes it; empty while no manifest references it.
	MediaType string
}

// LayerFailure says why a layer digest was not checked.
type LayerFailure struct {
	Digest string
	Code   string
	Reason string
}

// CheckLayers reports which layers a repository holds, as ECR's
// BatchCheckLayerAvailability does.
func (s *Service) CheckLayers(ctx context.Context, reg meta.RegistryKey, name string, digests []string) ([]Layer, []LayerFailure, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, nil, err
	}
	layers := []Layer{}
	failures := []LayerFailure{}
	for _, d := range digests {
		switch {
		case d == "":
			failures = append(failures, LayerFailure{Digest: d, Code: FailureMissingLayerDigest, Reason: reasonMissingLayerID})
			continue
		case !ecrDigestRE.MatchString(d):
			failures = append(failures, LayerFailure{Digest: d, Code: FailureInvalidLayerDigest, Reason: reasonInvalidLayer})
			continue
		}
		b, err := s.meta.GetBlob(ctx, r.ID, d)
		if errors.Is(err, meta.ErrBlobUnknown) {
			layers = append(layers, Layer{Digest: d})
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("get blob %s: %w", d, err)
		}
		mt, err := s.layerMediaType(ctx, r, d)
		if err != nil {
			return nil, nil, err
		}
		layers = append(layers, Layer{Digest: d, Available: true, Size: b.Size, MediaType: mt})
	}
	return layers, failures, nil
}

// layerMediaType reads a layer's media type from a manifest that
// references it.
func (s *Service) layerMediaType(ctx context.Context, r *meta.Repository, d string) (string, error) {
	users, err := s.meta.ManifestsReferencing(ctx, r.ID, d, 1)
	if err != nil || len(users) == 0 {
		return "", err
	}
	m, err := s.meta.GetManifest(ctx, r.ID, users[0])
	if errors.Is(err, meta.ErrManifestUnknown) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get manifest %s: %w", users[0], err)
	}
	var doc manifestDoc
	if json.Unmarshal(m.Content, &doc) != nil {
		return "", nil
	}
	if doc.Config != nil && doc.Config.Digest == d {
		return doc.Config.MediaType, nil
	}
	for _, l := range doc.Layers {
		if l.Digest == d {
			return l.MediaType, nil
		}
	}
	return "", nil
}

// DownloadableLayer checks that a layer may be handed out for download, as
// ECR's GetDownloadUrlForLayer does: it must be in the repository and
// referenced by one of its images. It returns the layer's size.
func (s *Service) DownloadableLayer(ctx context.Context, reg meta.RegistryKey, name, layerDigest string) (int64, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return 0, err
	}
	d, err := ParseDigest(layerDigest)
	if err != nil {
		return 0, errorf(ErrImageIDInvalid, "Invalid parameter at 'layerDigest': %s", messageOf(err))
	}
	b, err := s.meta.GetBlob(ctx, r.ID, d.String())
	if errors.Is(err, meta.ErrBlobUnknown) {
		return 0, &Error{Kind: ErrBlobUnknown, Detail: map[string]string{"digest": d.String()}, Message: fmt.Sprintf(
			"The layer with digest '%s' does not exist within the repository with name '%s' in the registry with id '%s'", d, name, reg.Account)}
	}
	if err != nil {
		return 0, fmt.Errorf("get blob %s: %w", d, err)
	}
	users, err := s.meta.ManifestsReferencing(ctx, r.ID, d.String(), 1)
	if err != nil {
		return 0, fmt.Errorf("find images using %s: %w", d, err)
	}
	if len(users) == 0 {
		return 0, errorf(ErrLayerInaccessible,
			"The layer with digest '%s' in the repository with name '%s' in the registry with id '%s' is not associated with an image: only layers that an image references can be downloaded",
			d, name, reg.Account)
	}
	return b.Size, nil
}

// Pulls are recorded off the pull path: RecordPull notes the pull in
// memory, and a flusher writes what accumulated once a second, in one
// transaction, while pulls keep coming.
const (
	pullFlushInterval = time.Second
	// maxPendingPulls bounds the memory of pulls awaiting a flush; beyond
	// it, pulls of further manifests go unrecorded until the next flush.
	maxPendingPulls = 100000
)

type pullKey struct {
	reg    meta.RegistryKey
	repo   string
	digest string
}

type pullRecorder struct {
	mu      sync.Mutex
	pending map[pullKey]time.Time
	running bool
	dropped int
}

func newPullRecorder() *pullRecorder {
	return &pullRecorder{pending: map[pullKey]time.Time{}}
}

func (s *Service) pulls() *pullRecorder { return s.pullRec }

// RecordPull notes that a manifest was pulled now, for lastRecordedPullTime.
// It never blocks on storage.
func (s *Service) RecordPull(reg meta.RegistryKey, name, manifestDigest string) {
	p := s.pulls()
	k := pullKey{reg: reg, repo: name, digest: manifestDigest}
	now := s.now().UTC()
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.pending[k]; !ok && len(p.pending) >= maxPendingPulls {
		p.dropped++
		return
	}
	p.pending[k] = now
	if !p.running {
		p.running = true
		go s.flushPullsEvery(p, pullFlushInterval)
	}
}

// flushPullsEvery flushes until a flush finds nothing to write.
func (s *Service) flushPullsEvery(p *pullRecorder, every time.Duration) {
	for {
		time.Sleep(every)
		if !s.flushPulls(context.Background(), p, true) {
			return
		}
	}
}

// FlushPulls writes the pulls recorded so far; call it before closing the
// metadata store.
func (s *Service) FlushPulls(ctx context.Context) {
	s.flushPulls(ctx, s.pulls(), false)
}

// flushPulls writes the pending pulls and reports whether there were any.
// The flusher (stop set) stops, under the lock, when there were none, so a
// pull recorded after that starts a new one.
func (s *Service) flushPulls(ctx context.Context, p *pullRecorder, stop bool) bool {
	p.mu.Lock()
	batch, dropped := p.pending, p.dropped
	if len(batch) == 0 {
		if stop {
			p.running = false
		}
		p.mu.Unlock()
		return false
	}
	p.pending, p.dropped = map[pullKey]time.Time{}, 0
	p.mu.Unlock()
	if dropped > 0 {
		s.log.WarnContext(ctx, "pull times not recorded: too many pulls between flushes", "dropped", dropped)
	}
	type repoKey struct {
		reg  meta.RegistryKey
		name string
	}
	ids := map[repoKey]int64{}
	pulls := make([]meta.Pull, 0, len(batch))
	for k, at := range batch {
		rk := repoKey{k.reg, k.repo}
		id, ok := ids[rk]
		if !ok {
			r, err := s.meta.GetRepository(ctx, k.reg, k.repo)
			if err != nil {
				if !errors.Is(err, meta.ErrRepositoryUnknown) {
					s.log.WarnContext(ctx, "record pulls: get repository", "repository", k.repo, "err", err)
				}
				ids[rk] = 0
				continue
			}
			id, ids[rk] = r.ID, r.ID
		}
		if id == 0 {
			continue
		}
		pulls = append(pulls, meta.Pull{RepoID: id, Digest: k.digest, At: at})
	}
	if err := s.meta.RecordPulls(ctx, pulls); err != nil {
		s.log.WarnContext(ctx, "record pulls", "count", len(pulls), "err", err)
	}
	return true
}

// ImageReferrers lists, in digest order, up to n manifests whose subject
// is subject and whose artifact type is one of artifactTypes (any, when
// empty), after the digest after; it reports whether more follow. Unlike
// the data plane's referrers API, a missing repository is an error.
func (s *Service) ImageReferrers(ctx context.Context, reg meta.RegistryKey, name, subject string, artifactTypes []string, after string, n int) ([]meta.Referrer, bool, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, false, err
	}
	d, err := ParseDigest(subject)
	if err != nil {
		return nil, false, errorf(ErrImageIDInvalid, "Invalid parameter at 'subjectId.imageDigest': %s", messageOf(err))
	}
	if n <= 0 || n > MaxPageSize {
		return nil, false, errorf(ErrPaginationInvalid, "the page size must be between 1 and %d", MaxPageSize)
	}
	all, err := s.meta.ListReferrers(ctx, r.ID, d.String(), "")
	if err != nil {
		return nil, false, fmt.Errorf("list referrers: %w", err)
	}
	slices.SortFunc(all, func(a, b meta.Referrer) int { return strings.Compare(a.Digest, b.Digest) })
	out := []meta.Referrer{}
	for _, ref := range all {
		if ref.Digest <= after || len(artifactTypes) > 0 && !slices.Contains(artifactTypes, ref.ArtifactType) {
			continue
		}
		if len(out) == n {
			return out, true, nil
		}
		out = append(out, ref)
	}
	return out, false, nil
}

// Image resolves one image id of a repository (by tag, digest or both) to
// its manifest, with ECR's errors: ErrImageIDInvalid for an id that names
// nothing or is malformed, ErrManifestUnknown for an image that is not
// there.
func (s *Service) Image(ctx context.Context, reg meta.RegistryKey, name string, id ImageID) (*meta.Repository, *meta.Manifest, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, nil, err
	}
	m, fail, err := s.findImage(ctx, r, id)
	if err != nil {
		return nil, nil, err
	}
	if fail != nil {
		if fail.Code == FailureImageNotFound || fail.Code == FailureImageTagDoesNotMatchDigest {
			return nil, nil, imageNotFound(id, r)
		}
		return nil, nil, errorf(ErrImageIDInvalid, "Invalid parameter at 'imageId': %s", fail.Reason)
	}
	return r, m, nil
}
