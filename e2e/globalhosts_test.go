package e2e

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// A client that reaches the global sts.amazonaws.com and iam.amazonaws.com
// by name (a hosts entry, here a dialer) gets Berth on its one listener,
// signing with us-east-1 as clients do for the global hosts, whatever
// Berth's default region (docs/real-hostnames.md).
func TestGlobalSTSAndIAMHosts(t *testing.T) {
	b := startBerth(t, "", "--default-region", "eu-west-1")
	ctx := withTimeout(t, 30*time.Second)
	var hosts []string
	client := &http.Client{Transport: hostRecorder{&hosts, &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, b.Host)
		},
	}}}
	cfg := func(endpoint string) aws.Config {
		return aws.Config{
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider(testAccessKeyID, testSecretAccessKey, ""),
			BaseEndpoint: aws.String(endpoint),
			HTTPClient:   client,
		}
	}
	who, err := sts.NewFromConfig(cfg("http://sts.amazonaws.com")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Account) != testAccount {
		t.Fatalf("GetCallerIdentity at sts.amazonaws.com = %+v, %v", who, err)
	}
	if _, err := iam.NewFromConfig(cfg("http://iam.amazonaws.com")).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("ListUsers at iam.amazonaws.com: %v", err)
	}
	if len(hosts) != 2 || hosts[0] != "sts.amazonaws.com" || hosts[1] != "iam.amazonaws.com" {
		t.Fatalf("requests went to hosts %v, want sts.amazonaws.com and iam.amazonaws.com", hosts)
	}
}

// hostRecorder notes the Host each request names.
type hostRecorder struct {
	hosts *[]string
	base  http.RoundTripper
}

func (h hostRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	*h.hosts = append(*h.hosts, r.URL.Host)
	return h.base.RoundTrip(r)
}
