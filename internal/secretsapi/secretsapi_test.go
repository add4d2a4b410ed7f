package secretsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/meta/sqlite"
	"github.com/berth-registry/berth/internal/secrets"
)

const (
	testAccount = "123456789012"
	testKey     = "AKIATESTTESTTESTTEST"
	testSecret  = "test-secret-test-secret-test-secret-0000"
)

// TestErrorTableCoversKinds: every kind the domain declares is worded as
// a Secrets Manager exception; an error of no kind is a server fault.
func TestErrorTableCoversKinds(t *testing.T) {
	for _, kind := range secrets.Kinds() {
		e := domainError(&secrets.Error{Kind: kind, Message: "the domain's words"})
		if e == nil || e.Code == "" || e.Status != http.StatusBadRequest || e.Message != "the domain's words" {
			t.Errorf("%v: %+v", kind, e)
		}
	}
	for _, err := range []error{&secrets.Error{Kind: errors.New("unmapped"), Message: "?"}, errors.New("disk on fire")} {
		if e := domainError(err); e != nil {
			t.Errorf("%v: %+v, want nil (a server fault)", err, e)
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
	dom, err := secrets.New(db, secrets.Options{TokenKey: bytes.Repeat([]byte{1}, 32), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	f := &frontDoor{t: t, authz: &recorder{}}
	root := authn.RootCredentials{Account: testAccount, AccessKeyID: testKey, SecretAccessKey: testSecret}
	s, err := awsapi.New(awsapi.Options{Services: []*awsapi.Service{New(dom).Service()}, Directory: authn.NewKeys(root),
		Authorizer: f.authz, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	return f
}

// call makes a signed Secrets Manager call as the root, in eu-west-1.
func (f *frontDoor) call(op, body string) (int, map[string]any) {
	f.t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://berth.test/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "secretsmanager."+op)
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(f.t.Context(), creds, r, hex.EncodeToString(sum[:]), "secretsmanager", "eu-west-1", time.Now()); err != nil {
		f.t.Fatal(err)
	}
	w := httptest.NewRecorder()
	f.s.ServeHTTP(w, r)
	raw, _ := io.ReadAll(w.Result().Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		f.t.Fatalf("%s: not JSON: %s", op, raw)
	}
	return w.Code, out
}

const arnPrefix = "arn:aws:secretsmanager:eu-west-1:" + testAccount + ":secret:"

// TestChecks: what each operation is authorized on — the secret's ARN
// once it exists (by name or ARN), the ARN its name would have before,
// "*" for a list, the tags a call sets.
func TestChecks(t *testing.T) {
	f := newFrontDoor(t)
	status, out := f.call("CreateSecret", `{"Name":"ecr-pullthroughcache/hub","SecretString":"s"}`)
	if status != http.StatusOK {
		t.Fatalf("CreateSecret: %d %v", status, out)
	}
	arn := out["ARN"].(string)
	whole := regexp.QuoteMeta(arn)
	for _, tc := range []struct {
		op, body string
		action   string
		resource string // a regular expression
		tags     map[string]string
	}{
		{"CreateSecret", `{"Name":"new","Tags":[{"Key":"team","Value":"a"}]}`, "secretsmanager:CreateSecret",
			regexp.QuoteMeta(arnPrefix+"new-") + `[A-Za-z0-9]{6}`, map[string]string{"team": "a"}},
		{"GetSecretValue", `{"SecretId":"ecr-pullthroughcache/hub"}`, "secretsmanager:GetSecretValue", whole, nil},
		{"GetSecretValue", `{"SecretId":"` + arn + `"}`, "secretsmanager:GetSecretValue", whole, nil},
		{"DescribeSecret", `{"SecretId":"` + arnPrefix + `ecr-pullthroughcache/hub"}`, "secretsmanager:DescribeSecret", whole, nil},
		{"DescribeSecret", `{"SecretId":"nothing"}`, "secretsmanager:DescribeSecret", regexp.QuoteMeta(arnPrefix + "nothing"), nil},
		{"PutSecretValue", `{"SecretId":"ecr-pullthroughcache/hub","SecretString":"t"}`, "secretsmanager:PutSecretValue", whole, nil},
		{"TagResource", `{"SecretId":"ecr-pullthroughcache/hub","Tags":[{"Key":"k","Value":"v"}]}`, "secretsmanager:TagResource", whole, map[string]string{"k": "v"}},
		{"ListSecrets", `{}`, "secretsmanager:ListSecrets", `\*`, nil},
	} {
		f.authz.asked = nil
		f.call(tc.op, tc.body)
		if len(f.authz.asked) != 1 {
			t.Errorf("%s %s: %d checks", tc.op, tc.body, len(f.authz.asked))
			continue
		}
		got := f.authz.asked[0]
		if got.Action != tc.action || !regexp.MustCompile("^"+tc.resource+"$").MatchString(got.Resource) || got.ResourceAccount != testAccount ||
			len(got.RequestTags) != len(tc.tags) || (tc.tags != nil && !equalTags(got.RequestTags, tc.tags)) {
			t.Errorf("%s %s: checked %s on %s of %s with tags %v; want %s on %s", tc.op, tc.body,
				got.Action, got.Resource, got.ResourceAccount, got.RequestTags, tc.action, tc.resource)
		}
	}
	// The secret CreateSecret was authorized on is the one it made.
	f.authz.asked = nil
	_, out = f.call("CreateSecret", `{"Name":"made"}`)
	if len(f.authz.asked) != 1 || f.authz.asked[0].Resource != out["ARN"] {
		t.Errorf("CreateSecret authorized on %v, made %v", f.authz.asked, out["ARN"])
	}
}

func equalTags(a, b map[string]string) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return len(a) == len(b)
}

// TestAnswers: errors in Secrets Manager's wire form — __type and
// message — for the model's validation, the domain's refusals, and an
// operation not served.
func TestAnswers(t *testing.T) {
	f := newFrontDoor(t)
	if status, out := f.call("CreateSecret", `{"Name":"hub","SecretString":"s"}`); status != http.StatusOK {
		t.Fatalf("CreateSecret: %d %v", status, out)
	}
	for _, tc := range []struct {
		op, body string
		code     string
		message  string
	}{
		{"GetSecretValue", `{}`, "ValidationException",
			"1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null"},
		{"CreateSecret", `{"Name":"x","SecretString":""}`, "ValidationException",
			"1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"GetSecretValue", `{"SecretId":"nope"}`, "ResourceNotFoundException", "Secrets Manager can't find the specified secret."},
		{"GetSecretValue", `{"SecretId":"arn:aws:secretsmanager:us-east-1:123456789012:secret:hub"}`, "ResourceNotFoundException",
			"Secrets Manager can't find the specified secret."},
		{"GetSecretValue", `{"SecretId":"hub","VersionStage":"AWSPREVIOUS"}`, "ResourceNotFoundException",
			"Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS"},
		{"CreateSecret", `{"Name":"hub"}`, "ResourceExistsException", "The operation failed because the secret hub already exists."},
		{"CreateSecret", `{"Name":"a","AddReplicaRegions":[{"Region":"us-west-2"}]}`, "InvalidParameterException",
			"Berth does not replicate secrets to other Regions: leave out AddReplicaRegions."},
		{"ListSecrets", `{"NextToken":"garbage!"}`, "InvalidNextTokenException", "The NextToken value is not valid."},
		{"DeleteSecret", `{"SecretId":"hub","RecoveryWindowInDays":31}`, "InvalidParameterException",
			"The recovery window can't be less than 7 days or more than 30 days."},
		{"RotateSecret", `{"SecretId":"hub"}`, "UnsupportedOperationException", "Berth does not serve Secrets Manager's RotateSecret yet"},
	} {
		status, out := f.call(tc.op, tc.body)
		if status != http.StatusBadRequest || out["__type"] != tc.code || out["message"] != tc.message {
			t.Errorf("%s %s: %d %v; want 400 %s %q", tc.op, tc.body, status, out, tc.code, tc.message)
		}
	}
}
