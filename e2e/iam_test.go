package e2e

// IAM and STS AssumeRole through aws-sdk-go-v2's iam and sts clients and
// the aws CLI: users and their keys, policies, groups, roles and role
// sessions, and accounts made with `berth admin create-account`.

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// IAM is an aws-sdk-go-v2 IAM client for b, signed with the given keys
// (the default account's root keys when none are given).
func (b *berth) IAM(keys ...string) *iam.Client {
	akid, secret := testAccessKeyID, testSecretAccessKey
	if len(keys) == 2 {
		akid, secret = keys[0], keys[1]
	}
	return iam.NewFromConfig(b.awsConfig(testRegion, akid, secret))
}

// sessionConfig is an SDK configuration signed with temporary credentials.
func (b *berth) sessionConfig(akid, secret, token string) aws.Config {
	cfg := b.awsConfig(testRegion, akid, secret)
	cfg.Credentials = credentials.NewStaticCredentialsProvider(akid, secret, token)
	return cfg
}

// wantAPIError checks an AWS error's code, HTTP status and exact message.
func wantAPIError(t *testing.T, what string, err error, code string, status int, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %s", what, code)
	}
	gotCode, gotMsg := apiErrorCode(t, err)
	gotStatus := apiErrorStatus(err)
	if gotCode != code || gotStatus != status || gotMsg != msg {
		t.Fatalf("%s: got %d %s: %q; want %d %s: %q", what, gotStatus, gotCode, gotMsg, status, code, msg)
	}
}

// wantAPIErrorCode checks an AWS error's code and HTTP status, stopping the
// test when they are wrong.
func wantAPIErrorCode(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %s", what, code)
	}
	gotCode, gotMsg := apiErrorCode(t, err)
	if gotStatus := apiErrorStatus(err); gotCode != code || gotStatus != status {
		t.Fatalf("%s: got %d %s: %q; want %d %s", what, gotStatus, gotCode, gotMsg, status, code)
	}
}

// wantAPIMessage checks an AWS error's exact message, and lets the test go
// on when it differs.
func wantAPIMessage(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if _, got := apiErrorCode(t, err); got != msg {
		t.Errorf("%s: message\n  %q\nwant\n  %q", what, got, msg)
	}
}

func apiErrorStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func callerARN(t *testing.T, cfg aws.Config) (string, error) {
	t.Helper()
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(withTimeout(t, 30*time.Second), &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Arn), nil
}

// dataPlaneStatus is the status of GET /v2/ with a login password.
func dataPlaneStatus(t *testing.T, b *berth, password string) int {
	t.Helper()
	r := dataPlaneRequest(t, withTimeout(t, 30*time.Second), http.MethodGet, b.URL+"/v2/", basicAuth("AWS", password))
	return r.resp.StatusCode
}

const invalidToken = "The security token included in the request is invalid."

func TestIAMUsersAndAccessKeys(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, 2*time.Minute)
	root := b.IAM()

	u, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob"), Path: aws.String("/eng/")})
	if err != nil {
		t.Fatal(err)
	}
	bobARN := "arn:aws:iam::" + testAccount + ":user/eng/bob"
	if got := aws.ToString(u.User.Arn); got != bobARN {
		t.Fatalf("CreateUser Arn = %s, want %s", got, bobARN)
	}
	if id := aws.ToString(u.User.UserId); !strings.HasPrefix(id, "AIDA") || len(id) != 21 {
		t.Errorf("UserId = %q, want AIDA and 17 more characters", id)
	}
	_, err = root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("BOB")})
	wantAPIError(t, "CreateUser(BOB)", err, "EntityAlreadyExists", 409, "User with name BOB already exists.")
	_, err = root.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	wantAPIError(t, "GetUser(nobody)", err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")

	k, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	akid, secret := aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey)
	if !strings.HasPrefix(akid, "AKIA") || len(akid) != 20 || len(secret) != 40 || k.AccessKey.Status != iamtypes.StatusTypeActive {
		t.Fatalf("CreateAccessKey = %s / %d-character secret / %s", akid, len(secret), k.AccessKey.Status)
	}
	bobCfg := b.awsConfig(testRegion, akid, secret)

	// The user calls the API as itself.
	if arn, err := callerARN(t, bobCfg); err != nil || arn != bobARN {
		t.Fatalf("GetCallerIdentity as bob = %s, %v; want %s", arn, err, bobARN)
	}
	// Calling as itself is not a permission of its own: a user with no
	// policy may not read itself (GetCallerIdentity needs none), nor log in.
	_, err = b.IAM(akid, secret).GetUser(ctx, &iam.GetUserInput{})
	wantAPIErrorCode(t, "GetUser as bob without a policy", err, "AccessDenied", 403)
	wantAPIMessage(t, "GetUser as bob without a policy", err, "User: "+bobARN+
		" is not authorized to perform: iam:GetUser on resource: user bob because no identity-based policy allows the iam:GetUser action")
	_, err = ecr.NewFromConfig(bobCfg).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	// ECR names no resource for GetAuthorizationToken: "on resource: *".
	wantAPIErrorCode(t, "GetAuthorizationToken as bob without a policy", err, "AccessDeniedException", 400)
	wantAPIMessage(t, "GetAuthorizationToken as bob without a policy", err, "User: "+bobARN+
		" is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action")
	self := `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Action":"iam:GetUser","Resource":"` + bobARN + `"},` +
		`{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}`
	if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("self"), PolicyDocument: aws.String(self)}); err != nil {
		t.Fatal(err)
	}
	me, err := b.IAM(akid, secret).GetUser(ctx, &iam.GetUserInput{})
	if err != nil || aws.ToString(me.User.UserName) != "bob" || aws.ToString(me.User.Path) != "/eng/" {
		t.Fatalf("GetUser as bob without UserName, allowed on its own ARN = %+v, %v", me, err)
	}
	// The policy names bob's ARN only.
	_, err = b.IAM(akid, secret).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	wantAPIErrorCode(t, "GetUser(nobody) as bob", err, "AccessDenied", 403)
	password := getLoginPassword(t, bobCfg)
	if s := dataPlaneStatus(t, b, password); s != http.StatusOK {
		t.Fatalf("GET /v2/ with bob's login: %d", s)
	}

	// An inactive key is refused as IAM refuses it; reactivated, it works,
	// and so does the login token issued to it.
	if _, err := root.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String(akid), Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	_, err = callerARN(t, bobCfg)
	wantAPIError(t, "GetCallerIdentity with an inactive key", err, "InvalidClientTokenId", 403, invalidToken)
	_, err = ecr.NewFromConfig(bobCfg).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	wantAPIError(t, "DescribeRepositories with an inactive key", err, "UnrecognizedClientException", 400, invalidToken)
	// The data plane says why: a new login with the same key fails too.
	r := dataPlaneRequest(t, ctx, http.MethodGet, b.URL+"/v2/", basicAuth("AWS", password))
	if r.resp.StatusCode != http.StatusUnauthorized || r.code != "UNAUTHORIZED" ||
		!strings.Contains(r.msg, "The access key "+akid+" that issued this authorization token is Inactive") ||
		!strings.Contains(r.msg, "update-access-key --access-key-id "+akid+" --status Active") {
		t.Fatalf("GET /v2/ with the login of an inactive key: %d %s %q, want 401 UNAUTHORIZED saying the key is Inactive", r.resp.StatusCode, r.code, r.msg)
	}
	keys, err := root.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")})
	if err != nil || len(keys.AccessKeyMetadata) != 1 || keys.AccessKeyMetadata[0].Status != iamtypes.StatusTypeInactive {
		t.Fatalf("ListAccessKeys = %+v, %v", keys, err)
	}
	if _, err := root.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String(akid), Status: iamtypes.StatusTypeActive}); err != nil {
		t.Fatal(err)
	}
	if arn, err := callerARN(t, bobCfg); err != nil || arn != bobARN {
		t.Fatalf("GetCallerIdentity after reactivating = %s, %v", arn, err)
	}
	if s := dataPlaneStatus(t, b, password); s != http.StatusOK {
		t.Fatalf("GET /v2/ after reactivating: %d", s)
	}

	if _, err := root.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("self")}); err != nil {
		t.Fatal(err)
	}

	// A user has at most two keys.
	k2, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	wantAPIError(t, "third CreateAccessKey", err, "LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2")

	// DeleteUser refuses while anything hangs off the user.
	if _, err := root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}); err != nil {
		t.Fatal(err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}]}`
	steps := []struct {
		msg         string
		add, remove func() error
	}{
		{"Cannot delete entity, must delete access keys first.", func() error { return nil }, func() error {
			for _, id := range []string{akid, aws.ToString(k2.AccessKey.AccessKeyId)} {
				if _, err := root.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String(id)}); err != nil {
					return err
				}
			}
			return nil
		}},
		{"Cannot delete entity, must delete policies first.", func() error {
			_, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("pull"), PolicyDocument: aws.String(doc)})
			return err
		}, func() error {
			_, err := root.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("pull")})
			return err
		}},
		{"Cannot delete entity, must detach all policies first.", func() error {
			_, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(readOnlyARN)})
			return err
		}, func() error {
			_, err := root.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(readOnlyARN)})
			return err
		}},
		{"Cannot delete entity, must remove users from group first.", func() error {
			_, err := root.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String("bob"), GroupName: aws.String("devs")})
			return err
		}, func() error {
			_, err := root.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: aws.String("bob"), GroupName: aws.String("devs")})
			return err
		}},
	}
	for _, st := range steps {
		if err := st.add(); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range steps {
		_, err := root.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})
		wantAPIError(t, "DeleteUser", err, "DeleteConflict", 409, st.msg)
		if err := st.remove(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := root.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	// The user's login token stops working at the next request.
	if s := dataPlaneStatus(t, b, password); s != http.StatusUnauthorized {
		t.Fatalf("GET /v2/ with a deleted user's login: %d, want 401", s)
	}
	_, err = root.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})
	wantAPIError(t, "DeleteUser(again)", err, "NoSuchEntity", 404, "The user with name bob cannot be found.")
	users, err := root.ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil || len(users.Users) != 0 {
		t.Fatalf("ListUsers after deleting = %+v, %v", users, err)
	}
}

const readOnlyARN = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"

func TestIAMPoliciesGroupsAndRoles(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, 2*time.Minute)
	root := b.IAM()

	// Managed policies: the AWS managed ECR ones, and the account's own.
	aws1, err := root.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeAws})
	if err != nil {
		t.Fatal(err)
	}
	var awsARNs []string
	for _, p := range aws1.Policies {
		awsARNs = append(awsARNs, aws.ToString(p.Arn))
	}
	for _, want := range []string{"FullAccess", "PowerUser", "ReadOnly", "PullOnly"} {
		if !slices.Contains(awsARNs, "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistry"+want) {
			t.Errorf("ListPolicies(AWS) = %q, lacks AmazonEC2ContainerRegistry%s", awsARNs, want)
		}
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"arn:aws:ecr:*:*:repository/app/*"}]}`
	cp, err := root.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("pull-app"), Path: aws.String("/team/"), PolicyDocument: aws.String(doc), Description: aws.String("pull app images")})
	if err != nil {
		t.Fatal(err)
	}
	policyARN := "arn:aws:iam::" + testAccount + ":policy/team/pull-app"
	if aws.ToString(cp.Policy.Arn) != policyARN || aws.ToString(cp.Policy.DefaultVersionId) != "v1" || !strings.HasPrefix(aws.ToString(cp.Policy.PolicyId), "ANPA") {
		t.Fatalf("CreatePolicy = %+v", cp.Policy)
	}
	_, err = root.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("PULL-APP"), PolicyDocument: aws.String(doc)})
	wantAPIError(t, "CreatePolicy(same name)", err, "EntityAlreadyExists", 409, "A policy called PULL-APP already exists. Duplicate names are not allowed.")
	_, err = root.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("broken"), PolicyDocument: aws.String(`{"Statement":`)})
	wantAPIError(t, "CreatePolicy(bad JSON)", err, "MalformedPolicyDocument", 400, "Syntax errors in policy.")
	gp, err := root.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(policyARN)})
	if err != nil || aws.ToString(gp.Policy.Description) != "pull app images" || aws.ToInt32(gp.Policy.AttachmentCount) != 0 {
		t.Fatalf("GetPolicy = %+v, %v", gp, err)
	}
	_, err = root.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(policyARN + "x")})
	wantAPIError(t, "GetPolicy(missing)", err, "NoSuchEntity", 404, "Policy "+policyARN+"x was not found.")
	// Terraform reads documents back through GetPolicyVersion, URL-encoded.
	for _, arn := range []string{policyARN, readOnlyARN} {
		v, err := root.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")})
		if err != nil {
			t.Fatalf("GetPolicyVersion(%s): %v", arn, err)
		}
		text, err := url.QueryUnescape(aws.ToString(v.PolicyVersion.Document))
		if err != nil || !json.Valid([]byte(text)) || !v.PolicyVersion.IsDefaultVersion {
			t.Fatalf("GetPolicyVersion(%s) document %q does not URL-decode to JSON: %v", arn, aws.ToString(v.PolicyVersion.Document), err)
		}
		if arn == policyARN && text != doc {
			t.Errorf("GetPolicyVersion document = %s, want %s", text, doc)
		}
	}

	// Groups, their members and their policies.
	if _, err := root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}); err != nil {
		t.Fatal(err)
	}
	_, err = root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("Devs")})
	wantAPIError(t, "CreateGroup(again)", err, "EntityAlreadyExists", 409, "Group with name Devs already exists.")
	for _, name := range []string{"alice", "bob"} {
		if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		if _, err := root.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	page1, err := root.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(1)})
	if err != nil || len(page1.Users) != 1 || aws.ToString(page1.Users[0].UserName) != "alice" || !page1.IsTruncated {
		t.Fatalf("ListUsers(MaxItems 1) = %+v, %v", page1, err)
	}
	page2, err := root.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(1), Marker: page1.Marker})
	if err != nil || len(page2.Users) != 1 || aws.ToString(page2.Users[0].UserName) != "bob" || page2.IsTruncated {
		t.Fatalf("ListUsers(second page) = %+v, %v", page2, err)
	}
	_, err = root.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("bob")})
	wantAPIError(t, "AddUserToGroup(no group)", err, "NoSuchEntity", 404, "The group with name ops cannot be found.")
	g, err := root.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("devs")})
	if err != nil || len(g.Users) != 2 || aws.ToString(g.Users[0].UserName) != "alice" || !strings.HasPrefix(aws.ToString(g.Group.GroupId), "AGPA") {
		t.Fatalf("GetGroup = %+v, %v", g, err)
	}
	fg, err := root.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("bob")})
	if err != nil || len(fg.Groups) != 1 || aws.ToString(fg.Groups[0].Arn) != "arn:aws:iam::"+testAccount+":group/devs" {
		t.Fatalf("ListGroupsForUser = %+v, %v", fg, err)
	}
	if _, err := root.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String(policyARN)}); err != nil {
		t.Fatal(err)
	}
	_, err = root.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
	wantAPIError(t, "AttachGroupPolicy(unknown)", err, "NoSuchEntity", 404, "Policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is not attachable.")
	att, err := root.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("devs")})
	if err != nil || len(att.AttachedPolicies) != 1 || aws.ToString(att.AttachedPolicies[0].PolicyName) != "pull-app" {
		t.Fatalf("ListAttachedGroupPolicies = %+v, %v", att, err)
	}
	if gp, _ := root.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(policyARN)}); aws.ToInt32(gp.Policy.AttachmentCount) != 1 {
		t.Errorf("AttachmentCount after attaching = %d, want 1", aws.ToInt32(gp.Policy.AttachmentCount))
	}
	_, err = root.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(policyARN)})
	wantAPIError(t, "DeletePolicy(attached)", err, "DeleteConflict", 409, "Cannot delete a policy attached to entities.")
	_, err = root.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("devs")})
	wantAPIError(t, "DeleteGroup(with members)", err, "DeleteConflict", 409, "Cannot delete entity, must remove users from group first.")
	for _, name := range []string{"alice", "bob"} {
		if _, err := root.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("devs"), UserName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = root.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("devs")})
	wantAPIError(t, "DeleteGroup(with a policy)", err, "DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
	if _, err := root.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String(policyARN)}); err != nil {
		t.Fatal(err)
	}
	_, err = root.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String(policyARN)})
	wantAPIError(t, "DetachGroupPolicy(again)", err, "NoSuchEntity", 404, "Policy "+policyARN+" was not found.")
	if _, err := root.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("devs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(policyARN)}); err != nil {
		t.Fatal(err)
	}
	local, err := root.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal})
	if err != nil || len(local.Policies) != 0 {
		t.Fatalf("ListPolicies(Local) after deleting = %+v, %v", local, err)
	}

	// Roles: trust policies, inline policies.
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + testAccount + `:root"},"Action":"sts:AssumeRole"}]}`
	cr, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ci"), AssumeRolePolicyDocument: aws.String(trust), Description: aws.String("CI pushes")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(cr.Role.MaxSessionDuration) != 3600 || !strings.HasPrefix(aws.ToString(cr.Role.RoleId), "AROA") {
		t.Errorf("CreateRole = %+v", cr.Role)
	}
	_, err = root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bad"), AssumeRolePolicyDocument: aws.String("{")})
	wantAPIError(t, "CreateRole(bad JSON)", err, "MalformedPolicyDocument", 400, "This policy contains invalid Json")
	_, err = root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bad"), AssumeRolePolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}`)})
	wantAPIError(t, "CreateRole(Resource)", err, "MalformedPolicyDocument", 400, "Has prohibited field Resource")
	_, err = root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("short"), AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(600)})
	wantAPIError(t, "CreateRole(MaxSessionDuration 600)", err, "ValidationError", 400,
		"1 validation error detected: Value '600' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600")
	gr, err := root.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("CI")})
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := url.QueryUnescape(aws.ToString(gr.Role.AssumeRolePolicyDocument)); text != trust {
		t.Errorf("GetRole AssumeRolePolicyDocument decodes to %s, want %s", text, trust)
	}
	_, err = root.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("nope")})
	wantAPIError(t, "GetRole(nope)", err, "NoSuchEntity", 404, "The role with name nope cannot be found.")
	if _, err := root.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ci"), PolicyName: aws.String("push"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	rp, err := root.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("ci"), PolicyName: aws.String("push")})
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := url.QueryUnescape(aws.ToString(rp.PolicyDocument)); text != doc || aws.ToString(rp.RoleName) != "ci" {
		t.Errorf("GetRolePolicy = %s / %s, want the document URL-encoded", aws.ToString(rp.RoleName), aws.ToString(rp.PolicyDocument))
	}
	_, err = root.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("ci"), PolicyName: aws.String("pull")})
	wantAPIError(t, "GetRolePolicy(missing)", err, "NoSuchEntity", 404, "The role policy with name pull cannot be found.")
	_, err = root.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ci"), PolicyName: aws.String("bad"), PolicyDocument: aws.String("null")})
	wantAPIError(t, "PutRolePolicy(null)", err, "MalformedPolicyDocument", 400, "Syntax errors in policy.")
	names, err := root.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("ci")})
	if err != nil || !slices.Equal(names.PolicyNames, []string{"push"}) {
		t.Fatalf("ListRolePolicies = %+v, %v", names, err)
	}
	_, err = root.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("ci")})
	wantAPIError(t, "DeleteRole(with a policy)", err, "DeleteConflict", 409, "Cannot delete entity, must delete policies first.")
	if _, err := root.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("ci"), PolicyName: aws.String("push")}); err != nil {
		t.Fatal(err)
	}
	newTrust := strings.Replace(trust, "Allow", "Deny", 1)
	if _, err := root.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("ci"), PolicyDocument: aws.String(newTrust)}); err != nil {
		t.Fatal(err)
	}
	lr, err := root.ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil || len(lr.Roles) != 1 {
		t.Fatalf("ListRoles = %+v, %v", lr, err)
	}
	if text, _ := url.QueryUnescape(aws.ToString(lr.Roles[0].AssumeRolePolicyDocument)); text != newTrust {
		t.Errorf("ListRoles trust policy = %s, want %s", text, newTrust)
	}
	if _, err := root.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("ci")}); err != nil {
		t.Errorf("ListInstanceProfilesForRole: %v", err)
	}
	if _, err := root.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("ci")}); err != nil {
		t.Fatal(err)
	}
}

func TestAssumeRole(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, 2*time.Minute)
	root := b.IAM()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + testAccount + `:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), Path: aws.String("/ci/"),
		AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(7200)}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("deployer"), PolicyArn: aws.String(readOnlyARN)}); err != nil {
		t.Fatal(err)
	}
	roleARN := "arn:aws:iam::" + testAccount + ":role/ci/deployer"

	// The root user may not assume roles at all, whatever the trust policy
	// says (STS API reference, AssumeRole).
	_, err := b.STS().AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("build-42")})
	azExpectAPIError(t, "AssumeRole as the root user", err, "AccessDenied", 403, "Roles may not be assumed by root accounts.")

	// A user of the account: the trust policy names the account, which
	// hands the decision to the user's identity-based policy.
	rk := createUserWithKey(t, b, "ci-runner")
	runnerCfg := b.awsConfig(testRegion, rk[0], rk[1])
	runner := sts.NewFromConfig(runnerCfg)
	_, err = runner.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("build-42")})
	wantAPIErrorCode(t, "AssumeRole as a user without a policy", err, "AccessDenied", 403)
	wantAPIMessage(t, "AssumeRole as a user without a policy", err,
		"User: arn:aws:iam::"+testAccount+":user/ci-runner is not authorized to perform: sts:AssumeRole on resource: "+roleARN+
			" because no identity-based policy allows the sts:AssumeRole action")
	if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ci-runner"), PolicyName: aws.String("assume-deployer"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + roleARN + `"}]}`)}); err != nil {
		t.Fatal(err)
	}

	before := time.Now()
	out, err := runner.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("build-42"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	akid, secret, token, exp := aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken), aws.ToTime(c.Expiration)
	if !strings.HasPrefix(akid, "ASIA") || len(akid) != 20 || len(secret) != 40 || token == "" {
		t.Fatalf("AssumeRole credentials = %s / %d-character secret / token %q", akid, len(secret), token)
	}
	if exp.Before(before.Add(899*time.Second)) || exp.After(time.Now().Add(901*time.Second)) {
		t.Fatalf("Expiration %v is not 900 seconds after the call (%v)", exp, before)
	}
	sessionARN := "arn:aws:sts::" + testAccount + ":assumed-role/deployer/build-42"
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != sessionARN {
		t.Errorf("AssumedRoleUser.Arn = %s, want %s", got, sessionARN)
	}
	if id := aws.ToString(out.AssumedRoleUser.AssumedRoleId); !strings.HasPrefix(id, "AROA") || !strings.HasSuffix(id, ":build-42") {
		t.Errorf("AssumedRoleId = %s", id)
	}

	// The session works, with its token and only with it.
	sessCfg := b.sessionConfig(akid, secret, token)
	id, err := sts.NewFromConfig(sessCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != sessionARN || aws.ToString(id.UserId) != aws.ToString(out.AssumedRoleUser.AssumedRoleId) {
		t.Fatalf("GetCallerIdentity with the session = %+v, %v", id, err)
	}
	_, err = callerARN(t, b.awsConfig(testRegion, akid, secret))
	wantAPIError(t, "GetCallerIdentity without the session token", err, "InvalidClientTokenId", 403, invalidToken)
	_, err = callerARN(t, b.sessionConfig(akid, secret, token+"x"))
	wantAPIError(t, "GetCallerIdentity with another token", err, "InvalidClientTokenId", 403, invalidToken)
	_, err = callerARN(t, b.sessionConfig(testAccessKeyID, testSecretAccessKey, token))
	wantAPIError(t, "GetCallerIdentity with long-term keys and a token", err, "InvalidClientTokenId", 403, invalidToken)
	_, err = b.IAM(akid, secret).ListRoles(ctx, &iam.ListRolesInput{})
	wantAPIError(t, "IAM without the session token", err, "InvalidClientTokenId", 403, invalidToken)
	_, err = iam.NewFromConfig(sessCfg).GetUser(ctx, &iam.GetUserInput{})
	wantAPIError(t, "GetUser as a role", err, "ValidationError", 400, "Must specify userName when calling with non-User credentials")

	// A login token made with the session expires no later than it.
	auth, err := ecr.NewFromConfig(sessCfg).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	if tokenExp := aws.ToTime(auth.AuthorizationData[0].ExpiresAt); tokenExp.After(exp) {
		t.Fatalf("login token expiresAt %v is after the session's expiration %v", tokenExp, exp)
	}
	raw, _ := base64.StdEncoding.DecodeString(aws.ToString(auth.AuthorizationData[0].AuthorizationToken))
	password := strings.TrimPrefix(string(raw), "AWS:")
	if s := dataPlaneStatus(t, b, password); s != http.StatusOK {
		t.Fatalf("GET /v2/ with the session's login: %d", s)
	}

	// Role chaining: the trust policy names the account, which hands the
	// decision to the caller's identity-based policies; the session's are
	// its role's, and ReadOnly does not allow sts:AssumeRole.
	_, err = sts.NewFromConfig(sessCfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("chained")})
	wantAPIErrorCode(t, "AssumeRole by role chaining without an identity policy", err, "AccessDenied", 403)
	wantAPIMessage(t, "AssumeRole by role chaining without an identity policy", err,
		"User: "+sessionARN+" is not authorized to perform: sts:AssumeRole on resource: "+roleARN+
			" because no identity-based policy allows the sts:AssumeRole action")
	chain := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + roleARN + `"}]}`
	if _, err := root.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("chain"), PolicyDocument: aws.String(chain)}); err != nil {
		t.Fatal(err)
	}

	// Durations: from 900 seconds to the role's maximum, 1 hour when
	// chaining.
	for _, tc := range []struct {
		cfg      aws.Config
		duration int32
		msg      string
	}{
		{runnerCfg, 899,
			"1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{runnerCfg, 7201, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{sessCfg, 3601, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."},
	} {
		_, err := sts.NewFromConfig(tc.cfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(tc.duration)})
		wantAPIError(t, "AssumeRole for "+(time.Duration(tc.duration)*time.Second).String(), err, "ValidationError", 400, tc.msg)
	}
	if _, err := sts.NewFromConfig(sessCfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("chained")}); err != nil {
		t.Errorf("AssumeRole by role chaining for an hour: %v", err)
	}

	// The trust policy decides who may assume the role, even for a caller
	// whose own policy allows it; a role that does not exist is refused
	// alike.
	k := createUserWithKey(t, b, "outsider")
	if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("outsider"), PolicyName: aws.String("assume-any"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("deployer"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::` + testAccount + `:user/outsider"},"Action":"sts:AssumeRole"},` + trust[strings.Index(trust, "[")+1:])}); err != nil {
		t.Fatal(err)
	}
	outsider := sts.NewFromConfig(b.awsConfig(testRegion, k[0], k[1]))
	for _, arn := range []string{roleARN, "arn:aws:iam::" + testAccount + ":role/nope", "arn:aws:iam::" + testAccount + ":role/deployer"} {
		_, err = outsider.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s1")})
		wantAPIError(t, "AssumeRole("+arn+") as outsider", err, "AccessDenied", 403,
			"User: arn:aws:iam::"+testAccount+":user/outsider is not authorized to perform: sts:AssumeRole on resource: "+arn)
	}

	// Deleting the role ends its sessions.
	if _, err := root.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("deployer"), PolicyArn: aws.String(readOnlyARN)}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("chain")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("deployer")}); err != nil {
		t.Fatal(err)
	}
	_, err = callerARN(t, sessCfg)
	wantAPIError(t, "GetCallerIdentity after the role was deleted", err, "InvalidClientTokenId", 403, invalidToken)
	if s := dataPlaneStatus(t, b, password); s != http.StatusUnauthorized {
		t.Fatalf("GET /v2/ with the login of a deleted role's session: %d, want 401", s)
	}
}

// createUserWithKey makes a user with an access key in the default account.
func createUserWithKey(t *testing.T, b *berth, name string) [2]string {
	t.Helper()
	ctx := withTimeout(t, 30*time.Second)
	if _, err := b.IAM().CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	k, err := b.IAM().CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return [2]string{aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey)}
}

// runAdmin runs `berth admin` and returns its standard output.
func runAdmin(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(berthBin, append([]string{"admin"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), errors.New(strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

func TestIAMAdminCreateAccount(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, 2*time.Minute)

	// Made while the server runs, seen at once.
	out, err := runAdmin(t, "create-account", "--data", b.DataDir, "--account-id", "123456789012", "--output", "json")
	if err != nil {
		t.Fatalf("create-account: %v", err)
	}
	var creds struct{ Account, AccessKeyID, SecretAccessKey string }
	if err := json.Unmarshal([]byte(out), &creds); err != nil || creds.Account != "123456789012" {
		t.Fatalf("create-account printed %q (%v)", out, err)
	}
	cfg := b.awsConfig(testRegion, creds.AccessKeyID, creds.SecretAccessKey)
	if arn, err := callerARN(t, cfg); err != nil || arn != "arn:aws:iam::123456789012:root" {
		t.Fatalf("GetCallerIdentity as the new account's root = %s, %v", arn, err)
	}
	u, err := iam.NewFromConfig(cfg).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")})
	if err != nil || aws.ToString(u.User.Arn) != "arn:aws:iam::123456789012:user/bob" {
		t.Fatalf("CreateUser in the new account = %+v, %v", u, err)
	}
	if users, err := b.IAM().ListUsers(ctx, &iam.ListUsersInput{}); err != nil || len(users.Users) != 0 {
		t.Fatalf("the default account sees the new account's users: %+v, %v", users, err)
	}
	if _, err := ecr.NewFromConfig(cfg).CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("app")}); err != nil {
		t.Fatalf("CreateRepository as the new account's root: %v", err)
	}

	// A random id; the default account and ids taken are refused.
	out, err = runAdmin(t, "create-account", "--data", b.DataDir)
	if err != nil || !strings.Contains(out, "AWS_ACCESS_KEY_ID=AKIA") {
		t.Fatalf("create-account with a random id printed %q, %v", out, err)
	}
	for _, id := range []string{"123456789012", testAccount} {
		if _, err := runAdmin(t, "create-account", "--data", b.DataDir, "--account-id", id); err == nil {
			t.Errorf("create-account --account-id %s succeeded", id)
		}
	}
	list, err := runAdmin(t, "list-accounts", "--data", b.DataDir)
	if err != nil || !strings.Contains(list, "123456789012") || strings.Count(list, "\n") != 3 {
		t.Errorf("list-accounts = %q, %v", list, err)
	}
}

// TestIAMWithAWSCLI drives a few IAM calls with the real aws CLI, which
// parses Berth's XML with botocore.
func TestIAMWithAWSCLI(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	b := startBerth(t, "")
	awsCLI := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command("aws", append([]string{"--endpoint-url", b.URL, "--region", testRegion, "--output", "json"}, args...)...)
		env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_") })
		cmd.Env = append(env, "AWS_ACCESS_KEY_ID="+testAccessKeyID, "AWS_SECRET_ACCESS_KEY="+testSecretAccessKey,
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		var v map[string]any
		if len(strings.TrimSpace(string(out))) > 0 {
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("aws %s printed %q: %v", strings.Join(args, " "), out, err)
			}
		}
		return v
	}
	created := awsCLI("iam", "create-user", "--user-name", "cli-user", "--path", "/tools/")
	if arn := created["User"].(map[string]any)["Arn"]; arn != "arn:aws:iam::"+testAccount+":user/tools/cli-user" {
		t.Fatalf("create-user Arn = %v", arn)
	}
	listed := awsCLI("iam", "list-users")
	users, _ := listed["Users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["UserName"] != "cli-user" {
		t.Fatalf("list-users = %v", listed)
	}
	awsCLI("iam", "put-user-policy", "--user-name", "cli-user", "--policy-name", "pull",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}]}`)
	// The CLI decodes the URL-encoded document into JSON.
	got := awsCLI("iam", "get-user-policy", "--user-name", "cli-user", "--policy-name", "pull")
	if doc, ok := got["PolicyDocument"].(map[string]any); !ok || doc["Version"] != "2012-10-17" {
		t.Fatalf("get-user-policy PolicyDocument = %#v", got["PolicyDocument"])
	}
	policies := awsCLI("iam", "list-policies", "--scope", "AWS")
	if ps, _ := policies["Policies"].([]any); len(ps) < 4 {
		t.Fatalf("list-policies --scope AWS = %v", policies)
	}
	if empty := awsCLI("iam", "list-groups"); empty["Groups"] == nil {
		t.Errorf("list-groups with no groups = %v, want an empty Groups list", empty)
	}
}
