package pullthrough

import (
	"context"
	"errors"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
)

// DefaultCreator creates cache repositories with ECR's defaults (mutable
// tags, AES256): a RepositoryCreator for a registry domain without
// creation templates.
type DefaultCreator struct {
	Registry interface {
		CreateRepositoryWith(ctx context.Context, reg meta.RegistryKey, spec registry.RepositorySpec) (*registry.RepositoryInfo, error)
		Repository(ctx context.Context, reg meta.RegistryKey, name string, create bool) (*meta.Repository, error)
	}
}

// CreateRepositoryFromTemplate implements RepositoryCreator.
func (c DefaultCreator) CreateRepositoryFromTemplate(ctx context.Context, reg meta.RegistryKey, name, _ string) (*meta.Repository, error) {
	ri, err := c.Registry.CreateRepositoryWith(ctx, reg, registry.RepositorySpec{Name: name})
	if errors.Is(err, registry.ErrRepositoryExists) {
		return c.Registry.Repository(ctx, reg, name, false)
	}
	if err != nil {
		return nil, err
	}
	return ri.Repository, nil
}
