package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/berth-registry/berth/internal/blob"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/opencontainers/go-digest"
)

func blobUnknown(d digest.Digest, repo string) *Error {
	return &Error{
		Kind:    ErrBlobUnknown,
		Message: fmt.Sprintf("blob %s is not in repository '%s'", d, repo),
		Detail:  map[string]string{"digest": d.String()},
	}
}

// StatBlob returns the size of a blob linked to the repository.
func (s *Service) StatBlob(ctx context.Context, reg meta.RegistryKey, name string, d digest.Digest) (int64, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return 0, err
	}
	b, err := s.meta.GetBlob(ctx, r.ID, d.String())
	if errors.Is(err, meta.ErrBlobUnknown) {
		return 0, blobUnknown(d, name)
	}
	if err != nil {
		return 0, fmt.Errorf("stat blob %s: %w", d, err)
	}
	return b.Size, nil
}

// OpenBlob opens a blob linked to the repository. The caller closes it.
func (s *Service) OpenBlob(ctx context.Context, reg meta.RegistryKey, name string, d digest.Digest) (io.ReadSeekCloser, int64, error) {
	if _, err := s.StatBlob(ctx, reg, name, d); err != nil {
		return nil, 0, err
	}
	rc, size, err := s.blobs.Open(ctx, d)
	if errors.Is(err, blob.ErrNotFound) {
		// Linked in the metadata but gone from storage: report it as
		// missing rather than as a server fault, and say so in the log.
		s.log.ErrorContext(ctx, "linked blob missing from storage", "digest", d, "repository", name)
		return nil, 0, blobUnknown(d, name)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("open blob %s: %w", d, err)
	}
	return rc, size, nil
}

// blobRedirectTTL is how long a blob's redirect URL works: long enough to
// start a slow client's download, short enough that a leaked URL soon
// stops working.
const blobRedirectTTL = 20 * time.Minute

// BlobRedirect returns a URL of the blob store that serves a blob of the
// repository, when the service redirects downloads (Options.RedirectBlobs)
// and the store can make one; ok is false otherwise, and the caller
// streams the blob with OpenBlob. Access is checked as for OpenBlob.
func (s *Service) BlobRedirect(ctx context.Context, reg meta.RegistryKey, name string, d digest.Digest) (url string, ok bool, err error) {
	rd, can := s.blobs.(blob.Redirector)
	if !s.opts.RedirectBlobs || !can {
		return "", false, nil
	}
	if _, err := s.StatBlob(ctx, reg, name, d); err != nil {
		return "", false, err
	}
	u, err := rd.RedirectURL(ctx, d, blobRedirectTTL)
	if err != nil {
		return "", false, fmt.Errorf("redirect URL of blob %s: %w", d, err)
	}
	return u, true, nil
}

// DeleteBlob unlinks a blob from a repository. The bytes are reclaimed by
// garbage collection once nothing references them.
func (s *Service) DeleteBlob(ctx context.Context, reg meta.RegistryKey, name string, d digest.Digest) error {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return err
	}
	if _, err := s.meta.GetBlob(ctx, r.ID, d.String()); errors.Is(err, meta.ErrBlobUnknown) {
		return blobUnknown(d, name)
	} else if err != nil {
		return fmt.Errorf("delete blob %s: %w", d, err)
	}
	if err := s.meta.UnlinkBlob(ctx, r.ID, d.String()); err != nil {
		return fmt.Errorf("delete blob %s: %w", d, err)
	}
	return nil
}

// MountBlob links a blob that repository from holds into repository name.
// It reports false, with no error, when the blob cannot be mounted (the
// source lacks it or does not exist), so the caller can start an upload
// instead, as the distribution spec asks. With no source it mounts from
// any repository of the same registry that holds the blob; a digest alone
// never reaches into another registry.
func (s *Service) MountBlob(ctx context.Context, reg meta.RegistryKey, name string, d digest.Digest, from string) (bool, error) {
	r, err := s.Repository(ctx, reg, name, true)
	if err != nil {
		return false, err
	}
	if _, err := s.meta.GetBlob(ctx, r.ID, d.String()); err == nil {
		return true, nil
	}
	if from == "" {
		names, err := s.meta.BlobRepositories(ctx, reg, d.String(), 1)
		if err != nil {
			return false, fmt.Errorf("find %s to mount: %w", d, err)
		}
		if len(names) == 0 {
			return false, nil
		}
		from = names[0]
	}
	if ValidateRepositoryName(from) != nil {
		return false, nil
	}
	src, err := s.meta.GetRepository(ctx, reg, from)
	if errors.Is(err, meta.ErrRepositoryUnknown) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mount from %s: %w", from, err)
	}
	b, err := s.meta.GetBlob(ctx, src.ID, d.String())
	if errors.Is(err, meta.ErrBlobUnknown) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mount %s from %s: %w", d, from, err)
	}
	if err := s.meta.LinkBlob(ctx, r.ID, b); err != nil {
		if errors.Is(err, meta.ErrBlobDeleting) {
			return false, nil // collected meanwhile: the client uploads it
		}
		return false, fmt.Errorf("mount %s from %s: %w", d, from, err)
	}
	return true, nil
}
