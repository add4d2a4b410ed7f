// Package s3test gives tests a fresh bucket on a real S3-compatible server.
//
// With BERTH_TEST_S3 set to an endpoint URL, tests use that server, with
// the credentials in BERTH_TEST_S3_ACCESS_KEY and BERTH_TEST_S3_SECRET_KEY
// and the region in BERTH_TEST_S3_REGION (default us-east-1), addressing
// buckets path-style. Otherwise the test binary starts versitygw (the
// Versity S3 gateway over a temporary directory) on a loopback port once,
// installing it with `go install` when it is neither on PATH nor in Go's
// bin directory, and stops it when the tests end:
//
//	func TestMain(m *testing.M) { s3test.Main(m) }
//
// A server that cannot be had fails the test (in -short mode, skips it):
// a missing S3 server never passes silently.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	blobs3 "github.com/berth-registry/berth/internal/blob/s3"
)

// server is where the tests' buckets live.
type server struct {
	endpoint, accessKey, secretKey, region string
	stop                                   func()
}

var (
	once     sync.Once
	srv      *server
	srvErr   error
	buckets  atomic.Int64
	runToken = randomHex(4)
)

// Main runs the package's tests and then stops the server they started.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the server the tests started, if any: for a TestMain that
// does more than Main.
func Stop() {
	if srv != nil && srv.stop != nil {
		srv.stop()
	}
}

func getServer() (*server, error) {
	once.Do(func() {
		if ep := os.Getenv("BERTH_TEST_S3"); ep != "" {
			region := os.Getenv("BERTH_TEST_S3_REGION")
			if region == "" {
				region = "us-east-1"
			}
			srv = &server{
				endpoint:  ep,
				accessKey: os.Getenv("BERTH_TEST_S3_ACCESS_KEY"),
				secretKey: os.Getenv("BERTH_TEST_S3_SECRET_KEY"),
				region:    region,
			}
			return
		}
		srv, srvErr = startVersitygw()
	})
	return srv, srvErr
}

// NewBucket creates an empty bucket for t, removed with its contents when
// t ends, and returns the store configuration that reaches it, with
// prefix.
func NewBucket(t testing.TB, prefix string) blobs3.Config {
	t.Helper()
	sv, err := getServer()
	if err != nil {
		msg := fmt.Sprintf("no S3 server for the tests: %v (set BERTH_TEST_S3, or let the tests install versitygw with Go)", err)
		if testing.Short() {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	cfg := blobs3.Config{
		Bucket:          fmt.Sprintf("berth-test-%s-%d", runToken, buckets.Add(1)),
		Prefix:          prefix,
		Endpoint:        sv.endpoint,
		Region:          sv.region,
		PathStyle:       true,
		AccessKeyID:     sv.accessKey,
		SecretAccessKey: sv.secretKey,
	}
	client := Client(cfg)
	if _, err := client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: &cfg.Bucket}); err != nil {
		t.Fatalf("create bucket %s at %s: %v", cfg.Bucket, sv.endpoint, err)
	}
	t.Cleanup(func() {
		if err := removeBucket(context.Background(), client, cfg.Bucket); err != nil {
			t.Errorf("remove bucket %s: %v", cfg.Bucket, err)
		}
	})
	return cfg
}

// Client returns a plain S3 client for cfg, for tests that look at or
// change the bucket behind the store's back.
func Client(cfg blobs3.Config) *s3.Client {
	return s3.New(s3.Options{
		Region:                     cfg.Region,
		BaseEndpoint:               aws.String(cfg.Endpoint),
		UsePathStyle:               cfg.PathStyle,
		Credentials:                credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// removeBucket empties a bucket (objects and unfinished multipart uploads)
// and deletes it.
func removeBucket(ctx context.Context, c *s3.Client, bucket string) error {
	objects := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket})
	for objects.HasMorePages() {
		page, err := objects.NextPage(ctx)
		if err != nil {
			return err
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]types.ObjectIdentifier, len(page.Contents))
		for i, o := range page.Contents {
			ids[i] = types.ObjectIdentifier{Key: o.Key}
		}
		if _, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		}); err != nil {
			return err
		}
	}
	mpus := s3.NewListMultipartUploadsPaginator(c, &s3.ListMultipartUploadsInput{Bucket: &bucket})
	for mpus.HasMorePages() {
		page, err := mpus.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, u := range page.Uploads {
			if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
				Bucket: &bucket, Key: u.Key, UploadId: u.UploadId,
			}); err != nil {
				return err
			}
		}
	}
	_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bucket})
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
