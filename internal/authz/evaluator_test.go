package authz

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz/policy"
	"github.com/berth-registry/berth/internal/meta"
)

// fakeSource is a PolicySource in memory that counts its calls.
type fakeSource struct {
	mu       sync.Mutex
	identity map[string][]*policy.Policy // by principal ARN
	repos    map[string]*fakeRepo        // by account/region/name; absent: no such repository
	// errors to answer with, when set
	identityErr, repoErr, tagsErr error
	// tagsMissing makes ResourceTags answer ErrNoResource (the repository
	// went away between the two calls).
	tagsMissing bool
	// onIdentity runs inside IdentityPolicies, for races.
	onIdentity func()

	identityCalls, repoCalls, tagsCalls atomic.Int64
}

type fakeRepo struct {
	policy *policy.Policy
	tags   map[string]string
}

func newFakeSource() *fakeSource {
	return &fakeSource{identity: map[string][]*policy.Policy{}, repos: map[string]*fakeRepo{}}
}

func repoKey(account, region, repo string) string { return account + "/" + region + "/" + repo }

func (f *fakeSource) setIdentity(arn string, docs ...*policy.Policy) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.identity[arn] = docs
}

func (f *fakeSource) setRepo(account, region, name string, p *policy.Policy, tags map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.repos[repoKey(account, region, name)] = &fakeRepo{policy: p, tags: tags}
}

func (f *fakeSource) IdentityPolicies(_ context.Context, p *authn.Principal) ([]*policy.Policy, error) {
	f.identityCalls.Add(1)
	f.mu.Lock()
	hook, err, docs := f.onIdentity, f.identityErr, f.identity[p.ARN]
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	if err != nil {
		return nil, err
	}
	return docs, nil
}

func (f *fakeSource) RepositoryPolicy(_ context.Context, account, region, repo string) (*policy.Policy, error) {
	f.repoCalls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.repoErr != nil {
		return nil, f.repoErr
	}
	r, ok := f.repos[repoKey(account, region, repo)]
	if !ok {
		return nil, ErrNoResource
	}
	return r.policy, nil
}

func (f *fakeSource) ResourceTags(_ context.Context, account, region, repo string) (map[string]string, error) {
	f.tagsCalls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tagsErr != nil {
		return nil, f.tagsErr
	}
	r, ok := f.repos[repoKey(account, region, repo)]
	if !ok || f.tagsMissing {
		return nil, ErrNoResource
	}
	return r.tags, nil
}

// calls is how many times each method was called: identity, repository
// policy, tags.
func (f *fakeSource) calls() [3]int64 {
	return [3]int64{f.identityCalls.Load(), f.repoCalls.Load(), f.tagsCalls.Load()}
}

const (
	acctA  = "000000000000"
	acctB  = "111111111111"
	region = "us-east-1"
)

var (
	userBob = &authn.Principal{Kind: authn.KindUser, Account: acctA, ARN: "arn:aws:iam::" + acctA + ":user/bob",
		UserID: "AIDABOB", UserName: "bob", AccessKeyID: "AKIABOB0000000000001"}
	rootA = &authn.Principal{Kind: authn.KindRoot, Account: acctA, ARN: authn.RootARN(acctA), UserID: acctA, AccessKeyID: "AKIAROOTA00000000001"}
	rootB = &authn.Principal{Kind: authn.KindRoot, Account: acctB, ARN: authn.RootARN(acctB), UserID: acctB, AccessKeyID: "AKIAROOTB00000000001"}
	// sessionB is a session of role puller (path /ci/) in account B.
	sessionB = &authn.Principal{Kind: authn.KindAssumedRole, Account: acctB, ARN: "arn:aws:sts::" + acctB + ":assumed-role/puller/s1",
		UserID: "AROAPULLER:s1", AccessKeyID: "ASIASESSION000000001", RoleName: "puller", RoleARN: "arn:aws:iam::" + acctB + ":role/ci/puller"}
)

func allow(action, resource string) *policy.Policy {
	return policy.MustParse(policy.Identity, fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":%q,"Resource":%q}]}`, action, resource))
}

func repoAllow(principal, action string) *policy.Policy {
	return policy.MustParse(policy.Repository, fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":%q},"Action":%q}]}`, principal, action))
}

func pull(p *authn.Principal, account, repo string) Request {
	return Request{Principal: p, Action: "ecr:BatchGetImage", Resource: RepositoryARN(region, account, repo), ResourceAccount: account}
}

// testEvaluator is an Evaluator over src with a clock the test moves.
func testEvaluator(src PolicySource, ttl time.Duration) (*Evaluator, *time.Time) {
	e := NewEvaluator(src, ttl)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	e.now = func() time.Time { return now }
	return e, &now
}

func wantAllowed(t *testing.T, e *Evaluator, r Request) {
	t.Helper()
	if err := e.Authorize(context.Background(), r); err != nil {
		t.Fatalf("Authorize(%s %s by %s): %v, want allowed", r.Action, r.Resource, r.Principal.ARN, err)
	}
}

// wantDenied checks a refusal and its whole message.
func wantDenied(t *testing.T, e *Evaluator, r Request, reason string) {
	t.Helper()
	err := e.Authorize(context.Background(), r)
	var d *DeniedError
	if !errors.As(err, &d) {
		t.Fatalf("Authorize(%s %s by %s) = %v, want a DeniedError", r.Action, r.Resource, r.Principal.ARN, err)
	}
	want := "User: " + r.Principal.ARN + " is not authorized to perform: " + r.Action + " on resource: " + r.Resource + " " + reason
	if d.Error() != want {
		t.Fatalf("denial message\n  %q\nwant\n  %q", d.Error(), want)
	}
}

func wantCalls(t *testing.T, f *fakeSource, what string, want [3]int64) {
	t.Helper()
	if got := f.calls(); got != want {
		t.Fatalf("%s: source calls (identity, repository policy, tags) = %v, want %v", what, got, want)
	}
}

func TestEvaluatorCacheHitAvoidsSource(t *testing.T) {
	src := newFakeSource()
	src.setRepo(acctA, region, "app", nil, nil)
	src.setIdentity(userBob.ARN, allow("ecr:BatchGetImage", "*"))
	e, _ := testEvaluator(src, 2*time.Second)

	r := pull(userBob, acctA, "app")
	wantAllowed(t, e, r)
	wantCalls(t, src, "first decision", [3]int64{1, 1, 1})
	for range 5 {
		wantAllowed(t, e, r)
	}
	wantCalls(t, src, "the same request again", [3]int64{1, 1, 1})

	// Denials are cached too, and each answer words its own request.
	push := r
	push.Action = "ecr:PutImage"
	wantDenied(t, e, push, "because no identity-based policy allows the ecr:PutImage action")
	wantCalls(t, src, "another action", [3]int64{2, 2, 2})
	wantDenied(t, e, push, "because no identity-based policy allows the ecr:PutImage action")
	wantCalls(t, src, "the denied request again", [3]int64{2, 2, 2})
}

// Every field of the key is part of the question: a decision for one
// caller, key, resource, source address or transport is not reused for
// another.
func TestEvaluatorCacheKey(t *testing.T) {
	src := newFakeSource()
	src.setRepo(acctA, region, "app", nil, nil)
	src.setRepo(acctA, region, "other", nil, nil)
	office := netip.MustParseAddr("10.1.2.3")
	home := netip.MustParseAddr("192.0.2.7")
	src.setIdentity(userBob.ARN, policy.MustParse(policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage",`+
		`"Resource":"arn:aws:ecr:*:*:repository/app","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"Bool":{"aws:SecureTransport":"true"}}}]}`))
	e, _ := testEvaluator(src, time.Minute)

	base := pull(userBob, acctA, "app")
	base.SourceIP, base.SecureTransport = office, true
	wantAllowed(t, e, base)

	fromHome := base
	fromHome.SourceIP = home
	wantDenied(t, e, fromHome, "because no identity-based policy allows the ecr:BatchGetImage action")
	plain := base
	plain.SecureTransport = false
	wantDenied(t, e, plain, "because no identity-based policy allows the ecr:BatchGetImage action")
	other := base
	other.Resource = RepositoryARN(region, acctA, "other")
	wantDenied(t, e, other, "because no identity-based policy allows the ecr:BatchGetImage action")
	wantCalls(t, src, "four different requests", [3]int64{4, 4, 4})

	// Another access key of the same user is another entry (keys come and
	// go; a decision is not carried over to a new one).
	otherKey := *userBob
	otherKey.AccessKeyID = "AKIABOB0000000000002"
	r := base
	r.Principal = &otherKey
	wantAllowed(t, e, r)
	wantCalls(t, src, "another access key", [3]int64{5, 5, 5})
	// Another user with no policy is not let in on bob's decision.
	alice := &authn.Principal{Kind: authn.KindUser, Account: acctA, ARN: "arn:aws:iam::" + acctA + ":user/alice", UserName: "alice", AccessKeyID: userBob.AccessKeyID}
	r.Principal = alice
	wantDenied(t, e, r, "because no identity-based policy allows the ecr:BatchGetImage action")

	// All of them are cached now.
	before := src.calls()
	for _, r := range []Request{base, fromHome, plain, other} {
		_ = e.Authorize(context.Background(), r)
	}
	wantCalls(t, src, "the same four requests again", before)
}

func TestEvaluatorInvalidate(t *testing.T) {
	src := newFakeSource()
	src.setRepo(acctA, region, "app", nil, nil)
	src.setIdentity(userBob.ARN, allow("ecr:BatchGetImage", "*"))
	e, _ := testEvaluator(src, time.Hour)
	r := pull(userBob, acctA, "app")
	wantAllowed(t, e, r)

	// The policy goes; until the cache is dropped the decision stands
	// (this is what the time limit bounds for changes made elsewhere).
	src.setIdentity(userBob.ARN)
	wantAllowed(t, e, r)
	wantCalls(t, src, "before Invalidate", [3]int64{1, 1, 1})

	e.Invalidate()
	wantDenied(t, e, r, "because no identity-based policy allows the ecr:BatchGetImage action")
	wantCalls(t, src, "after Invalidate", [3]int64{2, 2, 2})
	wantDenied(t, e, r, "because no identity-based policy allows the ecr:BatchGetImage action")
	wantCalls(t, src, "the new decision is cached", [3]int64{2, 2, 2})

	// A repository policy appearing is a change like any other.
	src.setRepo(acctA, region, "app", repoAllow(userBob.ARN, "ecr:BatchGetImage"), nil)
	e.Invalidate()
	wantAllowed(t, e, r)
	wantCalls(t, src, "after the repository policy changed", [3]int64{3, 3, 3})
}

// A change (and its Invalidate) that lands while a decision is being made
// must not leave that decision, made on what was there before, in the
// cache.
func TestEvaluatorInvalidateDuringEvaluation(t *testing.T) {
	src := newFakeSource()
	src.setRepo(acctA, region, "app", nil, nil)
	src.setIdentity(userBob.ARN, allow("ecr:BatchGetImage", "*"))
	e, _ := testEvaluator(src, time.Hour)
	var once sync.Once
	src.onIdentity = func() {
		once.Do(func() {
			// The policies were read (and allow); now they change.
			src.mu.Lock()
			delete(src.identity, userBob.ARN)
			src.mu.Unlock()
			e.Invalidate()
		})
	}
	r := pull(userBob, acctA, "app")
	wantAllowed(t, e, r) // decided on what it read
	wantDenied(t, e, r, "because no identity-based policy allows the ecr:BatchGetImage action")
	wantCalls(t, src, "after a change during the first decision", [3]int64{2, 2, 2})
}

func TestEvaluatorTTL(t *testing.T) {
	src := newFakeSource()
	src.setRepo(acctA, region, "app", nil, nil)
	src.setIdentity(userBob.ARN, allow("ecr:BatchGetImage", "*"))
	const ttl = 2 * time.Second
	e, now := testEvaluator(src, ttl)
	r := pull(userBob, acctA, "app")
	start := *now

	wantAllowed(t, e, r)
	*now = start.Add(ttl - time.Nanosecond)
	wantAllowed(t, e, r)
	wantCalls(t, src, "just before the time limit", [3]int64{1, 1, 1})

	// A change made elsewhere (no Invalidate here) is seen once the
	// decision is as old as the limit.
	src.setIdentity(userBob.ARN)
	*now = start.Add(ttl)
	wantDenied(t, e, r, "because no identity-based policy allows the ecr:BatchGetImage action")
	wantCalls(t, src, "at the time limit", [3]int64{2, 2, 2})

	// The new decision is kept for the limit from when it was made.
	*now = start.Add(2*ttl - time.Nanosecond)
	wantDenied(t, e, r, "because no identity-based policy allows the ecr:BatchGetImage action")
	wantCalls(t, src, "within the new decision's limit", [3]int64{2, 2, 2})
	*now = start.Add(2 * ttl)
	wantDenied(t, e, r, "because no identity-based policy allows the ecr:BatchGetImage action")
	wantCalls(t, src, "past the new decision's limit", [3]int64{3, 3, 3})

	// A clock that goes back does not make a decision older.
	*now = start.Add(2*ttl - time.Second)
	wantDenied(t, e, r, "because no identity-based policy allows the ecr:BatchGetImage action")
	wantCalls(t, src, "clock stepped back", [3]int64{3, 3, 3})
}

// A request that sets tags is decided on them, every time: it is neither
// answered from the cache nor cached.
func TestEvaluatorRequestTagsNotCached(t *testing.T) {
	src := newFakeSource()
	src.setIdentity(userBob.ARN, policy.MustParse(policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`+
		`"Action":"ecr:CreateRepository","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"blue"}}}]}`))
	e, _ := testEvaluator(src, time.Hour)
	create := Request{Principal: userBob, Action: "ecr:CreateRepository", Resource: RepositoryARN(region, acctA, "new"), ResourceAccount: acctA}
	blue := create
	blue.RequestTags = map[string]string{"team": "blue"}
	red := create
	red.RequestTags = map[string]string{"team": "red"}
	const reason = "because no identity-based policy allows the ecr:CreateRepository action"

	// Untagged first: denied, and cached.
	wantDenied(t, e, create, reason)
	wantCalls(t, src, "untagged", [3]int64{1, 1, 0})
	// Tagged: decided afresh, not from the untagged entry.
	wantAllowed(t, e, blue)
	wantAllowed(t, e, blue)
	wantCalls(t, src, "tagged blue twice", [3]int64{3, 3, 0})
	wantDenied(t, e, red, reason)
	wantCalls(t, src, "tagged red", [3]int64{4, 4, 0})
	// The tagged allows did not land in the cache for the untagged request.
	wantDenied(t, e, create, reason)
	wantCalls(t, src, "untagged again, from the cache", [3]int64{4, 4, 0})

	// And the other way round: a tagged allow first leaves nothing behind.
	e2, _ := testEvaluator(src, time.Hour)
	wantAllowed(t, e2, blue)
	wantDenied(t, e2, create, reason)
	// An empty tag map is no tags.
	empty := create
	empty.RequestTags = map[string]string{}
	wantDenied(t, e2, empty, reason)
}

func TestEvaluatorNoResource(t *testing.T) {
	src := newFakeSource()
	e, _ := testEvaluator(src, time.Hour)
	create := Request{Principal: userBob, Action: "ecr:CreateRepository", Resource: RepositoryARN(region, acctA, "new"), ResourceAccount: acctA}

	// A repository that does not exist: identity policies alone decide,
	// and its tags are not asked for.
	wantDenied(t, e, create, "because no identity-based policy allows the ecr:CreateRepository action")
	wantCalls(t, src, "missing repository", [3]int64{1, 1, 0})
	src.setIdentity(userBob.ARN, allow("ecr:CreateRepository", "arn:aws:ecr:*:"+acctA+":repository/*"))
	e.Invalidate()
	wantAllowed(t, e, create)
	wantCalls(t, src, "missing repository, allowed", [3]int64{2, 2, 0})
	// The root needs no policy in its own account, and none is asked for.
	root := create
	root.Principal = rootA
	wantAllowed(t, e, root)
	wantCalls(t, src, "root", [3]int64{2, 3, 0})
	// Across accounts, a missing repository has no policy to let anyone in.
	cross := create
	cross.Principal = rootB
	wantDenied(t, e, cross, "because no resource-based policy allows the ecr:CreateRepository action")

	// The repository disappears between its policy and its tags: still
	// decided, without tags.
	src.setRepo(acctA, region, "app", nil, nil)
	src.tagsMissing = true
	src.setIdentity(userBob.ARN, allow("ecr:BatchGetImage", "*"))
	e.Invalidate()
	wantAllowed(t, e, pull(userBob, acctA, "app"))
}

// Failures of the source are errors, not denials, and are not cached.
func TestEvaluatorSourceErrors(t *testing.T) {
	boom := errors.New("database is locked")
	for _, tc := range []struct {
		name string
		set  func(*fakeSource, error)
	}{
		{"identity policies", func(f *fakeSource, err error) { f.identityErr = err }},
		{"repository policy", func(f *fakeSource, err error) { f.repoErr = err }},
		{"resource tags", func(f *fakeSource, err error) { f.tagsErr = err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newFakeSource()
			src.setRepo(acctA, region, "app", nil, nil)
			src.setIdentity(userBob.ARN, allow("ecr:BatchGetImage", "*"))
			e, _ := testEvaluator(src, time.Hour)
			r := pull(userBob, acctA, "app")
			tc.set(src, boom)
			for range 2 {
				err := e.Authorize(context.Background(), r)
				var d *DeniedError
				if !errors.Is(err, boom) || errors.As(err, &d) {
					t.Fatalf("Authorize with a failing source = %v, want the source's error", err)
				}
			}
			calls := src.calls()
			tc.set(src, nil)
			wantAllowed(t, e, r)
			if got := src.calls(); got == calls {
				t.Fatalf("the decision after a failure came from the cache (calls %v)", got)
			}
		})
	}
}

// Only repository ARNs naming one repository bring in a repository policy
// and tags.
func TestEvaluatorResourcesWithoutRepository(t *testing.T) {
	src := newFakeSource()
	src.setIdentity(userBob.ARN, allow("*", "*"))
	e, _ := testEvaluator(src, time.Hour)
	for _, r := range []Request{
		{Principal: userBob, Action: "ecr:GetAuthorizationToken", Resource: RepositoryARN(region, acctA, "*"), ResourceAccount: acctA},
		{Principal: userBob, Action: "ecr:GetAuthorizationToken", Resource: "*", ResourceAccount: acctA},
		{Principal: userBob, Action: "iam:GetUser", Resource: userBob.ARN, ResourceAccount: acctA},
		{Principal: userBob, Action: "sts:AssumeRole", Resource: "arn:aws:iam::" + acctA + ":role/deployer", ResourceAccount: acctA},
		{Principal: userBob, Action: "ecr:DescribeRegistry", Resource: "arn:aws:ecr:" + region + ":" + acctA + ":registry", ResourceAccount: acctA},
	} {
		wantAllowed(t, e, r)
	}
	wantCalls(t, src, "resources that are no repository", [3]int64{5, 0, 0})
}

// Repository tags feed aws:ResourceTag and ecr:ResourceTag conditions.
func TestEvaluatorResourceTags(t *testing.T) {
	src := newFakeSource()
	src.setRepo(acctA, region, "blue", nil, map[string]string{"Team": "blue"})
	src.setRepo(acctA, region, "red", nil, map[string]string{"team": "red"})
	src.setRepo(acctA, region, "none", nil, nil)
	src.setIdentity(userBob.ARN, policy.MustParse(policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`+
		`"Action":"ecr:BatchGetImage","Resource":"*","Condition":{"StringEquals":{"ecr:ResourceTag/team":"blue"}}}]}`))
	e, _ := testEvaluator(src, time.Hour)
	wantAllowed(t, e, pull(userBob, acctA, "blue"))
	wantDenied(t, e, pull(userBob, acctA, "red"), "because no identity-based policy allows the ecr:BatchGetImage action")
	wantDenied(t, e, pull(userBob, acctA, "none"), "because no identity-based policy allows the ecr:BatchGetImage action")
}

// The principal's kind decides what is asked and how it is matched.
func TestEvaluatorPrincipals(t *testing.T) {
	src := newFakeSource()
	src.setRepo(acctA, region, "shared", repoAllow(sessionB.RoleARN, "ecr:BatchGetImage"), nil)
	src.setRepo(acctA, region, "private", nil, nil)
	e, _ := testEvaluator(src, time.Hour)

	// A root, or a Principal from before IAM (no Kind), needs no identity
	// policy in its own account, and none is looked up.
	legacy := &authn.Principal{Account: acctA, ARN: authn.RootARN(acctA), UserID: acctA, AccessKeyID: "AKIALEGACY0000000001"}
	wantAllowed(t, e, pull(rootA, acctA, "private"))
	wantAllowed(t, e, pull(legacy, acctA, "private"))
	wantCalls(t, src, "roots", [3]int64{0, 2, 2})
	wantDenied(t, e, pull(rootB, acctA, "private"), "because no resource-based policy allows the ecr:BatchGetImage action")

	// A role session across accounts: the repository policy names the role
	// (with its path), and the role's own policy must allow too.
	wantDenied(t, e, pull(sessionB, acctA, "shared"), "because no identity-based policy allows the ecr:BatchGetImage action")
	src.setIdentity(sessionB.ARN, allow("ecr:BatchGetImage", "arn:aws:ecr:*:"+acctA+":repository/*"))
	e.Invalidate()
	wantAllowed(t, e, pull(sessionB, acctA, "shared"))
	wantDenied(t, e, pull(sessionB, acctA, "private"), "because no resource-based policy allows the ecr:BatchGetImage action")
	// B's root is not the role.
	wantDenied(t, e, pull(rootB, acctA, "shared"), "because no resource-based policy allows the ecr:BatchGetImage action")

	// An explicit deny in the repository policy beats the identity allow.
	src.setRepo(acctA, region, "shared", policy.MustParse(policy.Repository, `{"Version":"2012-10-17","Statement":[`+
		`{"Effect":"Allow","Principal":{"AWS":"`+sessionB.RoleARN+`"},"Action":"ecr:*"},`+
		`{"Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage"}]}`), nil)
	e.Invalidate()
	wantDenied(t, e, pull(sessionB, acctA, "shared"), "with an explicit deny in a resource-based policy")
	wantDenied(t, e, pull(rootA, acctA, "shared"), "with an explicit deny in a resource-based policy")
}

func TestParseRepositoryARN(t *testing.T) {
	for _, tc := range []struct {
		arn                   string
		region, account, repo string
		ok                    bool
	}{
		{"arn:aws:ecr:us-east-1:000000000000:repository/app", "us-east-1", "000000000000", "app", true},
		{"arn:aws:ecr:eu-west-1:111111111111:repository/team/app/web", "eu-west-1", "111111111111", "team/app/web", true},
		{"arn:aws:ecr:us-east-1:000000000000:repository/*", "us-east-1", "000000000000", "*", true},
		{"arn:aws-cn:ecr:cn-north-1:000000000000:repository/app", "cn-north-1", "000000000000", "app", true},
		{RepositoryARN("ap-south-1", "222222222222", "a/b"), "ap-south-1", "222222222222", "a/b", true},
		{"arn:aws:ecr-public::000000000000:repository/app", meta.PublicRegion, "000000000000", "app", true},
		{"arn:aws:ecr-public:us-east-1:000000000000:repository/app", "", "", "", false},
		{"arn:aws:ecr:us-east-1:000000000000:registry", "", "", "", false},
		{"arn:aws:ecr:us-east-1:000000000000:repositoryapp", "", "", "", false},
		{"arn:aws:iam::000000000000:user/bob", "", "", "", false},
		{"arn:aws:s3:::bucket/repository/app", "", "", "", false},
		{"*", "", "", "", false},
		{"", "", "", "", false},
		{"arn:aws:ecr:us-east-1:repository/app", "", "", "", false},
		{"urn:aws:ecr:us-east-1:000000000000:repository/app", "", "", "", false},
	} {
		region, account, repo, ok := parseRepositoryARN(tc.arn)
		if ok != tc.ok || (ok && (region != tc.region || account != tc.account || repo != tc.repo)) {
			t.Errorf("parseRepositoryARN(%q) = %q, %q, %q, %v; want %q, %q, %q, %v",
				tc.arn, region, account, repo, ok, tc.region, tc.account, tc.repo, tc.ok)
		}
	}
}

// The cache is bounded: past maxCached entries it starts over, and
// decisions stay right.
func TestEvaluatorCacheBound(t *testing.T) {
	if testing.Short() {
		t.Skip("fills the cache: 100,000 decisions")
	}
	src := newFakeSource()
	src.setIdentity(userBob.ARN, allow("ecr:BatchGetImage", "arn:aws:ecr:*:*:repository/allowed-*"))
	e, _ := testEvaluator(src, time.Hour)
	for i := range maxCached + 10 {
		name := fmt.Sprintf("allowed-%d", i)
		if i%2 == 1 {
			name = fmt.Sprintf("other-%d", i)
		}
		err := e.Authorize(context.Background(), pull(userBob, acctA, name))
		if (err == nil) != (i%2 == 0) {
			t.Fatalf("decision %d (%s): %v", i, name, err)
		}
	}
	e.mu.RLock()
	n := len(e.cache)
	e.mu.RUnlock()
	if n > maxCached {
		t.Fatalf("cache holds %d decisions, more than %d", n, maxCached)
	}
}

// Concurrent decisions, changes and invalidations (run with -race): once a
// change has been made and Invalidate has returned, no decision made
// afterwards reflects the earlier state.
func TestEvaluatorConcurrent(t *testing.T) {
	src := newFakeSource()
	src.setRepo(acctA, region, "app", nil, nil)
	e := NewEvaluator(src, time.Hour)
	r := pull(userBob, acctA, "app")
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = e.Authorize(ctx, r)
			}
		}()
	}
	for i := range 200 {
		allowed := i%2 == 0
		if allowed {
			src.setIdentity(userBob.ARN, allow("ecr:BatchGetImage", "*"))
		} else {
			src.setIdentity(userBob.ARN)
		}
		e.Invalidate()
		err := e.Authorize(ctx, r)
		if (err == nil) != allowed {
			close(stop)
			wg.Wait()
			t.Fatalf("round %d: policy allows=%v, decision after Invalidate: %v", i, allowed, err)
		}
	}
	close(stop)
	wg.Wait()
}
