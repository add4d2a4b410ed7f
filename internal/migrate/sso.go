package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/berth-registry/berth/internal/meta"
)

// sso copies IAM Identity Center's instance, its users (with their
// password hashes, so they sign in with the same passwords), permission
// sets and account assignments, with their ids, ARNs and times. What a
// sign-in holds (registered clients, device authorizations, tokens) is not
// copied: people sign in again on the new nodes, as after any session end.
// The target either has no instance yet, and gets the source's, or has the
// source's; another instance is a conflict (unless the source's holds no
// user and no permission set: then there is nothing to carry), and so is a
// user or permission set of the same id that differs.
func (r *run) sso(ctx context.Context) error {
	inst, err := r.exp.SSOInstance(ctx)
	if err != nil || inst == nil {
		return err
	}
	users, err := r.src.Meta.ListSSOUsers(ctx, inst.IdentityStoreID)
	if err != nil {
		return fmt.Errorf("Identity Center users: %w", err)
	}
	sets, err := r.src.Meta.ListPermissionSets(ctx, inst.ARN)
	if err != nil {
		return fmt.Errorf("permission sets: %w", err)
	}
	if len(users) == 0 && len(sets) == 0 {
		// An instance made by a first look (list-instances) and nothing
		// else: the target's own, or the one it makes, serves as well.
		return nil
	}
	dstExp, ok := r.dst.Meta.(meta.ExportStore)
	if !ok {
		return fmt.Errorf("migrate: the target metadata store (%T) cannot say which Identity Center instance it has", r.dst.Meta)
	}
	got, err := dstExp.SSOInstance(ctx)
	switch {
	case err != nil:
		return err
	case got == nil:
		if !r.dry {
			if got, err = r.dst.Meta.EnsureSSOInstance(ctx, inst); err != nil {
				return fmt.Errorf("copy the Identity Center instance: %w", err)
			}
			if got.ARN != inst.ARN {
				return r.conflict("the target's Identity Center instance is %s, the source's %s", got.ARN, inst.ARN)
			}
		}
		r.copied(SSOInstances, 1)
	case got.ARN != inst.ARN || got.IdentityStoreID != inst.IdentityStoreID:
		// Nothing of the source's fits under another instance.
		return r.conflict("the target's Identity Center instance is %s (identity store %s), the source's %s (identity store %s)",
			got.ARN, got.IdentityStoreID, inst.ARN, inst.IdentityStoreID)
	default:
		r.present(SSOInstances)
	}
	for _, u := range users {
		if err := r.ssoUser(ctx, u); err != nil {
			return err
		}
	}
	for _, ps := range sets {
		if err := r.permissionSet(ctx, ps); err != nil {
			return err
		}
	}
	as, err := r.src.Meta.ListSSOAssignments(ctx, meta.SSOAssignmentQuery{InstanceARN: inst.ARN})
	if err != nil {
		return fmt.Errorf("account assignments: %w", err)
	}
	for _, a := range as {
		if err := r.assignment(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) ssoUser(ctx context.Context, u *meta.SSOUser) error {
	got, err := r.dst.Meta.GetSSOUser(ctx, u.IdentityStoreID, u.UserID)
	switch {
	case err == nil && got.UserName == u.UserName && got.DisplayName == u.DisplayName && got.GivenName == u.GivenName &&
		got.FamilyName == u.FamilyName && slices.Equal(got.Emails, u.Emails) && got.PasswordHash == u.PasswordHash && sameTime(got.CreatedAt, u.CreatedAt):
		r.present(SSOUsers)
		return nil
	case err == nil:
		return r.conflict("the Identity Center user %s (%s) differs on the target", u.UserName, u.UserID)
	case !errors.Is(err, meta.ErrIAMNotFound):
		return err
	}
	if !r.dry {
		cp := *u
		if err := r.dst.Meta.CreateSSOUser(ctx, &cp); err != nil {
			if errors.Is(err, meta.ErrIAMExists) {
				return r.conflict("the target has another Identity Center user named %s", u.UserName)
			}
			return fmt.Errorf("copy Identity Center user %s: %w", u.UserName, err)
		}
	}
	r.copied(SSOUsers, 1)
	return nil
}

func (r *run) permissionSet(ctx context.Context, ps *meta.SSOPermissionSet) error {
	got, err := r.dst.Meta.GetPermissionSet(ctx, ps.ARN)
	switch {
	case err == nil && got.Name == ps.Name && got.Description == ps.Description && got.SessionDuration == ps.SessionDuration &&
		slices.Equal(got.ManagedPolicies, ps.ManagedPolicies) && got.InlinePolicy == ps.InlinePolicy && sameTime(got.CreatedAt, ps.CreatedAt):
		r.present(PermissionSets)
		return nil
	case err == nil:
		return r.conflict("the permission set %s (%s) differs on the target", ps.Name, ps.ARN)
	case !errors.Is(err, meta.ErrIAMNotFound):
		return err
	}
	if !r.dry {
		cp := *ps
		if err := r.dst.Meta.CreatePermissionSet(ctx, &cp); err != nil {
			if errors.Is(err, meta.ErrIAMExists) {
				return r.conflict("the target has another permission set named %s", ps.Name)
			}
			return fmt.Errorf("copy permission set %s: %w", ps.Name, err)
		}
	}
	r.copied(PermissionSets, 1)
	return nil
}

func (r *run) assignment(ctx context.Context, a *meta.SSOAssignment) error {
	got, err := r.dst.Meta.ListSSOAssignments(ctx, meta.SSOAssignmentQuery{InstanceARN: a.InstanceARN,
		PermissionSetARN: a.PermissionSetARN, Account: a.Account, PrincipalID: a.PrincipalID})
	if err != nil {
		return err
	}
	if len(got) > 0 {
		r.present(SSOAssignments)
		return nil
	}
	if !r.dry {
		cp := *a
		if err := r.dst.Meta.CreateSSOAssignment(ctx, &cp); err != nil {
			return fmt.Errorf("copy the assignment of %s to account %s: %w", a.PermissionSetARN, a.Account, err)
		}
	}
	r.copied(SSOAssignments, 1)
	return nil
}
