package iam

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/meta"
)

// The policies of users, groups and roles: inline ones, embedded in their
// owner, and managed ones, attached to any number of owners.

// PutInlinePolicy adds or replaces an inline policy of a user, group or
// role.
func (s *Service) PutInlinePolicy(ctx context.Context, account string, kind Kind, owner, name, document string) error {
	if err := validateIdentityPolicy(document); err != nil {
		return err
	}
	return s.commit(ctx, fmt.Sprintf("put policy %s of %s %s", name, kind, owner),
		s.store.PutInlinePolicy(ctx, account, kind, owner, InlinePolicy{Name: name, Document: document}))
}

// InlinePolicy returns an inline policy of a user, group or role.
func (s *Service) InlinePolicy(ctx context.Context, account string, kind Kind, owner, name string) (*InlinePolicy, error) {
	p, err := s.store.GetInlinePolicy(ctx, account, kind, owner, name)
	if err != nil {
		return nil, fromStore(fmt.Sprintf("get policy %s of %s %s", name, kind, owner), err)
	}
	return p, nil
}

// InlinePolicies lists the names of a user's, group's or role's inline
// policies.
func (s *Service) InlinePolicies(ctx context.Context, account string, kind Kind, owner string) ([]string, error) {
	names, err := s.store.ListInlinePolicies(ctx, account, kind, owner)
	if err != nil {
		return nil, fromStore(fmt.Sprintf("list policies of %s %s", kind, owner), err)
	}
	return names, nil
}

// DeleteInlinePolicy deletes an inline policy of a user, group or role.
func (s *Service) DeleteInlinePolicy(ctx context.Context, account string, kind Kind, owner, name string) error {
	return s.commit(ctx, fmt.Sprintf("delete policy %s of %s %s", name, kind, owner),
		s.store.DeleteInlinePolicy(ctx, account, kind, owner, name))
}

// NewPolicy is what CreatePolicy makes a customer managed policy of.
type NewPolicy struct {
	Name, Path, Document, Description string
}

// CreatePolicy creates a customer managed policy of account.
func (s *Service) CreatePolicy(ctx context.Context, account string, np NewPolicy) (*ManagedPolicy, error) {
	if err := validateIdentityPolicy(np.Document); err != nil {
		return nil, err
	}
	now := s.created()
	p := &meta.IAMPolicy{
		Account: account, Name: np.Name, Path: orRoot(np.Path), ID: authn.NewID("ANPA", 17),
		ARN: ARN(account, "policy", orRoot(np.Path), np.Name), Description: np.Description, Document: np.Document,
		CreatedAt: now, UpdatedAt: now,
	}
	if err := s.commit(ctx, "create policy "+np.Name, s.store.CreateManagedPolicy(ctx, p)); err != nil {
		return nil, err
	}
	mp := customerPolicy(p, 0)
	return &mp, nil
}

func customerPolicy(p *meta.IAMPolicy, attachments int) ManagedPolicy {
	return ManagedPolicy{
		Name: p.Name, ID: p.ID, ARN: p.ARN, Path: p.Path, Description: p.Description, Document: p.Document,
		AttachmentCount: attachments, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

// Policy returns the managed policy arn names, built in or stored, with
// the number of account's users, groups and roles it is attached to.
func (s *Service) Policy(ctx context.Context, account, arn string) (*ManagedPolicy, error) {
	ref, err := ParsePolicyARN(arn)
	if err != nil {
		return nil, err
	}
	counts, err := s.store.PolicyAttachmentCounts(ctx, account)
	if err != nil {
		return nil, fromStore("count policy attachments", err)
	}
	if ref.Account == "aws" {
		m, ok := lookupAWSManaged(ref.ARN)
		if !ok {
			return nil, policyNotFound(ref.ARN)
		}
		m.AttachmentCount = counts[m.ARN]
		return &m, nil
	}
	p, err := s.store.GetManagedPolicy(ctx, ref.ARN)
	if err != nil {
		return nil, fromStore("get policy "+ref.ARN, err)
	}
	mp := customerPolicy(p, counts[p.ARN])
	return &mp, nil
}

// PolicyVersion returns the managed policy arn names, if version is its
// one version, v1.
func (s *Service) PolicyVersion(ctx context.Context, account, arn, version string) (*ManagedPolicy, error) {
	p, err := s.Policy(ctx, account, arn)
	if err != nil {
		return nil, err
	}
	if version != DefaultVersion {
		return nil, noSuchVersion(arn, version)
	}
	return p, nil
}

// DeletePolicy deletes a customer managed policy; it refuses while the
// policy is attached (DeleteConflict).
func (s *Service) DeletePolicy(ctx context.Context, arn string) error {
	ref, err := ParsePolicyARN(arn)
	if err != nil {
		return err
	}
	return s.commit(ctx, "delete policy "+ref.ARN, s.store.DeleteManagedPolicy(ctx, ref.ARN))
}

// PolicyFilter selects the managed policies ListPolicies lists.
type PolicyFilter struct {
	// Scope is All (also ""), AWS or Local.
	Scope        string
	OnlyAttached bool
	// Usage PermissionsBoundary lists none: Berth has no permissions
	// boundaries.
	Usage string
}

// Policies lists the AWS managed policies Berth knows and account's own,
// in name order (case-insensitively), a page at a time.
func (s *Service) Policies(ctx context.Context, account string, f PolicyFilter, q ListQuery) (Page[ManagedPolicy], error) {
	counts, err := s.store.PolicyAttachmentCounts(ctx, account)
	if err != nil {
		return Page[ManagedPolicy]{}, fromStore("count policy attachments", err)
	}
	scope := cmp.Or(f.Scope, "All")
	var all []ManagedPolicy
	if scope != "Local" && strings.HasPrefix("/", q.PathPrefix) {
		all = append(all, awsManagedPolicies()...)
	}
	if scope != "AWS" {
		local, err := s.store.ListManagedPolicies(ctx, account, meta.IAMListQuery{PathPrefix: q.PathPrefix})
		if err != nil {
			return Page[ManagedPolicy]{}, fromStore("list policies", err)
		}
		for _, p := range local {
			all = append(all, customerPolicy(p, 0))
		}
	}
	for i := range all {
		all[i].AttachmentCount = counts[all[i].ARN]
	}
	boundaries := f.Usage == "PermissionsBoundary"
	all = slices.DeleteFunc(all, func(p ManagedPolicy) bool {
		return boundaries || f.OnlyAttached && p.AttachmentCount == 0 ||
			q.Marker != "" && strings.ToLower(p.Name) <= strings.ToLower(q.Marker)
	})
	slices.SortStableFunc(all, func(a, b ManagedPolicy) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return pageOf(all, q, func(p ManagedPolicy) string { return p.Name }), nil
}

// AttachPolicy attaches a managed policy to a user, group or role; it is
// attached already. The policy must be an AWS managed one Berth knows or
// one of account's own.
func (s *Service) AttachPolicy(ctx context.Context, account string, kind Kind, owner, arn string) error {
	ref, err := ParsePolicyARN(arn)
	if err != nil {
		return err
	}
	if ref.Account == "aws" {
		if _, ok := lookupAWSManaged(ref.ARN); !ok {
			return policyNotAttachable(ref.ARN)
		}
	}
	err = s.store.AttachPolicy(ctx, account, kind, owner, ref.ARN)
	var se *meta.IAMError
	if errors.As(err, &se) && se.What == meta.IAMWhatPolicy {
		return policyNotAttachable(ref.ARN)
	}
	return s.commit(ctx, fmt.Sprintf("attach policy %s to %s %s", ref.ARN, kind, owner), err)
}

// DetachPolicy detaches a managed policy from a user, group or role.
func (s *Service) DetachPolicy(ctx context.Context, account string, kind Kind, owner, arn string) error {
	ref, err := ParsePolicyARN(arn)
	if err != nil {
		return err
	}
	return s.commit(ctx, fmt.Sprintf("detach policy %s from %s %s", ref.ARN, kind, owner),
		s.store.DetachPolicy(ctx, account, kind, owner, ref.ARN))
}

// AttachedPolicy is a managed policy attached to an owner.
type AttachedPolicy struct {
	Name, ARN string
}

// AttachedPolicies lists the managed policies attached to a user, group
// or role whose path starts with pathPrefix, in ARN order.
func (s *Service) AttachedPolicies(ctx context.Context, account string, kind Kind, owner, pathPrefix string) ([]AttachedPolicy, error) {
	arns, err := s.store.ListAttachedPolicies(ctx, account, kind, owner)
	if err != nil {
		return nil, fromStore(fmt.Sprintf("list policies attached to %s %s", kind, owner), err)
	}
	var out []AttachedPolicy
	for _, arn := range arns {
		ref, err := ParsePolicyARN(arn)
		if err != nil || !strings.HasPrefix(ref.Path, pathPrefix) {
			continue
		}
		out = append(out, AttachedPolicy{Name: ref.Name, ARN: arn})
	}
	return out, nil
}
