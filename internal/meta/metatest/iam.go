package metatest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// The IAM part of the suite. Besides what package meta documents, it pins:
//
//   - IAM names compare ASCII case-insensitively and read back as first
//     written; one account's names never clash with another's, nor a
//     user's with a group's or a role's.
//   - Errors are *meta.IAMError with What and Name set as the constants say;
//     Name is the name as the caller gave it.
//   - DeleteIAMEntity checks, in order: a user's access keys, inline
//     policies, attached policies, groups; a group's members, inline
//     policies, attached policies; a role's inline then attached policies.
//   - ListAccessKeys returns keys in creation order; ListAttachedPolicies in
//     ARN order; the other lists in name order.

const (
	acctA = "111111111111"
	acctB = "222222222222"
)

// wantIAM checks that err is an *meta.IAMError wrapping sentinel about
// what/name (and blockedBy, for conflicts).
func wantIAM(t *testing.T, label string, err, sentinel error, what, name, blockedBy string) {
	t.Helper()
	var ie *meta.IAMError
	if !errors.As(err, &ie) || !errors.Is(err, sentinel) {
		t.Fatalf("%s: error %v, want an *meta.IAMError wrapping %v", label, err, sentinel)
	}
	if ie.What != what || ie.Name != name || ie.BlockedBy != blockedBy {
		t.Fatalf("%s: IAMError{What %q, Name %q, BlockedBy %q}, want {%q, %q, %q}", label, ie.What, ie.Name, ie.BlockedBy, what, name, blockedBy)
	}
}

func newEntity(t *testing.T, s meta.Store, account string, kind meta.IAMKind, name, path string) *meta.IAMEntity {
	t.Helper()
	e := &meta.IAMEntity{Account: account, Kind: kind, Name: name, Path: path, ID: fmt.Sprintf("ID%s%s%s", account, kind, name), CreatedAt: at(len(name))}
	if kind == meta.IAMRole {
		e.AssumeRolePolicy, e.Description, e.MaxSessionDuration = `{"Statement":[]}`, "a role", 7200
	}
	if err := s.CreateIAMEntity(t.Context(), e); err != nil {
		t.Fatalf("CreateIAMEntity(%s %s): %v", kind, name, err)
	}
	return e
}

func checkEntity(t *testing.T, got, want *meta.IAMEntity) {
	t.Helper()
	g, w := *got, *want
	checkTime(t, "entity CreatedAt", g.CreatedAt, w.CreatedAt)
	g.CreatedAt, w.CreatedAt = time.Time{}, time.Time{}
	if g != w {
		t.Fatalf("entity = %+v, want %+v", g, w)
	}
}

func entityNames(es []*meta.IAMEntity) []string {
	var names []string
	for _, e := range es {
		names = append(names, e.Name)
	}
	return names
}

func testIAMAccounts(t *testing.T, s meta.Store) {
	ctx := t.Context()
	_, err := s.GetAccount(ctx, acctA)
	wantIAM(t, "GetAccount(missing)", err, meta.ErrIAMNotFound, meta.IAMWhatAccount, acctA, "")

	root := &meta.IAMAccessKey{ID: "AKIAROOTA0000000000A", SecretAccessKey: "secretA", Status: "Active", CreatedAt: at(1)}
	if err := s.CreateAccount(ctx, &meta.IAMAccount{ID: acctA, CreatedAt: at(1)}, root); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if err := s.CreateAccount(ctx, &meta.IAMAccount{ID: acctB, CreatedAt: at(2)}, nil); err != nil {
		t.Fatalf("CreateAccount(no key): %v", err)
	}
	err = s.CreateAccount(ctx, &meta.IAMAccount{ID: acctA, CreatedAt: at(3)}, nil)
	wantIAM(t, "CreateAccount(again)", err, meta.ErrIAMExists, meta.IAMWhatAccount, acctA, "")
	// A root key whose id is taken leaves no account behind.
	err = s.CreateAccount(ctx, &meta.IAMAccount{ID: "333333333333"}, &meta.IAMAccessKey{ID: root.ID, SecretAccessKey: "x", Status: "Active"})
	wantIAM(t, "CreateAccount(key taken)", err, meta.ErrIAMExists, meta.IAMWhatAccessKey, root.ID, "")
	_, err = s.GetAccount(ctx, "333333333333")
	wantIAM(t, "GetAccount(rolled back)", err, meta.ErrIAMNotFound, meta.IAMWhatAccount, "333333333333", "")

	a, err := s.GetAccount(ctx, acctA)
	if err != nil || a.ID != acctA {
		t.Fatalf("GetAccount = %+v, %v", a, err)
	}
	checkTime(t, "account CreatedAt", a.CreatedAt, at(1))
	list, err := s.ListAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range list {
		ids = append(ids, a.ID)
	}
	if !slices.Equal(ids, []string{acctA, acctB}) {
		t.Fatalf("ListAccounts = %v", ids)
	}

	k, err := s.GetAccessKey(ctx, root.ID)
	if err != nil {
		t.Fatalf("GetAccessKey(root): %v", err)
	}
	if k.Account != acctA || k.UserName != "" || k.SecretAccessKey != "secretA" || k.Status != "Active" {
		t.Fatalf("root key = %+v", k)
	}
	checkTime(t, "root key CreatedAt", k.CreatedAt, at(1))
}

func testIAMEntities(t *testing.T, s meta.Store) {
	ctx := t.Context()
	bob := newEntity(t, s, acctA, meta.IAMUser, "Bob", "/")
	newEntity(t, s, acctA, meta.IAMUser, "alice", "/eng/")
	newEntity(t, s, acctA, meta.IAMUser, "carol", "/eng/ops/")
	newEntity(t, s, acctA, meta.IAMUser, "dave", "/Eng/")
	role := newEntity(t, s, acctA, meta.IAMRole, "bob", "/service-role/") // another kind: no clash
	newEntity(t, s, acctB, meta.IAMUser, "bob", "/")                      // another account: no clash

	for _, name := range []string{"Bob", "bob", "BOB"} {
		got, err := s.GetIAMEntity(ctx, acctA, meta.IAMUser, name)
		if err != nil {
			t.Fatalf("GetIAMEntity(%s): %v", name, err)
		}
		checkEntity(t, got, bob)
	}
	got, err := s.GetIAMEntity(ctx, acctA, meta.IAMRole, "BOB")
	if err != nil {
		t.Fatal(err)
	}
	checkEntity(t, got, role)
	_, err = s.GetIAMEntity(ctx, acctA, meta.IAMGroup, "bob")
	wantIAM(t, "GetIAMEntity(group)", err, meta.ErrIAMNotFound, "group", "bob", "")

	err = s.CreateIAMEntity(ctx, &meta.IAMEntity{Account: acctA, Kind: meta.IAMUser, Name: "bOB", Path: "/", ID: "IDother"})
	wantIAM(t, "CreateIAMEntity(bOB)", err, meta.ErrIAMExists, "user", "bOB", "")

	list := func(q meta.IAMListQuery) []string {
		t.Helper()
		es, err := s.ListIAMEntities(ctx, acctA, meta.IAMUser, q)
		if err != nil {
			t.Fatalf("ListIAMEntities(%+v): %v", q, err)
		}
		return entityNames(es)
	}
	for _, tc := range []struct {
		q    meta.IAMListQuery
		want []string
	}{
		{meta.IAMListQuery{}, []string{"alice", "Bob", "carol", "dave"}},
		{meta.IAMListQuery{Limit: 2}, []string{"alice", "Bob"}},
		{meta.IAMListQuery{After: "bob", Limit: 1}, []string{"carol"}},
		{meta.IAMListQuery{After: "BOB"}, []string{"carol", "dave"}},
		{meta.IAMListQuery{PathPrefix: "/eng/"}, []string{"alice", "carol"}}, // paths are case-sensitive
		{meta.IAMListQuery{PathPrefix: "/eng/o"}, []string{"carol"}},
		{meta.IAMListQuery{PathPrefix: "/"}, []string{"alice", "Bob", "carol", "dave"}},
		{meta.IAMListQuery{PathPrefix: "/x"}, nil},
	} {
		if got := list(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("ListIAMEntities(%+v) = %q, want %q", tc.q, got, tc.want)
		}
	}

	if err := s.UpdateAssumeRolePolicy(ctx, acctA, "BOB", `{"new":true}`); err != nil {
		t.Fatalf("UpdateAssumeRolePolicy: %v", err)
	}
	got, _ = s.GetIAMEntity(ctx, acctA, meta.IAMRole, "bob")
	want := *role
	want.AssumeRolePolicy = `{"new":true}`
	checkEntity(t, got, &want)
	err = s.UpdateAssumeRolePolicy(ctx, acctA, "nobody", "{}")
	wantIAM(t, "UpdateAssumeRolePolicy(missing)", err, meta.ErrIAMNotFound, "role", "nobody", "")

	if err := s.DeleteIAMEntity(ctx, acctA, meta.IAMUser, "BOB"); err != nil {
		t.Fatalf("DeleteIAMEntity: %v", err)
	}
	_, err = s.GetIAMEntity(ctx, acctA, meta.IAMUser, "bob")
	wantIAM(t, "GetIAMEntity(deleted)", err, meta.ErrIAMNotFound, "user", "bob", "")
	err = s.DeleteIAMEntity(ctx, acctA, meta.IAMUser, "bob")
	wantIAM(t, "DeleteIAMEntity(again)", err, meta.ErrIAMNotFound, "user", "bob", "")
	for _, check := range []struct {
		account string
		kind    meta.IAMKind
	}{{acctA, meta.IAMRole}, {acctB, meta.IAMUser}} {
		if _, err := s.GetIAMEntity(ctx, check.account, check.kind, "bob"); err != nil {
			t.Errorf("deleting user bob of %s removed %s bob of %s: %v", acctA, check.kind, check.account, err)
		}
	}
	// The name is free again.
	newEntity(t, s, acctA, meta.IAMUser, "BOB", "/")
}

func testIAMGroups(t *testing.T, s meta.Store) {
	ctx := t.Context()
	newEntity(t, s, acctA, meta.IAMGroup, "Devs", "/")
	newEntity(t, s, acctA, meta.IAMGroup, "admins", "/")
	newEntity(t, s, acctA, meta.IAMUser, "Bob", "/")
	newEntity(t, s, acctA, meta.IAMUser, "alice", "/")

	add := func(group, user string) {
		t.Helper()
		if err := s.AddGroupMember(ctx, acctA, group, user); err != nil {
			t.Fatalf("AddGroupMember(%s, %s): %v", group, user, err)
		}
	}
	add("devs", "bob")
	add("DEVS", "Bob") // again: no change
	add("devs", "alice")
	add("admins", "alice")
	wantIAM(t, "AddGroupMember(no group)", s.AddGroupMember(ctx, acctA, "ops", "bob"), meta.ErrIAMNotFound, "group", "ops", "")
	wantIAM(t, "AddGroupMember(no user)", s.AddGroupMember(ctx, acctA, "devs", "eve"), meta.ErrIAMNotFound, "user", "eve", "")

	members, err := s.ListGroupMembers(ctx, acctA, "devs")
	if err != nil {
		t.Fatal(err)
	}
	if got := entityNames(members); !slices.Equal(got, []string{"alice", "Bob"}) {
		t.Fatalf("ListGroupMembers = %q", got)
	}
	groups, err := s.ListUserGroups(ctx, acctA, "ALICE")
	if err != nil {
		t.Fatal(err)
	}
	if got := entityNames(groups); !slices.Equal(got, []string{"admins", "Devs"}) {
		t.Fatalf("ListUserGroups = %q", got)
	}
	_, err = s.ListGroupMembers(ctx, acctA, "ops")
	wantIAM(t, "ListGroupMembers(missing)", err, meta.ErrIAMNotFound, "group", "ops", "")
	_, err = s.ListUserGroups(ctx, acctB, "alice")
	wantIAM(t, "ListUserGroups(other account)", err, meta.ErrIAMNotFound, "user", "alice", "")

	err = s.DeleteIAMEntity(ctx, acctA, meta.IAMGroup, "devs")
	wantIAM(t, "DeleteIAMEntity(group with members)", err, meta.ErrIAMConflict, "group", "devs", meta.IAMBlockedByMembers)
	err = s.DeleteIAMEntity(ctx, acctA, meta.IAMUser, "bob")
	wantIAM(t, "DeleteIAMEntity(user in group)", err, meta.ErrIAMConflict, "user", "bob", meta.IAMBlockedByGroups)

	if err := s.RemoveGroupMember(ctx, acctA, "devs", "BOB"); err != nil {
		t.Fatalf("RemoveGroupMember: %v", err)
	}
	err = s.RemoveGroupMember(ctx, acctA, "devs", "bob")
	wantIAM(t, "RemoveGroupMember(not a member)", err, meta.ErrIAMNotFound, meta.IAMWhatMembership, "bob", "")
	err = s.RemoveGroupMember(ctx, acctA, "devs", "eve")
	wantIAM(t, "RemoveGroupMember(no user)", err, meta.ErrIAMNotFound, "user", "eve", "")
	if err := s.DeleteIAMEntity(ctx, acctA, meta.IAMUser, "bob"); err != nil {
		t.Fatalf("DeleteIAMEntity(user out of groups): %v", err)
	}
	if err := s.RemoveGroupMember(ctx, acctA, "devs", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIAMEntity(ctx, acctA, meta.IAMGroup, "devs"); err != nil {
		t.Fatalf("DeleteIAMEntity(empty group): %v", err)
	}
	groups, err = s.ListUserGroups(ctx, acctA, "alice")
	if err != nil || !slices.Equal(entityNames(groups), []string{"admins"}) {
		t.Fatalf("ListUserGroups after deletes = %q, %v", entityNames(groups), err)
	}
}

func testIAMInlinePolicies(t *testing.T, s meta.Store) {
	ctx := t.Context()
	for _, kind := range []meta.IAMKind{meta.IAMUser, meta.IAMGroup, meta.IAMRole} {
		t.Run(string(kind), func(t *testing.T) {
			newEntity(t, s, acctA, kind, "Owner", "/")
			newEntity(t, s, acctA, kind, "other", "/")
			what := string(kind) + " policy"
			put := func(owner, name, doc string) {
				t.Helper()
				if err := s.PutInlinePolicy(ctx, acctA, kind, owner, meta.IAMInlinePolicy{Name: name, Document: doc}); err != nil {
					t.Fatalf("PutInlinePolicy(%s, %s): %v", owner, name, err)
				}
			}
			put("owner", "Pull", `{"v":1}`)
			put("OWNER", "pull", `{"v":2}`) // replaces, keeps the first spelling
			put("owner", "admin", `{"v":3}`)
			put("other", "pull", `{"other":true}`)

			p, err := s.GetInlinePolicy(ctx, acctA, kind, "owner", "PULL")
			if err != nil || p.Name != "Pull" || p.Document != `{"v":2}` {
				t.Fatalf("GetInlinePolicy = %+v, %v", p, err)
			}
			names, err := s.ListInlinePolicies(ctx, acctA, kind, "Owner")
			if err != nil || !slices.Equal(names, []string{"admin", "Pull"}) {
				t.Fatalf("ListInlinePolicies = %q, %v", names, err)
			}
			_, err = s.GetInlinePolicy(ctx, acctA, kind, "owner", "nope")
			wantIAM(t, "GetInlinePolicy(missing)", err, meta.ErrIAMNotFound, what, "nope", "")
			_, err = s.GetInlinePolicy(ctx, acctA, kind, "nobody", "pull")
			wantIAM(t, "GetInlinePolicy(no owner)", err, meta.ErrIAMNotFound, string(kind), "nobody", "")
			_, err = s.ListInlinePolicies(ctx, acctB, kind, "owner")
			wantIAM(t, "ListInlinePolicies(other account)", err, meta.ErrIAMNotFound, string(kind), "owner", "")
			err = s.PutInlinePolicy(ctx, acctA, kind, "nobody", meta.IAMInlinePolicy{Name: "p", Document: "{}"})
			wantIAM(t, "PutInlinePolicy(no owner)", err, meta.ErrIAMNotFound, string(kind), "nobody", "")

			err = s.DeleteIAMEntity(ctx, acctA, kind, "owner")
			wantIAM(t, "DeleteIAMEntity(with policies)", err, meta.ErrIAMConflict, string(kind), "owner", meta.IAMBlockedByInlinePolicies)
			for _, name := range []string{"pull", "ADMIN"} {
				if err := s.DeleteInlinePolicy(ctx, acctA, kind, "owner", name); err != nil {
					t.Fatalf("DeleteInlinePolicy(%s): %v", name, err)
				}
			}
			err = s.DeleteInlinePolicy(ctx, acctA, kind, "owner", "pull")
			wantIAM(t, "DeleteInlinePolicy(again)", err, meta.ErrIAMNotFound, what, "pull", "")
			names, err = s.ListInlinePolicies(ctx, acctA, kind, "owner")
			if err != nil || len(names) != 0 {
				t.Fatalf("ListInlinePolicies after deletes = %q, %v", names, err)
			}
			if p, err := s.GetInlinePolicy(ctx, acctA, kind, "other", "pull"); err != nil || p.Document != `{"other":true}` {
				t.Fatalf("the other %s's policy = %+v, %v", kind, p, err)
			}
			if err := s.DeleteIAMEntity(ctx, acctA, kind, "owner"); err != nil {
				t.Fatalf("DeleteIAMEntity(without policies): %v", err)
			}
		})
	}
}

func newPolicy(t *testing.T, s meta.Store, account, name, path string) *meta.IAMPolicy {
	t.Helper()
	p := &meta.IAMPolicy{
		Account: account, Name: name, Path: path, ID: "ANPA" + account + name,
		ARN:         "arn:aws:iam::" + account + ":policy" + path + name,
		Description: "about " + name, Document: `{"Version":"2012-10-17"}`, CreatedAt: at(1), UpdatedAt: at(2),
	}
	if err := s.CreateManagedPolicy(t.Context(), p); err != nil {
		t.Fatalf("CreateManagedPolicy(%s): %v", name, err)
	}
	return p
}

func checkPolicy(t *testing.T, got, want *meta.IAMPolicy) {
	t.Helper()
	g, w := *got, *want
	checkTime(t, "policy CreatedAt", g.CreatedAt, w.CreatedAt)
	checkTime(t, "policy UpdatedAt", g.UpdatedAt, w.UpdatedAt)
	g.CreatedAt, w.CreatedAt, g.UpdatedAt, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if g != w {
		t.Fatalf("policy = %+v, want %+v", g, w)
	}
}

func testIAMManagedPolicies(t *testing.T, s meta.Store) {
	ctx := t.Context()
	pull := newPolicy(t, s, acctA, "Pull", "/")
	newPolicy(t, s, acctA, "admin", "/team/")
	newPolicy(t, s, acctB, "pull", "/") // another account: no clash

	got, err := s.GetManagedPolicy(ctx, pull.ARN)
	if err != nil {
		t.Fatal(err)
	}
	checkPolicy(t, got, pull)
	_, err = s.GetManagedPolicy(ctx, "arn:aws:iam::"+acctA+":policy/pull") // ARNs are exact
	wantIAM(t, "GetManagedPolicy(other case)", err, meta.ErrIAMNotFound, meta.IAMWhatPolicy, "arn:aws:iam::"+acctA+":policy/pull", "")

	dup := &meta.IAMPolicy{Account: acctA, Name: "PULL", Path: "/other/", ID: "ANPAdup", ARN: "arn:aws:iam::" + acctA + ":policy/other/PULL", Document: "{}"}
	wantIAM(t, "CreateManagedPolicy(same name)", s.CreateManagedPolicy(ctx, dup), meta.ErrIAMExists, meta.IAMWhatPolicy, "PULL", "")

	names := func(q meta.IAMListQuery) []string {
		t.Helper()
		ps, err := s.ListManagedPolicies(ctx, acctA, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return out
	}
	if got := names(meta.IAMListQuery{}); !slices.Equal(got, []string{"admin", "Pull"}) {
		t.Errorf("ListManagedPolicies = %q", got)
	}
	if got := names(meta.IAMListQuery{PathPrefix: "/team"}); !slices.Equal(got, []string{"admin"}) {
		t.Errorf("ListManagedPolicies(/team) = %q", got)
	}
	if got := names(meta.IAMListQuery{After: "admin", Limit: 5}); !slices.Equal(got, []string{"Pull"}) {
		t.Errorf("ListManagedPolicies(after admin) = %q", got)
	}

	if err := s.DeleteManagedPolicy(ctx, pull.ARN); err != nil {
		t.Fatalf("DeleteManagedPolicy: %v", err)
	}
	wantIAM(t, "DeleteManagedPolicy(again)", s.DeleteManagedPolicy(ctx, pull.ARN), meta.ErrIAMNotFound, meta.IAMWhatPolicy, pull.ARN, "")
	_, err = s.GetManagedPolicy(ctx, pull.ARN)
	wantIAM(t, "GetManagedPolicy(deleted)", err, meta.ErrIAMNotFound, meta.IAMWhatPolicy, pull.ARN, "")
	newPolicy(t, s, acctA, "pull", "/") // the name is free again
}

func testIAMAttachments(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const awsPolicy = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	mine := newPolicy(t, s, acctA, "mine", "/")
	theirs := newPolicy(t, s, acctB, "theirs", "/")
	for _, kind := range []meta.IAMKind{meta.IAMUser, meta.IAMGroup, meta.IAMRole} {
		newEntity(t, s, acctA, kind, "Owner", "/")
	}
	attach := func(kind meta.IAMKind, arn string) {
		t.Helper()
		if err := s.AttachPolicy(ctx, acctA, kind, "owner", arn); err != nil {
			t.Fatalf("AttachPolicy(%s, %s): %v", kind, arn, err)
		}
	}
	attach(meta.IAMUser, mine.ARN)
	attach(meta.IAMUser, mine.ARN) // again: no change
	attach(meta.IAMUser, awsPolicy)
	attach(meta.IAMGroup, mine.ARN)
	attach(meta.IAMRole, awsPolicy)

	err := s.AttachPolicy(ctx, acctA, meta.IAMUser, "owner", theirs.ARN)
	wantIAM(t, "AttachPolicy(another account's)", err, meta.ErrIAMNotFound, meta.IAMWhatPolicy, theirs.ARN, "")
	missing := "arn:aws:iam::" + acctA + ":policy/missing"
	err = s.AttachPolicy(ctx, acctA, meta.IAMUser, "owner", missing)
	wantIAM(t, "AttachPolicy(missing policy)", err, meta.ErrIAMNotFound, meta.IAMWhatPolicy, missing, "")
	err = s.AttachPolicy(ctx, acctA, meta.IAMUser, "nobody", mine.ARN)
	wantIAM(t, "AttachPolicy(no user)", err, meta.ErrIAMNotFound, "user", "nobody", "")

	arns, err := s.ListAttachedPolicies(ctx, acctA, meta.IAMUser, "OWNER")
	if err != nil || !slices.Equal(arns, []string{"arn:aws:iam::" + acctA + ":policy/mine", awsPolicy}) {
		t.Fatalf("ListAttachedPolicies(user) = %q, %v", arns, err)
	}
	_, err = s.ListAttachedPolicies(ctx, acctA, meta.IAMRole, "nobody")
	wantIAM(t, "ListAttachedPolicies(no role)", err, meta.ErrIAMNotFound, "role", "nobody", "")
	counts, err := s.PolicyAttachmentCounts(ctx, acctA)
	if err != nil || !maps.Equal(counts, map[string]int{mine.ARN: 2, awsPolicy: 2}) {
		t.Fatalf("PolicyAttachmentCounts = %v, %v", counts, err)
	}
	if counts, err := s.PolicyAttachmentCounts(ctx, acctB); err != nil || len(counts) != 0 {
		t.Fatalf("PolicyAttachmentCounts(other account) = %v, %v", counts, err)
	}

	err = s.DeleteManagedPolicy(ctx, mine.ARN)
	wantIAM(t, "DeleteManagedPolicy(attached)", err, meta.ErrIAMConflict, meta.IAMWhatPolicy, mine.ARN, meta.IAMBlockedByAttachments)
	for _, kind := range []meta.IAMKind{meta.IAMUser, meta.IAMGroup, meta.IAMRole} {
		err := s.DeleteIAMEntity(ctx, acctA, kind, "owner")
		wantIAM(t, "DeleteIAMEntity(with attachments)", err, meta.ErrIAMConflict, string(kind), "owner", meta.IAMBlockedByAttachedPolicies)
	}

	detach := func(kind meta.IAMKind, arn string) {
		t.Helper()
		if err := s.DetachPolicy(ctx, acctA, kind, "Owner", arn); err != nil {
			t.Fatalf("DetachPolicy(%s, %s): %v", kind, arn, err)
		}
	}
	detach(meta.IAMUser, mine.ARN)
	err = s.DetachPolicy(ctx, acctA, meta.IAMUser, "owner", mine.ARN)
	wantIAM(t, "DetachPolicy(again)", err, meta.ErrIAMNotFound, meta.IAMWhatAttachment, mine.ARN, "")
	detach(meta.IAMUser, awsPolicy)
	detach(meta.IAMGroup, mine.ARN)
	detach(meta.IAMRole, awsPolicy)
	if err := s.DeleteManagedPolicy(ctx, mine.ARN); err != nil {
		t.Fatalf("DeleteManagedPolicy(detached): %v", err)
	}
	for _, kind := range []meta.IAMKind{meta.IAMUser, meta.IAMGroup, meta.IAMRole} {
		if err := s.DeleteIAMEntity(ctx, acctA, kind, "owner"); err != nil {
			t.Fatalf("DeleteIAMEntity(%s, detached): %v", kind, err)
		}
	}
	if counts, err := s.PolicyAttachmentCounts(ctx, acctA); err != nil || len(counts) != 0 {
		t.Fatalf("PolicyAttachmentCounts after detaching = %v, %v", counts, err)
	}
}

func testIAMAccessKeys(t *testing.T, s meta.Store) {
	ctx := t.Context()
	newEntity(t, s, acctA, meta.IAMUser, "Bob", "/")
	create := func(id, user string, n int) *meta.IAMAccessKey {
		t.Helper()
		k := &meta.IAMAccessKey{ID: id, Account: acctA, UserName: user, SecretAccessKey: "secret-" + id, Status: "Active", CreatedAt: at(n)}
		if err := s.CreateAccessKey(ctx, k); err != nil {
			t.Fatalf("CreateAccessKey(%s): %v", id, err)
		}
		return k
	}
	k1 := create("AKIAKEY1", "bob", 2)
	if k1.UserName != "Bob" {
		t.Errorf("CreateAccessKey set UserName %q, want the stored spelling Bob", k1.UserName)
	}
	create("AKIAKEY0", "BOB", 3)
	err := s.CreateAccessKey(ctx, &meta.IAMAccessKey{ID: "AKIAKEY2", Account: acctA, UserName: "bob", SecretAccessKey: "s", Status: "Active"})
	wantIAM(t, "CreateAccessKey(third)", err, meta.ErrIAMLimit, meta.IAMWhatAccessKey, "Bob", "")
	err = s.CreateAccessKey(ctx, &meta.IAMAccessKey{ID: "AKIAKEY3", Account: acctA, UserName: "eve", SecretAccessKey: "s", Status: "Active"})
	wantIAM(t, "CreateAccessKey(no user)", err, meta.ErrIAMNotFound, "user", "eve", "")
	err = s.CreateAccessKey(ctx, &meta.IAMAccessKey{ID: "AKIAKEY1", Account: acctA, SecretAccessKey: "s", Status: "Active"})
	wantIAM(t, "CreateAccessKey(id taken)", err, meta.ErrIAMExists, meta.IAMWhatAccessKey, "AKIAKEY1", "")
	root := create("AKIAROOT", "", 1)

	got, err := s.GetAccessKey(ctx, "AKIAKEY1")
	if err != nil {
		t.Fatal(err)
	}
	checkTime(t, "key CreatedAt", got.CreatedAt, k1.CreatedAt)
	got.CreatedAt = k1.CreatedAt
	if *got != *k1 {
		t.Fatalf("GetAccessKey = %+v, want %+v", got, k1)
	}
	_, err = s.GetAccessKey(ctx, "AKIANOPE")
	wantIAM(t, "GetAccessKey(missing)", err, meta.ErrIAMNotFound, meta.IAMWhatAccessKey, "AKIANOPE", "")

	ids := func(user string) []string {
		t.Helper()
		ks, err := s.ListAccessKeys(ctx, acctA, user)
		if err != nil {
			t.Fatalf("ListAccessKeys(%q): %v", user, err)
		}
		var out []string
		for _, k := range ks {
			out = append(out, k.ID)
		}
		return out
	}
	if got := ids("bob"); !slices.Equal(got, []string{"AKIAKEY1", "AKIAKEY0"}) {
		t.Errorf("ListAccessKeys(bob) = %q, want creation order", got)
	}
	if got := ids(""); !slices.Equal(got, []string{root.ID}) {
		t.Errorf("ListAccessKeys(root) = %q", got)
	}
	_, err = s.ListAccessKeys(ctx, acctA, "eve")
	wantIAM(t, "ListAccessKeys(no user)", err, meta.ErrIAMNotFound, "user", "eve", "")

	if err := s.UpdateAccessKeyStatus(ctx, acctA, "BOB", "AKIAKEY1", "Inactive"); err != nil {
		t.Fatalf("UpdateAccessKeyStatus: %v", err)
	}
	if k, _ := s.GetAccessKey(ctx, "AKIAKEY1"); k.Status != "Inactive" {
		t.Errorf("status after update = %s", k.Status)
	}
	// A key is reached only through its owner.
	err = s.UpdateAccessKeyStatus(ctx, acctA, "", "AKIAKEY1", "Active")
	wantIAM(t, "UpdateAccessKeyStatus(as root)", err, meta.ErrIAMNotFound, meta.IAMWhatAccessKey, "AKIAKEY1", "")
	err = s.UpdateAccessKeyStatus(ctx, acctB, "bob", "AKIAKEY1", "Active")
	wantIAM(t, "UpdateAccessKeyStatus(other account)", err, meta.ErrIAMNotFound, "user", "bob", "")
	err = s.DeleteAccessKey(ctx, acctA, "bob", root.ID)
	wantIAM(t, "DeleteAccessKey(root's, as bob)", err, meta.ErrIAMNotFound, meta.IAMWhatAccessKey, root.ID, "")

	err = s.DeleteIAMEntity(ctx, acctA, meta.IAMUser, "bob")
	wantIAM(t, "DeleteIAMEntity(with keys)", err, meta.ErrIAMConflict, "user", "bob", meta.IAMBlockedByAccessKeys)
	for _, id := range []string{"AKIAKEY1", "AKIAKEY0"} {
		if err := s.DeleteAccessKey(ctx, acctA, "bob", id); err != nil {
			t.Fatalf("DeleteAccessKey(%s): %v", id, err)
		}
	}
	_, err = s.GetAccessKey(ctx, "AKIAKEY1")
	wantIAM(t, "GetAccessKey(deleted)", err, meta.ErrIAMNotFound, meta.IAMWhatAccessKey, "AKIAKEY1", "")
	create("AKIAKEY4", "bob", 4) // room again
	if err := s.DeleteAccessKey(ctx, acctA, "bob", "AKIAKEY4"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIAMEntity(ctx, acctA, meta.IAMUser, "bob"); err != nil {
		t.Fatalf("DeleteIAMEntity(without keys): %v", err)
	}
}

func testIAMUserDeleteOrder(t *testing.T, s meta.Store) {
	ctx := t.Context()
	newEntity(t, s, acctA, meta.IAMUser, "bob", "/")
	newEntity(t, s, acctA, meta.IAMGroup, "devs", "/")
	steps := []struct {
		blockedBy string
		add, drop func() error
	}{
		{meta.IAMBlockedByAccessKeys,
			func() error {
				return s.CreateAccessKey(ctx, &meta.IAMAccessKey{ID: "AKIAORDER", Account: acctA, UserName: "bob", SecretAccessKey: "s", Status: "Inactive"})
			},
			func() error { return s.DeleteAccessKey(ctx, acctA, "bob", "AKIAORDER") }},
		{meta.IAMBlockedByInlinePolicies,
			func() error {
				return s.PutInlinePolicy(ctx, acctA, meta.IAMUser, "bob", meta.IAMInlinePolicy{Name: "p", Document: "{}"})
			},
			func() error { return s.DeleteInlinePolicy(ctx, acctA, meta.IAMUser, "bob", "p") }},
		{meta.IAMBlockedByAttachedPolicies,
			func() error {
				return s.AttachPolicy(ctx, acctA, meta.IAMUser, "bob", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser")
			},
			func() error {
				return s.DetachPolicy(ctx, acctA, meta.IAMUser, "bob", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser")
			}},
		{meta.IAMBlockedByGroups,
			func() error { return s.AddGroupMember(ctx, acctA, "devs", "bob") },
			func() error { return s.RemoveGroupMember(ctx, acctA, "devs", "bob") }},
	}
	for _, st := range steps {
		if err := st.add(); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range steps {
		err := s.DeleteIAMEntity(ctx, acctA, meta.IAMUser, "bob")
		wantIAM(t, "DeleteIAMEntity", err, meta.ErrIAMConflict, "user", "bob", st.blockedBy)
		if err := st.drop(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteIAMEntity(ctx, acctA, meta.IAMUser, "bob"); err != nil {
		t.Fatalf("DeleteIAMEntity(nothing left): %v", err)
	}
}

func testIAMRoleSessions(t *testing.T, s meta.Store) {
	ctx := t.Context()
	role := newEntity(t, s, acctA, meta.IAMRole, "Deployer", "/ci/")
	session := func(id string, expires time.Time) *meta.IAMSession {
		return &meta.IAMSession{
			AccessKeyID: id, SecretAccessKey: "secret-" + id, SessionToken: "token-" + id,
			Account: acctA, RoleName: role.Name, RolePath: role.Path, RoleID: role.ID,
			SessionName: "build-42", SourceARN: "arn:aws:iam::" + acctA + ":user/ci",
			CreatedAt: at(0), ExpiresAt: expires,
		}
	}
	s1 := session("ASIASESSION1", at(900))
	if err := s.CreateRoleSession(ctx, s1); err != nil {
		t.Fatalf("CreateRoleSession: %v", err)
	}
	if err := s.CreateRoleSession(ctx, session("ASIASESSION2", at(3600))); err != nil {
		t.Fatal(err)
	}
	wantIAM(t, "CreateRoleSession(id taken)", s.CreateRoleSession(ctx, session("ASIASESSION1", at(5))), meta.ErrIAMExists, meta.IAMWhatSession, "ASIASESSION1", "")
	stale := session("ASIASESSION3", at(900))
	stale.RoleID = "AROAOLDROLE"
	wantIAM(t, "CreateRoleSession(role replaced)", s.CreateRoleSession(ctx, stale), meta.ErrIAMNotFound, "role", "Deployer", "")

	got, err := s.GetRoleSession(ctx, "ASIASESSION1")
	if err != nil {
		t.Fatal(err)
	}
	checkTime(t, "session CreatedAt", got.CreatedAt, s1.CreatedAt)
	checkTime(t, "session ExpiresAt", got.ExpiresAt, s1.ExpiresAt)
	got.CreatedAt, got.ExpiresAt = s1.CreatedAt, s1.ExpiresAt
	if *got != *s1 {
		t.Fatalf("GetRoleSession = %+v, want %+v", got, s1)
	}
	_, err = s.GetRoleSession(ctx, "ASIANOPE")
	wantIAM(t, "GetRoleSession(missing)", err, meta.ErrIAMNotFound, meta.IAMWhatSession, "ASIANOPE", "")

	n, err := s.DeleteRoleSessionsExpiredBefore(ctx, at(1000))
	if err != nil || n != 1 {
		t.Fatalf("DeleteRoleSessionsExpiredBefore = %d, %v; want 1", n, err)
	}
	_, err = s.GetRoleSession(ctx, "ASIASESSION1")
	wantIAM(t, "GetRoleSession(expired and deleted)", err, meta.ErrIAMNotFound, meta.IAMWhatSession, "ASIASESSION1", "")
	if _, err := s.GetRoleSession(ctx, "ASIASESSION2"); err != nil {
		t.Fatalf("the unexpired session went too: %v", err)
	}

	// Deleting the role ends its sessions.
	if err := s.DeleteIAMEntity(ctx, acctA, meta.IAMRole, "deployer"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetRoleSession(ctx, "ASIASESSION2")
	wantIAM(t, "GetRoleSession(role deleted)", err, meta.ErrIAMNotFound, meta.IAMWhatSession, "ASIASESSION2", "")
}
