package policy

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	acctA = "111122223333"
	acctB = "444455556666"
	repoA = "arn:aws:ecr:us-east-1:111122223333:repository/team/app"
	repoX = "arn:aws:ecr:us-east-1:111122223333:repository/other"
)

var (
	alice     = Principal{Type: User, ARN: "arn:aws:iam::111122223333:user/alice", Account: acctA, UserID: "AIDAALICE"}
	dave      = Principal{Type: User, ARN: "arn:aws:iam::111122223333:user/eng/dave", Account: acctA, UserID: "AIDADAVE"}
	bob       = Principal{Type: User, ARN: "arn:aws:iam::444455556666:user/bob", Account: acctB, UserID: "AIDABOB"}
	rootA     = Principal{Type: Root, ARN: "arn:aws:iam::111122223333:root", Account: acctA}
	rootB     = Principal{Type: Root, ARN: "arn:aws:iam::444455556666:root", Account: acctB}
	ci        = Principal{Type: AssumedRole, ARN: "arn:aws:sts::111122223333:assumed-role/ci/build-1", Account: acctA, UserID: "AROACI:build-1"}
	ciOps     = Principal{Type: AssumedRole, ARN: "arn:aws:sts::111122223333:assumed-role/deploy/s", Account: acctA, RoleARN: "arn:aws:iam::111122223333:role/ops/deploy"}
	deployerB = Principal{Type: AssumedRole, ARN: "arn:aws:sts::444455556666:assumed-role/deployer/s1", Account: acctB}
	carol     = Principal{Type: FederatedUser, ARN: "arn:aws:sts::111122223333:federated-user/carol", Account: acctA}
	anon      = Principal{Type: Anonymous, ARN: "anonymous"}
	replSvc   = Principal{Type: Service, ARN: "replication.ecr.amazonaws.com"}
)

// outcome is what a case expects; wantOf turns it into IAM's exact words,
// written out here rather than borrowed from the package.
type outcome int

const (
	allow outcome = iota
	noIdentity
	noResource
	denyIdentity
	denyResource
)

func wantOf(o outcome, r Request) (Decision, string, string) {
	var d Decision
	var reason string
	switch o {
	case allow:
		return Allow, "", ""
	case noIdentity:
		d, reason = ImplicitDeny, "because no identity-based policy allows the "+r.Action+" action"
	case noResource:
		d, reason = ImplicitDeny, "because no resource-based policy allows the "+r.Action+" action"
	case denyIdentity:
		d, reason = ExplicitDeny, "with an explicit deny in an identity-based policy"
	case denyResource:
		d, reason = ExplicitDeny, "with an explicit deny in a resource-based policy"
	}
	return d, reason, "User: " + r.Principal.ARN + " is not authorized to perform: " + r.Action +
		" on resource: " + r.Resource + " " + reason
}

type doc struct {
	kind Kind
	text string
}

func idp(text string) doc { return doc{Identity, text} }
func rp(text string) doc  { return doc{Repository, text} }
func regp(text string) doc {
	return doc{Registry, text}
}

// allowID allows action on resource.
func allowID(action, resource string) doc {
	return idp(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":` + action + `,"Resource":` + resource + `}]}`)
}

func denyID(action, resource string) doc {
	return idp(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":` + action + `,"Resource":` + resource + `}]}`)
}

// condID allows everything under one condition.
func condID(op, key, values string) doc {
	return idp(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"` +
		op + `":{"` + key + `":` + values + `}}}]}`)
}

// repoStmt is a repository policy of one statement.
func repoStmt(effect, principal, action string) doc {
	return rp(`{"Version":"2012-10-17","Statement":[{"Sid":"S","Effect":"` + effect + `","Principal":` + principal + `,"Action":` + action + `}]}`)
}

func repoAllow(principal string) doc { return repoStmt("Allow", principal, `"ecr:*"`) }
func repoDeny(principal string) doc  { return repoStmt("Deny", principal, `"ecr:*"`) }

func notPrincipalDeny(list string) doc {
	return rp(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":` + list + `},"Action":"ecr:*"}]}`)
}

func registryAllow(principal, actions, resource string) doc {
	return regp(`{"Version":"2012-10-17","Statement":[{"Sid":"R","Effect":"Allow","Principal":` + principal +
		`,"Action":` + actions + `,"Resource":` + resource + `}]}`)
}

func managedDoc(name string) doc { return doc{kind: 0, text: name} }

func rq(p Principal, action, resource string, mods ...func(*Request)) Request {
	r := Request{Principal: p, Action: action, Resource: resource, SecureTransport: true}
	if parts := strings.SplitN(resource, ":", 6); len(parts) == 6 {
		r.ResourceAccount = parts[4]
	}
	for _, m := range mods {
		m(&r)
	}
	return r
}

func withIP(ip string) func(*Request) {
	return func(r *Request) { r.SourceIP = netip.MustParseAddr(ip) }
}
func withTime(t string) func(*Request) {
	return func(r *Request) {
		tm, err := time.Parse(time.RFC3339, t)
		if err != nil {
			panic(err)
		}
		r.Time = tm
	}
}
func insecure(r *Request) { r.SecureTransport = false }
func withCtx(key string, vals ...string) func(*Request) {
	return func(r *Request) {
		if r.Context == nil {
			r.Context = map[string][]string{}
		}
		r.Context[key] = vals
	}
}
func withReqTags(kv ...string) func(*Request) {
	return func(r *Request) {
		r.RequestTags = map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			r.RequestTags[kv[i]] = kv[i+1]
		}
	}
}
func withResTags(kv ...string) func(*Request) {
	return func(r *Request) {
		r.ResourceTags = map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			r.ResourceTags[kv[i]] = kv[i+1]
		}
	}
}
func feature(f Feature) func(*Request) { return func(r *Request) { r.Feature = f } }

const (
	pull    = "ecr:BatchGetImage"
	push    = "ecr:PutImage"
	layer   = "ecr:GetDownloadUrlForLayer"
	del     = "ecr:DeleteRepository"
	authTok = "ecr:GetAuthorizationToken"
	repl    = "ecr:ReplicateImage"
	create  = "ecr:CreateRepository"
	ptc     = "ecr:BatchImportUpstreamImage"
)

type evalCase struct {
	name string
	req  Request
	docs []doc
	want outcome
}

func evalCases() []evalCase {
	all := `"*"`
	a := func(s string) string { return `"` + s + `"` }
	A := func(s string) string { return `{"AWS":"` + s + `"}` }
	return []evalCase{
		// Identity-based policies within one account.
		{"no policy", rq(alice, pull, repoA), nil, noIdentity},
		{"ecr:* on *", rq(alice, pull, repoA), []doc{allowID(a("ecr:*"), all)}, allow},
		{"exact action", rq(alice, pull, repoA), []doc{allowID(a(pull), all)}, allow},
		{"other action", rq(alice, push, repoA), []doc{allowID(a(pull), all)}, noIdentity},
		{"action case-insensitive", rq(alice, pull, repoA), []doc{allowID(a("ECR:batchgetIMAGE"), all)}, allow},
		{"request action case", rq(alice, "ECR:BATCHGETIMAGE", repoA), []doc{allowID(a(pull), all)}, allow},
		{"Get* matches GetDownloadUrlForLayer", rq(alice, layer, repoA), []doc{allowID(a("ecr:Get*"), all)}, allow},
		{"Get* misses BatchGetImage", rq(alice, pull, repoA), []doc{allowID(a("ecr:Get*"), all)}, noIdentity},
		{"*Image matches PutImage", rq(alice, push, repoA), []doc{allowID(a("ecr:*Image"), all)}, allow},
		{"*Image misses ListImages", rq(alice, "ecr:ListImages", repoA), []doc{allowID(a("ecr:*Image"), all)}, noIdentity},
		{"? matches one character", rq(alice, push, repoA), []doc{allowID(a("ecr:?utImage"), all)}, allow},
		{"? needs a character", rq(alice, push, repoA), []doc{allowID(a("ecr:?PutImage"), all)}, noIdentity},
		{"Action *", rq(alice, del, repoA), []doc{allowID(all, all)}, allow},
		{"other service", rq(alice, pull, repoA), []doc{allowID(a("s3:*"), all)}, noIdentity},
		{"service prefix is not a wildcard", rq(alice, pull, repoA), []doc{allowID(a("ecr-public:*"), all)}, noIdentity},
		{"action list", rq(alice, push, repoA), []doc{allowID(`["ecr:BatchGetImage","ecr:PutImage"]`, all)}, allow},
		{"NotAction allows the rest", rq(alice, pull, repoA), []doc{idp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"ecr:DeleteRepository","Resource":"*"}}`)}, allow},
		{"NotAction excludes its own", rq(alice, del, repoA), []doc{idp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"ecr:DeleteRepository","Resource":"*"}}`)}, noIdentity},
		{"NotAction other service", rq(alice, pull, repoA), []doc{idp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`)}, allow},
		{"exact resource", rq(alice, pull, repoA), []doc{allowID(a(pull), a(repoA))}, allow},
		{"other resource", rq(alice, pull, repoX), []doc{allowID(a(pull), a(repoA))}, noIdentity},
		{"resource wildcard", rq(alice, pull, repoA), []doc{allowID(a(pull), a("arn:aws:ecr:*:111122223333:repository/team/*"))}, allow},
		{"resource wildcard misses", rq(alice, pull, repoX), []doc{allowID(a(pull), a("arn:aws:ecr:*:111122223333:repository/team/*"))}, noIdentity},
		{"resource wildcard spans slashes", rq(alice, pull, repoA), []doc{allowID(a(pull), a("arn:aws:ecr:us-east-1:*:repository/*"))}, allow},
		{"resource account must match", rq(alice, pull, repoA), []doc{allowID(a(pull), a("arn:aws:ecr:us-east-1:444455556666:repository/*"))}, noIdentity},
		{"resource region wildcard ?", rq(alice, pull, repoA), []doc{allowID(a(pull), a("arn:aws:ecr:us-east-?:111122223333:repository/team/app"))}, allow},
		{"resource is case-sensitive", rq(alice, pull, repoA), []doc{allowID(a(pull), a("arn:aws:ecr:us-east-1:111122223333:repository/Team/App"))}, noIdentity},
		{"resource list", rq(alice, pull, repoA), []doc{allowID(a(pull), `["`+repoX+`","`+repoA+`"]`)}, allow},
		{"GetAuthorizationToken on *", rq(alice, authTok, "*"), []doc{allowID(a(authTok), all)}, allow},
		{"GetAuthorizationToken needs Resource *", rq(alice, authTok, "*"), []doc{allowID(a(authTok), a("arn:aws:ecr:*:*:*"))}, noIdentity},
		{"NotResource allows others", rq(alice, pull, repoX), []doc{idp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","NotResource":"` + repoA + `"}}`)}, allow},
		{"NotResource excludes its own", rq(alice, pull, repoA), []doc{idp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","NotResource":"` + repoA + `"}}`)}, noIdentity},
		{"two policies, one allows", rq(alice, pull, repoA), []doc{allowID(a(push), all), allowID(a(pull), all)}, allow},
		{"identity deny beats allow", rq(alice, del, repoA), []doc{allowID(a("ecr:*"), all), denyID(a(del), all)}, denyIdentity},
		{"deny in the same policy", rq(alice, del, repoA), []doc{idp(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"},{"Effect":"Deny","Action":"ecr:Delete*","Resource":"*"}]}`)}, denyIdentity},
		{"deny elsewhere does not apply", rq(alice, pull, repoA), []doc{allowID(a("ecr:*"), all), denyID(a("ecr:*"), a(repoX))}, allow},
		{"deny without allow", rq(alice, pull, repoA), []doc{denyID(a("ecr:*"), all)}, denyIdentity},
		{"deny NotAction", rq(alice, push, repoA), []doc{allowID(a("ecr:*"), all), idp(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}}`)}, denyIdentity},
		{"deny NotAction spares its own", rq(alice, pull, repoA), []doc{allowID(a("ecr:*"), all), idp(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}}`)}, allow},

		// Policy variables.
		{"${aws:username} in Resource", rq(alice, pull, "arn:aws:ecr:us-east-1:111122223333:repository/alice/app"), []doc{allowID(a(pull), a("arn:aws:ecr:*:*:repository/${aws:username}/*"))}, allow},
		{"${aws:username} is someone else's", rq(dave, pull, "arn:aws:ecr:us-east-1:111122223333:repository/alice/app"), []doc{allowID(a(pull), a("arn:aws:ecr:*:*:repository/${aws:username}/*"))}, noIdentity},
		{"${aws:username} drops the path", rq(dave, pull, "arn:aws:ecr:us-east-1:111122223333:repository/dave/app"), []doc{allowID(a(pull), a("arn:aws:ecr:*:*:repository/${aws:username}/*"))}, allow},
		{"${aws:PrincipalAccount} in the account", rq(alice, pull, repoA), []doc{allowID(a(pull), a("arn:aws:ecr:*:${aws:PrincipalAccount}:repository/*"))}, allow},
		{"${aws:PrincipalAccount} is the caller's", rq(bob, pull, repoA, func(r *Request) { r.ResourceAccount = "" }), []doc{allowID(a(pull), a("arn:aws:ecr:*:${aws:PrincipalAccount}:repository/*"))}, noIdentity},
		{"unresolved variable voids the statement", rq(ci, pull, "arn:aws:ecr:us-east-1:111122223333:repository/ci/app"), []doc{allowID(a(pull), a("arn:aws:ecr:*:*:repository/${aws:username}/*"))}, noIdentity},
		{"variable default", rq(ci, pull, "arn:aws:ecr:us-east-1:111122223333:repository/shared/app"), []doc{allowID(a(pull), a("arn:aws:ecr:*:*:repository/${aws:username, 'shared'}/*"))}, allow},
		{"unresolved variable voids a deny", rq(ci, pull, repoA), []doc{allowID(a(pull), all), denyID(a(pull), a("arn:aws:ecr:*:*:repository/${aws:username}"))}, allow},
		{"variables are literal in 2008-10-17", rq(alice, pull, "arn:aws:ecr:us-east-1:111122223333:repository/alice"), []doc{idp(`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/${aws:username}"}}`)}, noIdentity},
		{"no Version reads as 2008-10-17", rq(alice, pull, "arn:aws:ecr:us-east-1:111122223333:repository/${aws:username}"), []doc{idp(`{"Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/${aws:username}"}}`)}, allow},
		{"${*} is a literal star", rq(alice, pull, "arn:aws:ecr:us-east-1:111122223333:repository/a*"), []doc{allowID(a(pull), a("arn:aws:ecr:*:*:repository/a${*}"))}, allow},
		{"${*} is not a wildcard", rq(alice, pull, "arn:aws:ecr:us-east-1:111122223333:repository/ab"), []doc{allowID(a(pull), a("arn:aws:ecr:*:*:repository/a${*}"))}, noIdentity},
		{"${?} is a literal question mark", rq(alice, pull, "arn:aws:ecr:us-east-1:111122223333:repository/ab"), []doc{allowID(a(pull), a("arn:aws:ecr:*:*:repository/a${?}"))}, noIdentity},
		{"variable value is literal", rq(Principal{Type: User, ARN: "arn:aws:iam::111122223333:user/x*", Account: acctA}, pull, "arn:aws:ecr:us-east-1:111122223333:repository/xyz"), []doc{allowID(a(pull), a("arn:aws:ecr:*:*:repository/${aws:username}"))}, noIdentity},
		{"variable in a condition", rq(alice, pull, repoA, withResTags("owner", "alice")), []doc{condID("StringEquals", "aws:ResourceTag/owner", `"${aws:username}"`)}, allow},
		{"variable in a condition, mismatch", rq(dave, pull, repoA, withResTags("owner", "alice")), []doc{condID("StringEquals", "aws:ResourceTag/owner", `"${aws:username}"`)}, noIdentity},

		// AWS managed policies.
		{"ReadOnly pulls", rq(alice, pull, repoA), []doc{managedDoc("AmazonEC2ContainerRegistryReadOnly")}, allow},
		{"ReadOnly does not push", rq(alice, push, repoA), []doc{managedDoc("AmazonEC2ContainerRegistryReadOnly")}, noIdentity},
		{"PowerUser pushes", rq(alice, push, repoA), []doc{managedDoc("AmazonEC2ContainerRegistryPowerUser")}, allow},
		{"PowerUser does not delete", rq(alice, del, repoA), []doc{managedDoc("AmazonEC2ContainerRegistryPowerUser")}, noIdentity},
		{"PowerUser does not set policies", rq(alice, "ecr:SetRepositoryPolicy", repoA), []doc{managedDoc("AmazonEC2ContainerRegistryPowerUser")}, noIdentity},
		{"FullAccess deletes", rq(alice, del, repoA), []doc{managedDoc("AmazonEC2ContainerRegistryFullAccess")}, allow},
		{"FullAccess service-linked role for replication", rq(alice, "iam:CreateServiceLinkedRole", "arn:aws:iam::111122223333:role/aws-service-role/replication.ecr.amazonaws.com/AWSServiceRoleForECRReplication", withCtx("iam:AWSServiceName", "replication.ecr.amazonaws.com")), []doc{managedDoc("AmazonEC2ContainerRegistryFullAccess")}, allow},
		{"FullAccess no other service-linked role", rq(alice, "iam:CreateServiceLinkedRole", "arn:aws:iam::111122223333:role/aws-service-role/x", withCtx("iam:AWSServiceName", "ec2.amazonaws.com")), []doc{managedDoc("AmazonEC2ContainerRegistryFullAccess")}, noIdentity},
		{"PullOnly pulls through cache", rq(alice, ptc, repoA), []doc{managedDoc("AmazonEC2ContainerRegistryPullOnly")}, allow},
		{"PullOnly gets tokens", rq(alice, authTok, "*"), []doc{managedDoc("AmazonEC2ContainerRegistryPullOnly")}, allow},
		{"PullOnly does not describe", rq(alice, "ecr:DescribeRepositories", repoA), []doc{managedDoc("AmazonEC2ContainerRegistryPullOnly")}, noIdentity},
		{"managed plus inline deny", rq(alice, push, repoA), []doc{managedDoc("AmazonEC2ContainerRegistryPowerUser"), denyID(a(push), a(repoA))}, denyIdentity},

		// The root user.
		{"root owns its account", rq(rootA, del, repoA), nil, allow},
		{"root token", rq(rootA, authTok, "*"), nil, allow},
		{"root and a repository deny", rq(rootA, del, repoA), []doc{repoDeny(all)}, denyResource},
		{"root and a deny naming its account", rq(rootA, pull, repoA), []doc{repoDeny(A(acctA))}, denyResource},
		{"root and a deny naming someone else", rq(rootA, pull, repoA), []doc{repoDeny(A(bob.ARN))}, allow},
		{"root across accounts, no repository policy", rq(rootB, pull, repoA), nil, noResource},
		{"root across accounts, its account named", rq(rootB, pull, repoA), []doc{repoAllow(A("arn:aws:iam::444455556666:root"))}, allow},
		{"root across accounts, account ID named", rq(rootB, pull, repoA), []doc{repoAllow(A(acctB))}, allow},
		{"root across accounts, only a user named", rq(rootB, pull, repoA), []doc{repoAllow(A(bob.ARN))}, noResource},
		{"root across accounts, another account named", rq(rootB, pull, repoA), []doc{repoAllow(A("999988887777"))}, noResource},

		// Repository policies within the account.
		{"repository policy names the user", rq(alice, pull, repoA), []doc{repoAllow(A(alice.ARN))}, allow},
		{"repository policy Principal *", rq(alice, pull, repoA), []doc{repoAllow(all)}, allow},
		{"repository policy AWS *", rq(alice, pull, repoA), []doc{repoAllow(A("*"))}, allow},
		{"account principal delegates", rq(alice, pull, repoA), []doc{repoAllow(A("arn:aws:iam::111122223333:root"))}, noIdentity},
		{"account ID principal delegates", rq(alice, pull, repoA), []doc{repoAllow(A(acctA))}, noIdentity},
		{"delegation plus identity allow", rq(alice, pull, repoA), []doc{repoAllow(A(acctA)), allowID(a(pull), all)}, allow},
		{"repository policy names another user", rq(alice, pull, repoA), []doc{repoAllow(A(dave.ARN))}, noIdentity},
		{"repository policy, other action", rq(alice, push, repoA), []doc{repoStmt("Allow", A(alice.ARN), a(pull))}, noIdentity},
		{"repository policy action list", rq(alice, push, repoA), []doc{repoStmt("Allow", A(alice.ARN), `["ecr:BatchGetImage","ecr:PutImage"]`)}, allow},
		{"repository NotAction", rq(alice, push, repoA), []doc{rp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"` + alice.ARN + `"},"NotAction":"ecr:DeleteRepository"}}`)}, allow},
		{"repository policy, principal list", rq(alice, pull, repoA), []doc{repoAllow(`{"AWS":["` + dave.ARN + `","` + alice.ARN + `"]}`)}, allow},
		{"user path in principal", rq(dave, pull, repoA), []doc{repoAllow(A(dave.ARN))}, allow},
		{"role ARN matches its sessions", rq(ci, pull, repoA), []doc{repoAllow(A("arn:aws:iam::111122223333:role/ci"))}, allow},
		{"role ARN with a path", rq(ciOps, pull, repoA), []doc{repoAllow(A("arn:aws:iam::111122223333:role/ops/deploy"))}, allow},
		{"role name matches whatever the path", rq(ciOps, pull, repoA), []doc{repoAllow(A("arn:aws:iam::111122223333:role/deploy"))}, allow},
		{"session ARN", rq(ci, pull, repoA), []doc{repoAllow(A(ci.ARN))}, allow},
		{"another session", rq(ci, pull, repoA), []doc{repoAllow(A("arn:aws:sts::111122223333:assumed-role/ci/build-2"))}, noIdentity},
		{"another role", rq(ci, pull, repoA), []doc{repoAllow(A("arn:aws:iam::111122223333:role/cd"))}, noIdentity},
		{"same role name, other account", rq(ci, pull, repoA), []doc{repoAllow(A("arn:aws:iam::444455556666:role/ci"))}, noIdentity},
		{"federated user", rq(carol, pull, repoA), []doc{repoAllow(A(carol.ARN))}, allow},
		{"repository deny beats identity allow", rq(alice, pull, repoA), []doc{allowID(a("ecr:*"), all), repoDeny(all)}, denyResource},
		{"repository deny beats repository allow", rq(alice, pull, repoA), []doc{rp(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"},{"Effect":"Deny","Principal":{"AWS":"` + alice.ARN + `"},"Action":"ecr:BatchGetImage"}]}`)}, denyResource},
		{"repository deny for someone else", rq(alice, pull, repoA), []doc{rp(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"},{"Effect":"Deny","Principal":{"AWS":"` + dave.ARN + `"},"Action":"ecr:*"}]}`)}, allow},
		{"repository deny on the account", rq(alice, pull, repoA), []doc{allowID(a("ecr:*"), all), repoDeny(A(acctA))}, denyResource},
		{"identity deny beats repository allow", rq(alice, pull, repoA), []doc{repoAllow(A(alice.ARN)), denyID(a(pull), all)}, denyIdentity},
		{"identity deny named before repository deny", rq(alice, pull, repoA), []doc{repoDeny(all), denyID(a(pull), all)}, denyIdentity},
		{"repository allow under a false condition", rq(alice, pull, repoA, withIP("198.51.100.1")), []doc{rp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}`)}, noIdentity},
		{"repository allow under a true condition", rq(alice, pull, repoA, withIP("203.0.113.9")), []doc{rp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}`)}, allow},
		{"Principal * with an account condition", rq(alice, pull, repoA), []doc{rp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}}}`)}, allow},

		// Across accounts: both sides must allow.
		{"cross-account, no repository policy", rq(bob, pull, repoA), []doc{allowID(a(pull), all)}, noResource},
		{"cross-account, account named", rq(bob, pull, repoA), []doc{allowID(a(pull), all), repoAllow(A(acctB))}, allow},
		{"cross-account, root ARN named", rq(bob, pull, repoA), []doc{allowID(a(pull), all), repoAllow(A("arn:aws:iam::444455556666:root"))}, allow},
		{"cross-account, user named", rq(bob, pull, repoA), []doc{allowID(a(pull), all), repoAllow(A(bob.ARN))}, allow},
		{"cross-account, user named, no identity allow", rq(bob, pull, repoA), []doc{repoAllow(A(bob.ARN))}, noIdentity},
		{"cross-account, Principal *, no identity allow", rq(bob, pull, repoA), []doc{repoAllow(all)}, noIdentity},
		{"cross-account, Principal *, identity allow", rq(bob, pull, repoA), []doc{repoAllow(all), allowID(a(pull), all)}, allow},
		{"cross-account, nothing at all", rq(bob, pull, repoA), nil, noResource},
		{"cross-account, the wrong account named", rq(bob, pull, repoA), []doc{allowID(a(pull), all), repoAllow(A(acctA))}, noResource},
		{"cross-account, repository deny", rq(bob, pull, repoA), []doc{allowID(a(pull), all), repoDeny(all)}, denyResource},
		{"cross-account, identity deny", rq(bob, pull, repoA), []doc{denyID(a(pull), all), repoAllow(A(acctB))}, denyIdentity},
		{"cross-account, identity allows another repository", rq(bob, pull, repoA), []doc{allowID(a(pull), a(repoX)), repoAllow(A(acctB))}, noIdentity},
		{"cross-account role session, role named", rq(deployerB, pull, repoA), []doc{allowID(a(pull), all), repoAllow(A("arn:aws:iam::444455556666:role/deployer"))}, allow},
		{"cross-account role session, role in the wrong account", rq(deployerB, pull, repoA), []doc{allowID(a(pull), all), repoAllow(A("arn:aws:iam::111122223333:role/deployer"))}, noResource},
		{"cross-account, PrincipalAccount condition holds", rq(bob, pull, repoA), []doc{allowID(a(pull), all), rp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalAccount":["444455556666"]}}}}`)}, allow},
		{"cross-account, PrincipalAccount condition fails", rq(bob, pull, repoA), []doc{allowID(a(pull), all), rp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalAccount":["999988887777"]}}}}`)}, noResource},
		{"cross-account, repository allows another action", rq(bob, push, repoA), []doc{allowID(a("ecr:*"), all), repoStmt("Allow", A(acctB), a(pull))}, noResource},

		// NotPrincipal.
		{"NotPrincipal spares a listed user and account", rq(alice, pull, repoA), []doc{allowID(a(pull), all), notPrincipalDeny(`["` + alice.ARN + `","arn:aws:iam::111122223333:root"]`)}, allow},
		{"NotPrincipal naming only the user still denies", rq(alice, pull, repoA), []doc{allowID(a(pull), all), notPrincipalDeny(`["` + alice.ARN + `"]`)}, denyResource},
		{"NotPrincipal naming only the account still denies", rq(alice, pull, repoA), []doc{allowID(a(pull), all), notPrincipalDeny(`["111122223333"]`)}, denyResource},
		{"NotPrincipal denies the unlisted", rq(dave, pull, repoA), []doc{allowID(a(pull), all), notPrincipalDeny(`["` + alice.ARN + `","` + acctA + `"]`)}, denyResource},
		{"NotPrincipal spares a session, its role and account", rq(ci, pull, repoA), []doc{allowID(a(pull), all), notPrincipalDeny(`["` + ci.ARN + `","arn:aws:iam::111122223333:role/ci","` + acctA + `"]`)}, allow},
		{"NotPrincipal without the role denies the session", rq(ci, pull, repoA), []doc{allowID(a(pull), all), notPrincipalDeny(`["` + ci.ARN + `","` + acctA + `"]`)}, denyResource},
		{"NotPrincipal spares root by account", rq(rootA, pull, repoA), []doc{notPrincipalDeny(`["arn:aws:iam::111122223333:root"]`)}, allow},
		{"NotPrincipal denies another account's root", rq(rootB, pull, repoA), []doc{repoAllow(A(acctB)), notPrincipalDeny(`["` + acctA + `"]`)}, denyResource},
		{"NotPrincipal with Allow grants the unlisted", rq(alice, pull, repoA), []doc{rp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"` + dave.ARN + `"},"Action":"ecr:*"}}`)}, allow},
		{"NotPrincipal with Allow, everyone listed", rq(dave, pull, repoA), []doc{rp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotPrincipal":{"AWS":["` + dave.ARN + `","` + acctA + `"]},"Action":"ecr:*"}}`)}, noIdentity},

		// Anonymous and service principals.
		{"anonymous, Principal *", rq(anon, pull, repoA), []doc{repoAllow(all)}, allow},
		{"anonymous, account named", rq(anon, pull, repoA), []doc{repoAllow(A(acctA))}, noResource},
		{"anonymous, no policy", rq(anon, pull, repoA), nil, noResource},
		{"anonymous ignores identity policies", rq(anon, pull, repoA), []doc{allowID(a(pull), all)}, noResource},
		{"service principal named", rq(replSvc, repl, repoA), []doc{repoAllow(`{"Service":"replication.ecr.amazonaws.com"}`)}, allow},
		{"another service principal", rq(replSvc, repl, repoA), []doc{repoAllow(`{"Service":"codebuild.amazonaws.com"}`)}, noResource},
		{"service principal and an AWS principal", rq(replSvc, repl, repoA), []doc{repoAllow(`{"AWS":"` + acctA + `","Service":["codebuild.amazonaws.com","replication.ecr.amazonaws.com"]}`)}, allow},

		// The registry policy: replication and pull through cache only.
		{"replication granted to the source root", rq(rootB, repl, repoA, feature(Replication)), []doc{registryAllow(A("arn:aws:iam::444455556666:root"), `["ecr:CreateRepository","ecr:ReplicateImage"]`, a("arn:aws:ecr:us-east-1:111122223333:repository/*"))}, allow},
		{"replication without a registry policy", rq(rootB, repl, repoA, feature(Replication)), nil, noResource},
		{"replication creates the repository", rq(rootB, create, repoA, feature(Replication)), []doc{registryAllow(A(acctB), `["ecr:CreateRepository","ecr:ReplicateImage"]`, a("arn:aws:ecr:us-east-1:111122223333:repository/*"))}, allow},
		{"registry policy ignored for a plain CreateRepository", rq(bob, create, repoA), []doc{allowID(a(create), all), registryAllow(A(acctB), a(create), all)}, noResource},
		{"registry policy ignored without a feature", rq(rootB, repl, repoA), []doc{registryAllow(A(acctB), a(repl), all)}, noResource},
		{"registry policy for another region", rq(rootB, repl, repoA, feature(Replication)), []doc{registryAllow(A(acctB), a(repl), a("arn:aws:ecr:eu-west-1:111122223333:repository/*"))}, noResource},
		{"registry policy for another account", rq(rootB, repl, repoA, feature(Replication)), []doc{registryAllow(A("999988887777"), a(repl), all)}, noResource},
		{"registry policy ecr:*", rq(rootB, repl, repoA, feature(Replication)), []doc{registryAllow(A(acctB), a("ecr:*"), all)}, allow},
		{"registry deny", rq(rootB, repl, repoA, feature(Replication)), []doc{registryAllow(A(acctB), a(repl), all), regp(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"ecr:ReplicateImage","Resource":"arn:aws:ecr:*:*:repository/team/*"}}`)}, denyResource},
		{"pull through cache, registry names the user", rq(alice, ptc, repoA, feature(PullThroughCache)), []doc{registryAllow(A(alice.ARN), `["ecr:BatchImportUpstreamImage","ecr:CreateRepository"]`, a("arn:aws:ecr:us-east-1:111122223333:repository/team/*"))}, allow},
		{"pull through cache, registry names the account", rq(alice, ptc, repoA, feature(PullThroughCache)), []doc{registryAllow(A(acctA), a(ptc), all)}, noIdentity},
		{"pull through cache, identity policy suffices", rq(alice, ptc, repoA, feature(PullThroughCache)), []doc{registryAllow(A(acctA), a(ptc), all), managedDoc("AmazonEC2ContainerRegistryPullOnly")}, allow},
		{"pull through cache, repository policy grants", rq(alice, ptc, repoA, feature(PullThroughCache)), []doc{repoStmt("Allow", A(alice.ARN), a(ptc))}, allow},
		{"registry policy ignored for pulls", rq(alice, pull, repoA, feature(PullThroughCache)), []doc{registryAllow(all, a("ecr:*"), all)}, noIdentity},

		// Missing resource account: the caller's own.
		{"no resource account, no policy", rq(alice, authTok, "*"), nil, noIdentity},
		{"no resource account, bob", rq(bob, authTok, "*"), []doc{allowID(a(authTok), all)}, allow},

		// String operators.
		{"StringEquals", rq(alice, pull, repoA), []doc{condID("StringEquals", "aws:username", `"alice"`)}, allow},
		{"StringEquals mismatch", rq(dave, pull, repoA), []doc{condID("StringEquals", "aws:username", `"alice"`)}, noIdentity},
		{"StringEquals is case-sensitive", rq(alice, pull, repoA), []doc{condID("StringEquals", "aws:username", `"Alice"`)}, noIdentity},
		{"StringEquals values are OR'ed", rq(alice, pull, repoA), []doc{condID("StringEquals", "aws:username", `["bob","alice"]`)}, allow},
		{"StringEquals has no wildcards", rq(alice, pull, repoA), []doc{condID("StringEquals", "aws:username", `"ali*"`)}, noIdentity},
		{"StringEquals, missing key", rq(ci, pull, repoA), []doc{condID("StringEquals", "aws:username", `"alice"`)}, noIdentity},
		{"StringEqualsIfExists, missing key", rq(ci, pull, repoA), []doc{condID("StringEqualsIfExists", "aws:username", `"alice"`)}, allow},
		{"StringEqualsIfExists, present and different", rq(dave, pull, repoA), []doc{condID("StringEqualsIfExists", "aws:username", `"alice"`)}, noIdentity},
		{"StringNotEquals values are NOR'ed", rq(alice, pull, repoA), []doc{condID("StringNotEquals", "aws:username", `["bob","carol"]`)}, allow},
		{"StringNotEquals, one value equal", rq(alice, pull, repoA), []doc{condID("StringNotEquals", "aws:username", `["bob","alice"]`)}, noIdentity},
		{"StringNotEquals, missing key", rq(ci, pull, repoA), []doc{condID("StringNotEquals", "aws:username", `"alice"`)}, allow},
		{"StringNotEqualsIfExists, missing key", rq(ci, pull, repoA), []doc{condID("StringNotEqualsIfExists", "aws:username", `"alice"`)}, allow},
		{"StringEqualsIgnoreCase", rq(alice, pull, repoA), []doc{condID("StringEqualsIgnoreCase", "aws:username", `"ALICE"`)}, allow},
		{"StringEqualsIgnoreCase mismatch", rq(dave, pull, repoA), []doc{condID("StringEqualsIgnoreCase", "aws:username", `"ALICE"`)}, noIdentity},
		{"StringNotEqualsIgnoreCase", rq(alice, pull, repoA), []doc{condID("StringNotEqualsIgnoreCase", "aws:username", `"ALICE"`)}, noIdentity},
		{"StringNotEqualsIgnoreCase, different", rq(dave, pull, repoA), []doc{condID("StringNotEqualsIgnoreCase", "aws:username", `"ALICE"`)}, allow},
		{"StringLike *", rq(alice, pull, repoA), []doc{condID("StringLike", "aws:username", `"al*"`)}, allow},
		{"StringLike ?", rq(alice, pull, repoA), []doc{condID("StringLike", "aws:username", `"a?ice"`)}, allow},
		{"StringLike mismatch", rq(alice, pull, repoA), []doc{condID("StringLike", "aws:username", `"b*"`)}, noIdentity},
		{"StringLike is case-sensitive", rq(alice, pull, repoA), []doc{condID("StringLike", "aws:username", `"AL*"`)}, noIdentity},
		{"StringNotLike", rq(alice, pull, repoA), []doc{condID("StringNotLike", "aws:username", `"b*"`)}, allow},
		{"StringNotLike matching", rq(alice, pull, repoA), []doc{condID("StringNotLike", "aws:username", `["b*","a*"]`)}, noIdentity},
		{"StringNotLike, missing key", rq(ci, pull, repoA), []doc{condID("StringNotLike", "aws:username", `"a*"`)}, allow},
		{"StringLikeIfExists, missing key", rq(ci, pull, repoA), []doc{condID("StringLikeIfExists", "aws:username", `"a*"`)}, allow},
		{"StringLike with a variable", rq(alice, pull, repoA), []doc{condID("StringLike", "aws:PrincipalArn", `"arn:aws:iam::${aws:PrincipalAccount}:user/*"`)}, allow},
		{"key names ignore case", rq(alice, pull, repoA), []doc{condID("StringEquals", "AWS:USERNAME", `"alice"`)}, allow},
		{"aws:PrincipalType User", rq(alice, pull, repoA), []doc{condID("StringEquals", "aws:PrincipalType", `"User"`)}, allow},
		{"aws:PrincipalType AssumedRole", rq(ci, pull, repoA), []doc{condID("StringEquals", "aws:PrincipalType", `"AssumedRole"`)}, allow},
		{"aws:PrincipalType Account for root", rq(rootB, pull, repoA), []doc{rp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalType":"Account"}}}}`)}, allow},
		{"aws:userid of a session", rq(ci, pull, repoA), []doc{condID("StringLike", "aws:userid", `"AROA*:build-1"`)}, allow},
		{"aws:userid of root is the account", rq(rootB, pull, repoA), []doc{rp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:userid":"444455556666"}}}}`)}, allow},
		{"aws:PrincipalAccount", rq(alice, pull, repoA), []doc{condID("StringEquals", "aws:PrincipalAccount", `"111122223333"`)}, allow},
		{"aws:ResourceTag", rq(alice, pull, repoA, withResTags("team", "payments")), []doc{condID("StringEquals", "aws:ResourceTag/team", `"payments"`)}, allow},
		{"aws:ResourceTag key ignores case", rq(alice, pull, repoA, withResTags("Team", "payments")), []doc{condID("StringEquals", "aws:ResourceTag/team", `"payments"`)}, allow},
		{"aws:ResourceTag value keeps case", rq(alice, pull, repoA, withResTags("team", "Payments")), []doc{condID("StringEquals", "aws:ResourceTag/team", `"payments"`)}, noIdentity},
		{"ecr:ResourceTag", rq(alice, pull, repoA, withResTags("team", "payments")), []doc{condID("StringEquals", "ecr:ResourceTag/team", `"payments"`)}, allow},
		{"aws:ResourceTag missing", rq(alice, pull, repoA), []doc{condID("StringEquals", "aws:ResourceTag/team", `"payments"`)}, noIdentity},
		{"aws:RequestTag", rq(alice, "ecr:TagResource", repoA, withReqTags("env", "prod")), []doc{condID("StringEquals", "aws:RequestTag/env", `"prod"`)}, allow},
		{"aws:RequestTag missing", rq(alice, "ecr:TagResource", repoA), []doc{condID("StringEquals", "aws:RequestTag/env", `"prod"`)}, noIdentity},
		{"other keys from Context", rq(alice, pull, repoA, withCtx("aws:SourceVpce", "vpce-1a2b3c4d")), []doc{condID("StringEquals", "aws:sourcevpce", `"vpce-1a2b3c4d"`)}, allow},

		// Set operators on the multivalued aws:TagKeys.
		{"ForAllValues, all listed", rq(alice, "ecr:TagResource", repoA, withReqTags("env", "prod")), []doc{condID("ForAllValues:StringEquals", "aws:TagKeys", `["env","team"]`)}, allow},
		{"ForAllValues, one unlisted", rq(alice, "ecr:TagResource", repoA, withReqTags("env", "prod", "owner", "x")), []doc{condID("ForAllValues:StringEquals", "aws:TagKeys", `["env","team"]`)}, noIdentity},
		{"ForAllValues, key missing", rq(alice, "ecr:TagResource", repoA), []doc{condID("ForAllValues:StringEquals", "aws:TagKeys", `["env","team"]`)}, allow},
		{"ForAllValues:StringLike", rq(alice, "ecr:TagResource", repoA, withReqTags("team-a", "1", "team-b", "2")), []doc{condID("ForAllValues:StringLike", "aws:TagKeys", `"team-*"`)}, allow},
		{"ForAllValues:StringNotEquals", rq(alice, "ecr:TagResource", repoA, withReqTags("env", "1", "owner", "2")), []doc{condID("ForAllValues:StringNotEquals", "aws:TagKeys", `"secret"`)}, allow},
		{"ForAllValues:StringNotEquals, one listed", rq(alice, "ecr:TagResource", repoA, withReqTags("env", "1", "secret", "2")), []doc{condID("ForAllValues:StringNotEquals", "aws:TagKeys", `"secret"`)}, noIdentity},
		{"ForAnyValue, one listed", rq(alice, "ecr:TagResource", repoA, withReqTags("env", "1", "owner", "2")), []doc{condID("ForAnyValue:StringEquals", "aws:TagKeys", `"env"`)}, allow},
		{"ForAnyValue, none listed", rq(alice, "ecr:TagResource", repoA, withReqTags("owner", "2")), []doc{condID("ForAnyValue:StringEquals", "aws:TagKeys", `"env"`)}, noIdentity},
		{"ForAnyValue, key missing", rq(alice, "ecr:TagResource", repoA), []doc{condID("ForAnyValue:StringEquals", "aws:TagKeys", `"env"`)}, noIdentity},
		{"ForAnyValue:StringNotEquals, another present", rq(alice, "ecr:TagResource", repoA, withReqTags("env", "1", "owner", "2")), []doc{condID("ForAnyValue:StringNotEquals", "aws:TagKeys", `"env"`)}, allow},
		{"ForAnyValue:StringNotEquals, only the listed", rq(alice, "ecr:TagResource", repoA, withReqTags("env", "1")), []doc{condID("ForAnyValue:StringNotEquals", "aws:TagKeys", `"env"`)}, noIdentity},
		{"ForAnyValue:StringEqualsIfExists, key missing", rq(alice, "ecr:TagResource", repoA), []doc{condID("ForAnyValue:StringEqualsIfExists", "aws:TagKeys", `"env"`)}, allow},
		{"multivalued key under a plain operator", rq(alice, "ecr:TagResource", repoA, withReqTags("env", "1", "owner", "2")), []doc{condID("StringEquals", "aws:TagKeys", `"owner"`)}, allow},
		{"deny any tag key but the listed", rq(alice, "ecr:TagResource", repoA, withReqTags("env", "1", "cost", "2")), []doc{allowID(a("ecr:*"), all), idp(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ecr:TagResource","Resource":"*","Condition":{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env","team"]}}}}`)}, denyIdentity},

		// ARN operators.
		{"ArnEquals", rq(alice, pull, repoA), []doc{condID("ArnEquals", "aws:PrincipalArn", `"`+alice.ARN+`"`)}, allow},
		{"ArnLike", rq(alice, pull, repoA), []doc{condID("ArnLike", "aws:PrincipalArn", `"arn:aws:iam::111122223333:user/*"`)}, allow},
		{"ArnLike, PrincipalArn of a session is its role", rq(ci, pull, repoA), []doc{condID("ArnLike", "aws:PrincipalArn", `"arn:aws:iam::111122223333:role/ci"`)}, allow},
		{"ArnLike, role with a path", rq(ciOps, pull, repoA), []doc{condID("ArnEquals", "aws:PrincipalArn", `"arn:aws:iam::111122223333:role/ops/deploy"`)}, allow},
		{"ArnLike mismatch", rq(alice, pull, repoA), []doc{condID("ArnLike", "aws:PrincipalArn", `"arn:aws:iam::*:role/*"`)}, noIdentity},
		{"ArnNotEquals", rq(alice, pull, repoA), []doc{condID("ArnNotEquals", "aws:PrincipalArn", `"`+alice.ARN+`"`)}, noIdentity},
		{"ArnNotLike", rq(alice, pull, repoA), []doc{condID("ArnNotLike", "aws:PrincipalArn", `"arn:aws:iam::*:role/*"`)}, allow},
		{"ArnLike is per component", rq(alice, pull, repoA, withCtx("aws:SourceArn", "arn:aws:ecr:us-east-2:999999999999:store/abc:111122223333:finance/doc")), []doc{condID("ArnLike", "aws:SourceArn", `"arn:aws:ecr:*:111122223333:finance/*"`)}, noIdentity},
		{"StringLike spans colons", rq(alice, pull, repoA, withCtx("aws:SourceArn", "arn:aws:ecr:us-east-2:999999999999:store/abc:111122223333:finance/doc")), []doc{condID("StringLike", "aws:SourceArn", `"arn:aws:ecr:*:111122223333:finance/*"`)}, allow},
		{"ArnLike, missing key", rq(alice, pull, repoA), []doc{condID("ArnLike", "aws:SourceArn", `"arn:aws:*"`)}, noIdentity},
		{"ArnNotLike, missing key", rq(alice, pull, repoA), []doc{condID("ArnNotLike", "aws:SourceArn", `"arn:aws:sns:*:*:*"`)}, allow},
		{"ArnLikeIfExists, missing key", rq(alice, pull, repoA), []doc{condID("ArnLikeIfExists", "aws:SourceArn", `"arn:aws:sns:*:*:*"`)}, allow},

		// Bool.
		{"Bool SecureTransport true", rq(alice, pull, repoA), []doc{condID("Bool", "aws:SecureTransport", `"true"`)}, allow},
		{"Bool SecureTransport false", rq(alice, pull, repoA, insecure), []doc{condID("Bool", "aws:SecureTransport", `"true"`)}, noIdentity},
		{"Bool with a JSON boolean", rq(alice, pull, repoA), []doc{condID("Bool", "aws:SecureTransport", `true`)}, allow},
		{"deny plain HTTP", rq(alice, pull, repoA, insecure), []doc{allowID(a("ecr:*"), all), idp(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}}`)}, denyIdentity},
		{"Bool, missing key", rq(alice, pull, repoA), []doc{condID("Bool", "aws:MultiFactorAuthPresent", `"true"`)}, noIdentity},
		{"BoolIfExists, missing key", rq(alice, pull, repoA), []doc{condID("BoolIfExists", "aws:MultiFactorAuthPresent", `"true"`)}, allow},
		{"Bool from Context", rq(alice, pull, repoA, withCtx("aws:MultiFactorAuthPresent", "TRUE")), []doc{condID("Bool", "aws:MultiFactorAuthPresent", `"true"`)}, allow},

		// IP addresses.
		{"IpAddress in range", rq(alice, pull, repoA, withIP("203.0.113.7")), []doc{condID("IpAddress", "aws:SourceIp", `"203.0.113.0/24"`)}, allow},
		{"IpAddress out of range", rq(alice, pull, repoA, withIP("198.51.100.1")), []doc{condID("IpAddress", "aws:SourceIp", `"203.0.113.0/24"`)}, noIdentity},
		{"IpAddress single address", rq(alice, pull, repoA, withIP("203.0.113.7")), []doc{condID("IpAddress", "aws:SourceIp", `"203.0.113.7"`)}, allow},
		{"IpAddress list", rq(alice, pull, repoA, withIP("198.51.100.1")), []doc{condID("IpAddress", "aws:SourceIp", `["203.0.113.0/24","198.51.100.0/24"]`)}, allow},
		{"IpAddress IPv6", rq(alice, pull, repoA, withIP("2001:db8:1234:5678::1")), []doc{condID("IpAddress", "aws:SourceIp", `"2001:DB8:1234:5678::/64"`)}, allow},
		{"IpAddress IPv4-mapped caller", rq(alice, pull, repoA, withIP("::ffff:203.0.113.7")), []doc{condID("IpAddress", "aws:SourceIp", `"203.0.113.0/24"`)}, allow},
		{"NotIpAddress outside", rq(alice, pull, repoA, withIP("203.0.113.7")), []doc{condID("NotIpAddress", "aws:SourceIp", `"10.0.0.0/8"`)}, allow},
		{"NotIpAddress inside", rq(alice, pull, repoA, withIP("10.1.2.3")), []doc{condID("NotIpAddress", "aws:SourceIp", `"10.0.0.0/8"`)}, noIdentity},
		{"IpAddress, no source address", rq(alice, pull, repoA), []doc{condID("IpAddress", "aws:SourceIp", `"10.0.0.0/8"`)}, noIdentity},
		{"NotIpAddress, no source address", rq(alice, pull, repoA), []doc{condID("NotIpAddress", "aws:SourceIp", `"10.0.0.0/8"`)}, allow},
		{"IpAddressIfExists, no source address", rq(alice, pull, repoA), []doc{condID("IpAddressIfExists", "aws:SourceIp", `"10.0.0.0/8"`)}, allow},
		{"deny from outside the office", rq(alice, pull, repoA, withIP("198.51.100.1")), []doc{allowID(a("ecr:*"), all), idp(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32"]}}}}`)}, denyIdentity},

		// Dates.
		{"DateLessThan", rq(alice, pull, repoA, withTime("2025-06-01T00:00:00Z")), []doc{condID("DateLessThan", "aws:CurrentTime", `"2030-01-01T00:00:00Z"`)}, allow},
		{"DateLessThan, later", rq(alice, pull, repoA, withTime("2031-06-01T00:00:00Z")), []doc{condID("DateLessThan", "aws:CurrentTime", `"2030-01-01T00:00:00Z"`)}, noIdentity},
		{"DateGreaterThan", rq(alice, pull, repoA, withTime("2025-06-01T00:00:00Z")), []doc{condID("DateGreaterThan", "aws:CurrentTime", `"2030-01-01T00:00:00Z"`)}, noIdentity},
		{"DateGreaterThan, equal", rq(alice, pull, repoA, withTime("2030-01-01T00:00:00Z")), []doc{condID("DateGreaterThan", "aws:CurrentTime", `"2030-01-01T00:00:00Z"`)}, noIdentity},
		{"DateGreaterThanEquals, equal", rq(alice, pull, repoA, withTime("2030-01-01T00:00:00Z")), []doc{condID("DateGreaterThanEquals", "aws:CurrentTime", `"2030-01-01T00:00:00Z"`)}, allow},
		{"DateLessThanEquals, equal", rq(alice, pull, repoA, withTime("2030-01-01T00:00:00Z")), []doc{condID("DateLessThanEquals", "aws:CurrentTime", `"2030-01-01T00:00:00Z"`)}, allow},
		{"DateEquals epoch value", rq(alice, pull, repoA, withTime("2025-01-01T00:00:00Z")), []doc{condID("DateEquals", "aws:CurrentTime", `"1735689600"`)}, allow},
		{"DateEquals across zones", rq(alice, pull, repoA, withTime("2025-01-01T00:00:00Z")), []doc{condID("DateEquals", "aws:CurrentTime", `"2025-01-01T01:00:00+01:00"`)}, allow},
		{"DateNotEquals, equal", rq(alice, pull, repoA, withTime("2025-01-01T00:00:00Z")), []doc{condID("DateNotEquals", "aws:CurrentTime", `"2025-01-01T00:00:00Z"`)}, noIdentity},
		{"Date on aws:EpochTime", rq(alice, pull, repoA, withTime("2025-06-01T00:00:00Z")), []doc{condID("DateGreaterThan", "aws:EpochTime", `"2025-01-01"`)}, allow},
		{"DateLessThan, date only", rq(alice, pull, repoA, withTime("2024-12-31T23:59:59Z")), []doc{condID("DateLessThan", "aws:CurrentTime", `"2025-01-01"`)}, allow},
		{"Date, no time in the request", rq(alice, pull, repoA), []doc{condID("DateLessThan", "aws:CurrentTime", `"2030-01-01T00:00:00Z"`)}, noIdentity},
		{"DateNotEquals, no time in the request", rq(alice, pull, repoA), []doc{condID("DateNotEquals", "aws:CurrentTime", `"2030-01-01T00:00:00Z"`)}, allow},
		{"DateLessThanIfExists, no time in the request", rq(alice, pull, repoA), []doc{condID("DateLessThanIfExists", "aws:CurrentTime", `"2030-01-01T00:00:00Z"`)}, allow},
		{"Date from Context", rq(alice, pull, repoA, withCtx("aws:TokenIssueTime", "2025-03-01T10:00:00Z")), []doc{condID("DateGreaterThan", "aws:TokenIssueTime", `"2025-01-01T00:00:00Z"`)}, allow},

		// Numbers.
		{"NumericLessThan epoch", rq(alice, pull, repoA, withTime("2025-06-01T00:00:00Z")), []doc{condID("NumericLessThan", "aws:EpochTime", `"2000000000"`)}, allow},
		{"NumericGreaterThan epoch", rq(alice, pull, repoA, withTime("2025-06-01T00:00:00Z")), []doc{condID("NumericGreaterThan", "aws:EpochTime", `2000000000`)}, noIdentity},
		{"NumericEquals 10 and 10.0", rq(alice, pull, repoA, withCtx("ecr:count", "10")), []doc{condID("NumericEquals", "ecr:count", `"10.0"`)}, allow},
		{"NumericNotEquals", rq(alice, pull, repoA, withCtx("ecr:count", "10")), []doc{condID("NumericNotEquals", "ecr:count", `["5","6"]`)}, allow},
		{"NumericNotEquals, equal", rq(alice, pull, repoA, withCtx("ecr:count", "5")), []doc{condID("NumericNotEquals", "ecr:count", `["5","6"]`)}, noIdentity},
		{"NumericLessThanEquals", rq(alice, pull, repoA, withCtx("ecr:count", "5")), []doc{condID("NumericLessThanEquals", "ecr:count", `5`)}, allow},
		{"NumericGreaterThanEquals", rq(alice, pull, repoA, withCtx("ecr:count", "4.5")), []doc{condID("NumericGreaterThanEquals", "ecr:count", `5`)}, noIdentity},
		{"Numeric, missing key", rq(alice, pull, repoA), []doc{condID("NumericLessThan", "ecr:count", `5`)}, noIdentity},
		{"NumericNotEquals, missing key", rq(alice, pull, repoA), []doc{condID("NumericNotEquals", "ecr:count", `5`)}, allow},
		{"Numeric, value not a number", rq(alice, pull, repoA, withCtx("ecr:count", "many")), []doc{condID("NumericLessThan", "ecr:count", `5`)}, noIdentity},
		{"NumericLessThanIfExists, missing key", rq(alice, pull, repoA), []doc{condID("NumericLessThanIfExists", "ecr:count", `5`)}, allow},

		// Null.
		{"Null true, key absent", rq(alice, pull, repoA), []doc{condID("Null", "aws:SourceIp", `"true"`)}, allow},
		{"Null true, key present", rq(alice, pull, repoA, withIP("203.0.113.7")), []doc{condID("Null", "aws:SourceIp", `"true"`)}, noIdentity},
		{"Null false, key present", rq(alice, pull, repoA, withIP("203.0.113.7")), []doc{condID("Null", "aws:SourceIp", `"false"`)}, allow},
		{"Null false, key absent", rq(alice, pull, repoA), []doc{condID("Null", "aws:SourceIp", `"false"`)}, noIdentity},
		{"Null on a tag", rq(alice, pull, repoA, withResTags("team", "x")), []doc{condID("Null", "aws:ResourceTag/team", `false`)}, allow},
		{"Null on aws:TagKeys with no tags", rq(alice, "ecr:TagResource", repoA), []doc{condID("Null", "aws:TagKeys", `"true"`)}, allow},

		// Several keys and operators: AND.
		{"two keys, both hold", rq(alice, pull, repoA), []doc{idp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"aws:username":"alice","aws:PrincipalAccount":"111122223333"}}}}`)}, allow},
		{"two keys, one fails", rq(alice, pull, repoA), []doc{idp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"aws:username":"alice","aws:PrincipalAccount":"444455556666"}}}}`)}, noIdentity},
		{"two operators, both hold", rq(alice, pull, repoA, withIP("203.0.113.7")), []doc{idp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"aws:username":"alice"},"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}`)}, allow},
		{"two operators, one fails", rq(alice, pull, repoA, withIP("198.51.100.7")), []doc{idp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"aws:username":"alice"},"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}`)}, noIdentity},
		{"IfExists on the key that is present", rq(alice, pull, repoA, withIP("198.51.100.7")), []doc{idp(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:username":"alice"},"IpAddressIfExists":{"aws:SourceIp":"203.0.113.0/24"}}}}`)}, noIdentity},
	}
}

func parseDocs(t testing.TB, docs []doc) []*Policy {
	t.Helper()
	var out []*Policy
	for _, d := range docs {
		if d.kind == 0 {
			m, ok := LookupManaged(d.text)
			if !ok {
				t.Fatalf("no managed policy %s", d.text)
			}
			out = append(out, m.Policy)
			continue
		}
		p, err := Parse(d.kind, []byte(d.text))
		if err != nil {
			t.Fatalf("Parse(%s): %v\n%s", d.kind, err, d.text)
		}
		out = append(out, p)
	}
	return out
}

func TestEvaluate(t *testing.T) {
	cases := evalCases()
	if len(cases) < 150 {
		t.Errorf("%d cases; want at least 150", len(cases))
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Errorf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			policies := parseDocs(t, tc.docs)
			wantDecision, wantReason, wantMessage := wantOf(tc.want, tc.req)
			got := Evaluate(tc.req, policies...)
			if got.Decision != wantDecision || got.Reason != wantReason {
				t.Fatalf("Evaluate = %v %q; want %v %q", got.Decision, got.Reason, wantDecision, wantReason)
			}
			if msg := got.Message(tc.req); msg != wantMessage {
				t.Errorf("Message = %q; want %q", msg, wantMessage)
			}
			if got.Allowed() != (wantDecision == Allow) {
				t.Errorf("Allowed = %v", got.Allowed())
			}
			// The simulator's Explain decides as enforcement does, and
			// names statements exactly when a statement decided.
			ex := Explain(tc.req, policies...)
			if ex.Result != got {
				t.Errorf("Explain = %v; Evaluate = %v", ex.Result, got)
			}
			if (len(ex.Matched) > 0) != (got.Decision != ImplicitDeny) && tc.req.Principal.Type != Root {
				t.Errorf("Explain matched %v for %v", ex.Matched, got.Decision)
			}
			for _, m := range ex.Matched {
				if m.Deny != (got.Decision == ExplicitDeny) {
					t.Errorf("Explain matched %+v for %v", m, got.Decision)
				}
			}
			// The order policies come in does not change the answer.
			for i, j := 0, len(policies)-1; i < j; i, j = i+1, j-1 {
				policies[i], policies[j] = policies[j], policies[i]
			}
			if again := Evaluate(tc.req, policies...); again != got {
				t.Errorf("reversed policies: %v; want %v", again, got)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	allowPull := `{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"},
		{"Sid":"tagged","Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"a"}}}]}`
	denyAll := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
		{"Effect":"Deny","Action":"ecr:PutImage","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}},
		{"Effect":"Deny","Action":"ecr:Put*","Resource":"*"}]}`
	repoDeny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage"}]}`
	cases := []struct {
		name    string
		docs    []doc
		req     Request
		want    Decision
		matched []Match
		missing []string
	}{
		{name: "allow names the allowing statement and the key it lacked", docs: []doc{idp(allowPull)}, req: rq(alice, pull, repoA),
			want: Allow, matched: []Match{{0, 0, false}}, missing: []string{"aws:ResourceTag/team"}},
		{name: "implicit deny names none", docs: []doc{idp(allowPull)}, req: rq(alice, "ecr:PutImage", repoA),
			want: ImplicitDeny, missing: []string{"aws:ResourceTag/team"}},
		{name: "a context value fills the key", docs: []doc{idp(allowPull)},
			req:  rq(alice, "ecr:PutImage", repoA, func(r *Request) { r.Context = map[string][]string{"aws:ResourceTag/team": {"a"}} }),
			want: Allow, matched: []Match{{0, 1, false}}},
		{name: "explicit deny names only the denies, every one", docs: []doc{idp(denyAll)},
			req:  rq(alice, "ecr:PutImage", repoA, func(r *Request) { r.Context = map[string][]string{"aws:MultiFactorAuthPresent": {"false"}} }),
			want: ExplicitDeny, matched: []Match{{0, 1, true}, {0, 2, true}}},
		{name: "a resource policy's deny, by the policy's index", docs: []doc{idp(allowPull), {Repository, repoDeny}}, req: rq(alice, pull, repoA),
			want: ExplicitDeny, matched: []Match{{1, 0, true}}, missing: []string{"aws:ResourceTag/team"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			policies := parseDocs(t, tc.docs)
			ex := Explain(tc.req, policies...)
			if ex.Decision != tc.want || ex.Result != Evaluate(tc.req, policies...) {
				t.Errorf("decision %v, Evaluate %v; want %v", ex.Result, Evaluate(tc.req, policies...), tc.want)
			}
			if !slices.Equal(ex.Matched, tc.matched) {
				t.Errorf("matched %+v; want %+v", ex.Matched, tc.matched)
			}
			if !slices.Equal(ex.Missing, tc.missing) {
				t.Errorf("missing %q; want %q", ex.Missing, tc.missing)
			}
		})
	}
}

func TestEvaluateSkipsNil(t *testing.T) {
	got := Evaluate(rq(alice, pull, repoA), nil, nil)
	if got.Decision != ImplicitDeny {
		t.Fatalf("got %v", got)
	}
}

func TestManaged(t *testing.T) {
	for _, m := range ManagedPolicies() {
		if m.ARN != "arn:aws:iam::aws:policy/"+m.Name {
			t.Errorf("%s: ARN %s", m.Name, m.ARN)
		}
		byARN, ok := LookupManaged(m.ARN)
		if !ok || byARN.Policy != m.Policy {
			t.Errorf("LookupManaged(%s) = %v, %v", m.ARN, byARN, ok)
		}
		if m.Policy.Kind() != Identity || m.Policy.Version() != Version2012 {
			t.Errorf("%s: kind %v version %s", m.Name, m.Policy.Kind(), m.Policy.Version())
		}
		text, _ := m.Policy.MarshalJSON()
		if n := NonWhitespaceLen(text); n > MaxManagedPolicySize {
			t.Errorf("%s: %d characters", m.Name, n)
		}
	}
	if len(ManagedPolicies()) != 4 {
		t.Errorf("%d managed policies", len(ManagedPolicies()))
	}
	if _, ok := LookupManaged("AdministratorAccess"); ok {
		t.Error("found AdministratorAccess")
	}
}
