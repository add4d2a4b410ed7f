package authz

import (
	"context"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/authz/policy"
)

// registrySource adds a registry policy to fakeSource.
type registrySource struct {
	*fakeSource
	registry *policy.Policy
}

func (r *registrySource) RegistryPolicy(context.Context, string, string) (*policy.Policy, error) {
	return r.registry, nil
}

// TestEvaluatorRegistryPolicy: a registry policy grants
// ecr:BatchImportUpstreamImage and ecr:CreateRepository to a pull through
// cache request (ECR's rule), and nothing to the same request made for no
// feature; the decision is cached per feature.
func TestEvaluatorRegistryPolicy(t *testing.T) {
	doc, err := policy.Parse(policy.Registry, []byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow",
		"Principal":{"AWS":"`+userBob.ARN+`"},"Action":["ecr:BatchImportUpstreamImage","ecr:CreateRepository"],
		"Resource":"arn:aws:ecr:`+region+`:`+acctA+`:repository/hub/*"}}`))
	if err != nil {
		t.Fatal(err)
	}
	src := &registrySource{fakeSource: newFakeSource(), registry: doc}
	e := NewEvaluator(src, time.Hour)
	imp := Request{Principal: userBob, Action: "ecr:BatchImportUpstreamImage", Resource: RepositoryARN(region, acctA, "hub/alpine"), ResourceAccount: acctA}
	wantDenied(t, e, imp, "because no identity-based policy allows the ecr:BatchImportUpstreamImage action")
	imp.Feature = policy.PullThroughCache
	wantAllowed(t, e, imp)
	create := imp
	create.Action = "ecr:CreateRepository"
	wantAllowed(t, e, create)
	other := imp
	other.Resource = RepositoryARN(region, acctA, "elsewhere/alpine")
	wantDenied(t, e, other, "because no identity-based policy allows the ecr:BatchImportUpstreamImage action")
}
