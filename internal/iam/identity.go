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
	sourced, err := ip.SourcedPolicies(ctx, p.Account, ownersOf(p))
	if err != nil {
		return nil, err
	}
	docs := make([]*policy.Policy, len(sourced))
	for i, sp := range sourced {
		docs[i] = sp.Policy
	}
	return docs, nil
}

// Owner is a user, group or role whose policies bear on a principal.
type Owner struct {
	Kind Kind
	Name string
}

// ownersOf are the owners of p's identity policies.
func ownersOf(p *authn.Principal) []Owner {
	switch p.Kind {
	case authn.KindUser:
		return []Owner{{User, p.UserName}}
	case authn.KindAssumedRole:
		return []Owner{{Role, p.RoleName}}
	}
	return nil
}

// SourcedPolicy is an identity policy and where it comes from, as IAM's
// policy simulator names it: SourcePolicyType user, group or role for an
// inline policy, aws-managed or user-managed for an attached one, and
// SourcePolicyId the policy's name.
type SourcedPolicy struct {
	Policy   *policy.Policy
	Document string
	ID       string
	Type     string
}

// SourcedPolicies are the policies of owners, a user's groups' with it:
// the identity policies the authorizer evaluates, in the same order, with
// their sources. A user's groups are read here rather than by the caller
// so that the simulator and the authorizer cannot read different sets.
func (ip *PolicyReader) SourcedPolicies(ctx context.Context, account string, owners []Owner) ([]SourcedPolicy, error) {
	var all []Owner
	for _, o := range owners {
		all = append(all, o)
		if o.Kind != User {
			continue
		}
		groups, err := ip.store.ListUserGroups(ctx, account, o.Name)
		if err != nil {
			return nil, fmt.Errorf("iam: groups of user %s: %w", o.Name, err)
		}
		for _, g := range groups {
			all = append(all, Owner{Group, g.Name})
		}
	}
	var docs []SourcedPolicy
	for _, o := range all {
		inline, err := ip.inline(ctx, account, o.Kind, o.Name)
		if err != nil {
			return nil, err
		}
		attached, err := ip.attached(ctx, account, o.Kind, o.Name)
		if err != nil {
			return nil, err
		}
		docs = append(append(docs, inline...), attached...)
	}
	return docs, nil
}

// inline are an owner's inline policies.
func (ip *PolicyReader) inline(ctx context.Context, account string, kind Kind, owner string) ([]SourcedPolicy, error) {
	names, err := ip.store.ListInlinePolicies(ctx, account, kind, owner)
	if err != nil {
		return nil, fmt.Errorf("iam: inline policies of %s %s: %w", kind, owner, err)
	}
	var docs []SourcedPolicy
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
		docs = append(docs, SourcedPolicy{Policy: doc, Document: p.Document, ID: n, Type: string(kind)})
	}
	return docs, nil
}

// attached are the managed policies attached to an owner.
func (ip *PolicyReader) attached(ctx context.Context, account string, kind Kind, owner string) ([]SourcedPolicy, error) {
	arns, err := ip.store.ListAttachedPolicies(ctx, account, kind, owner)
	if err != nil {
		return nil, fmt.Errorf("iam: attached policies of %s %s: %w", kind, owner, err)
	}
	var docs []SourcedPolicy
	for _, arn := range arns {
		if m, ok := policy.LookupManaged(arn); ok {
			docs = append(docs, SourcedPolicy{Policy: m.Policy, ID: m.Name, Type: "aws-managed"})
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
			docs = append(docs, SourcedPolicy{Policy: doc, Document: mp.Document, ID: mp.Name, Type: "user-managed"})
		}
	}
	return docs, nil
}
