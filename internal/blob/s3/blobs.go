package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/opencontainers/go-digest"
)

// Stat returns the size of a committed blob.
func (s *Store) Stat(ctx context.Context, d digest.Digest) (int64, error) {
	out, err := s.head(ctx, d)
	if err != nil {
		return 0, fmt.Errorf("blob/s3: stat %s: %w", d, err)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// ModTime is the blob object's LastModified: when Commit wrote it.
func (s *Store) ModTime(ctx context.Context, d digest.Digest) (time.Time, error) {
	out, err := s.head(ctx, d)
	if err != nil {
		return time.Time{}, fmt.Errorf("blob/s3: mod time %s: %w", d, err)
	}
	return aws.ToTime(out.LastModified), nil
}

func (s *Store) head(ctx context.Context, d digest.Digest) (*s3.HeadObjectOutput, error) {
	key, err := s.blobKey(d)
	if err != nil {
		return nil, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return nil, notFound(err)
	}
	return out, nil
}

// Delete removes a committed blob; S3 does not mind a missing one.
func (s *Store) Delete(ctx context.Context, d digest.Digest) error {
	key, err := s.blobKey(d)
	if err != nil {
		return fmt.Errorf("blob/s3: delete %s: %w", d, err)
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}); err != nil && !isNotFound(err) {
		return fmt.Errorf("blob/s3: delete %s: %w", d, err)
	}
	return nil
}

// maxDeleteObjects is the most keys S3 deletes in one DeleteObjects.
var maxDeleteObjects = 1000

// DeleteBlobs removes blobs with DeleteObjects, a thousand keys a request
// (blob.BatchDeleter): garbage collection of many blobs is a few requests,
// not one a blob. Missing keys are not an error, as for Delete.
func (s *Store) DeleteBlobs(ctx context.Context, ds []digest.Digest) error {
	for start := 0; start < len(ds); start += maxDeleteObjects {
		batch := ds[start:min(start+maxDeleteObjects, len(ds))]
		objects := make([]types.ObjectIdentifier, len(batch))
		for i, d := range batch {
			key, err := s.blobKey(d)
			if err != nil {
				return fmt.Errorf("blob/s3: delete %s: %w", d, err)
			}
			objects[i] = types.ObjectIdentifier{Key: aws.String(key)}
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &s.bucket,
			Delete: &types.Delete{Objects: objects, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("blob/s3: delete %d blobs: %w", len(batch), err)
		}
		var failed []error
		for _, e := range out.Errors {
			if aws.ToString(e.Code) == "NoSuchKey" {
				continue
			}
			failed = append(failed, fmt.Errorf("%s: %s: %s", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message)))
		}
		if len(failed) > 0 {
			return fmt.Errorf("blob/s3: delete %d blobs: %d refused: %w", len(batch), len(failed), errors.Join(failed...))
		}
	}
	return nil
}

// Walk calls fn for every well-formed blob, in key order. Other keys under
// blobs/ are skipped. An error from fn stops the walk and is returned as is.
func (s *Store) Walk(ctx context.Context, fn func(d digest.Digest, size int64) error) error {
	root := s.blobsPrefix()
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &root})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("blob/s3: walk: %w", err)
		}
		for _, obj := range page.Contents {
			d, ok := parseBlobKey(strings.TrimPrefix(aws.ToString(obj.Key), root))
			if !ok {
				continue
			}
			if err := fn(d, aws.ToInt64(obj.Size)); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseBlobKey reads "<algorithm>/<2 hex>/<hex>" back into a digest.
func parseBlobKey(rest string) (digest.Digest, bool) {
	alg, rest, ok1 := strings.Cut(rest, "/")
	dir, enc, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || !digest.Algorithm(alg).Available() {
		return "", false
	}
	d := digest.NewDigestFromEncoded(digest.Algorithm(alg), enc)
	if d.Validate() != nil || dir != enc[:2] {
		return "", false
	}
	return d, true
}

// Open returns a reader over a committed blob. It starts with a GET of the
// whole object, which is all a full pull needs; a Seek elsewhere makes the
// next Read issue a ranged GET. Nothing is buffered beyond the SDK's
// stream. A blob replaced meanwhile (two commits of one digest) has the
// same bytes, so the ranges of different versions fit together.
func (s *Store) Open(ctx context.Context, d digest.Digest) (io.ReadSeekCloser, int64, error) {
	key, err := s.blobKey(d)
	if err != nil {
		return nil, 0, fmt.Errorf("blob/s3: open %s: %w", d, err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return nil, 0, fmt.Errorf("blob/s3: open %s: %w", d, notFound(err))
	}
	size := aws.ToInt64(out.ContentLength)
	return &blobReader{ctx: ctx, s: s, d: d, key: key, size: size, body: out.Body}, size, nil
}

type blobReader struct {
	ctx  context.Context
	s    *Store
	d    digest.Digest
	key  string
	size int64

	pos     int64         // where the next Read reads
	body    io.ReadCloser // open GET, reading from bodyPos; nil when none
	bodyPos int64
}

func (r *blobReader) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, io.EOF
	}
	if r.body != nil && r.bodyPos != r.pos {
		r.body.Close()
		r.body = nil
	}
	if r.body == nil {
		rng := fmt.Sprintf("bytes=%d-", r.pos)
		out, err := r.s.client.GetObject(r.ctx, &s3.GetObjectInput{Bucket: &r.s.bucket, Key: &r.key, Range: &rng})
		if err != nil {
			return 0, fmt.Errorf("blob/s3: read %s at %d: %w", r.d, r.pos, notFound(err))
		}
		r.body, r.bodyPos = out.Body, r.pos
	}
	if rest := r.size - r.pos; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := r.body.Read(p)
	r.pos += int64(n)
	r.bodyPos += int64(n)
	if errors.Is(err, io.EOF) {
		r.body.Close()
		r.body = nil
		if r.pos < r.size {
			return n, fmt.Errorf("blob/s3: read %s: object ended at %d of %d bytes: %w", r.d, r.pos, r.size, io.ErrUnexpectedEOF)
		}
		err = nil
	}
	if err != nil {
		return n, fmt.Errorf("blob/s3: read %s at %d: %w", r.d, r.pos, err)
	}
	return n, nil
}

func (r *blobReader) Seek(offset int64, whence int) (int64, error) {
	var pos int64
	switch whence {
	case io.SeekStart:
		pos = offset
	case io.SeekCurrent:
		pos = r.pos + offset
	case io.SeekEnd:
		pos = r.size + offset
	default:
		return 0, fmt.Errorf("blob/s3: seek %s: invalid whence %d", r.d, whence)
	}
	if pos < 0 {
		return 0, fmt.Errorf("blob/s3: seek %s: negative position %d", r.d, pos)
	}
	// The open body stays until a Read needs another position: net/http
	// seeks to the end and back before it reads.
	r.pos = pos
	return pos, nil
}

func (r *blobReader) Close() error {
	if r.body == nil {
		return nil
	}
	err := r.body.Close()
	r.body = nil
	return err
}

// RedirectURL is a presigned GET of the blob's object: the data plane
// answers a blob download with it when asked to (blob.Redirector), so the
// bytes come from S3 rather than through the node, as with ECR. The
// presigned URL addresses the endpoint the store was configured with,
// which clients must be able to reach.
func (s *Store) RedirectURL(ctx context.Context, d digest.Digest, ttl time.Duration) (string, error) {
	key, err := s.blobKey(d)
	if err != nil {
		return "", err
	}
	req, err := s3.NewPresignClient(s.client, s3.WithPresignExpires(ttl)).PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(key),
	})
	if err != nil {
		return "", fmt.Errorf("blob/s3: presign %s: %w", d, err)
	}
	return req.URL, nil
}
