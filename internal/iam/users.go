package iam

import (
	"context"
	"fmt"

	"github.com/berth-registry/berth/internal/authn"
)

// CreateUser creates a user of account at path ("/" when empty).
func (s *Service) CreateUser(ctx context.Context, account, name, path string) (*Entity, error) {
	return s.create(ctx, &Entity{Account: account, Kind: User, Name: name, Path: path})
}

// Account returns an account Berth made (berth admin create-account); the
// default account, whose root comes from the configuration, has no record.
func (s *Service) Account(ctx context.Context, id string) (*Account, error) {
	a, err := s.store.GetAccount(ctx, id)
	if err != nil {
		return nil, fromStore("get account "+id, err)
	}
	return a, nil
}

// AddressedUser is the user a call that may leave UserName out acts on
// (GetUser, the access-key calls): userName, or else the caller when it
// is a user; "" is the caller's account root. A role session must name
// the user.
func AddressedUser(caller *authn.Principal, userName string) (string, error) {
	if userName != "" {
		return userName, nil
	}
	switch caller.Kind {
	case authn.KindUser:
		return caller.UserName, nil
	case authn.KindAssumedRole:
		return "", nonUserCredentials()
	}
	return "", nil
}

// Access keys. user "" is the account's root, which has keys of its own.

// CreateAccessKey makes a new, active key for user. A user (or root) has
// at most two (LimitExceeded), Active and Inactive alike.
func (s *Service) CreateAccessKey(ctx context.Context, account, user string) (*AccessKey, error) {
	k := &AccessKey{
		ID: authn.NewID("AKIA", 16), Account: account, UserName: user,
		SecretAccessKey: authn.NewSecretAccessKey(), Status: "Active", CreatedAt: s.created(),
	}
	if err := s.commit(ctx, "create access key of "+keyOwner(user), s.store.CreateAccessKey(ctx, k)); err != nil {
		return nil, err
	}
	return k, nil
}

// AccessKeys lists user's keys.
func (s *Service) AccessKeys(ctx context.Context, account, user string) ([]*AccessKey, error) {
	keys, err := s.store.ListAccessKeys(ctx, account, user)
	if err != nil {
		return nil, fromStore("list access keys of "+keyOwner(user), err)
	}
	return keys, nil
}

// UpdateAccessKey switches user's key on (Active) or off (Inactive).
func (s *Service) UpdateAccessKey(ctx context.Context, account, user, id, status string) error {
	if status == "Expired" {
		// The model lists Expired, which IAM sets itself; a caller may only
		// switch a key on or off.
		return errorf(ErrInvalidInput, "Status must be Active or Inactive.")
	}
	return s.commit(ctx, fmt.Sprintf("update access key %s", id), s.store.UpdateAccessKeyStatus(ctx, account, user, id, status))
}

// DeleteAccessKey deletes user's key.
func (s *Service) DeleteAccessKey(ctx context.Context, account, user, id string) error {
	return s.commit(ctx, fmt.Sprintf("delete access key %s", id), s.store.DeleteAccessKey(ctx, account, user, id))
}

func keyOwner(user string) string {
	if user == "" {
		return "the root"
	}
	return "user " + user
}
