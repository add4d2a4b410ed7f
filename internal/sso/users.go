package sso

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/berth-registry/berth/internal/meta"
)

// The identity store's users. A user signs in to the verification page
// with a password an administrator sets (berth admin sso set-password);
// Berth keeps its bcrypt hash.

// NewUser is what CreateUser makes a user of.
type NewUser struct {
	IdentityStoreID       string
	UserName, DisplayName string
	GivenName, FamilyName string
	Emails                []meta.SSOEmail
}

// checkStore refuses an identity store id that is not the instance's.
func (s *Service) checkStore(ctx context.Context, id string) error {
	inst, err := s.Instance(ctx)
	if err != nil {
		return err
	}
	if id != inst.IdentityStoreID {
		return errorf(ErrNotFound, "Identity store %s does not exist", id)
	}
	return nil
}

// CreateUser adds a user to the identity store.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (*meta.SSOUser, error) {
	if err := s.checkStore(ctx, nu.IdentityStoreID); err != nil {
		return nil, err
	}
	u := &meta.SSOUser{IdentityStoreID: nu.IdentityStoreID, UserID: newUUID(), UserName: nu.UserName, DisplayName: nu.DisplayName,
		GivenName: nu.GivenName, FamilyName: nu.FamilyName, Emails: nu.Emails, CreatedAt: s.now().UTC()}
	if err := s.store.CreateSSOUser(ctx, u); err != nil {
		if errors.Is(err, meta.ErrIAMExists) {
			return nil, errorf(ErrConflict, "Duplicate UserName: a user named %s already exists", nu.UserName)
		}
		return nil, fromStore("create user "+nu.UserName, err, "")
	}
	return u, nil
}

// User is a user of the identity store by id.
func (s *Service) User(ctx context.Context, identityStoreID, userID string) (*meta.SSOUser, error) {
	if err := s.checkStore(ctx, identityStoreID); err != nil {
		return nil, err
	}
	u, err := s.store.GetSSOUser(ctx, identityStoreID, userID)
	return u, fromStore("get user", err, "User with id "+userID+" does not exist")
}

// UserByName is a user of the instance's identity store by user name.
func (s *Service) UserByName(ctx context.Context, name string) (*meta.SSOUser, error) {
	inst, err := s.Instance(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.store.GetSSOUserByName(ctx, inst.IdentityStoreID, name)
	return u, fromStore("get user", err, "User "+name+" does not exist")
}

// Users lists the identity store's users in user name order; userName,
// when set, keeps only the user of that name (ListUsers' filter).
func (s *Service) Users(ctx context.Context, identityStoreID, userName string) ([]*meta.SSOUser, error) {
	if err := s.checkStore(ctx, identityStoreID); err != nil {
		return nil, err
	}
	list, err := s.store.ListSSOUsers(ctx, identityStoreID)
	if err != nil {
		return nil, fmt.Errorf("sso: list users: %w", err)
	}
	if userName == "" {
		return list, nil
	}
	var out []*meta.SSOUser
	for _, u := range list {
		if strings.EqualFold(u.UserName, userName) {
			out = append(out, u)
		}
	}
	return out, nil
}

// DeleteUser deletes a user with its assignments and tokens; the roles of
// permission sets no one holds any more in an account go with them.
func (s *Service) DeleteUser(ctx context.Context, identityStoreID, userID string) error {
	if err := s.checkStore(ctx, identityStoreID); err != nil {
		return err
	}
	held, err := s.store.ListSSOAssignments(ctx, meta.SSOAssignmentQuery{PrincipalID: userID})
	if err != nil {
		return fmt.Errorf("sso: list assignments of %s: %w", userID, err)
	}
	if err := fromStore("delete user", s.store.DeleteSSOUser(ctx, identityStoreID, userID), "User with id "+userID+" does not exist"); err != nil {
		return err
	}
	for _, a := range held {
		if err := s.retireRole(ctx, a.PermissionSetARN, a.Account); err != nil {
			return err
		}
	}
	return nil
}

// MinPasswordLength is the shortest password set-password accepts.
const MinPasswordLength = 8

// SetPassword sets a user's password, by user name.
func (s *Service) SetPassword(ctx context.Context, userName, password string) error {
	if len(password) < MinPasswordLength {
		return errorf(ErrValidation, "the password must be at least %d characters", MinPasswordLength)
	}
	if len(password) > 72 {
		// bcrypt reads 72 bytes; a longer password would be cut silently.
		return errorf(ErrValidation, "the password must be at most 72 bytes")
	}
	u, err := s.UserByName(ctx, userName)
	if err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("sso: hash password: %w", err)
	}
	return fromStore("set password", s.store.SetSSOUserPassword(ctx, u.IdentityStoreID, u.UserID, string(hash)), "User "+userName+" does not exist")
}

// dummyHash is compared against when the user does not exist, so that a
// wrong name takes as long as a wrong password and says nothing more.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("berth-no-such-user"), bcrypt.DefaultCost)

// errSignIn is the one answer to every failed sign-in: it does not say
// whether the user exists.
func errSignIn() error { return errorf(ErrAccessDenied, "Incorrect user name or password.") }

// Authenticate checks a user's password.
func (s *Service) Authenticate(ctx context.Context, userName, password string) (*meta.SSOUser, error) {
	u, err := s.UserByName(ctx, userName)
	if errors.Is(err, ErrNotFound) {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, errSignIn()
	}
	if err != nil {
		return nil, err
	}
	hash := []byte(u.PasswordHash)
	if len(hash) == 0 {
		hash = dummyHash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || u.PasswordHash == "" {
		return nil, errSignIn()
	}
	return u, nil
}
