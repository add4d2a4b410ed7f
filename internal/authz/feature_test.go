package authz

import (
	"errors"
	"strings"
	"testing"

	"github.com/berth-registry/berth/internal/authz/policy"
)

func TestAuthorizeFeature(t *testing.T) {
	const (
		src   = "111111111111"
		owner = "222222222222"
	)
	parse := func(text string) *policy.Policy {
		p, err := policy.Parse(policy.Registry, []byte(text))
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		return p
	}
	replicate := parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},
		"Action":["ecr:ReplicateImage"],"Resource":"arn:aws:ecr:us-east-1:222222222222:repository/*"}]}`)
	both := parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},
		"Action":["ecr:ReplicateImage","ecr:CreateRepository"],"Resource":"arn:aws:ecr:us-east-1:222222222222:repository/prod-*"}]}`)
	deny := parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"ecr:*","Resource":"*"},
		{"Effect":"Deny","Principal":{"AWS":"111111111111"},"Action":"ecr:CreateRepository","Resource":"*"}]}`)
	repo := func(name string) string { return RepositoryARN("us-east-1", owner, name) }
	for _, tc := range []struct {
		name   string
		pol    *policy.Policy
		from   string
		action string
		res    string
		want   string // part of the denial; "" to allow
	}{
		{"no policy", nil, src, "ecr:ReplicateImage", repo("app"), "because no registry policy allows the ecr:ReplicateImage action"},
		{"same account needs none", nil, owner, "ecr:ReplicateImage", repo("app"), ""},
		{"allowed", replicate, src, "ecr:ReplicateImage", repo("app"), ""},
		{"create not allowed", replicate, src, "ecr:CreateRepository", repo("app"), "no registry policy allows the ecr:CreateRepository"},
		{"another account", replicate, "333333333333", "ecr:ReplicateImage", repo("app"), "User: arn:aws:iam::333333333333:root is not authorized"},
		{"another region", replicate, src, "ecr:ReplicateImage", RepositoryARN("us-west-2", owner, "app"), "not authorized"},
		{"by prefix", both, src, "ecr:CreateRepository", repo("prod-api"), ""},
		{"outside the prefix", both, src, "ecr:CreateRepository", repo("dev-api"), "not authorized"},
		{"explicit deny", deny, src, "ecr:CreateRepository", repo("app"), "with an explicit deny"},
		{"deny leaves the rest", deny, src, "ecr:ReplicateImage", repo("app"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := AuthorizeFeature(tc.pol, FeatureRequest{Feature: policy.Replication, From: tc.from, Action: tc.action, Resource: tc.res, Owner: owner})
			var denied *DeniedError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("denied: %v", err)
			case tc.want != "" && (!errors.As(err, &denied) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("AuthorizeFeature = %v, want a denial with %q", err, tc.want)
			}
		})
	}
}
