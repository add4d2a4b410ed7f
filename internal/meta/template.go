package meta

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Repository creation templates: the settings ECR gives the repositories it
// creates on a caller's behalf (on push, for replication, for pull-through).

var (
	// ErrTemplateExists refuses creating a template whose key the registry
	// already has.
	ErrTemplateExists = errors.New("meta: repository creation template already exists")
	// ErrTemplateLimit refuses creating a template in a registry that
	// already has as many as the caller allows.
	ErrTemplateLimit = errors.New("meta: too many repository creation templates")
)

// RepositoryTemplate is one repository creation template of a registry.
type RepositoryTemplate struct {
	Registry RegistryKey
	// Key identifies the template in its registry: the domain's normal
	// form of its prefix.
	Key       string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Settings holds the template's configuration as the domain encodes it.
	Settings json.RawMessage
}

// TemplateStore keeps repository creation templates, and creates a
// repository with what a template gives it in one transaction.
type TemplateStore interface {
	// CreateTemplate adds t. It fails with ErrTemplateExists when the
	// registry has a template of t.Key, and with ErrTemplateLimit when the
	// registry already has limit templates; both are checked in the
	// transaction that inserts, so that concurrent creations on several
	// nodes never pass the limit together.
	CreateTemplate(ctx context.Context, t *RepositoryTemplate, limit int) error
	// GetTemplate fails with ErrNotFound when the registry has no template
	// of the key.
	GetTemplate(ctx context.Context, reg RegistryKey, key string) (*RepositoryTemplate, error)
	// ListTemplates returns up to limit templates of a registry whose keys
	// sort after after, in key order (limit <= 0: all of them).
	ListTemplates(ctx context.Context, reg RegistryKey, after string, limit int) ([]*RepositoryTemplate, error)
	// ModifyTemplate reads a template, lets fn change its Settings and
	// UpdatedAt, and stores the result, in one transaction (concurrent
	// updates cannot lose each other's changes), and returns it as stored.
	// A missing template fails with ErrNotFound; an error from fn aborts
	// the change and is returned wrapped. fn may be called again when the
	// store runs the transaction again: it should do nothing but change t.
	ModifyTemplate(ctx context.Context, reg RegistryKey, key string, fn func(t *RepositoryTemplate) error) (*RepositoryTemplate, error)
	// DeleteTemplate removes a template and returns it as it was, or fails
	// with ErrNotFound.
	DeleteTemplate(ctx context.Context, reg RegistryKey, key string) (*RepositoryTemplate, error)

	// CreateRepositoryWithLifecycle creates r as CreateRepository does
	// (setting r.ID, failing with ErrRepositoryExists) and, when
	// lifecyclePolicy is not empty, gives it that lifecycle policy updated
	// at r.CreatedAt, in one transaction: no node ever sees the repository
	// without the policy its template gives it.
	CreateRepositoryWithLifecycle(ctx context.Context, r *Repository, lifecyclePolicy string) error
}
