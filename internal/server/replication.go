package server

import (
	"context"
	"errors"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
)

// replicaRegistry is the registry domain as replication uses it. Until
// repository creation templates land (registry.CreateRepositoryFromTemplate),
// a destination repository is created with ECR's defaults, as a
// REPLICATION template that sets nothing would.
type replicaRegistry struct{ *registry.Service }

func (r replicaRegistry) CreateRepositoryFromTemplate(ctx context.Context, reg meta.RegistryKey, name, _ string) (*meta.Repository, error) {
	info, err := r.CreateRepositoryWith(ctx, reg, registry.RepositorySpec{Name: name})
	if errors.Is(err, registry.ErrRepositoryExists) {
		return r.Repository(ctx, reg, name, false) // another copy made it first
	}
	if err != nil {
		return nil, err
	}
	return info.Repository, nil
}
