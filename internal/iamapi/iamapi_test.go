package iamapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/iam"
	"github.com/berth-registry/berth/internal/meta/sqlite"
)

const (
	testAccount = "123456789012"
	testKey     = "AKIATESTTESTTESTTEST"
	testSecret  = "test-secret-test-secret-test-secret-0000"
)

// TestErrorTableCoversKinds: every kind the IAM domain declares is worded
// as an IAM error; an error of no kind is a server fault.
func TestErrorTableCoversKinds(t *testing.T) {
	for _, kind := range iam.Kinds() {
		err := &iam.Error{Kind: kind, Message: "the domain's words"}
		e := domainError(err)
		if e == nil || e.Code == "" || e.Status < 400 || e.Status >= 500 || e.Message != "the domain's words" {
			t.Errorf("%v: %+v", kind, e)
		}
	}
	for _, err := range []error{
		&iam.Error{Kind: errors.New("a kind nobody mapped"), Message: "?"},
		errors.New("disk on fire"),
	} {
		if e := domainError(err); e != nil {
			t.Errorf("%v: %+v, want nil (a server fault)", err, e)
		}
	}
}

func TestPolicyURLEncode(t *testing.T) {
	for in, want := range map[string]string{
		`{"Version":"2012-10-17"}`: "%7B%22Version%22%3A%222012-10-17%22%7D",
		"a b\n~._-":                "a%20b%0A~._-",
		"é/+":                      "%C3%A9%2F%2B",
	} {
		if got := policyURLEncode(in); got != want {
			t.Errorf("policyURLEncode(%q) = %q, want %q", in, got, want)
		}
		if back, err := url.QueryUnescape(policyURLEncode(in)); err != nil || back != in {
			t.Errorf("QueryUnescape(policyURLEncode(%q)) = %q, %v", in, back, err)
		}
	}
}

func TestResourceName(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:iam::123456789012:user/bob":                "user bob",
		"arn:aws:iam::123456789012:user/eng/dev/bob":        "user bob",
		"arn:aws:iam::123456789012:group/devs":              "group devs",
		"arn:aws:iam::123456789012:role/ci/deploy":          "role deploy",
		"arn:aws:iam::123456789012:user/":                   "user ",
		"arn:aws:iam::123456789012:root":                    "",
		"arn:aws:iam::123456789012:policy/pull":             "",
		"arn:aws:ecr:us-east-1:123456789012:repository/app": "",
	} {
		if got := resourceName(arn); got != want {
			t.Errorf("resourceName(%s) = %q, want %q", arn, got, want)
		}
	}
}

// recorder allows every request and remembers them.
type recorder struct{ asked []authz.Request }

func (r *recorder) Authorize(_ context.Context, req authz.Request) error {
	r.asked = append(r.asked, req)
	return nil
}

type frontDoor struct {
	t     *testing.T
	s     *awsapi.Server
	authz *recorder
}

func newFrontDoor(t *testing.T) *frontDoor {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &frontDoor{t: t, authz: &recorder{}}
	root := authn.RootCredentials{Account: testAccount, AccessKeyID: testKey, SecretAccessKey: testSecret}
	svc := New(iam.New(db, iam.Options{Authorizer: f.authz}))
	s, err := awsapi.New(awsapi.Options{Services: []*awsapi.Service{svc.Service()}, Directory: authn.NewKeys(root),
		Authorizer: f.authz, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	return f
}

// call makes a signed IAM call as the root.
func (f *frontDoor) call(params string) (int, []byte) {
	f.t.Helper()
	body := []byte(params + "&Version=2010-05-08")
	r := httptest.NewRequest(http.MethodPost, "http://berth.test/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(f.t.Context(), creds, r, hex.EncodeToString(sum[:]), "iam", "us-east-1", time.Now()); err != nil {
		f.t.Fatal(err)
	}
	w := httptest.NewRecorder()
	f.s.ServeHTTP(w, r)
	out, _ := io.ReadAll(w.Result().Body)
	return w.Code, out
}

// TestChecks: what each kind of operation is authorized on — the entity
// with its real path once it exists, the ARN it would have before, the
// account root for the root's own keys, an AWS managed policy in the
// caller's account for reads.
func TestChecks(t *testing.T) {
	f := newFrontDoor(t)
	for _, setup := range []string{
		"Action=CreateUser&UserName=bob&Path=/eng/",
		"Action=CreateGroup&GroupName=devs",
		"Action=CreateRole&RoleName=ci&Path=/deploy/&AssumeRolePolicyDocument=" +
			url.QueryEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}`),
	} {
		if status, out := f.call(setup); status != http.StatusOK {
			t.Fatalf("%s: %d %s", setup, status, out)
		}
	}
	arn := func(rest string) string { return "arn:aws:iam::" + testAccount + ":" + rest }
	readOnly := "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	for _, tc := range []struct {
		params                          string
		action, resource, name, account string
	}{
		{"Action=CreateUser&UserName=alice&Path=/ops/", "iam:CreateUser", arn("user/ops/alice"), "user alice", testAccount},
		{"Action=GetUser&UserName=BOB", "iam:GetUser", arn("user/eng/bob"), "user bob", testAccount},
		{"Action=GetUser", "iam:GetUser", arn("root"), "", testAccount},
		{"Action=ListAccessKeys", "iam:ListAccessKeys", arn("root"), "", testAccount},
		{"Action=DeleteUser&UserName=nobody", "iam:DeleteUser", arn("user/nobody"), "user nobody", testAccount},
		{"Action=ListUsers", "iam:ListUsers", arn("user/"), "user ", testAccount},
		{"Action=AddUserToGroup&GroupName=devs&UserName=bob", "iam:AddUserToGroup", arn("group/devs"), "group devs", testAccount},
		{"Action=GetRole&RoleName=ci", "iam:GetRole", arn("role/deploy/ci"), "role ci", testAccount},
		{"Action=ListRolePolicies&RoleName=ci", "iam:ListRolePolicies", arn("role/deploy/ci"), "role ci", testAccount},
		{"Action=AttachUserPolicy&UserName=bob&PolicyArn=" + readOnly, "iam:AttachUserPolicy", arn("user/eng/bob"), "user bob", testAccount},
		{"Action=CreatePolicy&PolicyName=pull&PolicyDocument=" + url.QueryEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`),
			"iam:CreatePolicy", arn("policy/pull"), "", testAccount},
		{"Action=GetPolicy&PolicyArn=" + readOnly, "iam:GetPolicy", readOnly, "", testAccount},
		{"Action=DeletePolicy&PolicyArn=" + readOnly, "iam:DeletePolicy", readOnly, "", "aws"},
	} {
		f.authz.asked = nil
		f.call(tc.params)
		if len(f.authz.asked) != 1 {
			t.Errorf("%s: %d checks", tc.params, len(f.authz.asked))
			continue
		}
		got := f.authz.asked[0]
		if got.Action != tc.action || got.Resource != tc.resource || got.ResourceName != tc.name || got.ResourceAccount != tc.account {
			t.Errorf("%s: checked %s on %s (%q) of %s; want %s on %s (%q) of %s", tc.params,
				got.Action, got.Resource, got.ResourceName, got.ResourceAccount, tc.action, tc.resource, tc.name, tc.account)
		}
	}
}

// TestAnswers: answers in IAM's XML — the owner element named by its kind,
// documents URL-encoded, empty lists present, the root described without
// a name — and errors in IAM's codes.
func TestAnswers(t *testing.T) {
	f := newFrontDoor(t)
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`
	for _, tc := range []struct {
		params string
		status int
		want   []string // in the answer
	}{
		{"Action=CreateGroup&GroupName=devs&Path=/t/", 200, []string{"<CreateGroupResult><Group><Path>/t/</Path><GroupName>devs</GroupName>", "<Arn>arn:aws:iam::123456789012:group/t/devs</Arn>"}},
		{"Action=PutGroupPolicy&GroupName=devs&PolicyName=all&PolicyDocument=" + url.QueryEscape(doc), 200, []string{"<PutGroupPolicyResponse", "<RequestId>"}},
		{"Action=GetGroupPolicy&GroupName=devs&PolicyName=all", 200, []string{"<GroupName>devs</GroupName><PolicyName>all</PolicyName><PolicyDocument>" + policyURLEncode(doc) + "</PolicyDocument>"}},
		{"Action=ListUsers", 200, []string{"<ListUsersResult><Users></Users><IsTruncated>false</IsTruncated></ListUsersResult>"}},
		{"Action=GetUser", 200, []string{"<User><UserId>123456789012</UserId><Arn>arn:aws:iam::123456789012:root</Arn></User>"}},
		{"Action=GetPolicyVersion&PolicyArn=arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly&VersionId=v1", 200, []string{"<VersionId>v1</VersionId><IsDefaultVersion>true</IsDefaultVersion>"}},
		{"Action=GetGroup&GroupName=nope", 404, []string{"<Code>NoSuchEntity</Code><Message>The group with name nope cannot be found.</Message>"}},
		{"Action=CreateGroup&GroupName=DEVS", 409, []string{"<Code>EntityAlreadyExists</Code>"}},
		{"Action=GetPolicy&PolicyArn=arn:aws:iam::123:policy/pull", 400, []string{"<Code>InvalidInput</Code><Message>ARN arn:aws:iam::123:policy/pull is not valid.</Message>"}},
		{"Action=ListUsers&MaxItems=0", 400, []string{"<Code>ValidationError</Code>"}},
		{"Action=CreateLoginProfile&UserName=bob", 400, []string{"<Code>UnsupportedOperationException</Code><Message>Berth does not serve IAM&#39;s CreateLoginProfile yet</Message>"}},
	} {
		status, out := f.call(tc.params)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.params, status, tc.status, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s: answer lacks %s:\n%s", tc.params, w, out)
			}
		}
		if err := xml.Unmarshal(out, new(struct{})); err != nil {
			t.Errorf("%s: not XML: %v", tc.params, err)
		}
	}
}
