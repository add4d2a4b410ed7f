package iam

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/authz/policy"
)

// repoPolicies stands for the registry's repository policies in the
// authorizer's PolicySource: identity policies from the IAM store, as the
// server reads them.
type repoPolicies struct {
	*PolicyReader
	docs map[string]string // repository name → policy text
}

func (r repoPolicies) RepositoryPolicy(_ context.Context, _, _, repo string) (*policy.Policy, error) {
	text, ok := r.docs[repo]
	if !ok {
		return nil, nil
	}
	return policy.Parse(policy.Repository, []byte(text))
}

func (repoPolicies) ResourceTags(context.Context, string, string, string) (map[string]string, error) {
	return nil, nil
}

const (
	simRegion = "us-east-1"
	repoARN   = "arn:aws:ecr:" + simRegion + ":" + acct + ":repository/"
)

// simulationFixture is an account with users, a group and a role whose
// policies allow and deny, and repository policies that do too.
func simulationFixture(t *testing.T) (*fixture, map[string]string) {
	t.Helper()
	ctx := t.Context()
	f := newFixture(t, authz.AccountOwner{})
	must(f.CreateUser(ctx, acct, "reader", "/"))(t)
	must(f.CreateUser(ctx, acct, "pusher", "/eng/"))(t)
	must(f.CreateUser(ctx, acct, "office", "/"))(t)
	must(f.CreateUser(ctx, acct, "nobody", "/"))(t)
	must(f.CreateGroup(ctx, acct, "no-prod", "/"))(t)
	must(f.CreateRole(ctx, acct, NewRole{Name: "ci", Path: "/build/", AssumeRolePolicyDocument: trustBob}))(t)
	setUp(t,
		f.AttachPolicy(ctx, acct, User, "reader", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"),
		f.PutInlinePolicy(ctx, acct, User, "pusher", "apps",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"`+repoARN+`app*"}]}`),
		f.AddUserToGroup(ctx, acct, "no-prod", "pusher"),
		f.PutInlinePolicy(ctx, acct, Group, "no-prod", "deny-prod",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:PutImage","Resource":"`+repoARN+`app-prod"}]}`),
		f.PutInlinePolicy(ctx, acct, User, "office", "from-office",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`),
		f.PutInlinePolicy(ctx, acct, Role, "ci", "push",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage"],"Resource":"*"}]}`),
	)
	repos := map[string]string{
		"app-shared": `{"Version":"2012-10-17","Statement":[{"Sid":"nobody-pulls","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/nobody"},"Action":"ecr:BatchGetImage"}]}`,
		"app-locked": `{"Version":"2012-10-17","Statement":[{"Sid":"frozen","Effect":"Deny","Principal":"*","Action":"ecr:PutImage"}]}`,
		"ci-only":    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:role/build/ci"},"Action":"ecr:BatchGetImage"}]}`,
	}
	return f, repos
}

// TestSimulatorAgreesWithEnforcement: for every principal, action and
// repository, the simulator's decision is the authorizer's.
func TestSimulatorAgreesWithEnforcement(t *testing.T) {
	ctx := t.Context()
	f, repos := simulationFixture(t)
	evaluator := authz.NewEvaluator(repoPolicies{NewPolicyReader(f.store), repos}, 0)
	entity := func(kind Kind, name string) *Entity { return must(f.Entity(ctx, acct, kind, name))(t) }
	user := func(name string) *authn.Principal {
		e := entity(User, name)
		return &authn.Principal{Kind: authn.KindUser, Account: acct, ARN: EntityARN(e), UserID: e.ID, UserName: e.Name}
	}
	ci := entity(Role, "ci")
	session := &authn.Principal{Kind: authn.KindAssumedRole, Account: acct, ARN: "arn:aws:sts::" + acct + ":assumed-role/ci/build-7",
		UserID: ci.ID + ":build-7", RoleName: "ci", RoleARN: EntityARN(ci)}
	root := &authn.Principal{Kind: authn.KindRoot, Account: acct, ARN: authn.RootARN(acct), UserID: acct}

	principals := []struct {
		p      *authn.Principal
		source string // PolicySourceArn
		ip     string // the connection's address, given to the simulator as aws:SourceIp
	}{
		{user("reader"), "", ""},
		{user("pusher"), "", ""},
		{user("office"), "", "10.1.2.3"},
		{user("office"), "", "192.0.2.1"},
		{user("nobody"), "", ""},
		{session, "", ""},
		{session, EntityARN(ci), ""}, // the role itself stands for any session
		{root, "", ""},
	}
	actions := []string{"ecr:BatchGetImage", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:DeleteRepository"}
	names := []string{"app", "app-prod", "app-shared", "app-locked", "ci-only", "other"}

	// Some decisions spelled out, so that agreement is not agreement on
	// nothing.
	want := map[[3]string]string{
		{"arn:aws:iam::" + acct + ":user/reader", "ecr:BatchGetImage", "other"}:      "allowed",
		{"arn:aws:iam::" + acct + ":user/reader", "ecr:PutImage", "app"}:             "implicitDeny",
		{"arn:aws:iam::" + acct + ":user/eng/pusher", "ecr:PutImage", "app"}:         "allowed",
		{"arn:aws:iam::" + acct + ":user/eng/pusher", "ecr:PutImage", "app-prod"}:    "explicitDeny",
		{"arn:aws:iam::" + acct + ":user/eng/pusher", "ecr:PutImage", "app-locked"}:  "explicitDeny",
		{"arn:aws:iam::" + acct + ":user/nobody", "ecr:BatchGetImage", "app-shared"}: "allowed",
		{"arn:aws:iam::" + acct + ":user/nobody", "ecr:BatchGetImage", "app"}:        "implicitDeny",
		{session.ARN, "ecr:BatchGetImage", "ci-only"}:                                "allowed",
		{session.ARN, "ecr:InitiateLayerUpload", "other"}:                            "allowed",
		{root.ARN, "ecr:PutImage", "app-locked"}:                                     "explicitDeny",
		{root.ARN, "ecr:DeleteRepository", "other"}:                                  "allowed",
	}
	seen := 0
	for _, pr := range principals {
		for _, action := range actions {
			for _, name := range names {
				resource := repoARN + name
				r := authz.Request{Principal: pr.p, Action: action, Resource: resource, ResourceAccount: acct}
				sim := Simulation{Source: pr.p.ARN, Actions: []string{action}, Resources: []string{resource}, ResourcePolicy: repos[name]}
				if pr.source != "" {
					sim.Source = pr.source
				}
				if pr.ip != "" {
					r.SourceIP = netip.MustParseAddr(pr.ip)
					sim.Context = []ContextEntry{{Key: "aws:SourceIp", Values: []string{pr.ip}, Type: "ip"}}
				}
				enforced := "allowed"
				var denied *authz.DeniedError
				if err := evaluator.Authorize(ctx, r); errors.As(err, &denied) {
					enforced = "implicitDeny"
					if denied.Reason == "with an explicit deny in an identity-based policy" || denied.Reason == "with an explicit deny in a resource-based policy" {
						enforced = "explicitDeny"
					}
				} else if err != nil {
					t.Fatal(err)
				}
				got, err := f.Simulate(ctx, acct, sim)
				if err != nil {
					t.Fatalf("Simulate(%s, %s, %s): %v", sim.Source, action, name, err)
				}
				if len(got) != 1 || got[0].Decision != enforced {
					t.Errorf("%s (as %s) %s on %s: simulator %+v, enforcement %s", pr.p.ARN, sim.Source, action, name, got, enforced)
				}
				if w, ok := want[[3]string{pr.p.ARN, action, name}]; ok && pr.ip == "" && pr.source == "" {
					seen++
					if enforced != w {
						t.Errorf("%s %s on %s: %s, want %s", pr.p.ARN, action, name, enforced, w)
					}
				}
			}
		}
	}
	if seen != len(want) {
		t.Errorf("checked %d spelled-out decisions of %d", seen, len(want))
	}
}

// TestSimulate: what the simulator answers besides the decision, and its
// refusals in IAM's words.
func TestSimulate(t *testing.T) {
	ctx := t.Context()
	f, repos := simulationFixture(t)
	pusher := "arn:aws:iam::" + acct + ":user/eng/pusher"
	cases := []struct {
		name    string
		sim     Simulation
		want    []string // decisions, in order
		matched [][]string
		missing []string
		err     error
		msg     string
	}{
		{name: "the denying group policy is named", sim: Simulation{Source: pusher, Actions: []string{"ecr:PutImage"}, Resources: []string{repoARN + "app-prod"}},
			want: []string{"explicitDeny"}, matched: [][]string{{"deny-prod", "group"}}},
		{name: "allow names the user's inline policy", sim: Simulation{Source: pusher, Actions: []string{"ecr:PutImage"}, Resources: []string{repoARN + "app"}},
			want: []string{"allowed"}, matched: [][]string{{"apps", "user"}}},
		{name: "an AWS managed policy", sim: Simulation{Source: "arn:aws:iam::" + acct + ":user/reader", Actions: []string{"ecr:BatchGetImage"}},
			want: []string{"allowed"}, matched: [][]string{{"AmazonEC2ContainerRegistryReadOnly", "aws-managed"}}},
		{name: "the resource policy's deny", sim: Simulation{Source: pusher, Actions: []string{"ecr:PutImage"}, Resources: []string{repoARN + "app-locked"}, ResourcePolicy: repos["app-locked"]},
			want: []string{"explicitDeny"}, matched: [][]string{{"ResourcePolicy", "resource"}}},
		{name: "a missing key is named", sim: Simulation{Source: "arn:aws:iam::" + acct + ":user/office", Actions: []string{"ecr:PutImage"}},
			want: []string{"implicitDeny"}, missing: []string{"aws:SourceIp"}},
		{name: "extra policies, several actions and resources", sim: Simulation{Source: "arn:aws:iam::" + acct + ":user/nobody",
			Policies: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:Batch*","Resource":"*"}}`},
			Actions:  []string{"ecr:BatchGetImage", "ecr:PutImage"}, Resources: []string{repoARN + "a", repoARN + "b"}},
			want: []string{"allowed", "allowed", "implicitDeny", "implicitDeny"}, matched: [][]string{{"PolicyInputList.1", "none"}, {"PolicyInputList.1", "none"}}},
		{name: "a role session's role", sim: Simulation{Source: "arn:aws:sts::" + acct + ":assumed-role/ci/s1", Actions: []string{"ecr:PutImage"}},
			want: []string{"allowed"}, matched: [][]string{{"push", "role"}}},
		{name: "custom policies alone", sim: Simulation{Policies: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`}, Actions: []string{"ecr:PutImage"}},
			want: []string{"explicitDeny"}, matched: [][]string{{"PolicyInputList.1", "none"}}},

		{name: "no such user", sim: Simulation{Source: "arn:aws:iam::" + acct + ":user/ghost", Actions: []string{"ecr:PutImage"}},
			err: ErrNoSuchEntity, msg: "The user with name ghost cannot be found."},
		{name: "a user on another path", sim: Simulation{Source: "arn:aws:iam::" + acct + ":user/pusher", Actions: []string{"ecr:PutImage"}},
			err: ErrNoSuchEntity, msg: "The user with name pusher cannot be found."},
		{name: "no such role", sim: Simulation{Source: "arn:aws:iam::" + acct + ":role/ghost", Actions: []string{"ecr:PutImage"}},
			err: ErrNoSuchEntity, msg: "The role with name ghost cannot be found."},
		{name: "not an entity", sim: Simulation{Source: "arn:aws:iam::" + acct + ":policy/x", Actions: []string{"ecr:PutImage"}},
			err: ErrInvalidInput, msg: "Invalid Entity Arn: arn:aws:iam::" + acct + ":policy/x does not clearly define entity type and name."},
		{name: "a malformed policy", sim: Simulation{Source: pusher, Policies: []string{`{"Statement":`}, Actions: []string{"ecr:PutImage"}},
			err: ErrInvalidInput, msg: "PolicyInputList.1: Syntax errors in policy."},
		{name: "a bad resource owner", sim: Simulation{Source: pusher, ResourceOwner: "12", Actions: []string{"ecr:PutImage"}},
			err: ErrInvalidInput, msg: "'12' is not a valid as a Resource Owner."},
		{name: "a bad context value", sim: Simulation{Source: pusher, Actions: []string{"ecr:PutImage"},
			Context: []ContextEntry{{Key: "aws:SourceIp", Values: []string{"nope"}, Type: "ip"}}},
			err: ErrInvalidInput, msg: "Invalid value 'nope' for context key aws:SourceIp of type ip."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.Simulate(ctx, acct, tc.sim)
			if tc.err != nil {
				var e *Error
				if !errors.Is(err, tc.err) || !errors.As(err, &e) || e.Message != tc.msg {
					t.Fatalf("err = %v; want %v %q", err, tc.err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var decisions []string
			var matched [][]string
			for _, ev := range got {
				decisions = append(decisions, ev.Decision)
				for _, m := range ev.Matched {
					matched = append(matched, []string{m.SourcePolicyID, m.SourcePolicyType})
				}
				if len(tc.sim.Resources) > 0 && (len(ev.PerResource) != 1 || ev.PerResource[0].Resource != ev.Resource) {
					t.Errorf("per resource: %+v", ev.PerResource)
				}
			}
			if !slices.Equal(decisions, tc.want) {
				t.Errorf("decisions %v; want %v", decisions, tc.want)
			}
			if !slices.EqualFunc(matched, tc.matched, slices.Equal) {
				t.Errorf("matched %v; want %v", matched, tc.matched)
			}
			if tc.missing != nil && !slices.Equal(got[0].Missing, tc.missing) {
				t.Errorf("missing %v; want %v", got[0].Missing, tc.missing)
			}
		})
	}
}

func TestStatementSpans(t *testing.T) {
	doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\"},\n    {\n      \"Effect\": \"Deny\"\n    }\n  ]\n}"
	got := statementSpans(doc)
	want := []statementSpan{{Position{4, 5}, Position{4, 24}}, {Position{5, 5}, Position{7, 6}}}
	if !slices.Equal(got, want) {
		t.Errorf("spans %v; want %v", got, want)
	}
	if one := statementSpans(`{"Statement":{"Effect":"Allow"}}`); !slices.Equal(one, []statementSpan{{Position{1, 14}, Position{1, 32}}}) {
		t.Errorf("single statement: %v", one)
	}
	if bad := statementSpans(`not json`); bad != nil {
		t.Errorf("not JSON: %v", bad)
	}
}
