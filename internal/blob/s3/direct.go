package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/opencontainers/go-digest"
)

// PutVerified writes a blob whose digest is known up front straight to its
// key (blob.VerifiedPutter): a body of at most one segment is one
// conditional PutObject, sent only after verify; a larger one is a
// multipart upload at the blob's key, its parts the segment-sized buffers
// as they fill, completed — conditionally, so that a blob already there is
// kept — only after verify. Until then the parts are invisible; a failure
// aborts the upload, and a crash leaves it to garbage collection
// (AbortPartialWrites). Memory is at most Append's: two
// segment buffers, one filling while the other is sent, and only one for a
// body of at most a segment.
func (s *Store) PutVerified(ctx context.Context, d digest.Digest, r io.Reader, verify func() error) (int64, error) {
	key, err := s.blobKey(d)
	if err != nil {
		return 0, fmt.Errorf("blob/s3: put %s: %w", d, err)
	}
	small := smallPool.Get().(*[]byte)
	n, readErr := fill(r, *small)
	if readErr != nil {
		defer smallPool.Put(small)
		if err := readEOF(readErr); err != nil {
			return int64(n), err
		}
		if err := s.putWhole(ctx, key, (*small)[:n], verify); err != nil {
			return int64(n), fmt.Errorf("blob/s3: put %s: %w", d, err)
		}
		return int64(n), nil
	}
	// A body that fits one segment is one conditional PutObject too, and
	// never takes a second buffer.
	first := segmentPool.Get().(*[]byte)
	defer segmentPool.Put(first)
	copy(*first, (*small)[:n])
	smallPool.Put(small)
	m, readErr := fill(r, (*first)[n:])
	n += m
	if readErr != nil {
		if err := readEOF(readErr); err != nil {
			return int64(n), err
		}
		if err := s.putWhole(ctx, key, (*first)[:n], verify); err != nil {
			return int64(n), fmt.Errorf("blob/s3: put %s: %w", d, err)
		}
		return int64(n), nil
	}
	second := segmentPool.Get().(*[]byte)
	defer segmentPool.Put(second)
	read, err := s.putMultipart(ctx, key, r, [2]*[]byte{first, second}, verify)
	if err != nil {
		return read, fmt.Errorf("blob/s3: put %s: %w", d, err)
	}
	return read, nil
}

// putWhole writes data at key with one conditional PutObject, once verify
// accepts it. A blob already there counts as written.
func (s *Store) putWhole(ctx context.Context, key string, data []byte, verify func() error) error {
	if err := verify(); err != nil {
		return err
	}
	_, err := s.client.PutObject(context.WithoutCancel(ctx), &s3.PutObjectInput{
		Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
		IfNoneMatch: aws.String("*"),
	})
	if err != nil && !s.alreadyThere(ctx, key, err) {
		return err
	}
	return nil
}

// putMultipart sends r as the parts of a multipart upload at key, the
// first buffer already full, and completes it once verify accepts what was
// read.
func (s *Store) putMultipart(ctx context.Context, key string, r io.Reader, bufs [2]*[]byte, verify func() error) (read int64, err error) {
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return 0, fmt.Errorf("create multipart upload: %w", err)
	}
	uploadID := created.UploadId
	completed := false
	defer func() {
		if !completed {
			s.client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{
				Bucket: &s.bucket, Key: &key, UploadId: uploadID,
			})
		}
	}()

	// Every buffer but the last is sent full, so a chunk's offset names
	// its part; sendInTurn starts a send only after the one before it
	// returned, so the sends append to parts one after the other.
	var parts []types.CompletedPart
	read, err = sendInTurn(r, bufs, len(*bufs[0]), func(off int64, data []byte) error {
		num := int32(off/segmentSize) + 1
		if num > maxParts {
			return fmt.Errorf("more than %d parts of %d bytes", maxParts, segmentSize)
		}
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: &s.bucket, Key: &key, UploadId: uploadID, PartNumber: aws.Int32(num),
			Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
		})
		if err != nil {
			return fmt.Errorf("upload part %d: %w", num, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag})
		return nil
	})
	if err := readEOF(err); err != nil {
		return read, err
	}
	if err := verify(); err != nil {
		return read, err
	}
	_, err = s.client.CompleteMultipartUpload(context.WithoutCancel(ctx), &s3.CompleteMultipartUploadInput{
		Bucket: &s.bucket, Key: &key, UploadId: uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		IfNoneMatch:     aws.String("*"),
	})
	if err != nil && !s.alreadyThere(ctx, key, err) {
		return read, fmt.Errorf("complete multipart upload: %w", err)
	}
	completed = err == nil
	return read, nil
}
