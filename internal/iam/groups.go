package iam

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-registry/berth/internal/meta"
)

// CreateGroup creates a group of account at path ("/" when empty).
func (s *Service) CreateGroup(ctx context.Context, account, name, path string) (*Entity, error) {
	return s.create(ctx, &Entity{Account: account, Kind: Group, Name: name, Path: path})
}

// GroupMembers returns a group and its users, all of them: IAM's quota of
// 10 groups per user keeps groups small.
func (s *Service) GroupMembers(ctx context.Context, account, group string) (*Entity, []*Entity, error) {
	g, err := s.Entity(ctx, account, Group, group)
	if err != nil {
		return nil, nil, err
	}
	users, err := s.store.ListGroupMembers(ctx, account, group)
	if err != nil {
		return nil, nil, fromStore("list members of group "+group, err)
	}
	return g, users, nil
}

// AddUserToGroup makes user a member of group; it is one already.
func (s *Service) AddUserToGroup(ctx context.Context, account, group, user string) error {
	return s.commit(ctx, fmt.Sprintf("add user %s to group %s", user, group), s.store.AddGroupMember(ctx, account, group, user))
}

// RemoveUserFromGroup ends user's membership of group.
func (s *Service) RemoveUserFromGroup(ctx context.Context, account, group, user string) error {
	err := s.store.RemoveGroupMember(ctx, account, group, user)
	var se *meta.IAMError
	if errors.As(err, &se) && se.What == meta.IAMWhatMembership {
		return notAMember(user, group)
	}
	return s.commit(ctx, fmt.Sprintf("remove user %s from group %s", user, group), err)
}

// GroupsForUser returns the groups user is a member of, in name order.
func (s *Service) GroupsForUser(ctx context.Context, account, user string) ([]*Entity, error) {
	groups, err := s.store.ListUserGroups(ctx, account, user)
	if err != nil {
		return nil, fromStore("list groups of user "+user, err)
	}
	return groups, nil
}
