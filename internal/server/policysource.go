package server

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/authz/policy"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
)

// policySource finds the policies of a request in the IAM store and the
// repositories, keeping parsed documents by their text so that a decision
// the evaluator has not cached costs lookups, not parsing.
type policySource struct {
	iam meta.IAMStore
	reg *registry.Service

	mu     sync.Mutex
	parsed map[parsedKey]*policy.Policy
}

type parsedKey struct {
	kind policy.Kind
	text string
}

// maxParsed bounds the parsed-document cache; past it, it starts over.
const maxParsed = 10000

func newPolicySource(iam meta.IAMStore, reg *registry.Service) *policySource {
	return &policySource{iam: iam, reg: reg, parsed: map[parsedKey]*policy.Policy{}}
}

func (s *policySource) parse(kind policy.Kind, text string) (*policy.Policy, error) {
	k := parsedKey{kind, text}
	s.mu.Lock()
	p, ok := s.parsed[k]
	s.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := policy.Parse(kind, []byte(text))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.parsed) >= maxParsed {
		s.parsed = map[parsedKey]*policy.Policy{}
	}
	s.parsed[k] = p
	s.mu.Unlock()
	return p, nil
}

// IdentityPolicies implements authz.PolicySource.
func (s *policySource) IdentityPolicies(ctx context.Context, p *authn.Principal) ([]*policy.Policy, error) {
	type owner struct {
		kind meta.IAMKind
		name string
	}
	var owners []owner
	switch p.Kind {
	case authn.KindUser:
		owners = append(owners, owner{meta.IAMUser, p.UserName})
		groups, err := s.iam.ListUserGroups(ctx, p.Account, p.UserName)
		if err != nil {
			return nil, fmt.Errorf("groups of %s: %w", p.ARN, err)
		}
		for _, g := range groups {
			owners = append(owners, owner{meta.IAMGroup, g.Name})
		}
	case authn.KindAssumedRole:
		owners = append(owners, owner{meta.IAMRole, p.RoleName})
	default:
		return nil, nil
	}
	var docs []*policy.Policy
	for _, o := range owners {
		names, err := s.iam.ListInlinePolicies(ctx, p.Account, o.kind, o.name)
		if err != nil {
			return nil, fmt.Errorf("inline policies of %s %s: %w", o.kind, o.name, err)
		}
		for _, n := range names {
			ip, err := s.iam.GetInlinePolicy(ctx, p.Account, o.kind, o.name, n)
			if err != nil {
				return nil, fmt.Errorf("inline policy %s of %s %s: %w", n, o.kind, o.name, err)
			}
			doc, err := s.parse(policy.Identity, ip.Document)
			if err != nil {
				// Stored documents were validated; one that no longer
				// parses grants nothing.
				continue
			}
			docs = append(docs, doc)
		}
		arns, err := s.iam.ListAttachedPolicies(ctx, p.Account, o.kind, o.name)
		if err != nil {
			return nil, fmt.Errorf("attached policies of %s %s: %w", o.kind, o.name, err)
		}
		for _, arn := range arns {
			if m, ok := policy.LookupManaged(arn); ok {
				docs = append(docs, m.Policy)
				continue
			}
			mp, err := s.iam.GetManagedPolicy(ctx, arn)
			if errors.Is(err, meta.ErrIAMNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("managed policy %s: %w", arn, err)
			}
			if doc, err := s.parse(policy.Identity, mp.Document); err == nil {
				docs = append(docs, doc)
			}
		}
	}
	return docs, nil
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
	return s.parse(policy.Repository, ri.Config.Policy)
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
