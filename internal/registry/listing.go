package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/opencontainers/go-digest"
)

// MaxPageSize bounds one page of tags or repositories.
const MaxPageSize = 1000

// ListTags returns up to n tags after last and whether more follow.
func (s *Service) ListTags(ctx context.Context, reg meta.RegistryKey, name, last string, n int) ([]string, bool, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, false, err
	}
	if n < 0 || n > MaxPageSize {
		return nil, false, errorf(ErrPaginationInvalid, "n must be between 0 and %d", MaxPageSize)
	}
	if n == 0 {
		return []string{}, false, nil
	}
	tags, err := s.meta.ListTags(ctx, r.ID, last, n+1)
	if err != nil {
		return nil, false, fmt.Errorf("list tags: %w", err)
	}
	if len(tags) > n {
		return tags[:n], true, nil
	}
	return tags, false, nil
}

// Catalog returns up to n repository names of a registry after last and
// whether more follow.
func (s *Service) Catalog(ctx context.Context, reg meta.RegistryKey, last string, n int) ([]string, bool, error) {
	if n < 0 || n > MaxPageSize {
		return nil, false, errorf(ErrPaginationInvalid, "n must be between 0 and %d", MaxPageSize)
	}
	if n == 0 {
		return []string{}, false, nil
	}
	repos, err := s.meta.ListRepositories(ctx, reg, last, n+1)
	if err != nil {
		return nil, false, fmt.Errorf("list repositories: %w", err)
	}
	names := make([]string, 0, len(repos))
	for _, r := range repos {
		names = append(names, r.Name)
	}
	if len(names) > n {
		return names[:n], true, nil
	}
	return names, false, nil
}

// Referrers lists the manifests whose subject is d. A repository that does
// not exist has no referrers: answering with an empty list rather than 404
// keeps clients from falling back to the tag schema.
func (s *Service) Referrers(ctx context.Context, reg meta.RegistryKey, name string, d digest.Digest, artifactType string) ([]meta.Referrer, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if errors.Is(err, ErrNameUnknown) {
		return []meta.Referrer{}, nil
	}
	if err != nil {
		return nil, err
	}
	refs, err := s.meta.ListReferrers(ctx, r.ID, d.String(), artifactType)
	if err != nil {
		return nil, fmt.Errorf("list referrers: %w", err)
	}
	return refs, nil
}
