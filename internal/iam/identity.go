package iam

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/authz/policy"
	"github.com/berth-registry/berth/internal/meta"
)

// PolicyStore is what reading a principal's identity policies takes from
// the store.
type PolicyStore interface {
	ListUserGroups(ctx context.Context, account, user string) ([]*meta.IAMEntity, error)
	ListInlinePolicies(ctx context.Context, account string, kind meta.IAMKind, owner string) ([]string, error)
	GetInlinePolicy(ctx context.Context, account string, kind meta.IAMKind, owner, name string) (*meta.IAMInlinePolicy, error)
	ListAttachedPolicies(ctx context.Context, account string, kind meta.IAMKind, owner string) ([]string, error)
	GetManagedPolicy(ctx context.Context, arn string) (*meta.IAMPolicy, error)
}

// PolicyReader reads the identity policies of principals for the
// authorizer, keeping parsed documents by their text. It stands apart from
// Service, over the store alone, because the authorizer it serves is built
// before the Service (whose AssumeRole asks that authorizer).
type PolicyReader struct {
	store  PolicyStore
	parsed authz.ParsedPolicies
}

// NewPolicyReader reads the identity policies kept in store.
func NewPolicyReader(store PolicyStore) *PolicyReader {
	return &PolicyReader{store: store}
}

// IdentityPolicies are p's own policies: a user's inline and attached ones
// and its groups', a role session's role's. A root has none (it needs none
// in its own account). It is the identity half of authz.PolicySource.
func (ip *PolicyReader) IdentityPolicies(ctx context.Context, p *authn.Principal) ([]*policy.Policy, error) {
	type owner struct {
		kind Kind
		name string
	}
	var owners []owner
	switch p.Kind {
	case authn.KindUser:
		owners = append(owners, owner{User, p.UserName})
		groups, err := ip.store.ListUserGroups(ctx, p.Account, p.UserName)
		if err != nil {
			return nil, fmt.Errorf("iam: groups of %s: %w", p.ARN, err)
		}
		for _, g := range groups {
			owners = append(owners, owner{Group, g.Name})
		}
	case authn.KindAssumedRole:
		owners = append(owners, owner{Role, p.RoleName})
	default:
		return nil, nil
	}
	var docs []*policy.Policy
	for _, o := range owners {
		inline, err := ip.inline(ctx, p.Account, o.kind, o.name)
		if err != nil {
			return nil, err
		}
		attached, err := ip.attached(ctx, p.Account, o.kind, o.name)
		if err != nil {
			return nil, err
		}
		docs = append(append(docs, inline...), attached...)
	}
	return docs, nil
}

// inline are an owner's inline policies.
func (ip *PolicyReader) inline(ctx context.Context, account string, kind Kind, owner string) ([]*policy.Policy, error) {
	names, err := ip.store.ListInlinePolicies(ctx, account, kind, owner)
	if err != nil {
		return nil, fmt.Errorf("iam: inline policies of %s %s: %w", kind, owner, err)
	}
	var docs []*policy.Policy
	for _, n := range names {
		p, err := ip.store.GetInlinePolicy(ctx, account, kind, owner, n)
		if err != nil {
			return nil, fmt.Errorf("iam: inline policy %s of %s %s: %w", n, kind, owner, err)
		}
		doc, err := ip.parsed.Parse(policy.Identity, p.Document)
		if err != nil {
			// Stored documents were validated; one that no longer parses
			// grants nothing.
			continue
		}
		docs = append(docs, doc)
	}
	return docs, nil
}

// attached are the managed policies attached to an owner.
func (ip *PolicyReader) attached(ctx context.Context, account string, kind Kind, owner string) ([]*policy.Policy, error) {
	arns, err := ip.store.ListAttachedPolicies(ctx, account, kind, owner)
	if err != nil {
		return nil, fmt.Errorf("iam: attached policies of %s %s: %w", kind, owner, err)
	}
	var docs []*policy.Policy
	for _, arn := range arns {
		if m, ok := policy.LookupManaged(arn); ok {
			docs = append(docs, m.Policy)
			continue
		}
		mp, err := ip.store.GetManagedPolicy(ctx, arn)
		if errors.Is(err, meta.ErrIAMNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("iam: managed policy %s: %w", arn, err)
		}
		if doc, err := ip.parsed.Parse(policy.Identity, mp.Document); err == nil {
			docs = append(docs, doc)
		}
	}
	return docs, nil
}
