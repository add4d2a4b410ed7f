package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// forwardedFor sends every request as a proxy passes it on, with the
// client's address in X-Forwarded-For (none when client is empty).
type forwardedFor struct {
	client string
	next   http.RoundTripper
}

func (f forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.client != "" {
		r = r.Clone(r.Context())
		r.Header.Set("X-Forwarded-For", f.client)
	}
	return f.next.RoundTrip(r)
}

// TestAuthzSourceIPBehindProxy: with --trusted-proxies naming the address
// the tests connect from, aws:SourceIp is the client that X-Forwarded-For
// names, on the API and on the data plane; a server that trusts no proxy
// ignores the header, so a client cannot claim an address by sending it.
func TestAuthzSourceIPBehindProxy(t *testing.T) {
	t.Parallel()
	ctx := withTimeout(t, 2*time.Minute)
	const repo = "office/app"
	rootBARN := "arn:aws:iam::" + azAccountB + ":root"
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"BFromOffice","Effect":"Allow","Principal":{"AWS":"` + rootBARN + `"},` +
		`"Action":` + azPullActions + `,"Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}`
	type server struct {
		ref      name.Repository
		digest   v1.Hash
		rootB    aws.Config
		password string
	}
	setup := func(b *berth) server {
		ref, digest := azRepoWithImage(t, ctx, b, repo)
		azSetRepositoryPolicy(t, ctx, b.ECR(), repo, policy)
		rootB := azCreateAccount(t, b, azAccountB)
		return server{ref, digest, rootB, getLoginPassword(t, rootB)}
	}
	behind := setup(startAuthzBerth(t, "--trusted-proxies", "127.0.0.1, ::1"))
	direct := setup(startAuthzBerth(t))
	denied := azDeniedMsg(rootBARN, "ecr:BatchGetImage", azRepoARN(testAccount, repo), azNoResourcePolicy("ecr:BatchGetImage"))

	for _, tc := range []struct {
		name      string
		s         server
		client    string
		wantAllow bool
	}{
		{"behind a trusted proxy, a client in the range", behind, "203.0.113.9", true},
		{"behind a trusted proxy, a client outside it", behind, "198.51.100.1", false},
		{"behind a trusted proxy, a made-up entry left of the real client", behind, "203.0.113.9, 198.51.100.1", false},
		{"behind a trusted proxy, no header: the proxy's own address", behind, "", false},
		{"no trusted proxy: the header is ignored", direct, "203.0.113.9", false},
	} {
		cfg := tc.s.rootB.Copy()
		cfg.HTTPClient = &http.Client{Transport: forwardedFor{tc.client, http.DefaultTransport}}
		apiErr := azBatchGetImage(ctx, cfg, testAccount, repo)
		pullErr := pullForwarded(ctx, tc.s.ref, tc.s.digest, tc.s.password, forwardedFor{tc.client, remote.DefaultTransport})
		if tc.wantAllow {
			if apiErr != nil || pullErr != nil {
				t.Errorf("%s: BatchGetImage: %v; pull: %v; want both allowed", tc.name, apiErr, pullErr)
			}
			continue
		}
		azWantAPIDenied(t, tc.name+": BatchGetImage", apiErr, denied)
		azWantDenied(t, tc.name+": pull", pullErr, denied)
	}
}

// pullForwarded pulls ref:v1 completely through transport and checks it is
// the image want.
func pullForwarded(ctx context.Context, ref name.Repository, want v1.Hash, password string, transport http.RoundTripper) error {
	img, err := remote.Image(ref.Tag("v1"), azOpts(ctx, password, remote.WithTransport(transport))...)
	if err != nil {
		return err
	}
	if d, err := img.Digest(); err != nil || d != want {
		return fmt.Errorf("pulled %v (%v), want %v", d, err, want)
	}
	return validate.Image(img)
}
