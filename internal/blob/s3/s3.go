// Package s3 is the S3-compatible implementation of blob.Store, for
// deployments where several stateless Berth nodes share one object store.
//
// Layout under the configured prefix of the bucket:
//
//	blobs/<algorithm>/<first 2 hex>/<hex>   committed blobs
//	uploads/<id>/<16 hex digits>            staging segments of an upload
//
// Nothing about an upload lives in a process: every node derives the
// upload's state from a listing of its segments, so a chunked push may append
// through one node and commit through another.
//
// # Staging
//
// An upload is a sequence of segment objects, each named by the offset of its
// first byte. Append streams the reader into segments of at most 8 MiB
// (segmentSize), one PutObject each, written in order. Where segments
// overlap, the later one wins: segment i holds the bytes from its start up
// to its own end or the next segment's start, whichever comes first. The
// staged bytes are the segments from offset 0 on, as long as each next one
// starts no later than the previous one ends. That rule is what makes a torn
// tail cheap to discard: an Append at an offset below the staged end deletes
// the segments that start beyond the offset and writes its first segment at
// the offset (an empty one if the reader has nothing), which cuts the
// segment it lands in without rewriting it. A crash between those steps
// leaves the bytes below the offset intact, and the next Append repeats
// them. An upload exists while it has a segment; the first Append writes an
// empty segment at 0 if its reader has nothing.
//
// Chunks may be of any size. Append never reads staged bytes back, so a
// client's small PATCHes cost one small object each.
//
// # Commit
//
// Commit makes the first size staged bytes visible in one atomic step: a
// CopyObject when they are exactly one whole segment, otherwise a multipart
// upload at the content address that becomes visible only when it is
// completed. Its parts are server-side copies (UploadPartCopy with a range)
// of every stretch of at least 5 MiB that lies in one segment; runs of
// smaller pieces (S3 wants at least 5 MiB in every part but the last) are
// read back through the node and sent as one part of at most 8 MiB. A push
// in one stream, docker's and containerd's way, has 8 MiB segments and
// commits without any byte passing through the node. The final write is
// conditional (If-None-Match: *), so a blob already in place is kept; a
// store that ignores the condition replaces it with the same bytes. The
// staging segments are removed only after the blob is in place, so a Commit
// retried after a crash at any point finds either the whole staging or the
// whole blob. An abandoned multipart upload (a crash mid-commit) is invisible
// to readers; garbage collection aborts it once it is a day old
// (AbortPartialWrites), as a bucket's AbortIncompleteMultipartUpload
// lifecycle rule would where the server has one.
//
// # Direct puts
//
// A blob whose digest is known before its bytes (a monolithic push: POST,
// then PUT with the whole body and ?digest=) skips staging altogether:
// PutVerified sends the bytes as the parts of a multipart upload at the
// blob's own key and completes it, conditionally, only once the caller has
// verified the digest (a small blob is one conditional PutObject after
// verification). The bytes are written once instead of staged and copied.
//
// # Memory
//
// An Append holds at most two 8 MiB buffers (one being filled from the
// reader while the other is sent), and 256 KiB for a chunk that ends within
// it; a Commit at most commitWorkers buffers of 8 MiB, only for parts made
// of small pieces; reads stream the response bodies. Nothing is
// proportional to a blob's size.
//
// The store relies on S3's strong read-after-write and list-after-write
// consistency. It does not serialise appends to one upload: that is the
// caller's session lock, as with the filesystem store.
package s3

import (
	// Registered so that digest.Digest.Validate accepts sha256, sha384 and
	// sha512; go-digest only knows algorithms whose hash is linked in.
	_ "crypto/sha256"
	_ "crypto/sha512"

	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob"
)

const (
	// segmentSize is the largest staging segment, and the size of the
	// buffers Append and Commit fill.
	segmentSize = 8 << 20
	// smallSize is the first buffer of an Append: a chunk that ends within
	// it never takes a segment-sized buffer.
	smallSize = 256 << 10
	// minPart is S3's smallest multipart part, except for the last one.
	minPart = 5 << 20
	// maxPart is S3's largest multipart part.
	maxPart = 5 << 30
	// maxParts is S3's limit on the parts of one multipart upload.
	maxParts = 10_000
	// commitWorkers bounds the parts one Commit sends at a time.
	commitWorkers = 4
)

// Config says where the store keeps its objects and how to reach them.
type Config struct {
	// Bucket must exist; New checks that it can be reached.
	Bucket string
	// Prefix, if set, is prepended (with a "/") to every key, so that
	// several stores can share a bucket.
	Prefix string
	// Endpoint is the URL of an S3-compatible server (e.g.
	// http://127.0.0.1:7070); empty means AWS.
	Endpoint string
	// Region defaults to the SDK's configuration, else us-east-1.
	Region string
	// PathStyle addresses the bucket in the path rather than in the host
	// name, as most S3-compatible servers want.
	PathStyle bool
	// AccessKeyID and SecretAccessKey (and SessionToken, if any) are
	// static credentials. When empty, the SDK's default chain finds them
	// (environment, shared files, instance or task roles).
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// Store is a blob.Store over an S3-compatible bucket. It keeps no state of
// its own besides its client: any number of Stores, in any number of
// processes, may share one bucket and prefix.
type Store struct {
	client *s3.Client
	bucket string
	prefix string // "" or ending in "/"

	// beforeComplete, when set by a test, is called before a multipart
	// upload is completed; an error stops Commit there, as a crash would.
	beforeComplete func() error
}

var (
	_ blob.Store        = (*Store)(nil)
	_ blob.ModTimer     = (*Store)(nil)
	_ blob.Redirector   = (*Store)(nil)
	_ blob.BatchDeleter = (*Store)(nil)

	_ blob.PartialWriteSweeper = (*Store)(nil)
)

// New returns a Store for cfg after checking that its bucket can be reached.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("blob/s3: no bucket configured")
	}
	if (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == "") {
		return nil, errors.New("blob/s3: static credentials need both an access key id and a secret access key")
	}
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("blob/s3: load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// The SDK's default checksums send aws-chunked bodies with
		// trailers, which many S3-compatible servers do not take. The
		// domain verifies every blob's digest itself, and the requests
		// are signed over their payload.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.APIOptions = append(o.APIOptions, addMarkUnavailable)
		o.Retryer = retry.AddWithErrorCodes(retry.NewStandard(), retryableCodes...)
	})
	s := &Store{client: client, bucket: cfg.Bucket, prefix: normalizePrefix(cfg.Prefix)}
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(cfg.Bucket)}); err != nil {
		return nil, fmt.Errorf("blob/s3: bucket %q at %s: %w", cfg.Bucket, endpointName(cfg.Endpoint), err)
	}
	return s, nil
}

// retryableCodes are errors a server answers for a write that is safe to
// repeat, beyond those the SDK retries anyway. versitygw's posix backend
// answers 409 ExistingObjectIsDirectory when a PutObject races with its
// removal of a parent directory that another delete just emptied (seen
// under concurrent pushes and garbage collection); the same write a moment
// later succeeds.
var retryableCodes = []string{"ExistingObjectIsDirectory"}

func normalizePrefix(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}

func endpointName(e string) string {
	if e == "" {
		return "AWS"
	}
	return e
}

func (s *Store) blobKey(d digest.Digest) (string, error) {
	// Validate pins the encoded part to lowercase hex of the algorithm's
	// length, so it is safe in a key.
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("invalid digest %q: %w", string(d), err)
	}
	enc := d.Encoded()
	return s.prefix + "blobs/" + string(d.Algorithm()) + "/" + enc[:2] + "/" + enc, nil
}

func (s *Store) blobsPrefix() string   { return s.prefix + "blobs/" }
func (s *Store) uploadsPrefix() string { return s.prefix + "uploads/" }

// uploadPrefix is the prefix of an upload's segments; id must be valid.
func (s *Store) uploadPrefix(id string) string { return s.uploadsPrefix() + id + "/" }

// copySource names an object of the bucket as UploadPartCopy and CopyObject
// want it: URL-encoded, path elements apart.
func (s *Store) copySource(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return url.PathEscape(s.bucket) + "/" + strings.Join(parts, "/")
}

// validID admits the ids every blob store admits.
func validID(id string) error { return blob.ValidUploadID(id) }

// isNotFound reports whether err says that an object (not the bucket) does
// not exist. HEAD answers carry no error code, only the status.
func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket" {
		return false
	}
	return httpStatus(err) == 404
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// notFound makes a missing object match blob.ErrNotFound while keeping the
// SDK's error.
func notFound(err error) error {
	if isNotFound(err) {
		return fmt.Errorf("%w: %w", blob.ErrNotFound, err)
	}
	return err
}
