package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-registry/berth/internal/changes"
	"github.com/berth-registry/berth/internal/meta"
)

// The scenarios a repository creation template applies to: ECR's
// RCTAppliedFor values.
const (
	AppliedForCreateOnPush     = "CREATE_ON_PUSH"
	AppliedForReplication      = "REPLICATION"
	AppliedForPullThroughCache = "PULL_THROUGH_CACHE"
)

// CreateRepositoryFromTemplate returns the repository name of reg, creating
// it if it is missing with the settings of the registry's creation template
// for appliedFor that matches the name, or ECR's defaults when none does.
// Two callers creating one name at once, on one node or several, both
// succeed with the one repository that was created.
func (s *Service) CreateRepositoryFromTemplate(ctx context.Context, reg meta.RegistryKey, name, appliedFor string) (*meta.Repository, error) {
	if err := ValidateRepositoryName(name); err != nil {
		return nil, err
	}
	r, err := s.meta.GetRepository(ctx, reg, name)
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, meta.ErrRepositoryUnknown) {
		return nil, fmt.Errorf("get repository %s: %w", name, err)
	}
	r = &meta.Repository{Registry: reg, Name: name, CreatedAt: s.now().UTC(), TagMutability: TagMutable}
	if err := s.meta.CreateRepository(ctx, r); err != nil {
		if errors.Is(err, meta.ErrRepositoryExists) {
			if r, err = s.meta.GetRepository(ctx, reg, name); err != nil {
				return nil, fmt.Errorf("get repository %s: %w", name, err)
			}
			return r, nil
		}
		return nil, fmt.Errorf("create repository %s: %w", name, err)
	}
	s.changes.Changed(ctx, changes.Policies, changes.Repositories)
	return r, nil
}
