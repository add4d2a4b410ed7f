package iam

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/changes"
	"github.com/berth-registry/berth/internal/meta/sqlite"
)

const acct = "123456789012"

// counter counts the changes the domain reports.
type counter struct{ policies int }

func (c *counter) Changed(_ context.Context, topics ...changes.Topic) {
	for _, t := range topics {
		if t == changes.Policies {
			c.policies++
		}
	}
}

// denyAll refuses every request, with a reason.
type denyAll struct{}

func (denyAll) Authorize(_ context.Context, r authz.Request) error {
	return &authz.DeniedError{Request: r, Reason: "because no identity-based policy allows the " + r.Action + " action"}
}

type fixture struct {
	*Service
	store   *sqlite.Store
	changes *counter
	now     time.Time
}

func newFixture(t *testing.T, authorizer authz.Authorizer) *fixture {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{store: db, changes: &counter{}, now: time.Date(2025, 6, 1, 12, 0, 0, 500, time.UTC)}
	f.Service = New(db, Options{Authorizer: authorizer, Changes: f.changes, Now: func() time.Time { return f.now }})
	return f
}

// setUp fails the test on the first error of the set-up steps.
func setUp(t *testing.T, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// second is a call's error, without its value.
func second[T any](_ T, err error) error { return err }

// must is a set-up step's value; it fails the test on the step's error.
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		setUp(t, err)
		return v
	}
}

const (
	allowPull = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}]}`
	trustBob  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/bob"},"Action":"sts:AssumeRole"}]}`
)

// TestRefusals: every refusal carries its kind and IAM's exact words.
func TestRefusals(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, authz.AccountOwner{})
	must(f.CreateUser(ctx, acct, "bob", "/eng/"))(t)
	must(f.CreateUser(ctx, acct, "carol", ""))(t)
	must(f.CreateGroup(ctx, acct, "devs", ""))(t)
	must(f.CreateRole(ctx, acct, NewRole{Name: "ci", AssumeRolePolicyDocument: trustBob}))(t)
	p := must(f.CreatePolicy(ctx, acct, NewPolicy{Name: "pull", Document: allowPull}))(t)
	if err := f.AddUserToGroup(ctx, acct, "devs", "bob"); err != nil {
		t.Fatal(err)
	}
	if err := f.AttachPolicy(ctx, acct, Role, "ci", p.ARN); err != nil {
		t.Fatal(err)
	}
	if err := f.PutInlinePolicy(ctx, acct, Group, "devs", "pull", allowPull); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		must(f.CreateAccessKey(ctx, acct, "bob"))(t)
	}
	aws := "arn:aws:iam::aws:policy/NoSuchPolicy"

	for _, tc := range []struct {
		name string
		err  error
		kind error
		msg  string
	}{
		{"user exists, any case", second(f.CreateUser(ctx, acct, "BOB", "")), ErrEntityExists, "User with name BOB already exists."},
		{"group exists", second(f.CreateGroup(ctx, acct, "devs", "")), ErrEntityExists, "Group with name devs already exists."},
		{"role exists", second(f.CreateRole(ctx, acct, NewRole{Name: "ci", AssumeRolePolicyDocument: trustBob})), ErrEntityExists, "Role with name ci already exists."},
		{"policy exists", second(f.CreatePolicy(ctx, acct, NewPolicy{Name: "PULL", Document: allowPull})), ErrEntityExists,
			"A policy called PULL already exists. Duplicate names are not allowed."},
		{"no user", second(f.Entity(ctx, acct, User, "nobody")), ErrNoSuchEntity, "The user with name nobody cannot be found."},
		{"no group", f.AddUserToGroup(ctx, acct, "ops", "bob"), ErrNoSuchEntity, "The group with name ops cannot be found."},
		{"no role", second(f.Entity(ctx, acct, Role, "nope")), ErrNoSuchEntity, "The role with name nope cannot be found."},
		{"no inline policy", second(f.InlinePolicy(ctx, acct, Role, "ci", "pull")), ErrNoSuchEntity, "The role policy with name pull cannot be found."},
		{"no access key", f.DeleteAccessKey(ctx, acct, "bob", "AKIANOPE000000000000"), ErrNoSuchEntity, "The Access Key with id AKIANOPE000000000000 cannot be found."},
		{"not a member", f.RemoveUserFromGroup(ctx, acct, "devs", "carol"), ErrNoSuchEntity, "The user with name carol is not a member of the group devs."},
		{"no managed policy", second(f.Policy(ctx, acct, p.ARN+"x")), ErrNoSuchEntity, "Policy " + p.ARN + "x was not found."},
		{"no AWS managed policy", second(f.Policy(ctx, acct, aws)), ErrNoSuchEntity, "Policy " + aws + " was not found."},
		{"no version", second(f.PolicyVersion(ctx, acct, p.ARN, "v2")), ErrNoSuchEntity, "Policy " + p.ARN + " version v2 does not exist."},
		{"not attachable", f.AttachPolicy(ctx, acct, User, "bob", aws), ErrNoSuchEntity, "Policy " + aws + " does not exist or is not attachable."},
		{"not attached", f.DetachPolicy(ctx, acct, User, "bob", p.ARN), ErrNoSuchEntity, "Policy " + p.ARN + " was not found."},
		{"not an ARN", f.AttachPolicy(ctx, acct, User, "bob", "pull"), ErrInvalidInput, "ARN pull is not valid."},
		{"key quota", second(f.CreateAccessKey(ctx, acct, "bob")), ErrLimitExceeded, "Cannot exceed quota for AccessKeysPerUser: 2"},
		{"user has keys", f.DeleteEntity(ctx, acct, User, "bob"), ErrDeleteConflict, "Cannot delete entity, must delete access keys first."},
		{"group has members", f.DeleteEntity(ctx, acct, Group, "devs"), ErrDeleteConflict, "Cannot delete entity, must remove users from group first."},
		{"role has policies", f.DeleteEntity(ctx, acct, Role, "ci"), ErrDeleteConflict, "Cannot delete entity, must detach all policies first."},
		{"policy attached", f.DeletePolicy(ctx, p.ARN), ErrDeleteConflict, "Cannot delete a policy attached to entities."},
		{"expired is IAM's", f.UpdateAccessKey(ctx, acct, "bob", "AKIANOPE000000000000", "Expired"), ErrInvalidInput, "Status must be Active or Inactive."},
		{"not JSON", f.PutInlinePolicy(ctx, acct, User, "bob", "p", "null"), ErrMalformedPolicy, "Syntax errors in policy."},
		{"trust not JSON", second(f.CreateRole(ctx, acct, NewRole{Name: "r", AssumeRolePolicyDocument: "{"})), ErrMalformedPolicy, "This policy contains invalid Json"},
		{"trust with Resource", f.UpdateAssumeRolePolicy(ctx, acct, "ci", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}`),
			ErrMalformedPolicy, "Has prohibited field Resource"},
		{"boundary", second(f.CreateRole(ctx, acct, NewRole{Name: "r", AssumeRolePolicyDocument: trustBob, PermissionsBoundary: p.ARN})),
			ErrValidation, "Berth does not support PermissionsBoundary yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var de *Error
			if !errors.As(tc.err, &de) {
				t.Fatalf("error %v, want an *Error", tc.err)
			}
			if !errors.Is(tc.err, tc.kind) || de.Message != tc.msg {
				t.Errorf("got %v: %q, want %v: %q", de.Kind, de.Message, tc.kind, tc.msg)
			}
			if !slices.Contains(Kinds(), de.Kind) {
				t.Errorf("kind %v is not in Kinds()", de.Kind)
			}
		})
	}
}

// TestChangesReported: every committed change tells the authorization
// caches, once; reads and refusals tell no one.
func TestChangesReported(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, authz.AccountOwner{})
	var arn string
	for _, tc := range []struct {
		name    string
		do      func() error
		changed bool
	}{
		{"create user", func() error { return second(f.CreateUser(ctx, acct, "bob", "")) }, true},
		{"create user again", func() error { return second(f.CreateUser(ctx, acct, "bob", "")) }, false},
		{"get user", func() error { return second(f.Entity(ctx, acct, User, "bob")) }, false},
		{"list users", func() error { return second(f.Entities(ctx, acct, User, ListQuery{})) }, false},
		{"create key", func() error { return second(f.CreateAccessKey(ctx, acct, "bob")) }, true},
		{"create group", func() error { return second(f.CreateGroup(ctx, acct, "devs", "")) }, true},
		{"add to group", func() error { return f.AddUserToGroup(ctx, acct, "devs", "bob") }, true},
		{"remove from group", func() error { return f.RemoveUserFromGroup(ctx, acct, "devs", "bob") }, true},
		{"remove again", func() error { return f.RemoveUserFromGroup(ctx, acct, "devs", "bob") }, false},
		{"put inline", func() error { return f.PutInlinePolicy(ctx, acct, User, "bob", "pull", allowPull) }, true},
		{"put malformed", func() error { return f.PutInlinePolicy(ctx, acct, User, "bob", "pull", "[]") }, false},
		{"delete inline", func() error { return f.DeleteInlinePolicy(ctx, acct, User, "bob", "pull") }, true},
		{"create policy", func() error {
			p, err := f.CreatePolicy(ctx, acct, NewPolicy{Name: "pull", Document: allowPull})
			if p != nil {
				arn = p.ARN
			}
			return err
		}, true},
		{"attach", func() error { return f.AttachPolicy(ctx, acct, User, "bob", arn) }, true},
		{"list policies", func() error { return second(f.Policies(ctx, acct, PolicyFilter{}, ListQuery{})) }, false},
		{"detach", func() error { return f.DetachPolicy(ctx, acct, User, "bob", arn) }, true},
		{"delete policy", func() error { return f.DeletePolicy(ctx, arn) }, true},
		{"create role", func() error {
			return second(f.CreateRole(ctx, acct, NewRole{Name: "ci", AssumeRolePolicyDocument: trustBob}))
		}, true},
		{"update trust", func() error { return f.UpdateAssumeRolePolicy(ctx, acct, "ci", trustBob) }, true},
		{"delete role", func() error { return f.DeleteEntity(ctx, acct, Role, "ci") }, true},
	} {
		before := f.changes.policies
		err := tc.do()
		if got := f.changes.policies - before; got != map[bool]int{true: 1}[tc.changed] {
			t.Errorf("%s (error %v): %d changes reported, want changed=%v", tc.name, err, got, tc.changed)
		}
		if tc.changed && err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
}

// TestPaging: Marker and MaxItems page through a list in name order.
func TestPaging(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, authz.AccountOwner{})
	for _, name := range []string{"e", "C", "a", "d", "B"} {
		must(f.CreateUser(ctx, acct, name, "/"+strings.ToLower(name)+"/"))(t)
		must(f.CreatePolicy(ctx, acct, NewPolicy{Name: "P" + name, Document: allowPull}))(t)
	}
	var names []string
	q := ListQuery{MaxItems: 2}
	for pages := 0; ; pages++ {
		page := must(f.Entities(ctx, acct, User, q))(t)
		for _, u := range page.Items {
			names = append(names, u.Name)
		}
		if !page.IsTruncated {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
		q.Marker = page.Marker
	}
	if want := []string{"a", "B", "C", "d", "e"}; !slices.Equal(names, want) {
		t.Errorf("paged users = %v, want %v", names, want)
	}
	if page := must(f.Entities(ctx, acct, User, ListQuery{PathPrefix: "/c"}))(t); len(page.Items) != 1 || page.Items[0].Name != "C" {
		t.Errorf("users under /c = %+v", page.Items)
	}

	local := must(f.Policies(ctx, acct, PolicyFilter{Scope: "Local"}, ListQuery{MaxItems: 3}))(t)
	if len(local.Items) != 3 || local.Items[0].Name != "Pa" || !local.IsTruncated || local.Marker != "PC" {
		t.Errorf("first page of local policies = %+v", local)
	}
	rest := must(f.Policies(ctx, acct, PolicyFilter{Scope: "Local"}, ListQuery{Marker: local.Marker}))(t)
	if len(rest.Items) != 2 || rest.Items[0].Name != "Pd" || rest.IsTruncated {
		t.Errorf("second page of local policies = %+v", rest)
	}
	aws := must(f.Policies(ctx, acct, PolicyFilter{Scope: "AWS"}, ListQuery{}))(t)
	if len(aws.Items) == 0 || !aws.Items[0].AWSManaged || !aws.Items[0].CreatedAt.IsZero() {
		t.Errorf("AWS managed policies = %+v", aws.Items)
	}
	if none := must(f.Policies(ctx, acct, PolicyFilter{OnlyAttached: true}, ListQuery{}))(t); len(none.Items) != 0 {
		t.Errorf("attached policies, with none attached = %+v", none.Items)
	}
}

func TestAddressedUser(t *testing.T) {
	for _, tc := range []struct {
		caller authn.Principal
		name   string
		want   string
		err    error
	}{
		{authn.Principal{Kind: authn.KindUser, UserName: "bob"}, "", "bob", nil},
		{authn.Principal{Kind: authn.KindUser, UserName: "bob"}, "alice", "alice", nil},
		{authn.Principal{Kind: authn.KindRoot}, "", "", nil},
		{authn.Principal{Kind: authn.KindRoot}, "alice", "alice", nil},
		{authn.Principal{Kind: authn.KindAssumedRole, RoleName: "ci"}, "alice", "alice", nil},
		{authn.Principal{Kind: authn.KindAssumedRole, RoleName: "ci"}, "", "", ErrValidation},
	} {
		got, err := AddressedUser(&tc.caller, tc.name)
		if got != tc.want || !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
			t.Errorf("AddressedUser(%s, %q) = %q, %v; want %q, %v", tc.caller.Kind, tc.name, got, err, tc.want, tc.err)
		}
	}
}

// TestAssumeRole: the trust policy and the caller's own policies decide
// together, as IAM combines them; a refusal does not tell a missing role
// from one that does not trust the caller.
func TestAssumeRole(t *testing.T) {
	ctx := t.Context()
	bob := &authn.Principal{Kind: authn.KindUser, Account: acct, UserName: "bob", ARN: "arn:aws:iam::" + acct + ":user/bob", UserID: "AIDABOB"}
	session := &authn.Principal{Kind: authn.KindAssumedRole, Account: acct, RoleName: "ci", ARN: "arn:aws:sts::" + acct + ":assumed-role/ci/x",
		RoleARN: "arn:aws:iam::" + acct + ":role/ci"}
	root := &authn.Principal{Kind: authn.KindRoot, Account: acct, ARN: authn.RootARN(acct)}
	roleARN := "arn:aws:iam::" + acct + ":role/deploy/ci"
	trustBoth := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["` + bob.ARN + `","` + session.RoleARN + `"]},"Action":"sts:AssumeRole"}]}`
	// A trust policy that names the account leaves the decision to the
	// caller's own policies; one that names the caller allows it alone.
	trustAccount := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + acct + `"},"Action":"sts:AssumeRole"}]}`
	accountRoleARN := "arn:aws:iam::" + acct + ":role/shared"
	denied := func(who *authn.Principal, arn string) string {
		return fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", who.ARN, arn)
	}

	for _, tc := range []struct {
		name       string
		authorizer authz.Authorizer
		caller     *authn.Principal
		req        AssumeRoleRequest
		kind       error
		msg        string
	}{
		{name: "trusted", caller: bob, req: AssumeRoleRequest{RoleARN: roleARN, SessionName: "s"}},
		{name: "chained", caller: session, req: AssumeRoleRequest{RoleARN: roleARN, SessionName: "s"}},
		{name: "root", caller: root, req: AssumeRoleRequest{RoleARN: roleARN, SessionName: "s"},
			kind: ErrAccessDenied, msg: "Roles may not be assumed by root accounts."},
		{name: "no such role", caller: bob, req: AssumeRoleRequest{RoleARN: roleARN + "x", SessionName: "s"},
			kind: ErrAccessDenied, msg: denied(bob, roleARN+"x")},
		{name: "path left out", caller: bob, req: AssumeRoleRequest{RoleARN: "arn:aws:iam::" + acct + ":role/ci", SessionName: "s"},
			kind: ErrAccessDenied, msg: denied(bob, "arn:aws:iam::"+acct+":role/ci")},
		{name: "not a role ARN", caller: bob, req: AssumeRoleRequest{RoleARN: "ci", SessionName: "s"},
			kind: ErrAccessDenied, msg: denied(bob, "ci")},
		{name: "trusted by name, whatever the identity policies", authorizer: denyAll{}, caller: bob, req: AssumeRoleRequest{RoleARN: roleARN, SessionName: "s"}},
		{name: "trusted account", caller: bob, req: AssumeRoleRequest{RoleARN: accountRoleARN, SessionName: "s"}},
		{name: "trusted account, identity policies say no", authorizer: denyAll{}, caller: bob, req: AssumeRoleRequest{RoleARN: accountRoleARN, SessionName: "s"},
			kind: ErrAccessDenied, msg: denied(bob, accountRoleARN) + " because no identity-based policy allows the sts:AssumeRole action"},
		{name: "session policy", caller: bob, req: AssumeRoleRequest{RoleARN: roleARN, SessionName: "s", SessionPolicy: allowPull},
			kind: ErrValidation, msg: "Berth does not support session policies (Policy, PolicyArns) yet"},
		{name: "over the role's maximum", caller: bob, req: AssumeRoleRequest{RoleARN: roleARN, SessionName: "s", DurationSeconds: 7200},
			kind: ErrValidation, msg: "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{name: "chained over an hour", caller: session, req: AssumeRoleRequest{RoleARN: roleARN, SessionName: "s", DurationSeconds: 3601},
			kind: ErrValidation, msg: "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.authorizer == nil {
				tc.authorizer = authz.AccountOwner{}
			}
			f := newFixture(t, tc.authorizer)
			roles := map[string]*Entity{
				roleARN:        must(f.CreateRole(ctx, acct, NewRole{Name: "ci", Path: "/deploy/", AssumeRolePolicyDocument: trustBoth}))(t),
				accountRoleARN: must(f.CreateRole(ctx, acct, NewRole{Name: "shared", AssumeRolePolicyDocument: trustAccount}))(t),
			}
			before := f.changes.policies
			got, err := f.AssumeRole(ctx, tc.caller, tc.req)
			if f.changes.policies != before {
				t.Errorf("AssumeRole reported a change of policies")
			}
			if tc.kind != nil {
				var de *Error
				if !errors.As(err, &de) || !errors.Is(err, tc.kind) || de.Message != tc.msg {
					t.Fatalf("error %v, want %v: %q", err, tc.kind, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			role := roles[tc.req.RoleARN]
			if got.ID != role.ID+":s" || got.ARN != "arn:aws:sts::"+acct+":assumed-role/"+role.Name+"/s" ||
				!got.Session.ExpiresAt.Equal(f.now.Add(time.Hour).Truncate(time.Second)) || got.Session.SourceARN != tc.caller.ARN {
				t.Errorf("AssumeRole = %+v, session %+v", got, got.Session)
			}
			stored, err := f.store.GetRoleSession(ctx, got.Session.AccessKeyID)
			if err != nil || stored.SessionToken != got.Session.SessionToken {
				t.Errorf("stored session = %+v, %v", stored, err)
			}
		})
	}
}

// TestIdentityPolicies: a user's inline and attached policies and its
// groups'; a session's role's; a root's none.
func TestIdentityPolicies(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, authz.AccountOwner{})
	must(f.CreateUser(ctx, acct, "bob", ""))(t)
	must(f.CreateGroup(ctx, acct, "devs", ""))(t)
	must(f.CreateRole(ctx, acct, NewRole{Name: "ci", AssumeRolePolicyDocument: trustBob}))(t)
	p := must(f.CreatePolicy(ctx, acct, NewPolicy{Name: "pull", Document: allowPull}))(t)
	for _, err := range []error{
		f.AddUserToGroup(ctx, acct, "devs", "bob"),
		f.PutInlinePolicy(ctx, acct, User, "bob", "own", allowPull),
		f.AttachPolicy(ctx, acct, User, "bob", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"),
		f.PutInlinePolicy(ctx, acct, Group, "devs", "team", allowPull),
		f.AttachPolicy(ctx, acct, Group, "devs", p.ARN),
		f.AttachPolicy(ctx, acct, Role, "ci", p.ARN),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	r := NewPolicyReader(f.store)
	for _, tc := range []struct {
		p    authn.Principal
		want int
	}{
		{authn.Principal{Kind: authn.KindUser, Account: acct, UserName: "bob"}, 4},
		{authn.Principal{Kind: authn.KindAssumedRole, Account: acct, RoleName: "ci"}, 1},
		{authn.Principal{Kind: authn.KindRoot, Account: acct}, 0},
	} {
		docs, err := r.IdentityPolicies(ctx, &tc.p)
		if err != nil || len(docs) != tc.want {
			t.Errorf("IdentityPolicies(%s) = %d documents, %v; want %d", tc.p.Kind, len(docs), err, tc.want)
		}
	}
}
