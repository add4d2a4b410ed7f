package s3

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// AbortPartialWrites aborts the multipart uploads under the store's blobs/
// prefix that were initiated before before: what a node that died in a
// Commit or a PutVerified left. The parts of such an upload are invisible
// to readers but cost storage until aborted; a bucket lifecycle rule
// (AbortIncompleteMultipartUpload) does the same where the server has
// one, and not every S3-compatible server does. Uploads under other
// prefixes (other deployments or programs sharing the bucket) are not
// touched. An upload that ends by itself meanwhile is not an error.
func (s *Store) AbortPartialWrites(ctx context.Context, before time.Time) (int, error) {
	prefix := s.blobsPrefix()
	in := &s3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: &prefix}
	aborted := 0
	for {
		page, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return aborted, fmt.Errorf("blob/s3: list multipart uploads: %w", err)
		}
		for _, u := range page.Uploads {
			if u.Initiated == nil || !u.Initiated.Before(before) {
				continue
			}
			_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: u.Key, UploadId: u.UploadId})
			if err != nil && apiCode(err) != "NoSuchUpload" {
				return aborted, fmt.Errorf("blob/s3: abort multipart upload %s of %s: %w", aws.ToString(u.UploadId), aws.ToString(u.Key), err)
			}
			if err == nil {
				aborted++
			}
		}
		if !aws.ToBool(page.IsTruncated) || page.NextKeyMarker == nil {
			return aborted, nil
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
}
