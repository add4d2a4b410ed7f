package iam

import (
	"context"
	"fmt"

	"github.com/berth-registry/berth/internal/authn"
)

// Users, groups and roles: what they share. Names compare
// case-insensitively, as IAM's do; an entity keeps the case it was
// created with.

// idPrefixes start the unique ids IAM gives each kind of entity.
var idPrefixes = map[Kind]string{User: "AIDA", Group: "AGPA", Role: "AROA"}

// EntityARN is the ARN of a user, group or role, with its path.
func EntityARN(e *Entity) string { return ARN(e.Account, string(e.Kind), e.Path, e.Name) }

// orRoot is a path as given, "/" when not.
func orRoot(path string) string {
	if path == "" {
		return "/"
	}
	return path
}

// create stores a new entity of e's kind, with its id and creation time.
func (s *Service) create(ctx context.Context, e *Entity) (*Entity, error) {
	e.Path = orRoot(e.Path)
	e.ID = authn.NewID(idPrefixes[e.Kind], 17)
	e.CreatedAt = s.created()
	if err := s.commit(ctx, fmt.Sprintf("create %s %s", e.Kind, e.Name), s.store.CreateIAMEntity(ctx, e)); err != nil {
		return nil, err
	}
	return e, nil
}

// Entity returns account's user, group or role of that name.
func (s *Service) Entity(ctx context.Context, account string, kind Kind, name string) (*Entity, error) {
	e, err := s.store.GetIAMEntity(ctx, account, kind, name)
	if err != nil {
		return nil, fromStore(fmt.Sprintf("get %s %s", kind, name), err)
	}
	return e, nil
}

// Entities returns a page of account's users, groups or roles, in name
// order.
func (s *Service) Entities(ctx context.Context, account string, kind Kind, q ListQuery) (Page[*Entity], error) {
	list, err := s.store.ListIAMEntities(ctx, account, kind, q.fetch())
	if err != nil {
		return Page[*Entity]{}, fromStore(fmt.Sprintf("list %ss", kind), err)
	}
	return pageOf(list, q, func(e *Entity) string { return e.Name }), nil
}

// DeleteEntity deletes a user, group or role. It refuses, as IAM does
// (DeleteConflict), while a user has access keys, policies or groups, a
// group has members or policies, a role has policies; the store checks
// them in one transaction. A role's sessions end with it.
func (s *Service) DeleteEntity(ctx context.Context, account string, kind Kind, name string) error {
	return s.commit(ctx, fmt.Sprintf("delete %s %s", kind, name), s.store.DeleteIAMEntity(ctx, account, kind, name))
}
