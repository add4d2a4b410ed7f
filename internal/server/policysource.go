package server

import (
	"context"
	"errors"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/authz/policy"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
)

// identityPolicies finds a principal's own policies (iam.PolicyReader).
type identityPolicies interface {
	IdentityPolicies(ctx context.Context, p *authn.Principal) ([]*policy.Policy, error)
}

// policySource finds the policies of a request: the principal's in the
// IAM domain, the repository's (and its tags) in the registry, keeping
// parsed repository policies by their text so that a decision the
// evaluator has not cached costs lookups, not parsing.
type policySource struct {
	identityPolicies
	reg    *registry.Service
	parsed authz.ParsedPolicies
}

func newPolicySource(identities identityPolicies, reg *registry.Service) *policySource {
	return &policySource{identityPolicies: identities, reg: reg}
}

// RepositoryPolicy implements authz.PolicySource.
func (s *policySource) RepositoryPolicy(ctx context.Context, account, region, repo string) (*policy.Policy, error) {
	ri, err := s.reg.DescribeRepository(ctx, meta.RegistryKey{Account: account, Region: region}, repo)
	if errors.Is(err, registry.ErrNameUnknown) || errors.Is(err, registry.ErrNameInvalid) {
		return nil, authz.ErrNoResource
	}
	if err != nil {
		return nil, err
	}
	if ri.Config.Policy == "" {
		return nil, nil
	}
	return s.parsed.Parse(policy.Repository, ri.Config.Policy)
}

// ResourceTags implements authz.PolicySource.
func (s *policySource) ResourceTags(ctx context.Context, account, region, repo string) (map[string]string, error) {
	ri, err := s.reg.DescribeRepository(ctx, meta.RegistryKey{Account: account, Region: region}, repo)
	if errors.Is(err, registry.ErrNameUnknown) || errors.Is(err, registry.ErrNameInvalid) {
		return nil, authz.ErrNoResource
	}
	if err != nil {
		return nil, err
	}
	if len(ri.Config.Tags) == 0 {
		return nil, nil
	}
	tags := make(map[string]string, len(ri.Config.Tags))
	for _, t := range ri.Config.Tags {
		tags[t.Key] = t.Value
	}
	return tags, nil
}

// RegistryPolicy implements authz.RegistryPolicySource: the registry
// policy that pull through cache and replication requests consult.
func (s *policySource) RegistryPolicy(ctx context.Context, account, region string) (*policy.Policy, error) {
	text, err := s.reg.RegistryPolicy(ctx, meta.RegistryKey{Account: account, Region: region})
	if errors.Is(err, registry.ErrRegistryPolicyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s.parsed.Parse(policy.Registry, text)
}
