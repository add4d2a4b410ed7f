package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/berth-registry/berth/internal/meta"
)

// iam copies IAM: the created accounts, then each account's identities,
// policies, attachments, memberships and access keys, with their ids and
// times, so that an ARN, a policy naming a user's id, and a key all mean
// what they meant. Role sessions are not copied: they are minutes-long
// credentials, and their callers assume the role again.
func (r *run) iam(ctx context.Context) error {
	accounts, err := r.src.Meta.ListAccounts(ctx)
	if err != nil {
		return err
	}
	for _, a := range accounts {
		if err := r.account(ctx, a); err != nil {
			return fmt.Errorf("account %s: %w", a.ID, err)
		}
	}
	ids, err := r.exp.IAMAccounts(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := r.iamAccount(ctx, id); err != nil {
			return fmt.Errorf("IAM of account %s: %w", id, err)
		}
	}
	return nil
}

func (r *run) account(ctx context.Context, a *meta.IAMAccount) error {
	got, err := r.dst.Meta.GetAccount(ctx, a.ID)
	switch {
	case err == nil && sameTime(got.CreatedAt, a.CreatedAt):
		r.present(Accounts)
		return nil
	case err == nil:
		return r.conflict("account %s: created at %s on the target, at %s in the source", a.ID, stamp(got.CreatedAt), stamp(a.CreatedAt))
	case !errors.Is(err, meta.ErrIAMNotFound):
		return err
	}
	if !r.dry {
		// Its root keys follow with the account's other keys.
		if err := r.dst.Meta.CreateAccount(ctx, &meta.IAMAccount{ID: a.ID, CreatedAt: a.CreatedAt}, nil); err != nil {
			return err
		}
	}
	r.copied(Accounts, 1)
	return nil
}

var entityKinds = []struct {
	kind   meta.IAMKind
	report Kind
}{{meta.IAMUser, Users}, {meta.IAMGroup, Groups}, {meta.IAMRole, Roles}}

// iamAccount copies one account's IAM state. Entities come first, then
// managed policies, then what refers to them.
func (r *run) iamAccount(ctx context.Context, account string) error {
	type entity struct {
		e *meta.IAMEntity
		// inTarget: the target holds it now, so what is under it is worth
		// looking up there.
		inTarget bool
	}
	var entities []entity
	for _, k := range entityKinds {
		es, err := r.src.Meta.ListIAMEntities(ctx, account, k.kind, meta.IAMListQuery{})
		if err != nil {
			return err
		}
		for _, e := range es {
			in, err := r.entity(ctx, e, k.report)
			if err != nil {
				return fmt.Errorf("%s %s: %w", e.Kind, e.Name, err)
			}
			entities = append(entities, entity{e, in})
		}
	}
	if err := r.managedPolicies(ctx, account); err != nil {
		return err
	}
	for _, x := range entities {
		if err := r.inlinePolicies(ctx, x.e, x.inTarget); err != nil {
			return fmt.Errorf("%s %s: %w", x.e.Kind, x.e.Name, err)
		}
		if err := r.attachments(ctx, x.e, x.inTarget); err != nil {
			return fmt.Errorf("%s %s: %w", x.e.Kind, x.e.Name, err)
		}
		if x.e.Kind != meta.IAMUser {
			continue
		}
		if err := r.memberships(ctx, x.e, x.inTarget); err != nil {
			return fmt.Errorf("user %s: %w", x.e.Name, err)
		}
		if err := r.accessKeys(ctx, account, x.e.Name, x.inTarget); err != nil {
			return fmt.Errorf("user %s: %w", x.e.Name, err)
		}
	}
	if err := r.oidcProviders(ctx, account); err != nil {
		return err
	}
	// The root's keys: an account's root needs no entity.
	return r.accessKeys(ctx, account, "", true)
}

// entity copies a user, group or role, and reports whether the target
// holds it afterwards.
func (r *run) entity(ctx context.Context, e *meta.IAMEntity, k Kind) (bool, error) {
	got, err := r.dst.Meta.GetIAMEntity(ctx, e.Account, e.Kind, e.Name)
	switch {
	case err == nil:
		if diff := entityDiff(got, e); diff != "" {
			return false, r.conflict("%s %s of account %s: %s", e.Kind, e.Name, e.Account, diff)
		}
		r.present(k)
		return true, nil
	case !errors.Is(err, meta.ErrIAMNotFound):
		return false, err
	}
	r.copied(k, 1)
	if r.dry {
		return false, nil
	}
	c := *e
	return true, r.dst.Meta.CreateIAMEntity(ctx, &c)
}

func entityDiff(dst, src *meta.IAMEntity) string {
	switch {
	case dst.ID != src.ID:
		return fmt.Sprintf("its id is %s on the target, %s in the source", dst.ID, src.ID)
	case dst.Name != src.Name:
		return fmt.Sprintf("it is spelt %s on the target", dst.Name)
	case dst.Path != src.Path:
		return fmt.Sprintf("its path is %s on the target, %s in the source", dst.Path, src.Path)
	case !sameTime(dst.CreatedAt, src.CreatedAt):
		return fmt.Sprintf("created at %s on the target, at %s in the source", stamp(dst.CreatedAt), stamp(src.CreatedAt))
	case dst.AssumeRolePolicy != src.AssumeRolePolicy:
		return "its trust policy differs on the target"
	case dst.Description != src.Description || dst.MaxSessionDuration != src.MaxSessionDuration:
		return "its description or maximum session duration differs on the target"
	}
	return ""
}

func (r *run) managedPolicies(ctx context.Context, account string) error {
	ps, err := r.src.Meta.ListManagedPolicies(ctx, account, meta.IAMListQuery{})
	if err != nil || len(ps) == 0 {
		return err
	}
	// Names are unique in an account whatever the path: a policy of the
	// same name at another path (another ARN) would refuse the create.
	theirs, err := r.dst.Meta.ListManagedPolicies(ctx, account, meta.IAMListQuery{})
	if err != nil {
		return err
	}
	byName := map[string]*meta.IAMPolicy{}
	for _, p := range theirs {
		byName[strings.ToLower(p.Name)] = p
	}
	for _, p := range ps {
		got, err := r.dst.Meta.GetManagedPolicy(ctx, p.ARN)
		switch {
		case err == nil:
			if diff := policyDiff(got, p); diff != "" {
				if err := r.conflict("managed policy %s: %s", p.ARN, diff); err != nil {
					return err
				}
				continue
			}
			r.present(ManagedPolicies)
			continue
		case !errors.Is(err, meta.ErrIAMNotFound):
			return err
		}
		if other, ok := byName[strings.ToLower(p.Name)]; ok {
			if err := r.conflict("managed policy %s: the target's account has a policy of that name at another path, %s", p.ARN, other.ARN); err != nil {
				return err
			}
			continue
		}
		if !r.dry {
			c := *p
			if err := r.dst.Meta.CreateManagedPolicy(ctx, &c); err != nil {
				return fmt.Errorf("managed policy %s: %w", p.ARN, err)
			}
		}
		r.copied(ManagedPolicies, 1)
	}
	return nil
}

func policyDiff(dst, src *meta.IAMPolicy) string {
	switch {
	case dst.ID != src.ID:
		return fmt.Sprintf("its id is %s on the target, %s in the source", dst.ID, src.ID)
	case dst.Document != src.Document:
		return "its document differs on the target"
	case dst.Name != src.Name || dst.Path != src.Path || dst.Description != src.Description:
		return "its name, path or description differs on the target"
	case !sameTime(dst.CreatedAt, src.CreatedAt):
		return fmt.Sprintf("created at %s on the target, at %s in the source", stamp(dst.CreatedAt), stamp(src.CreatedAt))
	}
	return ""
}

func (r *run) inlinePolicies(ctx context.Context, e *meta.IAMEntity, inTarget bool) error {
	names, err := r.src.Meta.ListInlinePolicies(ctx, e.Account, e.Kind, e.Name)
	if err != nil {
		return err
	}
	for _, name := range names {
		p, err := r.src.Meta.GetInlinePolicy(ctx, e.Account, e.Kind, e.Name, name)
		if err != nil {
			return err
		}
		if inTarget {
			got, err := r.dst.Meta.GetInlinePolicy(ctx, e.Account, e.Kind, e.Name, name)
			switch {
			case err == nil && *got == *p:
				r.present(InlinePolicies)
				continue
			case err == nil:
				if err := r.conflict("%s %s of account %s: inline policy %s differs on the target", e.Kind, e.Name, e.Account, name); err != nil {
					return err
				}
				continue
			case !errors.Is(err, meta.ErrIAMNotFound):
				return err
			}
		}
		if !r.dry {
			if err := r.dst.Meta.PutInlinePolicy(ctx, e.Account, e.Kind, e.Name, *p); err != nil {
				return err
			}
		}
		r.copied(InlinePolicies, 1)
	}
	return nil
}

// attachments adds the source's attachments the target lacks; the
// target's other attachments stay.
func (r *run) attachments(ctx context.Context, e *meta.IAMEntity, inTarget bool) error {
	arns, err := r.src.Meta.ListAttachedPolicies(ctx, e.Account, e.Kind, e.Name)
	if err != nil || len(arns) == 0 {
		return err
	}
	have := map[string]bool{}
	if inTarget {
		theirs, err := r.dst.Meta.ListAttachedPolicies(ctx, e.Account, e.Kind, e.Name)
		if err != nil {
			return err
		}
		for _, a := range theirs {
			have[a] = true
		}
	}
	for _, arn := range arns {
		if have[arn] {
			r.present(Attachments)
			continue
		}
		if !r.dry {
			if err := r.dst.Meta.AttachPolicy(ctx, e.Account, e.Kind, e.Name, arn); err != nil {
				return err
			}
		}
		r.copied(Attachments, 1)
	}
	return nil
}

// memberships adds the user to the source's groups it is not in on the
// target; the target's other memberships stay.
func (r *run) memberships(ctx context.Context, user *meta.IAMEntity, inTarget bool) error {
	groups, err := r.src.Meta.ListUserGroups(ctx, user.Account, user.Name)
	if err != nil || len(groups) == 0 {
		return err
	}
	have := map[string]bool{}
	if inTarget {
		theirs, err := r.dst.Meta.ListUserGroups(ctx, user.Account, user.Name)
		if err != nil {
			return err
		}
		for _, g := range theirs {
			have[strings.ToLower(g.Name)] = true
		}
	}
	for _, g := range groups {
		if have[strings.ToLower(g.Name)] {
			r.present(Memberships)
			continue
		}
		if !r.dry {
			if err := r.dst.Meta.AddGroupMember(ctx, user.Account, g.Name, user.Name); err != nil {
				return err
			}
		}
		r.copied(Memberships, 1)
	}
	return nil
}

// accessKeys copies the keys of a user, or of the account's root (user
// ""), with their secrets, statuses and creation times: credentials in
// use keep working against the target.
func (r *run) accessKeys(ctx context.Context, account, user string, inTarget bool) error {
	keys, err := r.src.Meta.ListAccessKeys(ctx, account, user)
	if err != nil || len(keys) == 0 {
		return err
	}
	owner := "the root of account " + account
	if user != "" {
		owner = "user " + user + " of account " + account
	}
	var theirs []*meta.IAMAccessKey
	if inTarget {
		if theirs, err = r.dst.Meta.ListAccessKeys(ctx, account, user); err != nil {
			return err
		}
	}
	held := map[string]*meta.IAMAccessKey{}
	for _, k := range theirs {
		held[k.ID] = k
	}
	added := 0
	for _, k := range keys {
		if got, ok := held[k.ID]; ok {
			if diff := keyDiff(got, k); diff != "" {
				if err := r.conflict("access key %s of %s: %s", k.ID, owner, diff); err != nil {
					return err
				}
				continue
			}
			r.present(AccessKeys)
			continue
		}
		got, err := r.dst.Meta.GetAccessKey(ctx, k.ID)
		switch {
		case err == nil:
			who := "user " + got.UserName
			if got.UserName == "" {
				who = "the root"
			}
			if err := r.conflict("access key %s of %s: on the target it is a key of %s of account %s", k.ID, owner, who, got.Account); err != nil {
				return err
			}
			continue
		case !errors.Is(err, meta.ErrIAMNotFound):
			return err
		}
		if added++; len(theirs)+added > meta.MaxAccessKeysPerUser {
			if err := r.conflict("access key %s of %s: the target already holds %d other key(s) of it, and IAM allows %d", k.ID, owner, len(theirs), meta.MaxAccessKeysPerUser); err != nil {
				return err
			}
			continue
		}
		if !r.dry {
			c := *k
			if err := r.dst.Meta.CreateAccessKey(ctx, &c); err != nil {
				return fmt.Errorf("access key %s: %w", k.ID, err)
			}
		}
		r.copied(AccessKeys, 1)
	}
	return nil
}

func keyDiff(dst, src *meta.IAMAccessKey) string {
	switch {
	case dst.SecretAccessKey != src.SecretAccessKey:
		return "its secret differs on the target"
	case dst.Status != src.Status:
		return fmt.Sprintf("it is %s on the target, %s in the source", dst.Status, src.Status)
	case !sameTime(dst.CreatedAt, src.CreatedAt):
		return fmt.Sprintf("created at %s on the target, at %s in the source", stamp(dst.CreatedAt), stamp(src.CreatedAt))
	}
	return ""
}
