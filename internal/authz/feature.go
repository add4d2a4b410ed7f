package authz

import (
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz/policy"
)

// FeatureRequest is a question ECR asks on behalf of one of its features
// rather than of a caller: may account From's replication (or pull through
// cache) perform Action on Resource, a repository of account Owner?
type FeatureRequest struct {
	Feature  policy.Feature
	From     string
	Action   string
	Resource string
	Owner    string
	Time     time.Time
}

// AuthorizeFeature decides r on the owner's registry policy (nil when it
// has none), as ECR does for cross-account replication: the policy must
// allow the source account — its root, which stands for every identity
// of it — the action; within one account no policy is needed. A refusal
// is a *DeniedError naming the source account's root.
func AuthorizeFeature(registryPolicy *policy.Policy, r FeatureRequest) error {
	root := authn.RootARN(r.From)
	req := policy.Request{
		Principal:       policy.Principal{Type: policy.Root, ARN: root, Account: r.From, UserID: r.From},
		Action:          r.Action,
		Resource:        r.Resource,
		ResourceAccount: r.Owner,
		Feature:         r.Feature,
		Time:            r.Time,
	}
	res := policy.Evaluate(req, registryPolicy)
	if res.Allowed() {
		return nil
	}
	reason := res.Reason
	if res.Decision == policy.ImplicitDeny {
		reason = "because no registry policy allows the " + r.Action + " action"
	}
	return &DeniedError{
		Request: Request{Principal: &authn.Principal{Account: r.From, ARN: root}, Action: r.Action, Resource: r.Resource, ResourceAccount: r.Owner},
		Reason:  reason,
	}
}
