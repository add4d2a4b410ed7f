package authz

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz/policy"
	"github.com/berth-registry/berth/internal/meta"
)

// PolicySource finds the policies that bear on a request.
type PolicySource interface {
	// IdentityPolicies are the principal's own: a user's inline and
	// attached policies and its groups', a session's role's. A root has
	// none (it needs none in its own account).
	IdentityPolicies(ctx context.Context, p *authn.Principal) ([]*policy.Policy, error)
	// RepositoryPolicy is a repository's resource policy, nil if none.
	RepositoryPolicy(ctx context.Context, account, region, repo string) (*policy.Policy, error)
	// ResourceTags are a repository's tags, for aws:ResourceTag conditions.
	ResourceTags(ctx context.Context, account, region, repo string) (map[string]string, error)
}

// RegistryPolicySource is a PolicySource that also finds registry
// policies (PutRegistryPolicy), which bear on requests made for a feature
// (Request.Feature) only. A source without it never grants through one.
type RegistryPolicySource interface {
	// RegistryPolicy is the registry's policy, nil if none.
	RegistryPolicy(ctx context.Context, account, region string) (*policy.Policy, error)
}

// Evaluator authorizes requests by evaluating IAM policies, caching each
// decision briefly. Any policy change drops the whole cache at once
// (Invalidate); the time limit bounds how long a change made on another
// node takes to reach this one.
type Evaluator struct {
	src PolicySource
	ttl time.Duration
	now func() time.Time

	generation atomic.Uint64
	mu         sync.RWMutex
	cache      map[cacheKey]cached
}

type cacheKey struct {
	principal, accessKey, action, resource string
	sourceIP                               netip.Addr
	secure                                 bool
	feature                                policy.Feature
}

type cached struct {
	result     policy.Result
	generation uint64
	at         time.Time
}

// maxCached bounds the cache; past it the cache starts over.
const maxCached = 100000

// NewEvaluator returns an Evaluator over src that keeps decisions for ttl.
func NewEvaluator(src PolicySource, ttl time.Duration) *Evaluator {
	return &Evaluator{src: src, ttl: ttl, now: time.Now, cache: map[cacheKey]cached{}}
}

// Invalidate drops every cached decision.
func (e *Evaluator) Invalidate() { e.generation.Add(1) }

// Authorize implements Authorizer.
func (e *Evaluator) Authorize(ctx context.Context, r Request) error {
	now := e.now()
	key := cacheKey{r.Principal.ARN, r.Principal.AccessKeyID, r.Action, r.Resource, r.SourceIP, r.SecureTransport, r.Feature}
	cacheable := len(r.RequestTags) == 0
	gen := e.generation.Load()
	if cacheable {
		e.mu.RLock()
		c, ok := e.cache[key]
		e.mu.RUnlock()
		if ok && c.generation == gen && now.Sub(c.at) < e.ttl {
			return decisionError(r, c.result)
		}
	}
	res, err := e.evaluate(ctx, r, now)
	if err != nil {
		return err
	}
	if cacheable {
		e.mu.Lock()
		if len(e.cache) >= maxCached {
			e.cache = map[cacheKey]cached{}
		}
		e.cache[key] = cached{result: res, generation: gen, at: now}
		e.mu.Unlock()
	}
	return decisionError(r, res)
}

func decisionError(r Request, res policy.Result) error {
	if res.Allowed() {
		return nil
	}
	return &DeniedError{Request: r, Reason: res.Reason}
}

func (e *Evaluator) evaluate(ctx context.Context, r Request, now time.Time) (policy.Result, error) {
	p := r.Principal
	req := PolicyRequest(r, now)
	pr := req.Principal
	var docs []*policy.Policy
	if pr.Type != policy.Root {
		ids, err := e.src.IdentityPolicies(ctx, p)
		if err != nil {
			return policy.Result{}, err
		}
		docs = append(docs, ids...)
	}
	if region, account, repo, ok := parseRepositoryARN(r.Resource); ok && repo != "*" {
		rp, err := e.src.RepositoryPolicy(ctx, account, region, repo)
		if err != nil && !errors.Is(err, ErrNoResource) {
			return policy.Result{}, err
		}
		if rp != nil {
			docs = append(docs, rp)
		}
		if err == nil {
			tags, err := e.src.ResourceTags(ctx, account, region, repo)
			if err != nil && !errors.Is(err, ErrNoResource) {
				return policy.Result{}, err
			}
			req.ResourceTags = tags
		}
	}
	if rs, ok := e.src.(RegistryPolicySource); ok && r.Feature != policy.NoFeature {
		if region, account, _, ok := parseRepositoryARN(r.Resource); ok {
			rp, err := rs.RegistryPolicy(ctx, account, region)
			if err != nil {
				return policy.Result{}, err
			}
			if rp != nil {
				docs = append(docs, rp)
			}
		}
	}
	return policy.Evaluate(req, docs...), nil
}

// PolicyPrincipal is the policy engine's view of an authenticated caller.
func PolicyPrincipal(p *authn.Principal) policy.Principal {
	pr := policy.Principal{ARN: p.ARN, Account: p.Account, UserID: p.UserID, RoleARN: p.RoleARN, Type: policy.Root}
	switch p.Kind {
	case authn.KindUser:
		pr.Type = policy.User
	case authn.KindAssumedRole:
		pr.Type = policy.AssumedRole
	}
	return pr
}

// PolicyRequest is the policy engine's question for r, asked at now: what
// the Evaluator decides and what IAM's policy simulator explains, so that
// the two ask the same question.
func PolicyRequest(r Request, now time.Time) policy.Request {
	return policy.Request{
		Principal:       PolicyPrincipal(r.Principal),
		Action:          r.Action,
		Resource:        r.Resource,
		ResourceAccount: r.ResourceAccount,
		SourceIP:        r.SourceIP,
		SecureTransport: r.SecureTransport,
		Time:            now,
		RequestTags:     r.RequestTags,
		Feature:         r.Feature,
	}
}

// ErrNoResource tells the evaluator that the resource does not exist (yet):
// it is authorized on identity policies alone.
var ErrNoResource = errors.New("authz: no such resource")

// parseRepositoryARN splits arn:aws:ecr:<region>:<account>:repository/<name>,
// and ECR Public's arn:aws:ecr-public::<account>:repository/<name>, whose
// repositories are those of the public registry (meta.PublicRegion).
func parseRepositoryARN(arn string) (region, account, repo string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "", "", "", false
	}
	region = parts[3]
	switch {
	case parts[2] == "ecr":
	case parts[2] == "ecr-public" && region == "":
		region = meta.PublicRegion
	default:
		return "", "", "", false
	}
	repo, ok = strings.CutPrefix(parts[5], "repository/")
	return region, parts[4], repo, ok
}
