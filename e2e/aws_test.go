package e2e

import (
	"context"
	"encoding/base64"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The root credentials every test server is started with.
const (
	testAccessKeyID     = "AKIAE2ETESTKEY000001"
	testSecretAccessKey = "e2eTestSecretAccessKey0000000000000000000"
	testAccount         = "000000000000"
	testRegion          = "us-east-1"
)

// awsConfig is an SDK configuration that reaches b with the given keys.
func (b *berth) awsConfig(region, akid, secret string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secret, ""),
		BaseEndpoint: aws.String(b.URL),
	}
}

// ECR is an aws-sdk-go-v2 ECR client for b, signed with the root keys.
func (b *berth) ECR() *ecr.Client {
	return ecr.NewFromConfig(b.awsConfig(testRegion, testAccessKeyID, testSecretAccessKey))
}

// SecretsManager is an aws-sdk-go-v2 Secrets Manager client for b, signed
// with the root keys.
func (b *berth) SecretsManager() *secretsmanager.Client {
	return secretsmanager.NewFromConfig(b.awsConfig(testRegion, testAccessKeyID, testSecretAccessKey))
}

// STS is an aws-sdk-go-v2 STS client for b.
func (b *berth) STS() *sts.Client {
	return sts.NewFromConfig(b.awsConfig(testRegion, testAccessKeyID, testSecretAccessKey))
}

type loginCache struct {
	once     sync.Once
	password string
	err      error
}

var logins sync.Map // *berth → *loginCache

// Password logs in through GetAuthorizationToken, as `aws ecr
// get-login-password` does, and returns the password for user AWS.
func (b *berth) Password(t testing.TB) string {
	t.Helper()
	v, _ := logins.LoadOrStore(b, &loginCache{})
	lc := v.(*loginCache)
	lc.once.Do(func() {
		out, err := b.ECR().GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{})
		if err != nil {
			lc.err = err
			return
		}
		raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
		if err != nil {
			lc.err = err
			return
		}
		user, pw, _ := strings.Cut(string(raw), ":")
		if user != "AWS" {
			t.Fatalf("authorization token user is %q, want AWS", user)
		}
		lc.password = pw
	})
	if lc.err != nil {
		t.Fatalf("GetAuthorizationToken: %v", lc.err)
	}
	return lc.password
}

// AuthHeader is the Authorization header value of a logged-in client.
func (b *berth) AuthHeader(t testing.TB) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte("AWS:"+b.Password(t)))
}

// Transport adds b's login to requests that carry no Authorization.
func (b *berth) Transport(t testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &authTransport{base: base, header: b.AuthHeader(t)}
}

type authTransport struct {
	base   http.RoundTripper
	header string
}

func (a *authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", a.header)
	}
	return a.base.RoundTrip(r)
}

// requireAWSCLI fails the test when the aws CLI is missing (skips it under
// -short): the tests that call it prove what the CLI itself sends and
// reads, which nothing else does.
func requireAWSCLI(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		if testing.Short() {
			t.Skip("the aws CLI is not installed (-short)")
		}
		t.Fatal("this test runs the real aws CLI: install it (Debian: apt-get install awscli)")
	}
}
