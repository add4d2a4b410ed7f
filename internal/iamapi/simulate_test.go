package iamapi

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSimulateAnswers: the simulator's checks, its answers in IAM's XML
// (decisions, matched statements with positions, missing context keys,
// results by resource, pages) and its refusals in IAM's codes.
func TestSimulateAnswers(t *testing.T) {
	f := newFrontDoor(t)
	allowPull := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}]}`
	for _, setup := range []string{
		"Action=CreateUser&UserName=bob&Path=/eng/",
		"Action=PutUserPolicy&UserName=bob&PolicyName=pull&PolicyDocument=" + url.QueryEscape(allowPull),
		"Action=CreateRole&RoleName=ci&AssumeRolePolicyDocument=" +
			url.QueryEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}`),
	} {
		if status, out := f.call(setup); status != http.StatusOK {
			t.Fatalf("%s: %d %s", setup, status, out)
		}
	}
	bob := url.QueryEscape("arn:aws:iam::123456789012:user/eng/bob")
	repo := "arn:aws:ecr:us-east-1:123456789012:repository/app"
	deny := url.QueryEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage"}]}`)
	sim := "Action=SimulatePrincipalPolicy&PolicySourceArn=" + bob
	for _, tc := range []struct {
		name   string
		params string
		status int
		want   []string
	}{
		{"allowed, with the statement's place", sim + "&ActionNames.member.1=ecr:BatchGetImage", 200, []string{
			"<EvaluationResults><member><EvalActionName>ecr:BatchGetImage</EvalActionName><EvalResourceName>*</EvalResourceName><EvalDecision>allowed</EvalDecision>",
			"<MatchedStatements><member><SourcePolicyId>pull</SourcePolicyId><SourcePolicyType>user</SourcePolicyType><StartPosition><Line>1</Line><Column>38</Column></StartPosition><EndPosition><Line>1</Line><Column>100</Column></EndPosition></member></MatchedStatements>",
			"<MissingContextValues></MissingContextValues></member></EvaluationResults><IsTruncated>false</IsTruncated>"}},
		{"implicit deny, by resource", sim + "&ActionNames.member.1=ecr:PutImage&ResourceArns.member.1=" + repo, 200, []string{
			"<EvalResourceName>" + repo + "</EvalResourceName><EvalDecision>implicitDeny</EvalDecision><MatchedStatements></MatchedStatements>",
			"<ResourceSpecificResults><member><EvalResourceName>" + repo + "</EvalResourceName><EvalResourceDecision>implicitDeny</EvalResourceDecision>"}},
		{"explicit deny from a resource policy", sim + "&ActionNames.member.1=ecr:BatchGetImage&ResourceArns.member.1=" + repo + "&ResourcePolicy=" + deny, 200, []string{
			"<EvalDecision>explicitDeny</EvalDecision><MatchedStatements><member><SourcePolicyId>ResourcePolicy</SourcePolicyId><SourcePolicyType>resource</SourcePolicyType>"}},
		{"a context key the policy lacks", sim + "&ActionNames.member.1=ecr:PutImage&PolicyInputList.member.1=" +
			url.QueryEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`),
			200, []string{"<EvalDecision>implicitDeny</EvalDecision>", "<MissingContextValues><member>aws:SourceIp</member></MissingContextValues>"}},
		{"the context key given", sim + "&ActionNames.member.1=ecr:PutImage&PolicyInputList.member.1=" +
			url.QueryEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`) +
			"&ContextEntries.member.1.ContextKeyName=aws:SourceIp&ContextEntries.member.1.ContextKeyValues.member.1=10.9.9.9&ContextEntries.member.1.ContextKeyType=ip",
			200, []string{"<EvalDecision>allowed</EvalDecision>", "<SourcePolicyId>PolicyInputList.1</SourcePolicyId><SourcePolicyType>none</SourcePolicyType>"}},
		{"a page", sim + "&ActionNames.member.1=ecr:A&ActionNames.member.2=ecr:B&ActionNames.member.3=ecr:C&MaxItems=2", 200, []string{
			"<EvalActionName>ecr:A</EvalActionName>", "<EvalActionName>ecr:B</EvalActionName>", "<IsTruncated>true</IsTruncated><Marker>2</Marker>"}},
		{"the next page", sim + "&ActionNames.member.1=ecr:A&ActionNames.member.2=ecr:B&ActionNames.member.3=ecr:C&MaxItems=2&Marker=2", 200, []string{
			"<EvaluationResults><member><EvalActionName>ecr:C</EvalActionName>", "<IsTruncated>false</IsTruncated>"}},
		{"a role session's role", "Action=SimulatePrincipalPolicy&PolicySourceArn=arn:aws:sts::123456789012:assumed-role/ci/s&ActionNames.member.1=ecr:PutImage", 200, []string{
			"<EvalDecision>implicitDeny</EvalDecision>"}},
		{"custom policy", "Action=SimulateCustomPolicy&ActionNames.member.1=ecr:PutImage&PolicyInputList.member.1=" + url.QueryEscape(allowPull), 200, []string{
			"<SimulateCustomPolicyResult><EvaluationResults><member><EvalActionName>ecr:PutImage</EvalActionName><EvalResourceName>*</EvalResourceName><EvalDecision>implicitDeny</EvalDecision>"}},

		{"no such user", "Action=SimulatePrincipalPolicy&PolicySourceArn=arn:aws:iam::123456789012:user/ghost&ActionNames.member.1=ecr:PutImage", 404, []string{
			"<Code>NoSuchEntity</Code><Message>The user with name ghost cannot be found.</Message>"}},
		{"malformed policy", sim + "&ActionNames.member.1=ecr:PutImage&PolicyInputList.member.1=" + url.QueryEscape(`{"Statement":[`), 400, []string{
			"<Code>InvalidInput</Code><Message>PolicyInputList.1: Syntax errors in policy.</Message>"}},
		{"malformed resource policy", sim + "&ActionNames.member.1=ecr:PutImage&ResourcePolicy=" + url.QueryEscape(allowPull), 400, []string{
			"<Code>InvalidInput</Code><Message>ResourcePolicy: "}},
		{"no actions", "Action=SimulatePrincipalPolicy&PolicySourceArn=" + bob, 400, []string{"<Code>ValidationError</Code>"}},
		{"a boundary", sim + "&ActionNames.member.1=ecr:PutImage&PermissionsBoundaryPolicyInputList.member.1=" + url.QueryEscape(allowPull), 400, []string{
			"<Code>ValidationError</Code><Message>Berth does not support PermissionsBoundaryPolicyInputList yet</Message>"}},
		{"bad marker", sim + "&ActionNames.member.1=ecr:PutImage&Marker=x", 400, []string{"<Code>InvalidInput</Code>"}},
	} {
		f.authz.asked = nil
		status, out := f.call(tc.params)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, status, tc.status, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s: answer lacks %s:\n%s", tc.name, w, out)
			}
		}
	}

	// What each is authorized on: the simulated entity, a session's role.
	for _, tc := range []struct{ params, action, resource string }{
		{sim + "&ActionNames.member.1=ecr:PutImage", "iam:SimulatePrincipalPolicy", "arn:aws:iam::123456789012:user/eng/bob"},
		{"Action=SimulatePrincipalPolicy&PolicySourceArn=arn:aws:sts::123456789012:assumed-role/ci/s&ActionNames.member.1=ecr:PutImage",
			"iam:SimulatePrincipalPolicy", "arn:aws:iam::123456789012:role/ci"},
		{"Action=SimulateCustomPolicy&ActionNames.member.1=ecr:PutImage&PolicyInputList.member.1=" + url.QueryEscape(allowPull), "iam:SimulateCustomPolicy", "*"},
	} {
		f.authz.asked = nil
		f.call(tc.params)
		if len(f.authz.asked) != 1 || f.authz.asked[0].Action != tc.action || f.authz.asked[0].Resource != tc.resource {
			t.Errorf("%s: checked %+v; want %s on %s", tc.params, f.authz.asked, tc.action, tc.resource)
		}
	}
}
