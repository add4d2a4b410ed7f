package awsapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/berth-registry/berth/internal/authn"
)

type portalIn struct {
	AccessToken string `json:"accessToken"`
	AccountID   string `json:"accountId"`
	RoleName    string `json:"roleName"`
	MaxResults  *int   `json:"maxResults"`
}

var errUnauthorized = errors.New("unauthorized")

// testPortal serves the SSO portal's model with canned answers that echo
// what the front door bound from the path, query string and headers.
func testPortal(t *testing.T) *Service {
	t.Helper()
	echo := func(_ context.Context, c *Call, in *portalIn) (any, error) {
		if in.AccessToken == "bad" {
			return nil, &domainErr{kind: errUnauthorized, msg: "Session token not found or invalid"}
		}
		return map[string]any{"in": in, "unsigned": c.Principal == nil}, nil
	}
	served := []Operation{
		Op("GetRoleCredentials", Anyone, echo).WithoutSignature(),
		Op("ListAccounts", Anyone, echo).WithoutSignature(),
		Op("Logout", Anyone, echo).WithoutSignature(),
	}
	return &Service{Name: "SSO", Model: "sso", ActionPrefix: "awsssoportal", Operations: served, NotServed: notIn(t, "sso", served),
		Errors: DomainErrors[*domainErr]([]ErrorRow{{Kind: errUnauthorized, Code: "UnauthorizedException", Status: http.StatusBadRequest}})}
}

func TestRESTJSON(t *testing.T) {
	root := authn.RootCredentials{Account: testAccount, AccessKeyID: testKey, SecretAccessKey: testSecret}
	s, err := New(Options{Services: []*Service{testPortal(t)}, Directory: authn.NewKeys(root), Authorizer: &denyAction{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, target string
		header               map[string]string
		status               int
		errType              string
		// want are substrings of the body.
		want []string
	}{
		{name: "header and query bound", method: "GET", target: "/federation/credentials?role_name=EcrPower&account_id=000000000000",
			header: map[string]string{"x-amz-sso_bearer_token": "tok"}, status: 200,
			want: []string{`"accessToken":"tok"`, `"accountId":"000000000000"`, `"roleName":"EcrPower"`, `"unsigned":true`}},
		{name: "integer from the query string", method: "GET", target: "/assignment/accounts?max_result=5",
			header: map[string]string{"x-amz-sso_bearer_token": "tok"}, status: 200, want: []string{`"maxResults":5`}},
		{name: "missing header fails the model", method: "GET", target: "/federation/credentials?role_name=R&account_id=000000000000",
			status: 400, errType: "InvalidRequestException", want: []string{"Value null at 'accessToken'"}},
		{name: "not an integer", method: "GET", target: "/assignment/accounts?max_result=x",
			header: map[string]string{"x-amz-sso_bearer_token": "tok"}, status: 400, errType: "SerializationException"},
		{name: "domain error takes the model's status", method: "POST", target: "/logout",
			header: map[string]string{"x-amz-sso_bearer_token": "bad"}, status: 401, errType: "UnauthorizedException",
			want: []string{`"message":"Session token not found or invalid"`}},
		{name: "operation not served", method: "GET", target: "/assignment/roles?account_id=000000000000",
			header: map[string]string{"x-amz-sso_bearer_token": "tok"}, status: 400, errType: "MissingAuthenticationTokenException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, nil)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			if !s.IsRESTRequest(r) {
				t.Fatalf("IsRESTRequest(%s %s) = false", tc.method, tc.target)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			body, _ := io.ReadAll(w.Body)
			if w.Code != tc.status {
				t.Errorf("status %d, want %d; body %s", w.Code, tc.status, body)
			}
			if got := w.Header().Get("X-Amzn-ErrorType"); got != tc.errType {
				t.Errorf("X-Amzn-ErrorType %q, want %q; body %s", got, tc.errType, body)
			}
			for _, want := range tc.want {
				if !strings.Contains(string(body), want) {
					t.Errorf("body %s lacks %s", body, want)
				}
			}
			if !json.Valid(body) {
				t.Errorf("body is not JSON: %s", body)
			}
		})
	}
}

func TestRESTRouting(t *testing.T) {
	root := authn.RootCredentials{Account: testAccount, AccessKeyID: testKey, SecretAccessKey: testSecret}
	s, err := New(Options{Services: []*Service{testPortal(t)}, Directory: authn.NewKeys(root), Authorizer: &denyAction{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, target string
		want           bool
	}{
		{"GET", "/federation/credentials", true},
		{"POST", "/federation/credentials", false}, // the model says GET
		{"GET", "/federation/credentials/x", false},
		{"GET", "/federation", false},
		{"POST", "/", false},
		{"GET", "/v2/", false},
		{"POST", "/logout", true},
	} {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		if got := s.IsRESTRequest(r); got != tc.want {
			t.Errorf("IsRESTRequest(%s %s) = %v, want %v", tc.method, tc.target, got, tc.want)
		}
	}
}
