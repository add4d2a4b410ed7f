package awsapi

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/berth-registry/berth/internal/awsapi/model"
)

// TestQueryServiceFor: a query call goes to the service its credential
// scope names; one with no scope to the first service whose model has its
// Action, else to the first of all.
func TestQueryServiceFor(t *testing.T) {
	table, err := newServiceTable([]*Service{testSTS(t), notServing(t, "IAM", "iam")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		auth, action, want string
	}{
		{"AWS4-HMAC-SHA256 Credential=AKIAX/20250101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00", "GetCallerIdentity", "IAM"},
		{"AWS4-HMAC-SHA256 Credential=AKIAX/20250101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00", "CreateUser", "STS"},
		{"", "CreateUser", "IAM"},
		{"", "GetCallerIdentity", "STS"},
		{"", "", "STS"},
		{"", "BrewTea", "STS"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		got := table.queryServiceFor(r, url.Values{"Action": {tc.action}})
		if got == nil || got.Name != tc.want {
			t.Errorf("queryServiceFor(%q, %s) = %v, want %s", tc.auth, tc.action, got, tc.want)
		}
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
