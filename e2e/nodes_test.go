package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob/s3/s3test"
	"github.com/berth-registry/berth/internal/meta/postgres/pgtest"
)

// startNodes starts n nodes of one deployment: one PostgreSQL database, one
// S3 bucket, one token key, the same root keys, as an operator runs them
// behind a load balancer.
func startNodes(t *testing.T, n int, args ...string) []*berth {
	t.Helper()
	nodes, _ := startNodesBucket(t, n, args...)
	return nodes
}

// startNodesBucket is startNodes, and a way to look into the bucket.
func startNodesBucket(t *testing.T, n int, args ...string) ([]*berth, func() (*s3.Client, string)) {
	t.Helper()
	pgtest.Require(t)
	metaURL := pgtest.NewDatabase(t)
	cfg := s3test.NewBucket(t, "")
	q := url.Values{"endpoint": {cfg.Endpoint}, "region": {cfg.Region}, "path-style": {"true"}}
	blobsURL := "s3://" + cfg.Bucket + "/berth?" + q.Encode()
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("k"), 32))
	var nodes []*berth
	for range n {
		b := &berth{t: t, DataDir: t.TempDir(),
			Args: append([]string{"--meta", metaURL, "--blobs", blobsURL, "--token-key", key}, args...),
			Env:  []string{"BERTH_S3_ACCESS_KEY_ID=" + cfg.AccessKeyID, "BERTH_S3_SECRET_ACCESS_KEY=" + cfg.SecretAccessKey}}
		b.start()
		t.Cleanup(func() { b.Stop() })
		nodes = append(nodes, b)
	}
	return nodes, func() (*s3.Client, string) { return s3test.Client(cfg), cfg.Bucket }
}

// within retries check every 50ms until it passes or d has gone, and
// reports how long it took.
func within(t *testing.T, d time.Duration, what string, check func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := check()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v: %v", what, d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTwoNodes: two nodes on one PostgreSQL and one S3 bucket are one
// registry. What is pushed through one pulls through the other; a chunked
// upload continues on the other node; a revoked key and a removed
// repository policy take effect on the other node within a second.
func TestTwoNodes(t *testing.T) {
	nodes := startNodes(t, 2)
	a, b := nodes[0], nodes[1]
	ctx := withTimeout(t, 3*time.Minute)

	if _, err := a.ECR().CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("shared/app")}); err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(256*1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ggcrRepo(t, a, "shared/app").Tag("v1"), img, ggcrOpts(t, a, ctx)...); err != nil {
		t.Fatalf("push through node a: %v\n%s", err, a.Log())
	}
	want, _ := img.Digest()
	// A login token from node a works on node b: they share the key.
	got, err := remote.Image(ggcrRepo(t, b, "shared/app").Tag("v1"), remote.WithContext(ctx), ggcrAuth(t, a))
	if err != nil {
		t.Fatalf("pull through node b: %v\n%s", err, b.Log())
	}
	if d, _ := got.Digest(); d != want {
		t.Errorf("node b has %v under v1, want %v", d, want)
	}

	// A chunked upload started on a, appended on b, completed on a.
	data := bytes.Repeat([]byte("chunked across nodes "), 1000)
	d := digest.FromBytes(data)
	auth := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("AWS:"+a.Password(t)))}
	resp, _ := doHTTP(t, ctx, a, http.MethodPost, a.URL+"/v2/shared/app/blobs/uploads/", auth, nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusAccepted || loc == "" {
		t.Fatalf("POST on a: %d", resp.StatusCode)
	}
	half := len(data) / 2
	patch := map[string]string{"Authorization": auth["Authorization"], "Content-Type": "application/octet-stream",
		"Content-Range": fmt.Sprintf("0-%d", half-1)}
	if resp, body := doHTTP(t, ctx, b, http.MethodPatch, b.URL+loc, patch, data[:half]); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("PATCH on b: %d %s", resp.StatusCode, body)
	}
	put := map[string]string{"Authorization": auth["Authorization"], "Content-Type": "application/octet-stream"}
	if resp, body := doHTTP(t, ctx, a, http.MethodPut, a.URL+loc+"?digest="+d.String(), put, data[half:]); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT on a: %d %s", resp.StatusCode, body)
	}
	if resp, _ := doHTTP(t, ctx, b, http.MethodHead, b.URL+"/v2/shared/app/blobs/"+d.String(), auth, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("HEAD the blob on b: %d", resp.StatusCode)
	}

	// An IAM user whose only grant is the repository's policy.
	user := createUserWithKey(t, a, "reader")
	userECR := ecr.NewFromConfig(b.awsConfig(testRegion, user[0], user[1]))
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:user/reader"},"Action":"ecr:DescribeImages"}]}`, testAccount)
	if _, err := a.ECR().SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("shared/app"), PolicyText: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	describe := func() error {
		_, err := userECR.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("shared/app")})
		return err
	}
	within(t, time.Second, "the policy set on a, on b", describe)
	// b has now cached the decision; the policy goes on a.
	if _, err := a.ECR().DeleteRepositoryPolicy(ctx, &ecr.DeleteRepositoryPolicyInput{RepositoryName: aws.String("shared/app")}); err != nil {
		t.Fatal(err)
	}
	took := within(t, time.Second, "the policy removed on a, on b", func() error {
		if err := describe(); err == nil {
			return fmt.Errorf("still allowed")
		}
		return nil
	})
	t.Logf("the policy's removal took effect on b after %v", took)

	// The key is revoked on a; b refuses it at once.
	if _, err := a.IAM().DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("reader"), AccessKeyId: aws.String(user[0])}); err != nil {
		t.Fatal(err)
	}
	within(t, time.Second, "the key deleted on a, on b", func() error {
		_, err := userECR.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
		if code, _ := apiErrorCode(t, err); code == "UnrecognizedClientException" {
			return nil
		}
		return fmt.Errorf("answered %v", err)
	})
}

// TestCLIWorkflowThreeNodes runs the real-client workflow of
// scripts/e2e-cli.sh — the AWS CLI, boto3, docker and crane — through a
// round-robin proxy over three nodes on one PostgreSQL and one S3 bucket.
func TestCLIWorkflowThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("the real-client workflow runs without -short")
	}
	pgtest.Require(t)
	metaURL := pgtest.NewDatabase(t)
	cfg := s3test.NewBucket(t, "")
	q := url.Values{"endpoint": {cfg.Endpoint}, "region": {cfg.Region}, "path-style": {"true"}}
	cmd := exec.Command("bash", "scripts/e2e-cli.sh")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "E2E_NODES=3", "E2E_META="+metaURL,
		"E2E_BLOBS=s3://"+cfg.Bucket+"/berth?"+q.Encode(),
		"E2E_S3_ACCESS_KEY_ID="+cfg.AccessKeyID, "E2E_S3_SECRET_ACCESS_KEY="+cfg.SecretAccessKey)
	out, err := cmd.CombinedOutput()
	summary := regexp.MustCompile(`(?m)^e2e-cli: \d+ passed, \d+ failed$`).FindString(string(out))
	t.Log(summary)
	if err != nil || !strings.HasSuffix(summary, " 0 failed") {
		t.Fatalf("scripts/e2e-cli.sh with three nodes: %v\n%s", err, out)
	}
}
