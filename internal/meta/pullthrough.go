package meta

import (
	"context"
	"errors"
	"time"
)

// Pull through cache rules (ECR's CreatePullThroughCacheRule and its
// kin): a registry's mapping of a repository name prefix to an upstream
// registry, and, per cached tag, when the upstream was last asked where
// the tag points.

var (
	// ErrPullThroughRuleExists is returned by CreatePullThroughRule when
	// the registry has a rule of that prefix.
	ErrPullThroughRuleExists = errors.New("meta: pull through cache rule already exists")
	// ErrPullThroughRuleLimit is returned by CreatePullThroughRule when the
	// registry already has as many rules as the limit allows.
	ErrPullThroughRuleLimit = errors.New("meta: pull through cache rule limit reached")
)

// PullThroughRule is one rule of a registry.
type PullThroughRule struct {
	Registry RegistryKey
	// Prefix is ecrRepositoryPrefix as given (without a trailing '/'), or
	// "ROOT".
	Prefix string
	// UpstreamURL is upstreamRegistryUrl as stored: what the domain
	// normalised it to.
	UpstreamURL string
	// Upstream is ECR's upstreamRegistry enum value, or "" for an upstream
	// ECR does not know (Berth's extension).
	Upstream string
	// UpstreamPrefix is upstreamRepositoryPrefix ("ROOT" when none).
	UpstreamPrefix string
	CredentialARN  string
	CustomRoleARN  string
	CreatedAt      time.Time
	// UpdatedAt is zero until UpdatePullThroughRule.
	UpdatedAt time.Time
}

// PullThroughStore keeps the rules and the tag checks. Every method is one
// transaction; the limit of CreatePullThroughRule is checked inside it, so
// two nodes creating rules at once cannot pass it together.
type PullThroughStore interface {
	// CreatePullThroughRule stores a new rule. It fails with
	// ErrPullThroughRuleExists when the registry has one of that prefix,
	// and with ErrPullThroughRuleLimit when the registry has limit rules.
	CreatePullThroughRule(ctx context.Context, r *PullThroughRule, limit int) error
	// GetPullThroughRule fails with ErrNotFound.
	GetPullThroughRule(ctx context.Context, reg RegistryKey, prefix string) (*PullThroughRule, error)
	// ListPullThroughRules returns a registry's rules by prefix, bytewise.
	ListPullThroughRules(ctx context.Context, reg RegistryKey) ([]*PullThroughRule, error)
	// UpdatePullThroughRule stores CredentialARN, CustomRoleARN and
	// UpdatedAt of the rule r names; ErrNotFound when there is none.
	UpdatePullThroughRule(ctx context.Context, r *PullThroughRule) error
	// DeletePullThroughRule removes a rule and returns it; ErrNotFound
	// when there is none.
	DeletePullThroughRule(ctx context.Context, reg RegistryKey, prefix string) (*PullThroughRule, error)

	// PullThroughChecked returns when a cached tag was last found current
	// upstream; ErrNotFound when never. The record goes with its
	// repository.
	PullThroughChecked(ctx context.Context, repoID int64, tag string) (time.Time, error)
	// MarkPullThroughChecked records that a cached tag was found current
	// at at; ErrRepositoryUnknown when the repository is gone.
	MarkPullThroughChecked(ctx context.Context, repoID int64, tag string, at time.Time) error
}
