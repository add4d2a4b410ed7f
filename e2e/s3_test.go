package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/berth-registry/berth/internal/blob/s3/s3test"
)

// startBerthOnS3 runs berth serve with its blobs in a fresh bucket of the
// tests' S3 server (versitygw), reached by --blobs s3://… and the
// BERTH_S3_* credentials, as an operator would configure it.
func startBerthOnS3(t *testing.T, args ...string) (*berth, *s3.Client, string) {
	t.Helper()
	cfg := s3test.NewBucket(t, "")
	q := url.Values{"endpoint": {cfg.Endpoint}, "region": {cfg.Region}, "path-style": {"true"}}
	blobsURL := "s3://" + cfg.Bucket + "/berth?" + q.Encode()
	b := &berth{t: t, DataDir: t.TempDir(), Args: append([]string{"--blobs", blobsURL}, args...),
		Env: []string{"BERTH_S3_ACCESS_KEY_ID=" + cfg.AccessKeyID, "BERTH_S3_SECRET_ACCESS_KEY=" + cfg.SecretAccessKey}}
	b.start()
	t.Cleanup(func() { b.Stop() })
	return b, s3test.Client(cfg), cfg.Bucket
}

// TestS3BlobStore pushes an image to a Berth whose blobs are on S3 and
// pulls it back, streamed through the node and, with --blobs-redirect,
// from S3 itself; the blobs are objects of the bucket.
func TestS3BlobStore(t *testing.T) {
	b, client, bucket := startBerthOnS3(t, "--auto-create-repositories", "--blobs-redirect")
	ctx := withTimeout(t, 2*time.Minute)
	opts := ggcrOpts(t, b, ctx)
	repo := ggcrRepo(t, b, "s3/app")

	img, err := random.Image(512*1024, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(repo.Tag("v1"), img, opts...); err != nil {
		t.Fatalf("remote.Write: %v\nserver log:\n%s", err, b.Log())
	}
	want, _ := img.Digest()
	got, err := remote.Image(repo.Tag("v1"), opts...)
	if err != nil {
		t.Fatalf("remote.Image: %v", err)
	}
	layers, err := got.Layers()
	if err != nil {
		t.Fatal(err)
	}
	wantLayers, _ := img.Layers()
	for i, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatalf("layer %d: %v", i, err)
		}
		gotBytes, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("layer %d: %v", i, err)
		}
		wrc, _ := wantLayers[i].Compressed()
		wantBytes, _ := io.ReadAll(wrc)
		wrc.Close()
		if !bytes.Equal(gotBytes, wantBytes) {
			t.Errorf("layer %d differs after the round trip through S3", i)
		}
	}
	if d, _ := got.Digest(); d != want {
		t.Errorf("digest %v, want %v", d, want)
	}

	// The blob GET answers 307 to a presigned URL of the bucket, which
	// serves the bytes with no other credential.
	layer0, _ := wantLayers[0].Digest()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.URL+"/v2/s3/app/blobs/"+layer0.String(), nil)
	req.SetBasicAuth("AWS", b.Password(t))
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusTemporaryRedirect || !strings.Contains(loc, bucket) || !strings.Contains(loc, "X-Amz-Signature") {
		t.Fatalf("blob GET with --blobs-redirect: %d, Location %q", resp.StatusCode, loc)
	}
	direct, err := http.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(direct.Body)
	direct.Body.Close()
	rc, _ := wantLayers[0].Compressed()
	wantBody, _ := io.ReadAll(rc)
	rc.Close()
	if direct.StatusCode != http.StatusOK || !bytes.Equal(body, wantBody) {
		t.Errorf("GET the presigned URL: %d, %d bytes, want %d", direct.StatusCode, len(body), len(wantBody))
	}

	// Every blob is an object under the configured prefix.
	out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: strPtr("berth/blobs/sha256/")})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out.Contents); n != 4 { // 3 layers + the config
		t.Errorf("%d blob objects in the bucket, want 4", n)
	}
	// and no upload left its staging behind.
	staged, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: strPtr("berth/uploads/")})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(staged.Contents); n != 0 {
		t.Errorf("%d staging objects left in the bucket", n)
	}
}

func strPtr(s string) *string { return &s }
