package awsapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/awsapi/model"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/sqlite"
)

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

func TestQueryService(t *testing.T) {
	for _, tc := range []struct {
		auth, action, want string
	}{
		{"AWS4-HMAC-SHA256 Credential=AKIAX/20250101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00", "GetCallerIdentity", "iam"},
		{"AWS4-HMAC-SHA256 Credential=AKIAX/20250101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00", "CreateUser", "sts"},
		{"", "CreateUser", "iam"},
		{"", "GetCallerIdentity", "sts"},
		{"", "", "sts"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		if got := legacyQueryService(r, url.Values{"Action": {tc.action}}); got != tc.want {
			t.Errorf("queryService(%q, %s) = %s, want %s", tc.auth, tc.action, got, tc.want)
		}
	}
}

// TestExpiredSession signs requests with the credentials of a session
// whose expiry has passed on the directory's clock: both protocols refuse
// them as expired, in their own words.
func TestExpiredSession(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	role := &meta.IAMEntity{Account: "123456789012", Kind: meta.IAMRole, Name: "r", Path: "/", ID: "AROAR000000000000001", MaxSessionDuration: 3600}
	if err := db.CreateIAMEntity(ctx, role); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rs := &meta.IAMSession{AccessKeyID: "ASIAS000000000000001", SecretAccessKey: "session-secret", SessionToken: "session-token",
		Account: "123456789012", RoleName: "r", RolePath: "/", RoleID: role.ID, SessionName: "x", CreatedAt: now, ExpiresAt: now.Add(15 * time.Minute)}
	if err := db.CreateRoleSession(ctx, rs); err != nil {
		t.Fatal(err)
	}
	dir := authn.NewStore(db, nil)
	s, err := New(Options{Services: []*Service{notServing(t, "ECR", "ecr")}, Directory: dir, IAM: db, Authorizer: authz.AccountOwner{}})
	if err != nil {
		t.Fatal(err)
	}

	call := func(service, token string, body []byte, header map[string]string) (int, []byte) {
		t.Helper()
		r := httptest.NewRequest(http.MethodPost, "http://berth.test/", bytes.NewReader(body))
		for k, v := range header {
			r.Header.Set(k, v)
		}
		sum := sha256.Sum256(body)
		creds := aws.Credentials{AccessKeyID: rs.AccessKeyID, SecretAccessKey: rs.SecretAccessKey, SessionToken: token}
		if err := v4.NewSigner().SignHTTP(ctx, creds, r, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		out, _ := io.ReadAll(w.Result().Body)
		return w.Code, out
	}
	sts := func(token string) (int, []byte) {
		return call("sts", token, []byte("Action=GetCallerIdentity&Version=2011-06-15"), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	}
	ecrCall := func() (int, []byte) {
		return call("ecr", rs.SessionToken, []byte("{}"), map[string]string{
			"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DescribeRegistry"})
	}
	queryCode := func(body []byte) (code, msg string) {
		var e queryErrorResponse
		xml.Unmarshal(body, &e)
		return e.Error.Code, e.Error.Message
	}

	if status, body := sts(rs.SessionToken); status != http.StatusOK {
		t.Fatalf("GetCallerIdentity with a live session: %d %s", status, body)
	}
	if status, body := sts(""); status != http.StatusForbidden {
		t.Fatalf("GetCallerIdentity without the session token: %d %s", status, body)
	} else if code, msg := queryCode(body); code != "InvalidClientTokenId" || msg != "The security token included in the request is invalid." {
		t.Fatalf("GetCallerIdentity without the session token: %s: %s", code, msg)
	}

	dir.SetClock(func() time.Time { return rs.ExpiresAt.Add(time.Second) })
	status, body := sts(rs.SessionToken)
	if code, msg := queryCode(body); status != http.StatusForbidden || code != "ExpiredToken" || msg != "The security token included in the request is expired" {
		t.Errorf("STS with an expired session: %d %s: %s", status, code, msg)
	}
	status, body = ecrCall()
	var je struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	json.Unmarshal(body, &je)
	if status != http.StatusBadRequest || je.Type != "ExpiredTokenException" || je.Message != "The security token included in the request is expired" {
		t.Errorf("ECR with an expired session: %d %s", status, body)
	}
}

// notServing is a service that serves none of its model's operations.
func notServing(t *testing.T, name, modelName string) *Service {
	t.Helper()
	m, err := model.Service(modelName)
	if err != nil {
		t.Fatal(err)
	}
	return &Service{Name: name, Model: modelName, NotServed: m.Operations()}
}
