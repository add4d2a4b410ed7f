package awsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/awsapi/model"
)

const (
	testAccount = "123456789012"
	testKey     = "AKIATESTTESTTESTTEST"
	testSecret  = "test-secret-test-secret-test-secret-0000"
)

// errTestKind is a domain error kind the test service's table words.
var errTestKind = errors.New("test kind")

type repoIn struct {
	RepositoryName string `json:"repositoryName"`
	RegistryID     string `json:"registryId"`
}

type repoOut struct {
	Name   string `json:"name"`
	Caller string `json:"caller"`
	Region string `json:"region"`
}

// onRepo checks the operation on an ARN made of the repository name, in
// the account registryId names (the caller's by default).
func onRepo(_ context.Context, c *Call, in *repoIn) ([]Check, error) {
	acct := in.RegistryID
	if acct == "" {
		acct = c.Principal.Account
	}
	return []Check{{Resource: "repo/" + in.RepositoryName, Account: acct}}, nil
}

// testECR serves a few of ECR's operations with canned behaviour, and
// lists the rest as not served.
func testECR(t *testing.T, calls *int) *Service {
	t.Helper()
	served := []Operation{
		Op("DescribeRepositories", onRepo, func(_ context.Context, c *Call, in *repoIn) (*repoOut, error) {
			*calls++
			return &repoOut{Name: in.RepositoryName, Caller: c.Principal.ARN, Region: c.Region}, nil
		}),
		Op("DeleteRepository", onRepo, func(context.Context, *Call, *repoIn) (*repoOut, error) {
			*calls++
			return nil, &domainErr{kind: errTestKind, msg: "the domain's own words"}
		}),
		Op("CreateRepository", onRepo, func(context.Context, *Call, *repoIn) (*repoOut, error) {
			*calls++
			return nil, errors.New("disk on fire")
		}),
		Op("ListImages", onRepo, func(context.Context, *Call, *repoIn) (*repoOut, error) {
			*calls++
			return &repoOut{}, nil
		}).WithAction("ecr:BatchGetImage"),
		Op("DescribeImages", onRepo, func(context.Context, *Call, *repoIn) (*repoOut, error) {
			*calls++
			return nil, fmt.Errorf("list images: %w", storeDown{})
		}),
	}
	return &Service{
		Name: "ECR", Model: "ecr", ActionPrefix: "ecr", FaultCode: "ServerException",
		Operations: served, NotServed: notIn(t, "ecr", served),
		Errors: func(err error) *Error {
			var de *domainErr
			if errors.As(err, &de) && errors.Is(err, errTestKind) {
				return Errorf("RepositoryNotFoundException", de.msg)
			}
			return nil
		},
	}
}

// testSTS serves GetCallerIdentity and lists the rest as not served.
func testSTS(t *testing.T) *Service {
	t.Helper()
	type identity struct {
		Arn     string `xml:"Arn"`
		Account string `xml:"Account"`
	}
	served := []Operation{
		Op("GetCallerIdentity", Anyone, func(_ context.Context, c *Call, _ *struct{}) (*identity, error) {
			return &identity{Arn: c.Principal.ARN, Account: c.Principal.Account}, nil
		}),
	}
	return &Service{Name: "STS", Model: "sts", ActionPrefix: "sts", Operations: served, NotServed: notIn(t, "sts", served)}
}

// storeDown is a store's error while its database cannot be reached.
type storeDown struct{}

func (storeDown) Error() string     { return "connection refused" }
func (storeDown) Unavailable() bool { return true }

type domainErr struct {
	kind error
	msg  string
}

func (e *domainErr) Error() string { return e.msg }
func (e *domainErr) Unwrap() error { return e.kind }

// notIn lists the model's operations that served lacks.
func notIn(t *testing.T, modelName string, served []Operation) []string {
	t.Helper()
	m, err := model.Service(modelName)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, name := range m.Operations() {
		if !slices.ContainsFunc(served, func(o Operation) bool { return o.Name == name }) {
			names = append(names, name)
		}
	}
	return names
}

// denyAction refuses one action and allows the rest, remembering what it
// was asked.
type denyAction struct {
	action string
	asked  []authz.Request
}

func (d *denyAction) Authorize(_ context.Context, r authz.Request) error {
	d.asked = append(d.asked, r)
	if r.Action == d.action {
		return &authz.DeniedError{Request: r, Reason: "because the test says so"}
	}
	return nil
}

type testFrontDoor struct {
	t      *testing.T
	s      *Server
	authz  *denyAction
	calls  int
	region string
}

func newTestFrontDoor(t *testing.T) *testFrontDoor {
	t.Helper()
	f := &testFrontDoor{t: t, authz: &denyAction{action: "ecr:DeleteRepository"}, region: "eu-west-1"}
	root := authn.RootCredentials{Account: testAccount, AccessKeyID: testKey, SecretAccessKey: testSecret}
	s, err := New(Options{Services: []*Service{testECR(t, &f.calls), testSTS(t)}, Directory: authn.NewKeys(root), Authorizer: f.authz,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	return f
}

func (f *testFrontDoor) do(service string, body []byte, header map[string]string) (int, http.Header, []byte) {
	f.t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://berth.test/", bytes.NewReader(body))
	for k, v := range header {
		r.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(f.t.Context(), creds, r, hex.EncodeToString(sum[:]), service, f.region, time.Now()); err != nil {
		f.t.Fatal(err)
	}
	w := httptest.NewRecorder()
	f.s.ServeHTTP(w, r)
	out, _ := io.ReadAll(w.Result().Body)
	return w.Code, w.Result().Header, out
}

func (f *testFrontDoor) ecr(op, body string) (int, map[string]any) {
	f.t.Helper()
	status, _, out := f.do("ecr", []byte(body), map[string]string{
		"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921." + op})
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		f.t.Fatalf("%s: the answer is not a JSON object: %q", op, out)
	}
	return status, m
}

// TestJSONPath drives every step of the JSON protocol's path with a test
// service: decode, validation against the model, authorization of the
// row's checks with the operation's action, the handler, the error table.
func TestJSONPath(t *testing.T) {
	f := newTestFrontDoor(t)
	for _, tc := range []struct {
		name, op, body string
		status         int
		want           map[string]string // members of the answer
		msg            string            // in the message
		called         bool
	}{
		{name: "served", op: "DescribeRepositories", body: `{"repositoryNames":["xy"],"repositoryName":"app"}`, status: 200,
			want: map[string]string{"name": "app", "caller": "arn:aws:iam::" + testAccount + ":root", "region": "eu-west-1"}, called: true},
		{name: "empty body reads as {}", op: "DescribeRepositories", body: ``, status: 200, want: map[string]string{"name": ""}, called: true},
		{name: "model validation before the handler", op: "DescribeRepositories", body: `{"maxResults":5000}`, status: 400,
			want: map[string]string{"__type": "InvalidParameterException"}, msg: "maxResults"},
		{name: "not JSON", op: "DescribeRepositories", body: `[1]`, status: 400,
			want: map[string]string{"__type": "SerializationException"}},
		{name: "members the model lacks are ignored", op: "DescribeRepositories", body: `{"registryId":"123456789012","repositoryName":"a","unknownMember":1}`, status: 200,
			want: map[string]string{"name": "a"}, called: true},
		{name: "denied in the service's words", op: "DeleteRepository", body: `{"repositoryName":"app"}`, status: 400,
			want: map[string]string{"__type": "AccessDeniedException"}, msg: "is not authorized to perform: ecr:DeleteRepository on resource: repo/app because the test says so"},
		{name: "a row with another action", op: "ListImages", body: `{"repositoryName":"app"}`, status: 200, called: true},
		{name: "server fault", op: "CreateRepository", body: `{"repositoryName":"app"}`, status: 500,
			want: map[string]string{"__type": "ServerException"}, msg: "the server log has the cause", called: true},
		{name: "a store unavailable", op: "DescribeImages", body: `{"repositoryName":"app"}`, status: 503,
			want: map[string]string{"__type": "ServiceUnavailableException"}, msg: "cannot reach its metadata or blob store right now; the request may not have taken effect", called: true},
		{name: "not served", op: "StartImageScan", body: `{}`, status: 400,
			want: map[string]string{"__type": "UnsupportedOperationException", "message": "Berth does not serve ECR's StartImageScan yet"}},
		{name: "not in the model", op: "MakeCoffee", body: `{}`, status: 400,
			want: map[string]string{"__type": "UnknownOperationException", "message": `ECR has no operation "MakeCoffee"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.calls = 0
			status, got := f.ecr(tc.op, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, got)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %q (answer %v)", k, got[k], v, got)
				}
			}
			if msg, _ := got["message"].(string); !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q does not say %q", msg, tc.msg)
			}
			if (f.calls > 0) != tc.called {
				t.Errorf("handler ran %d times, want called=%v", f.calls, tc.called)
			}
		})
	}

	// The domain error's kind decides the code; its message is kept.
	f.authz.action = "ecr:Nothing"
	status, got := f.ecr("DeleteRepository", `{"repositoryName":"app"}`)
	if status != 400 || got["__type"] != "RepositoryNotFoundException" || got["message"] != "the domain's own words" {
		t.Errorf("domain error: %d %v", status, got)
	}
	// A row's action replaces the operation's own, and the check's account
	// and resource reach the authorizer.
	f.authz.asked = nil
	f.ecr("ListImages", `{"repositoryName":"app","registryId":"210987654321"}`)
	if len(f.authz.asked) != 1 || f.authz.asked[0].Action != "ecr:BatchGetImage" ||
		f.authz.asked[0].Resource != "repo/app" || f.authz.asked[0].ResourceAccount != "210987654321" {
		t.Errorf("authorizer asked %+v", f.authz.asked)
	}
}

// TestSigningScope: a call signed for another service is refused before
// any operation runs.
func TestSigningScope(t *testing.T) {
	f := newTestFrontDoor(t)
	status, _, out := f.do("ecr-public", []byte(`{"repositoryName":"app"}`), map[string]string{
		"X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"})
	if status != 400 || !strings.Contains(string(out), "Credential should be scoped to correct service: 'ecr'") || f.calls != 0 {
		t.Fatalf("%d %s (handler ran %d times)", status, out, f.calls)
	}
}

// TestQueryPath: the query protocol's form is validated and decoded by the
// model, and answered in XML.
func TestQueryPath(t *testing.T) {
	f := newTestFrontDoor(t)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	status, _, out := f.do("sts", []byte("Action=GetCallerIdentity&Version=2011-06-15"), form)
	var ok struct {
		XMLName xml.Name
		Xmlns   string `xml:"xmlns,attr"`
		Result  struct {
			Arn     string `xml:"Arn"`
			Account string `xml:"Account"`
		} `xml:"GetCallerIdentityResult"`
		RequestID string `xml:"ResponseMetadata>RequestId"`
	}
	if err := xml.Unmarshal(out, &ok); err != nil || status != 200 {
		t.Fatalf("GetCallerIdentity: %d %s (%v)", status, out, err)
	}
	if ok.XMLName.Local != "GetCallerIdentityResponse" || ok.Xmlns != "https://sts.amazonaws.com/doc/2011-06-15/" ||
		ok.Result.Account != testAccount || ok.RequestID == "" {
		t.Errorf("GetCallerIdentity answered %s", out)
	}

	for _, tc := range []struct {
		body, code, msg string
	}{
		{"Action=GetSessionToken&Version=2011-06-15", "UnsupportedOperationException", "Berth does not serve STS's GetSessionToken yet"},
		{"Action=BrewTea&Version=2011-06-15", "InvalidAction", "Could not find operation BrewTea for version 2011-06-15"},
		{"Version=2011-06-15", "MissingAction", "the request names no Action"},
	} {
		status, _, out := f.do("sts", []byte(tc.body), form)
		var e queryErrorResponse
		if err := xml.Unmarshal(out, &e); err != nil || status != 400 || e.Error.Code != tc.code || e.Error.Message != tc.msg {
			t.Errorf("%s: %d %s", tc.body, status, out)
		}
	}
}

// TestCheck: a table that disagrees with its model is refused, saying how.
func TestCheck(t *testing.T) {
	var calls int
	good := testECR(t, &calls)
	if err := good.Check(); err != nil {
		t.Fatalf("a consistent table: %v", err)
	}
	missing := testECR(t, &calls)
	missing.NotServed = slices.DeleteFunc(slices.Clone(missing.NotServed), func(n string) bool { return n == "StartImageScan" })
	twice := testECR(t, &calls)
	twice.NotServed = append(twice.NotServed, "DescribeRepositories")
	unknown := testECR(t, &calls)
	unknown.NotServed = append(unknown.NotServed, "MakeCoffee")
	for name, tc := range map[string]struct {
		s    *Service
		want string
	}{
		"missing": {missing, "the model's operation StartImageScan is neither served nor listed as not served"},
		"twice":   {twice, "DescribeRepositories is in Operations and in NotServed"},
		"unknown": {unknown, "NotServed lists MakeCoffee, which the ecr model does not define"},
	} {
		err := tc.s.Check()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
		if _, err := New(Options{Services: []*Service{tc.s}}); err == nil {
			t.Errorf("%s: New accepted the table", name)
		}
	}
}
