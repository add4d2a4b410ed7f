package server

import (
	"context"
	"errors"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/berth-registry/berth/internal/replicate"
	"github.com/berth-registry/berth/internal/secrets"
)

// replicationSecrets reads the secrets that make a destination remote
// from the Secrets Manager, which the server opens with its identities,
// after replication is built: get is asked on each read.
type replicationSecrets struct{ get func() *secrets.Service }

func (r replicationSecrets) SecretString(ctx context.Context, account, region, id string) (string, error) {
	sec := r.get()
	if sec == nil {
		return "", replicate.ErrSecretNotFound
	}
	v, err := sec.SecretValue(ctx, account, region, id)
	if errors.Is(err, secrets.ErrNotFound) {
		return "", replicate.ErrSecretNotFound
	}
	if err != nil {
		return "", err
	}
	return v.String, nil
}

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
