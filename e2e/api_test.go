package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

func apiErrorCode(t *testing.T, err error) (string, string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an AWS API error", err, err)
	}
	return ae.ErrorCode(), ae.ErrorMessage()
}

func TestCallerIdentityAndLogin(t *testing.T) {
	b := startBerth(t, "")
	ctx := withTimeout(t, time.Minute)
	id, err := b.STS().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Account) != testAccount || aws.ToString(id.Arn) != "arn:aws:iam::"+testAccount+":root" || aws.ToString(id.UserId) != testAccount {
		t.Fatalf("GetCallerIdentity = %s %s %s", aws.ToString(id.Account), aws.ToString(id.Arn), aws.ToString(id.UserId))
	}

	start := time.Now()
	out, err := b.ECR().GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	d := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(d.AuthorizationToken))
	if err != nil || !strings.HasPrefix(string(raw), "AWS:") {
		t.Fatalf("authorizationToken is not base64 of AWS:<password>: %q", raw)
	}
	if left := time.Until(aws.ToTime(d.ExpiresAt)); left < 11*time.Hour+59*time.Minute || left > 12*time.Hour+time.Minute {
		t.Fatalf("expiresAt is %v ahead (asked at %v), want 12 hours", left, start)
	}
	if aws.ToString(d.ProxyEndpoint) != b.URL {
		t.Fatalf("proxyEndpoint = %q, want %q", aws.ToString(d.ProxyEndpoint), b.URL)
	}
	// Another region is another registry, at an ECR-style host.
	west := ecr.NewFromConfig(b.awsConfig("eu-west-1", testAccessKeyID, testSecretAccessKey))
	wout, err := west.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	if ep := aws.ToString(wout.AuthorizationData[0].ProxyEndpoint); !strings.Contains(ep, testAccount+".dkr.ecr.eu-west-1.") {
		t.Fatalf("eu-west-1 proxyEndpoint = %q, want an ECR-style host for eu-west-1", ep)
	}
}

func TestAPIAuthenticationFailures(t *testing.T) {
	b := startBerth(t, "")
	ctx := withTimeout(t, time.Minute)
	for _, tc := range []struct {
		name     string
		akid     string
		secret   string
		wantCode string
		wantMsg  string
	}{
		{"unknown key", "AKIANOBODYHASTHIS000", testSecretAccessKey, "UnrecognizedClientException", "The security token included in the request is invalid."},
		{"wrong secret", testAccessKeyID, "wrongwrongwrongwrongwrongwrongwrongwrong", "InvalidSignatureException", "The request signature we calculated does not match the signature you provided."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ecr.NewFromConfig(b.awsConfig(testRegion, tc.akid, tc.secret))
			_, err := c.DescribeRegistry(ctx, &ecr.DescribeRegistryInput{})
			code, msg := apiErrorCode(t, err)
			if code != tc.wantCode || !strings.HasPrefix(msg, tc.wantMsg) {
				t.Fatalf("got %s: %s; want %s: %s", code, msg, tc.wantCode, tc.wantMsg)
			}
		})
	}

	// Hand-made requests: unsigned, signed too long ago, tampered after
	// signing, and aimed at operations that do not exist.
	body := []byte(`{}`)
	sign := func(target string, at time.Time, payload []byte) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, b.URL+"/", bytes.NewReader(payload))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", target)
		sum := sha256Hex(payload)
		creds := aws.Credentials{AccessKeyID: testAccessKeyID, SecretAccessKey: testSecretAccessKey}
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, sum, "ecr", testRegion, at); err != nil {
			t.Fatal(err)
		}
		return req
	}
	unsigned, _ := http.NewRequest(http.MethodPost, b.URL+"/", bytes.NewReader(body))
	unsigned.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRegistry")
	tampered := sign("AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", time.Now(), body)
	tampered.Body = io.NopCloser(strings.NewReader(`{"maxResults":5}`))
	tampered.ContentLength = 16
	for _, tc := range []struct {
		name     string
		req      *http.Request
		status   int
		wantCode string
		wantMsg  string
	}{
		{"unsigned", unsigned, 400, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"stale signature", sign("AmazonEC2ContainerRegistry_V20150921.DescribeRegistry", time.Now().Add(-20*time.Minute), body), 400, "InvalidSignatureException", "Signature expired:"},
		{"body changed after signing", tampered, 400, "InvalidSignatureException", "The request signature we calculated does not match"},
		{"unknown operation", sign("AmazonEC2ContainerRegistry_V20150921.MakeCoffee", time.Now(), body), 400, "UnknownOperationException", "MakeCoffee"},
		{"unknown service", sign("DynamoDB_20120810.ListTables", time.Now(), body), 400, "UnknownOperationException", "DynamoDB_20120810.ListTables"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			raw, _ := io.ReadAll(resp.Body)
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatalf("error body is not AWS JSON: %q", raw)
			}
			if resp.StatusCode != tc.status || e.Type != tc.wantCode || !strings.Contains(e.Message, tc.wantMsg) {
				t.Fatalf("got %d %s: %s; want %d %s containing %q", resp.StatusCode, e.Type, e.Message, tc.status, tc.wantCode, tc.wantMsg)
			}
			if resp.Header.Get("X-Amzn-RequestId") == "" {
				t.Error("no x-amzn-RequestId header")
			}
		})
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
