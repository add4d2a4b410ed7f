package sso

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/berth-registry/berth/internal/iam"
	"github.com/berth-registry/berth/internal/meta"
)

// The access portal: what a signed-in user's access token opens — the
// accounts and permission sets assigned to the user, and role credentials
// for one of them.

// unauthorized is the portal's one answer to a token it does not accept,
// as AWS words it.
func unauthorized() error { return errorf(ErrUnauthorized, "Session token not found or invalid") }

// signedIn is the user an access token belongs to.
func (s *Service) signedIn(ctx context.Context, accessToken string) (*meta.SSOUser, error) {
	t, err := s.store.GetSSOToken(ctx, hashSecret(accessToken))
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil, unauthorized()
	}
	if err != nil {
		return nil, fmt.Errorf("sso: get access token: %w", err)
	}
	if t.Kind != meta.SSOAccessToken || !s.now().Before(t.ExpiresAt) {
		return nil, unauthorized()
	}
	u, err := s.store.GetSSOUser(ctx, t.IdentityStoreID, t.UserID)
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil, unauthorized()
	}
	if err != nil {
		return nil, fmt.Errorf("sso: get user: %w", err)
	}
	return u, nil
}

// Accounts lists the accounts where the token's user holds a permission
// set, in order.
func (s *Service) Accounts(ctx context.Context, accessToken string) ([]string, error) {
	u, err := s.signedIn(ctx, accessToken)
	if err != nil {
		return nil, err
	}
	held, err := s.store.ListSSOAssignments(ctx, meta.SSOAssignmentQuery{PrincipalID: u.UserID})
	if err != nil {
		return nil, fmt.Errorf("sso: list assignments: %w", err)
	}
	var out []string
	for _, a := range held {
		if !slices.Contains(out, a.Account) {
			out = append(out, a.Account)
		}
	}
	return out, nil
}

// AccountRoles lists the names of the permission sets the token's user
// holds in account: the role names of the portal (sso_role_name).
func (s *Service) AccountRoles(ctx context.Context, accessToken, account string) ([]string, error) {
	u, err := s.signedIn(ctx, accessToken)
	if err != nil {
		return nil, err
	}
	sets, err := s.heldSets(ctx, u, account)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ps := range sets {
		out = append(out, ps.Name)
	}
	slices.Sort(out)
	return out, nil
}

func (s *Service) heldSets(ctx context.Context, u *meta.SSOUser, account string) ([]*meta.SSOPermissionSet, error) {
	held, err := s.store.ListSSOAssignments(ctx, meta.SSOAssignmentQuery{PrincipalID: u.UserID, Account: account})
	if err != nil {
		return nil, fmt.Errorf("sso: list assignments: %w", err)
	}
	var out []*meta.SSOPermissionSet
	for _, a := range held {
		ps, err := s.store.GetPermissionSet(ctx, a.PermissionSetARN)
		if errors.Is(err, meta.ErrIAMNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sso: get permission set: %w", err)
		}
		out = append(out, ps)
	}
	return out, nil
}

// RoleCredentials are temporary credentials of a permission set's role.
type RoleCredentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
	// ARN is the session's: arn:aws:sts::<account>:assumed-role/<role>/<user>.
	ARN string
}

// RoleCredentials makes a session of the role the permission set named
// roleName becomes in account, for the token's user, lasting the set's
// session duration (capped by Options.RoleSessionLimit).
func (s *Service) RoleCredentials(ctx context.Context, accessToken, account, roleName string) (*RoleCredentials, error) {
	u, err := s.signedIn(ctx, accessToken)
	if err != nil {
		return nil, err
	}
	sets, err := s.heldSets(ctx, u, account)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(sets, func(ps *meta.SSOPermissionSet) bool { return ps.Name == roleName })
	if i < 0 {
		return nil, errorf(ErrNotFound, "No access")
	}
	// The role is brought into step first: a change of the set made while
	// a node was down, or by a node that failed midway, is applied now.
	ps, err := s.provision(ctx, sets[i].ARN, account)
	if err != nil {
		return nil, err
	}
	d, err := ParseSessionDuration(ps.SessionDuration)
	if err != nil {
		d = time.Hour
	}
	if s.opts.RoleSessionLimit > 0 && d > s.opts.RoleSessionLimit {
		d = s.opts.RoleSessionLimit
	}
	ar, err := s.roles.SSORoleSession(ctx, account, RoleName(ps, account), u.UserName, max(1, int(d/time.Second)))
	if errors.Is(err, iam.ErrNoSuchEntity) {
		return nil, errorf(ErrNotFound, "No access")
	}
	if err != nil {
		return nil, err
	}
	return &RoleCredentials{AccessKeyID: ar.Session.AccessKeyID, SecretAccessKey: ar.Session.SecretAccessKey,
		SessionToken: ar.Session.SessionToken, Expiration: ar.Session.ExpiresAt, ARN: ar.ARN}, nil
}

// Logout ends the sign-in the access token belongs to: its refresh tokens
// stop working too, as AWS ends the session.
func (s *Service) Logout(ctx context.Context, accessToken string) error {
	if _, err := s.signedIn(ctx, accessToken); err != nil {
		return err
	}
	_, err := s.store.DeleteSSOSignIn(ctx, hashSecret(accessToken))
	if err != nil && !errors.Is(err, meta.ErrIAMNotFound) {
		return fmt.Errorf("sso: logout: %w", err)
	}
	return nil
}
