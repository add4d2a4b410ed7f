package fs

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob"
)

var _ blob.ModTimer = (*Store)(nil)

// ModTime is the blob file's modification time. Commit renames the staging
// file into place, so this is when the upload last wrote it.
func (s *Store) ModTime(_ context.Context, d digest.Digest) (time.Time, error) {
	p, err := s.blobPath(d)
	if err != nil {
		return time.Time{}, fmt.Errorf("blob/fs: mod time %s: %w", d, err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return time.Time{}, fmt.Errorf("blob/fs: mod time %s: %w", d, notFound(err))
	}
	return fi.ModTime(), nil
}
