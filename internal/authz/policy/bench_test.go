package policy

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func BenchmarkEvaluate(b *testing.B) {
	powerUser, _ := LookupManaged("AmazonEC2ContainerRegistryPowerUser")
	inline := MustParse(Identity, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"arn:aws:ecr:*:*:repository/team/*"},
		{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["203.0.113.0/24","10.0.0.0/8"]},"Bool":{"aws:ViaAWSService":"false"}}},
		{"Effect":"Deny","Action":"ecr:Delete*","Resource":"*"}]}`)
	repo := MustParse(Repository, `{"Version":"2012-10-17","Statement":[
		{"Sid":"Pull","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root","arn:aws:iam::999988887777:role/ci"]},
		 "Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"],
		 "Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:*"},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}},
		{"Sid":"NoPlainHTTP","Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)

	// A large identity policy: many statements none of which apply.
	var stmts []string
	for i := 0; i < 50; i++ {
		stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","Action":["ecr:Describe*","ecr:List*"],"Resource":"arn:aws:ecr:us-east-1:111122223333:repository/svc-%d/*"}`, i))
	}
	large := MustParse(Identity, `{"Version":"2012-10-17","Statement":[`+strings.Join(stmts, ",")+`]}`)

	base := Request{Action: "ecr:BatchGetImage", Resource: repoA, ResourceAccount: acctA,
		SourceIP: netip.MustParseAddr("203.0.113.9"), SecureTransport: true, Time: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
		RequestTags: map[string]string{"env": "prod"}}
	same := base
	same.Principal = alice
	cross := base
	cross.Principal = bob
	miss := base
	miss.Principal = alice
	miss.Action = "ecr:DescribeImages"

	for _, bc := range []struct {
		name     string
		req      Request
		policies []*Policy
		want     Decision
	}{
		{"same-account/managed", same, []*Policy{powerUser.Policy}, Allow},
		{"same-account/managed+inline+repository", same, []*Policy{powerUser.Policy, inline, repo}, Allow},
		{"cross-account/conditions", cross, []*Policy{powerUser.Policy, repo}, Allow},
		{"same-account/50-statements-miss", miss, []*Policy{large}, ImplicitDeny},
	} {
		if got := Evaluate(bc.req, bc.policies...); got.Decision != bc.want {
			b.Fatalf("%s: %v", bc.name, got)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Evaluate(bc.req, bc.policies...)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	text := []byte(`{"Version":"2012-10-17","Statement":[{"Sid":"Pull","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root"]},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ci-*"}}}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(Repository, text); err != nil {
			b.Fatal(err)
		}
	}
}
