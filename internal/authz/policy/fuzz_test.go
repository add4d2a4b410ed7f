package policy

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

// FuzzPolicy feeds arbitrary documents to Parse, and arbitrary actions and
// resources to Evaluate. Policies come from users, so neither may panic;
// a document Parse accepts must survive MarshalJSON and Parse again
// unchanged and decide every request the same way.
func FuzzPolicy(f *testing.F) {
	for _, seed := range []struct{ doc, action, resource string }{
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*"}}`, "ecr:BatchGetImage", repoA},
		{`{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::444455556666:role/ci"]},"Action":["ecr:Get*","ecr:BatchGetImage"],"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/${aws:username}"}}}]}`, "ecr:GetDownloadUrlForLayer", repoA},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:sts::111122223333:assumed-role/ci/s"},"NotAction":"ecr:Describe*"}}`, "ecr:PutImage", repoA},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"ecr:ReplicateImage","Resource":"arn:aws:ecr:*:111122223333:repository/*"}}`, "ecr:ReplicateImage", repoA},
		{`{"Statement":{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:ecr:us-east-1:*:repository/${aws:username}","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]},"DateLessThan":{"aws:CurrentTime":"2030"},"NumericGreaterThanEquals":{"aws:EpochTime":0},"Null":{"aws:SourceIp":false},"BoolIfExists":{"aws:SecureTransport":"true"}}}}`, "ECR:TagResource", "arn:aws:ecr:us-east-1:111122223333:repository/${aws:username}"},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:${aws:PrincipalAccount, 'x'}:repository/a${*}b?*","Condition":{"ArnNotLike":{"aws:SourceArn":["arn:aws:*", "*"]},"ForAnyValue:StringNotEqualsIgnoreCaseIfExists":{"aws:RequestTag/Env":"${aws:userid}"}}}}`, "ecr:x", "arn:aws:ecr:us-east-1:111122223333:repository/a*bc"},
		{`{"Version":"2012-10-17","Statement":[]}`, "", ""},
		{`[1,{"a":null}]`, "*", "*"},
	} {
		f.Add([]byte(seed.doc), seed.action, seed.resource)
	}
	requests := func(action, resource string) []Request {
		when := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
		ctx := func(p Principal) Request {
			return Request{Principal: p, Action: action, Resource: resource, ResourceAccount: acctA,
				SourceIP: netip.MustParseAddr("10.1.2.3"), SecureTransport: true, Time: when,
				RequestTags:  map[string]string{"Env": "prod", "team": "a"},
				ResourceTags: map[string]string{"owner": "alice"},
				Context:      map[string][]string{"aws:SourceArn": {resource}, "ecr:n": {"7"}}}
		}
		reqs := []Request{ctx(alice), ctx(bob), ctx(ci), ctx(rootA), ctx(rootB), ctx(anon), ctx(replSvc), ctx(carol),
			{Principal: deployerB, Action: action, Resource: resource, Feature: Replication}}
		return reqs
	}
	f.Fuzz(func(t *testing.T, data []byte, action, resource string) {
		for _, kind := range []Kind{Identity, Repository, Registry} {
			p, err := Parse(kind, data)
			if err != nil {
				var pe *Error
				if !errors.As(err, &pe) || pe.Error() == "" {
					t.Fatalf("Parse error %T %v", err, err)
				}
				continue
			}
			text, err := p.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			p2, err := Parse(kind, text)
			if err != nil {
				t.Fatalf("Parse(MarshalJSON) of %s: %v\n%s", data, err, text)
			}
			text2, _ := p2.MarshalJSON()
			if string(text) != string(text2) {
				t.Fatalf("MarshalJSON not stable:\n%s\n%s", text, text2)
			}
			for _, req := range requests(action, resource) {
				r1 := Evaluate(req, p)
				r2 := Evaluate(req, p2)
				if r1 != r2 {
					t.Fatalf("%+v: %v before marshalling, %v after", req.Principal, r1, r2)
				}
				if (r1.Decision == Allow) != (r1.Reason == "") {
					t.Fatalf("decision %v with reason %q", r1.Decision, r1.Reason)
				}
				_ = r1.Message(req)
				// The simulator's Explain never parts from enforcement.
				if ex := Explain(req, p); ex.Result != r1 {
					t.Fatalf("%+v: Explain %v, Evaluate %v", req.Principal, ex.Result, r1)
				}
			}
		}
	})
}
