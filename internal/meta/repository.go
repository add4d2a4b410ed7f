package meta

import (
	"context"
	"encoding/json"
	"time"
)

// RegistryKey names a registry: an (account, region) pair as in ECR.
type RegistryKey struct {
	Account string
	Region  string
}

// PublicRegion is the pseudo-region of an account's ECR Public registry:
// (account, PublicRegion) is a registry like any other to the stores and
// the domain, and no private registry can have it, since a region is
// validated as a name like us-east-1 wherever one is given.
const PublicRegion = "public"

// Repository is one repository of a registry.
type Repository struct {
	ID        int64
	Registry  RegistryKey
	Name      string
	CreatedAt time.Time
	// TagMutability is ECR's imageTagMutability: MUTABLE, IMMUTABLE, or one
	// of the exclusion-filter variants; the domain interprets it.
	TagMutability string
	// Settings holds the rest of the repository's ECR configuration as the
	// domain encodes it (scanning, encryption, mutability filters, tags).
	Settings json.RawMessage
}

// RepositoryStore keeps repositories and the settings of their registries.
type RepositoryStore interface {
	CreateRepository(ctx context.Context, r *Repository) error
	GetRepository(ctx context.Context, reg RegistryKey, name string) (*Repository, error)
	// ListRepositories returns up to limit repositories of a registry whose
	// names sort after after, in name order.
	ListRepositories(ctx context.Context, reg RegistryKey, after string, limit int) ([]*Repository, error)
	UpdateRepository(ctx context.Context, r *Repository) error
	// DeleteRepository removes a repository. Without force it fails with
	// ErrRepositoryNotEmpty while the repository holds manifests.
	DeleteRepository(ctx context.Context, repoID int64, force bool) error

	// ModifyRepository reads a repository, lets fn change its TagMutability
	// and Settings, and stores the result, in one transaction: concurrent
	// read-modify-writes (two TagResource calls) cannot lose each other's
	// changes. An error from fn aborts the change and is returned wrapped.
	// A missing repository fails with ErrRepositoryUnknown. fn may be
	// called again, with the repository read again, when the store runs
	// the transaction again (PostgreSQL, after a deadlock): it should do
	// nothing but change r.
	ModifyRepository(ctx context.Context, repoID int64, fn func(r *Repository) error) error
	// GetRegistrySetting returns a registry-wide setting (ECR's account
	// settings), or ErrNotFound when it was never set.
	GetRegistrySetting(ctx context.Context, reg RegistryKey, name string) (string, error)
	// PutRegistrySetting sets or replaces a registry-wide setting.
	PutRegistrySetting(ctx context.Context, reg RegistryKey, name, value string) error
}
