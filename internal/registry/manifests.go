package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/opencontainers/go-digest"
)

// Manifest media types Berth stores.
const (
	MediaTypeOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeOCIIndex       = "application/vnd.oci.image.index.v1+json"
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeDockerSchema1  = "application/vnd.docker.distribution.manifest.v1+json"
	mediaTypeDockerSigned   = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// ManifestMediaTypes lists the manifest types Berth accepts, for messages and
// for content negotiation.
var ManifestMediaTypes = []string{MediaTypeOCIManifest, MediaTypeOCIIndex, MediaTypeDockerManifest, MediaTypeDockerList}

func isIndex(mt string) bool { return mt == MediaTypeOCIIndex || mt == MediaTypeDockerList }

// IsManifestMediaType reports whether mt is a manifest type Berth stores.
func IsManifestMediaType(mt string) bool {
	for _, m := range ManifestMediaTypes {
		if m == mt {
			return true
		}
	}
	return false
}

type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         *int64            `json:"size"`
	URLs         []string          `json:"urls,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	Data         []byte            `json:"data,omitempty"`
	ArtifactType string            `json:"artifactType,omitempty"`
}

type manifestDoc struct {
	SchemaVersion *int              `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        *descriptor       `json:"config"`
	Layers        []descriptor      `json:"layers"`
	Manifests     []descriptor      `json:"manifests"`
	Subject       *descriptor       `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
}

// PushedManifest is what a manifest push stored.
type PushedManifest struct {
	Digest  digest.Digest
	Subject digest.Digest
	Tags    []string
}

// maxRepositoryRereads bounds how often a push reads its repository again
// because it changed while the push was being decided.
const maxRepositoryRereads = 3

func manifestInvalid(format string, args ...any) *Error {
	return errorf(ErrManifestInvalid, format, args...)
}

// PutManifest validates and stores a manifest under ref (a tag or a digest)
// and points the extra tags at it too.
func (s *Service) PutManifest(ctx context.Context, reg meta.RegistryKey, name, ref, contentType string, body []byte, extraTags []string) (*PushedManifest, error) {
	tags := make([]string, 0, len(extraTags)+1)
	var want digest.Digest
	if IsDigest(ref) {
		d, err := ParseDigest(ref)
		if err != nil {
			return nil, err
		}
		want = d
	} else {
		if err := ValidateTag(ref); err != nil {
			return nil, err
		}
		tags = append(tags, ref)
	}
	for _, t := range extraTags {
		if err := ValidateTag(t); err != nil {
			return nil, err
		}
		if !contains(tags, t) {
			tags = append(tags, t)
		}
	}
	if int64(len(body)) > s.opts.MaxManifestSize {
		return nil, errorf(ErrTooLarge, "manifest is %d bytes, more than the %d-byte limit", len(body), s.opts.MaxManifestSize)
	}
	alg := digest.Canonical
	if want != "" {
		alg = want.Algorithm()
	}
	got := alg.FromBytes(body)
	if want != "" && got != want {
		return nil, &Error{
			Kind:    ErrDigestInvalid,
			Message: fmt.Sprintf("manifest bytes hash to %s, not to the digest %s in the URL", got, want),
			Detail:  map[string]string{"digest": want.String()},
		}
	}
	m, refs, err := parseManifest(contentType, body)
	if err != nil {
		return nil, err
	}
	m.Digest = got.String()
	r, undo, err := s.repositoryForPush(ctx, reg, name)
	if err != nil {
		return nil, err
	}
	return s.storeManifest(ctx, reg, name, r, undo, m, refs, nil, tags, false)
}

// storeManifest stores a parsed manifest, its digest set, in r with tags,
// linking links first, and writes its image event's jobs; undo runs when
// the push is refused. A replica's event says so.
func (s *Service) storeManifest(ctx context.Context, reg meta.RegistryKey, name string, r *meta.Repository, undo func(),
	m *meta.Manifest, refs []meta.Ref, links []meta.Blob, tags []string, replica bool) (*PushedManifest, error) {
	m.PushedAt = s.now().UTC()
	var (
		err  error
		jobs []meta.NewJob
		ev   ImageEvent
	)
	// Which tags are immutable is decided on the repository as read, maybe
	// from a cache; the store refuses the push if the repository changed
	// since (another request, another node), and it is decided again.
	for attempt := 1; ; attempt++ {
		writes := make([]meta.TagWrite, len(tags))
		for i, t := range tags {
			writes[i] = meta.TagWrite{Name: t, Immutable: tagImmutable(r, t)}
		}
		ev = ImageEvent{Action: ImagePushed, Account: r.Registry.Account, Region: r.Registry.Region, Repository: r.Name,
			Digest: m.Digest, Tags: tags, MediaType: m.MediaType, ArtifactType: m.ArtifactType, At: m.PushedAt, Replica: replica}
		jobs = s.imageJobs(r, ev)
		err = s.meta.PutManifest(ctx, &meta.PutManifest{RepoID: r.ID, Repository: r, Manifest: *m, Refs: refs, Links: links, Tags: writes, Jobs: jobs})
		if !errors.Is(err, meta.ErrRepositoryChanged) || attempt == maxRepositoryRereads {
			break
		}
		if r, err = s.Repository(ctx, reg, name, false); err != nil {
			break
		}
	}
	if err != nil {
		undo()
	}
	var missing *meta.MissingRefError
	switch {
	case errors.As(err, &missing):
		what := "blob"
		if missing.Ref.Kind == meta.RefManifest {
			what = "manifest"
		}
		return nil, &Error{
			Kind:    ErrManifestBlobUnknown,
			Message: fmt.Sprintf("the manifest references %s %s, which is not in repository '%s': push it first", what, missing.Ref.Digest, name),
			Detail:  map[string]string{"digest": missing.Ref.Digest},
		}
	case errors.Is(err, meta.ErrTagImmutable):
		return nil, errorf(ErrTagImmutable, "The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the repository is immutable.", immutableTag(err, tags), name)
	case err != nil:
		return nil, fmt.Errorf("put manifest: %w", err)
	}
	s.jobsWritten(len(jobs))
	if s.opts.AfterPush != nil {
		s.opts.AfterPush(context.WithoutCancel(ctx), ev)
	}
	out := &PushedManifest{Digest: digest.Digest(m.Digest), Tags: tags}
	if m.Subject != "" {
		out.Subject = digest.Digest(m.Subject)
	}
	return out, nil
}

func immutableTag(err error, tags []string) string {
	for _, t := range tags {
		if strings.Contains(err.Error(), t) {
			return t
		}
	}
	if len(tags) > 0 {
		return tags[0]
	}
	return ""
}

// tagImmutable applies the repository's imageTagMutability, and its
// exclusion filters, to one tag.
func tagImmutable(r *meta.Repository, tag string) bool {
	return tagImmutableUnder(r.TagMutability, tagExclusions(r), tag)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// parseManifest validates a manifest and lists what it references.
func parseManifest(contentType string, body []byte) (*meta.Manifest, []meta.Ref, error) {
	var doc manifestDoc
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, manifestInvalid("manifest is not valid JSON: %v", err)
	}
	if len(bytes.TrimSpace(body[dec.InputOffset():])) > 0 {
		return nil, nil, manifestInvalid("manifest has data after its JSON object")
	}
	ct := ""
	if contentType != "" {
		if mt, _, err := mime.ParseMediaType(contentType); err == nil {
			ct = mt
		} else {
			return nil, nil, manifestInvalid("Content-Type %q cannot be parsed: %v", truncate(contentType, 200), err)
		}
	}
	mt := doc.MediaType
	switch {
	case ct == mediaTypeDockerSchema1 || ct == mediaTypeDockerSigned || mt == mediaTypeDockerSchema1 || mt == mediaTypeDockerSigned:
		return nil, nil, manifestInvalid("Docker image manifest schema 1 is not supported: push with a current client, which sends schema 2 or OCI manifests")
	case IsManifestMediaType(ct):
		if mt != "" && mt != ct {
			return nil, nil, manifestInvalid("the Content-Type %s does not match the manifest's mediaType %s", ct, mt)
		}
		mt = ct
	case ct == "" || ct == "application/json" || ct == "application/octet-stream":
		if mt == "" {
			// An OCI manifest may omit mediaType; tell image from index by shape.
			if doc.Manifests != nil {
				mt = MediaTypeOCIIndex
			} else {
				mt = MediaTypeOCIManifest
			}
		}
	default:
		return nil, nil, manifestInvalid("manifest media type %q is not supported: use one of %s", truncate(ct, 200), strings.Join(ManifestMediaTypes, ", "))
	}
	if !IsManifestMediaType(mt) {
		return nil, nil, manifestInvalid("manifest media type %q is not supported: use one of %s", truncate(mt, 200), strings.Join(ManifestMediaTypes, ", "))
	}
	if doc.SchemaVersion == nil || *doc.SchemaVersion != 2 {
		return nil, nil, manifestInvalid("manifest schemaVersion must be 2")
	}
	m := &meta.Manifest{
		MediaType:    mt,
		ArtifactType: doc.ArtifactType,
		Annotations:  doc.Annotations,
		Content:      body,
		ImageSize:    int64(len(body)),
	}
	var refs []meta.Ref
	if isIndex(mt) {
		if doc.Config != nil || doc.Layers != nil {
			return nil, nil, manifestInvalid("an index has no config or layers; did you mean %s?", MediaTypeOCIManifest)
		}
		if doc.Manifests == nil {
			return nil, nil, manifestInvalid("an index must have a manifests array")
		}
		for i, d := range doc.Manifests {
			if err := checkDescriptor(fmt.Sprintf("manifests[%d]", i), d); err != nil {
				return nil, nil, err
			}
			refs = append(refs, meta.Ref{Digest: d.Digest, Kind: meta.RefManifest})
			m.ImageSize += *d.Size
		}
	} else {
		if doc.Manifests != nil {
			return nil, nil, manifestInvalid("an image manifest has no manifests array; did you mean %s?", MediaTypeOCIIndex)
		}
		if doc.Config == nil {
			return nil, nil, manifestInvalid("manifest has no config descriptor")
		}
		if err := checkDescriptor("config", *doc.Config); err != nil {
			return nil, nil, err
		}
		if doc.Layers == nil && mt == MediaTypeDockerManifest {
			return nil, nil, manifestInvalid("manifest has no layers array")
		}
		if doc.ArtifactType == "" {
			// As the referrers API defines it: an image's artifact type is
			// its config's media type unless it names one.
			m.ArtifactType = doc.Config.MediaType
		}
		refs = append(refs, meta.Ref{Digest: doc.Config.Digest, Kind: meta.RefBlob})
		m.ImageSize += *doc.Config.Size
		for i, d := range doc.Layers {
			if err := checkDescriptor(fmt.Sprintf("layers[%d]", i), d); err != nil {
				return nil, nil, err
			}
			m.ImageSize += *d.Size
			if nonDistributable(d) {
				continue
			}
			refs = append(refs, meta.Ref{Digest: d.Digest, Kind: meta.RefBlob})
		}
	}
	if doc.Subject != nil {
		if err := checkDescriptor("subject", *doc.Subject); err != nil {
			return nil, nil, err
		}
		m.Subject = doc.Subject.Digest
	}
	return m, dedupe(refs), nil
}

func checkDescriptor(field string, d descriptor) error {
	if d.MediaType == "" {
		return manifestInvalid("%s: mediaType is missing", field)
	}
	if _, _, err := mime.ParseMediaType(d.MediaType); err != nil {
		return manifestInvalid("%s: mediaType %q is not a media type", field, truncate(d.MediaType, 200))
	}
	dg, err := digest.Parse(d.Digest)
	if err != nil {
		return manifestInvalid("%s: digest %q is invalid: %v", field, truncate(d.Digest, 200), err)
	}
	if d.Size == nil {
		return manifestInvalid("%s: size is missing", field)
	}
	if *d.Size < 0 {
		return manifestInvalid("%s: size %d is negative", field, *d.Size)
	}
	if d.Data != nil {
		if int64(len(d.Data)) != *d.Size {
			return manifestInvalid("%s: data holds %d bytes but size says %d", field, len(d.Data), *d.Size)
		}
		if dg.Validate() == nil && dg.Algorithm().Available() && dg.Algorithm().FromBytes(d.Data) != dg {
			return manifestInvalid("%s: data does not hash to digest %s", field, dg)
		}
	}
	return nil
}

// Layers that registries are not expected to hold (Windows base layers and
// the like) are not required to exist.
func nonDistributable(d descriptor) bool {
	return strings.Contains(d.MediaType, ".nondistributable.") || strings.Contains(d.MediaType, ".foreign.")
}

func dedupe(refs []meta.Ref) []meta.Ref {
	seen := make(map[string]bool, len(refs))
	out := refs[:0]
	for _, r := range refs {
		if seen[r.Digest] {
			continue
		}
		seen[r.Digest] = true
		out = append(out, r)
	}
	return out
}

// GetManifest returns a manifest by tag or digest. By digest it carries its
// tags; by tag (the pull path, one lookup) Tags is empty.
func (s *Service) GetManifest(ctx context.Context, reg meta.RegistryKey, name, ref string) (*meta.Manifest, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, err
	}
	if !IsDigest(ref) {
		// A pull by tag: one lookup, tag and manifest together.
		if err := ValidateTag(ref); err != nil {
			return nil, err
		}
		m, err := s.meta.GetTaggedManifest(ctx, r.ID, ref)
		if errors.Is(err, meta.ErrTagUnknown) {
			return nil, manifestUnknown(name, ref)
		}
		if err != nil {
			return nil, fmt.Errorf("get manifest %s: %w", ref, err)
		}
		return m, nil
	}
	dg, err := s.resolve(ctx, r, ref)
	if err != nil {
		return nil, err
	}
	m, err := s.meta.GetManifest(ctx, r.ID, dg)
	if errors.Is(err, meta.ErrManifestUnknown) {
		return nil, manifestUnknown(name, ref)
	}
	if err != nil {
		return nil, fmt.Errorf("get manifest %s: %w", ref, err)
	}
	return m, nil
}

func manifestUnknown(name, ref string) *Error {
	kind := "tag"
	if IsDigest(ref) {
		kind = "digest"
	}
	return &Error{
		Kind:    ErrManifestUnknown,
		Message: fmt.Sprintf("manifest %s '%s' is not in repository '%s'", kind, truncate(ref, 200), name),
		Detail:  map[string]string{kind: ref},
	}
}

func (s *Service) resolve(ctx context.Context, r *meta.Repository, ref string) (string, error) {
	if IsDigest(ref) {
		d, err := ParseDigest(ref)
		if err != nil {
			return "", err
		}
		return d.String(), nil
	}
	if err := ValidateTag(ref); err != nil {
		return "", err
	}
	dg, err := s.meta.ResolveTag(ctx, r.ID, ref)
	if errors.Is(err, meta.ErrTagUnknown) {
		return "", manifestUnknown(r.Name, ref)
	}
	if err != nil {
		return "", fmt.Errorf("resolve tag %s: %w", ref, err)
	}
	return dg, nil
}

// DeleteManifest deletes a manifest by digest (with all its tags) or removes
// one tag.
func (s *Service) DeleteManifest(ctx context.Context, reg meta.RegistryKey, name, ref string) error {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return err
	}
	if !IsDigest(ref) {
		if err := ValidateTag(ref); err != nil {
			return err
		}
		jobs := s.imageJobs(r, ImageEvent{Action: ImageDeleted, Tags: []string{ref}})
		err := s.meta.DeleteTag(ctx, r.ID, ref, jobs)
		if errors.Is(err, meta.ErrTagUnknown) {
			return manifestUnknown(name, ref)
		}
		if err != nil {
			return fmt.Errorf("delete tag %s: %w", ref, err)
		}
		s.jobsWritten(len(jobs))
		return nil
	}
	d, err := ParseDigest(ref)
	if err != nil {
		return err
	}
	jobs := s.imageJobs(r, ImageEvent{Action: ImageDeleted, Digest: d.String()})
	err = s.meta.DeleteManifest(ctx, r.ID, d.String(), jobs)
	var refd *meta.ReferencedError
	switch {
	case errors.As(err, &refd):
		return errorf(ErrManifestReferenced, "manifest %s is listed by index %s in repository '%s': delete the index first", d, refd.By, name)
	case errors.Is(err, meta.ErrManifestUnknown):
		return manifestUnknown(name, ref)
	case err != nil:
		return fmt.Errorf("delete manifest %s: %w", d, err)
	}
	s.jobsWritten(len(jobs))
	return nil
}
