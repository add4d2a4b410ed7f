package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/meta"
)

// PutReplica stores in repository name of reg, which must exist, a
// manifest copied from repository srcName of registry src in this
// deployment. Blobs are stored once per deployment, so a replica copies
// no bytes: the blobs the manifest references, which src must hold, are
// linked to the destination in the manifest's own transaction, as a
// cross-repository mount would link them one by one. The manifests an
// index lists must have been replicated first. The image event of the push
// says Replica, so that replication does not follow it again.
func (s *Service) PutReplica(ctx context.Context, reg meta.RegistryKey, name string, src meta.RegistryKey, srcName string,
	mediaType string, body []byte, tags []string) (*PushedManifest, error) {
	for _, t := range tags {
		if err := ValidateTag(t); err != nil {
			return nil, err
		}
	}
	if int64(len(body)) > s.opts.MaxManifestSize {
		return nil, errorf(ErrTooLarge, "manifest is %d bytes, more than the %d-byte limit", len(body), s.opts.MaxManifestSize)
	}
	m, refs, err := parseManifest(mediaType, body)
	if err != nil {
		return nil, err
	}
	m.Digest = digest.Canonical.FromBytes(body).String()
	from, err := s.Repository(ctx, src, srcName, false)
	if err != nil {
		return nil, err
	}
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, err
	}
	var links []meta.Blob
	for _, ref := range refs {
		if ref.Kind != meta.RefBlob {
			continue
		}
		b, err := s.meta.GetBlob(ctx, from.ID, ref.Digest)
		if errors.Is(err, meta.ErrBlobUnknown) {
			return nil, &Error{
				Kind:    ErrManifestBlobUnknown,
				Message: fmt.Sprintf("the manifest references blob %s, which is not in the source repository '%s'", ref.Digest, srcName),
				Detail:  map[string]string{"digest": ref.Digest},
			}
		}
		if err != nil {
			return nil, fmt.Errorf("replica of %s: blob %s: %w", m.Digest, ref.Digest, err)
		}
		links = append(links, b)
	}
	return s.storeManifest(ctx, reg, name, r, func() {}, m, refs, links, tags, true)
}
