package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	// Shorthands for statements.
	id := func(stmt string) string { return `{"Version":"2012-10-17","Statement":[` + stmt + `]}` }
	allowAll := `{"Effect":"Allow","Action":"ecr:*","Resource":"*"}`
	repoStmt := func(extra string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"Pull","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"` + extra + `}]}`
	}
	cond := func(c string) string {
		return id(`{"Sid":"C","Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":` + c + `}`)
	}
	for _, tc := range []struct {
		name    string
		kind    Kind
		text    string
		stmt    int
		sid     string
		element string
		msg     string // a part of the message after the location
	}{
		{"bad JSON", Identity, `{"Version": "2012-10-17", "Statement": [`, -1, "", "", "not valid JSON"},
		{"trailing garbage", Identity, id(allowAll) + ` x`, -1, "", "", "not valid JSON"},
		{"array document", Identity, `[]`, -1, "", "", "must be a JSON object"},
		{"null document", Repository, `null`, -1, "", "", "must be a JSON object"},
		{"empty text", Identity, ``, -1, "", "", "not valid JSON"},
		{"wrong Version", Identity, `{"Version":"2010-01-01","Statement":` + allowAll + `}`, -1, "", "Version", `must be "2012-10-17" or "2008-10-17", not "2010-01-01"`},
		{"Version as a number", Identity, `{"Version":20121017,"Statement":` + allowAll + `}`, -1, "", "Version", "not 20121017"},
		{"unknown element", Identity, `{"Version":"2012-10-17","Statment":[]}`, -1, "", "Statment", "unknown element"},
		{"Id not a string", Identity, `{"Version":"2012-10-17","Id":1,"Statement":` + allowAll + `}`, -1, "", "Id", "must be a string"},
		{"no Statement", Identity, `{"Version":"2012-10-17"}`, -1, "", "Statement", "missing"},
		{"empty Statement", Identity, `{"Version":"2012-10-17","Statement":[]}`, -1, "", "Statement", "non-empty array"},
		{"Statement a string", Identity, `{"Version":"2012-10-17","Statement":"Allow"}`, -1, "", "Statement", "non-empty array"},
		{"statement not an object", Identity, id(`1`), 0, "", "", "must be a JSON object"},
		{"unknown statement element", Identity, id(`{"Sid":"A","Effect":"Allow","Actions":"ecr:*","Resource":"*"}`), 0, "A", "Actions", "unknown element"},

		{"Principal in an identity policy", Identity, id(allowAll + `,{"Sid":"Second","Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"*"}`), 1, "Second", "Principal", "not allowed in an identity-based policy"},
		{"NotPrincipal in an identity policy", Identity, id(`{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"ecr:*","Resource":"*"}`), 0, "", "NotPrincipal", "not allowed in an identity-based policy"},
		{"no Principal in a repository policy", Repository, `{"Version":"2012-10-17","Statement":{"Sid":"P","Effect":"Allow","Action":"ecr:*"}}`, 0, "P", "Principal", "missing"},
		{"no Principal in a registry policy", Registry, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:ReplicateImage","Resource":"*"}}`, 0, "", "Principal", "missing"},
		{"Principal and NotPrincipal", Repository, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","NotPrincipal":"*","Action":"ecr:*"}}`, 0, "", "NotPrincipal", "not both"},
		{"Principal a name", Repository, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"alice","Action":"ecr:*"}}`, 0, "", "Principal", `must be "*"`},
		{"Principal empty object", Repository, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{},"Action":"ecr:*"}}`, 0, "", "Principal", "must be"},
		{"Principal short account", Repository, `{"Version":"2012-10-17","Statement":{"Sid":"X","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1234:root"},"Action":"ecr:*"}}`, 0, "X", "Principal.AWS", "is not an account ID or an IAM or STS ARN"},
		{"Principal partial wildcard", Repository, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"ecr:*"}}`, 0, "", "Principal.AWS", "wildcards are not allowed"},
		{"Principal group", Repository, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:group/devs"},"Action":"ecr:*"}}`, 0, "", "Principal.AWS", "not a root, user, role"},
		{"Principal session without name", Repository, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/ci"},"Action":"ecr:*"}}`, 0, "", "Principal.AWS", "not a root, user, role"},
		{"Principal ECR ARN", Repository, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:ecr:us-east-1:111122223333:repository/x"},"Action":"ecr:*"}}`, 0, "", "Principal.AWS", "not an account ID"},
		{"Principal empty list", Repository, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":[]},"Action":"ecr:*"}}`, 0, "", "Principal.AWS", "non-empty array"},
		{"Principal Federated", Repository, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"ecr:*"}}`, 0, "", "Principal.Federated", "not supported by ECR"},
		{"Principal unknown type", Repository, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"User":"alice"},"Action":"ecr:*"}}`, 0, "", "Principal.User", "unknown principal type"},
		{"Service principal bad", Repository, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"codebuild"},"Action":"ecr:*"}}`, 0, "", "Principal.Service", "not a service principal"},

		{"no Resource in an identity policy", Identity, id(allowAll + `,{"Sid":"Second","Effect":"Allow","Action":"ecr:*"}`), 1, "Second", "Resource", "missing"},
		{"no Resource in a registry policy", Registry, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"ecr:ReplicateImage"}}`, 0, "", "Resource", "missing"},
		{"Resource in a repository policy", Repository, repoStmt(`,"Resource":"*"`), 0, "Pull", "Resource", "not allowed in a repository policy"},
		{"NotResource in a repository policy", Repository, repoStmt(`,"NotResource":"arn:aws:ecr:us-east-1:111122223333:repository/x"`), 0, "Pull", "NotResource", "not allowed in a repository policy"},
		{"Resource and NotResource", Identity, id(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","NotResource":"*"}`), 0, "", "NotResource", "not both"},
		{"bad ARN", Identity, id(`{"Sid":"R","Effect":"Allow","Action":"ecr:*","Resource":"repository/app"}`), 0, "R", "Resource", `"repository/app" is not an ARN`},
		{"ARN with five parts", Identity, id(`{"Effect":"Allow","Action":"ecr:*","Resource":["*","arn:aws:ecr:us-east-1:111122223333"]}`), 0, "", "Resource", "is not an ARN"},
		{"ARN without a service", Identity, id(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws::us-east-1:111122223333:x"}`), 0, "", "Resource", "is not an ARN"},
		{"Resource a number", Identity, id(`{"Effect":"Allow","Action":"ecr:*","Resource":5}`), 0, "", "Resource", "must be a string"},
		{"Resource list with a number", Identity, id(`{"Effect":"Allow","Action":"ecr:*","Resource":["*",5]}`), 0, "", "Resource", "must be a string"},

		{"no Effect", Identity, id(`{"Sid":"E","Action":"ecr:*","Resource":"*"}`), 0, "E", "Effect", "missing"},
		{"lower-case Effect", Identity, id(`{"Effect":"allow","Action":"ecr:*","Resource":"*"}`), 0, "", "Effect", `not "allow"`},
		{"no Action", Identity, id(`{"Effect":"Allow","Resource":"*"}`), 0, "", "Action", "missing"},
		{"Action without a service", Identity, id(`{"Effect":"Allow","Action":"BatchGetImage","Resource":"*"}`), 0, "", "Action", `"BatchGetImage" is not an action`},
		{"Action with a space", Identity, id(`{"Effect":"Allow","Action":["ecr:Get Image"],"Resource":"*"}`), 0, "", "Action", "is not an action"},
		{"wildcard service", Identity, id(`{"Effect":"Allow","Action":"*:Get*","Resource":"*"}`), 0, "", "Action", "is not an action"},
		{"empty Action list", Identity, id(`{"Effect":"Allow","Action":[],"Resource":"*"}`), 0, "", "Action", "non-empty array"},
		{"Action and NotAction", Identity, id(`{"Effect":"Allow","Action":"ecr:*","NotAction":"s3:*","Resource":"*"}`), 0, "", "NotAction", "not both"},
		{"bad NotAction", Identity, id(`{"Effect":"Allow","NotAction":"ecr","Resource":"*"}`), 0, "", "NotAction", "is not an action"},

		{"Sid with a space in an identity policy", Identity, id(`{"Sid":"Allow pull","Effect":"Allow","Action":"ecr:*","Resource":"*"}`), 0, "Allow pull", "Sid", "only letters and digits"},
		{"Sid a number", Identity, id(`{"Sid":1,"Effect":"Allow","Action":"ecr:*","Resource":"*"}`), 0, "", "Sid", "must be a string"},
		{"duplicate Sid", Repository, `{"Version":"2012-10-17","Statement":[{"Sid":"S","Effect":"Allow","Principal":"*","Action":"ecr:*"},{"Sid":"S","Effect":"Deny","Principal":"*","Action":"ecr:DeleteRepository"}]}`, 1, "S", "Sid", "Statement[0] has the same Sid"},

		{"unknown operator", Identity, cond(`{"StringEqual":{"aws:username":"alice"}}`), 0, "C", "Condition.StringEqual", "unknown condition operator"},
		{"NullIfExists", Identity, cond(`{"NullIfExists":{"aws:SourceIp":"true"}}`), 0, "C", "Condition.NullIfExists", "unknown condition operator"},
		{"ForAnyValue:Null", Identity, cond(`{"ForAnyValue:Null":{"aws:TagKeys":"true"}}`), 0, "C", "Condition.ForAnyValue:Null", "unknown condition operator"},
		{"lower-case operator", Identity, cond(`{"stringequals":{"aws:username":"alice"}}`), 0, "C", "Condition.stringequals", "unknown condition operator"},
		{"Condition not an object", Identity, cond(`[]`), 0, "C", "Condition", "must be an object of operators"},
		{"operator not an object", Identity, cond(`{"StringEquals":"alice"}`), 0, "C", "Condition.StringEquals", "must be an object of condition keys"},
		{"operator without keys", Identity, cond(`{"StringEquals":{}}`), 0, "C", "Condition.StringEquals", "must be an object of condition keys"},
		{"key without a prefix", Identity, cond(`{"StringEquals":{"username":"alice"}}`), 0, "C", "Condition.StringEquals.username", "not a condition key"},
		{"tag key without a tag", Identity, cond(`{"StringEquals":{"aws:ResourceTag/":"x"}}`), 0, "C", "Condition.StringEquals.aws:ResourceTag/", "not a condition key"},
		{"bad CIDR", Identity, cond(`{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","10.0.0.0/33"]}}`), 0, "C", "Condition.IpAddress.aws:SourceIp", `"10.0.0.0/33" is not an IP address or CIDR block`},
		{"CIDR with a host name", Identity, cond(`{"NotIpAddress":{"aws:SourceIp":"example.com"}}`), 0, "C", "Condition.NotIpAddress.aws:SourceIp", "is not an IP address"},
		{"bad date", Identity, cond(`{"DateLessThan":{"aws:CurrentTime":"yesterday"}}`), 0, "C", "Condition.DateLessThan.aws:CurrentTime", `"yesterday" is not a date`},
		{"impossible date", Identity, cond(`{"DateGreaterThan":{"aws:CurrentTime":"2024-02-30T00:00:00Z"}}`), 0, "C", "Condition.DateGreaterThan.aws:CurrentTime", "is not a date"},
		{"bad number", Identity, cond(`{"NumericLessThan":{"s3:max-keys":"ten"}}`), 0, "C", "Condition.NumericLessThan.s3:max-keys", `"ten" is not a number`},
		{"variable in a number", Identity, cond(`{"NumericEquals":{"ecr:count":"${aws:username}"}}`), 0, "C", "Condition.NumericEquals.ecr:count", "is not a number"},
		{"bad bool", Identity, cond(`{"Bool":{"aws:SecureTransport":"yes"}}`), 0, "C", "Condition.Bool.aws:SecureTransport", `"yes" is not true or false`},
		{"bad Null", Identity, cond(`{"Null":{"aws:SourceIp":"maybe"}}`), 0, "C", "Condition.Null.aws:SourceIp", "is not true or false"},
		{"condition value an object", Identity, cond(`{"StringEquals":{"aws:username":{"a":1}}}`), 0, "C", "Condition.StringEquals.aws:username", "must be a string, number or boolean"},
		{"condition value null", Identity, cond(`{"StringEquals":{"aws:username":null}}`), 0, "C", "Condition.StringEquals.aws:username", "must be a string, number or boolean"},
		{"condition values empty", Identity, cond(`{"StringEquals":{"aws:username":[]}}`), 0, "C", "Condition.StringEquals.aws:username", "non-empty array"},
		{"condition list with null", Identity, cond(`{"StringEquals":{"aws:username":["a",null]}}`), 0, "C", "Condition.StringEquals.aws:username", "must be a string"},

		{"registry NotAction", Registry, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"NotAction":"ecr:DeleteRepository","Resource":"*"}}`, 0, "", "NotAction", "not allowed in a registry policy"},
		{"registry pull action", Registry, `{"Version":"2012-10-17","Statement":{"Sid":"Pull","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":["ecr:ReplicateImage","ecr:BatchGetImage"],"Resource":"*"}}`, 0, "Pull", "Action", `"ecr:BatchGetImage" cannot be granted by a registry policy`},
		{"registry wildcard other than ecr:*", Registry, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"ecr:Replicate*","Resource":"*"}}`, 0, "", "Action", "cannot be granted by a registry policy"},
		{"repository policy too long", Repository, `{"Version":"2012-10-17","Id":"` + strings.Repeat("x", 10240) + `","Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*"}}`, -1, "", "", "the limit is 10240"},
		{"unknown kind", Kind(0), id(allowAll), -1, "", "", "unknown kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.kind, []byte(tc.text))
			if err == nil {
				t.Fatalf("Parse accepted it: %v", p)
			}
			var pe *Error
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			if pe.Statement != tc.stmt || pe.Sid != tc.sid || pe.Element != tc.element {
				t.Errorf("at Statement %d Sid %q Element %q; want %d %q %q (%v)", pe.Statement, pe.Sid, pe.Element, tc.stmt, tc.sid, tc.element, err)
			}
			// The message names the place.
			var where strings.Builder
			where.WriteString("invalid " + tc.kind.String() + ": ")
			if tc.stmt >= 0 {
				where.WriteString("Statement[" + string(rune('0'+tc.stmt)) + "]")
				if tc.sid != "" {
					where.WriteString(` (Sid "` + tc.sid + `")`)
				}
				where.WriteString(": ")
			}
			if tc.element != "" {
				where.WriteString(tc.element + ": ")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, where.String()) || !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q; want it to start %q and contain %q", msg, where.String(), tc.msg)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind Kind
		text string
	}{
		{"ECR cross-account pull", Repository, `{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "AllowCrossAccountPull",
    "Effect": "Allow",
    "Principal": {"AWS": ["arn:aws:iam::444455556666:root", "arn:aws:iam::444455556666:role/ci", "555566667777"]},
    "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
  }]
}`},
		{"CodeBuild service principal", Repository, `{"Version":"2008-10-17","Statement":[{"Sid":"CodeBuildAccess","Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:codebuild:us-east-1:111122223333:project/*"},"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}`},
		{"Sid with spaces in a repository policy", Repository, `{"Version":"2012-10-17","Statement":{"Sid":"new statement","Effect":"Allow","Principal":"*","Action":"ecr:*"}}`},
		{"NotPrincipal deny", Repository, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:sts::111122223333:assumed-role/ci/s","arn:aws:iam::111122223333:role/ci","111122223333"]},"Action":"ecr:*"}}`},
		{"federated user principal", Repository, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:federated-user/carol"},"Action":"ecr:*"}}`},
		{"China partition", Repository, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws-cn:iam::111122223333:root"},"Action":"ecr:*"}}`},
		{"registry replication", Registry, `{"Version":"2012-10-17","Statement":[{"Sid":"ReplicationAccessCrossAccount","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["ecr:CreateRepository","ecr:ReplicateImage"],"Resource":["arn:aws:ecr:us-west-2:444455556666:repository/*"]}]}`},
		{"registry pull through cache", Registry, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":["ecr:BatchImportUpstreamImage","ECR:createRepository"],"Resource":"arn:aws:ecr:us-east-1:111122223333:repository/ecr-public/*"}}`},
		{"registry ecr:*", Registry, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"ecr:*","Resource":"*"}}`},
		{"every operator", Identity, `{"Version":"2012-10-17","Id":"all","Statement":{"Sid":"All1","Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{
			"StringEquals":{"aws:username":"a"},"StringNotEquals":{"aws:username":"b"},"StringEqualsIgnoreCase":{"aws:username":"A"},
			"StringNotEqualsIgnoreCase":{"aws:username":"B"},"StringLike":{"aws:username":"a*"},"StringNotLike":{"aws:username":"b*"},
			"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/a"},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"},
			"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/b"},"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"},
			"Bool":{"aws:SecureTransport":true},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32","192.0.2.1"]},
			"NotIpAddress":{"aws:SourceIp":"10.1.0.0/16"},"DateEquals":{"aws:CurrentTime":"2024-01-01"},
			"DateNotEquals":{"aws:CurrentTime":"2024-01"},"DateLessThan":{"aws:CurrentTime":"2030"},
			"DateLessThanEquals":{"aws:CurrentTime":"2030-01-01T00:00Z"},"DateGreaterThan":{"aws:CurrentTime":1700000000},
			"DateGreaterThanEquals":{"aws:CurrentTime":"2020-01-01T00:00:00.123+02:00"},"NumericEquals":{"ecr:n":1},
			"NumericNotEquals":{"ecr:n":"-2"},"NumericLessThan":{"ecr:n":"3.5"},"NumericLessThanEquals":{"ecr:n":4e2},
			"NumericGreaterThan":{"ecr:n":0},"NumericGreaterThanEquals":{"ecr:n":0},"Null":{"aws:TokenIssueTime":"true"},
			"StringEqualsIfExists":{"aws:username":"a"},"ArnLikeIfExists":{"aws:SourceArn":"*"},"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"},
			"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"},"DateLessThanIfExists":{"aws:TokenIssueTime":"2030"},
			"NumericLessThanIfExists":{"ecr:n":5},"ForAllValues:StringLike":{"aws:TagKeys":["team-*"]},
			"ForAnyValue:StringEqualsIgnoreCaseIfExists":{"aws:TagKeys":"ENV"}}}}`},
		{"managed-policy style with Resource list", Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:*"],"Resource":["arn:aws:ecr:*:${aws:PrincipalAccount}:repository/${aws:username}/*"]}]}`},
		{"2008 without Version", Identity, `{"Statement":{"Effect":"Deny","NotAction":"ecr:Get*","NotResource":"arn:aws:ecr:*:*:repository/public/*"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse(tc.kind, []byte(tc.text)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	in := `{
  "Version": "2012-10-17",
  "Id": "x",
  "Statement": [
    {"Sid": "A", "Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com", "AWS": ["111122223333"]},
     "Action": "ecr:BatchGetImage",
     "Condition": {"StringLike": {"aws:userid": ["AROA*", "AIDA*"]}, "Bool": {"aws:SecureTransport": true}, "NumericLessThan": {"ecr:n": 1.5e1}}},
    {"Effect": "Deny", "NotPrincipal": "*", "NotAction": ["ecr:Get*"]}
  ]
}`
	want := `{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"A","Effect":"Allow","Principal":{"AWS":["111122223333"],"Service":"codebuild.amazonaws.com"},` +
		`"Action":"ecr:BatchGetImage","Condition":{"Bool":{"aws:SecureTransport":"true"},"NumericLessThan":{"ecr:n":"1.5e1"},"StringLike":{"aws:userid":["AROA*","AIDA*"]}}},` +
		`{"Effect":"Deny","NotPrincipal":"*","NotAction":["ecr:Get*"]}]}`
	p := MustParse(Repository, in)
	got, err := p.MarshalJSON()
	if err != nil || string(got) != want {
		t.Fatalf("MarshalJSON = %s, %v\nwant %s", got, err, want)
	}
	again, err := Parse(Repository, got)
	if err != nil {
		t.Fatal(err)
	}
	if got2, _ := again.MarshalJSON(); string(got2) != want {
		t.Fatalf("second MarshalJSON = %s", got2)
	}
	if p.ID() != "x" || p.Len() != 2 || p.Kind() != Repository {
		t.Errorf("ID %q Len %d Kind %v", p.ID(), p.Len(), p.Kind())
	}
	single := MustParse(Identity, `{"Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*"}}`)
	if got, _ := single.MarshalJSON(); string(got) != `{"Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*"}}` {
		t.Errorf("single statement: %s", got)
	}
}

func TestNonWhitespaceLen(t *testing.T) {
	for text, want := range map[string]int{
		"":                         0,
		" \t\r\n":                  0,
		`{"a": "b c"}`:             10,
		"{\n  \"Sid\": \"é\"\n}":   11,
		`{"Version":"2012-10-17"}`: 24,
	} {
		if got := NonWhitespaceLen([]byte(text)); got != want {
			t.Errorf("NonWhitespaceLen(%q) = %d; want %d", text, got, want)
		}
	}
}

func TestECRMessages(t *testing.T) {
	// As ECR sends them (terraform-aws-modules/terraform-aws-ecr#19,
	// pulumi/pulumi-aws#2326).
	if ECRInvalidRepositoryPolicy != "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'" {
		t.Error(ECRInvalidRepositoryPolicy)
	}
	if ECRInvalidRegistryPolicy != "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'" {
		t.Error(ECRInvalidRegistryPolicy)
	}
}
