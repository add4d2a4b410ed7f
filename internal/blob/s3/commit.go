package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"

	"github.com/berth-registry/berth/internal/blob"
)

// Commit makes the first size staged bytes of upload id visible as blob d
// in one atomic step (see the package comment), then removes the staging.
func (s *Store) Commit(ctx context.Context, id string, size int64, d digest.Digest) error {
	if err := s.commit(ctx, id, size, d); err != nil {
		return fmt.Errorf("blob/s3: commit %s: %w", d, err)
	}
	return nil
}

func (s *Store) commit(ctx context.Context, id string, size int64, d digest.Digest) error {
	if err := validID(id); err != nil {
		return err
	}
	key, err := s.blobKey(d)
	if err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("negative size %d", size)
	}

	// An existing blob has the same content; keep it. This also makes a
	// retried Commit succeed after a crash that followed the blob's write.
	exists, err := s.exists(ctx, key)
	if err != nil {
		return err
	}
	if !exists {
		st, err := s.listStaging(ctx, id)
		if err != nil {
			return fmt.Errorf("upload %s: %w", id, err)
		}
		if !st.exists() {
			return fmt.Errorf("upload %s: %w", id, blob.ErrNotFound)
		}
		if staged := st.length(); staged < size {
			return fmt.Errorf("upload %s: %d bytes staged, want %d: %w", id, staged, size, io.ErrUnexpectedEOF)
		}
		if err := s.compose(ctx, key, clip(st.pieces(), size)); err != nil {
			return err
		}
	}
	if err := s.removeStaging(ctx, id); err != nil {
		return fmt.Errorf("upload %s: remove staging: %w", id, err)
	}
	return nil
}

func (s *Store) exists(ctx context.Context, key string) (bool, error) {
	_, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	switch {
	case err == nil:
		return true, nil
	case isNotFound(err):
		return false, nil
	default:
		return false, fmt.Errorf("head %s: %w", key, err)
	}
}

// part is one part of a multipart upload: a server-side copy of a range of
// one object, or the bytes of several pieces sent through the node.
type part struct {
	pieces []piece
	size   int64
}

func (p part) isCopy() bool { return len(p.pieces) == 1 }

// plan cuts pieces into parts that S3 takes: every part but the last has
// at least minPart bytes. A stretch of minPart bytes or more within one
// piece becomes a copy; smaller pieces are gathered into parts of at most
// segmentSize bytes, topped up from the next piece when that leaves enough
// of it for a copy. A part of one piece is always a copy.
func plan(pieces []piece) []part {
	var parts []part
	var pending part
	flush := func() {
		if pending.size > 0 {
			parts = append(parts, pending)
			pending = part{}
		}
	}
	for _, pc := range pieces {
		for pc.n > 0 {
			var take int64
			switch {
			case pending.size >= minPart:
				flush()
				continue
			case pending.size == 0 && pc.n >= minPart:
				take = min(pc.n, maxPart)
				parts = append(parts, part{pieces: []piece{{pc.key, pc.objSize, pc.off, take}}, size: take})
			default:
				need := minPart - pending.size
				take = min(pc.n, segmentSize-pending.size)
				if pc.n-need >= minPart {
					take = need // the rest of the piece is a copy of its own
				}
				pending.pieces = append(pending.pieces, piece{pc.key, pc.objSize, pc.off, take})
				pending.size += take
			}
			pc.off += take
			pc.n -= take
		}
	}
	flush()
	return parts
}

// compose writes pieces as one object at key, atomically and only if no
// object is there yet. An object already there counts as success: it holds
// the same bytes.
func (s *Store) compose(ctx context.Context, key string, pieces []piece) error {
	parts := plan(pieces)
	var err error
	switch {
	case len(parts) == 0:
		_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(nil), ContentLength: aws.Int64(0),
			IfNoneMatch: aws.String("*"),
		})
	case len(parts) == 1 && parts[0].isCopy() && parts[0].pieces[0].off == 0 && parts[0].size == parts[0].pieces[0].objSize:
		// One whole segment: a plain copy, one request.
		_, err = s.client.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket: &s.bucket, Key: &key, CopySource: aws.String(s.copySource(parts[0].pieces[0].key)),
			IfNoneMatch: aws.String("*"),
		})
	case len(parts) > maxParts:
		return fmt.Errorf("%d bytes staged in too many small pieces: %d parts, S3 takes %d", total(parts), len(parts), maxParts)
	default:
		err = s.multipart(ctx, key, parts)
	}
	if err != nil && s.alreadyThere(ctx, key, err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

func total(parts []part) int64 {
	var n int64
	for _, p := range parts {
		n += p.size
	}
	return n
}

// alreadyThere reports whether a conditional write failed because an
// object is at key: 412 when it was there, 409 when another write of it was
// under way (then it may or may not have landed).
func (s *Store) alreadyThere(ctx context.Context, key string, err error) bool {
	switch code := apiCode(err); {
	case code == "PreconditionFailed" || httpStatus(err) == 412:
		return true
	case code == "ConditionalRequestConflict" || httpStatus(err) == 409:
		ok, herr := s.exists(ctx, key)
		return herr == nil && ok
	}
	return false
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// multipart writes parts as a multipart upload at key. On failure it aborts
// the upload, unless a test stops it where a crash would.
func (s *Store) multipart(ctx context.Context, key string, parts []part) (err error) {
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return fmt.Errorf("create multipart upload: %w", err)
	}
	uploadID := created.UploadId
	crashed := false
	defer func() {
		if err != nil && !crashed {
			// Best effort: the parts are invisible either way, and
			// garbage collection aborts what this leaves.
			s.client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{
				Bucket: &s.bucket, Key: &key, UploadId: uploadID,
			})
		}
	}()

	completed := make([]types.CompletedPart, len(parts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(commitWorkers)
	for i, p := range parts {
		num := int32(i + 1)
		g.Go(func() error {
			etag, err := s.sendPart(gctx, key, uploadID, num, p)
			if err != nil {
				return fmt.Errorf("part %d: %w", num, err)
			}
			completed[i] = types.CompletedPart{PartNumber: aws.Int32(num), ETag: etag}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if s.beforeComplete != nil {
		if err := s.beforeComplete(); err != nil {
			crashed = true
			return err
		}
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &s.bucket, Key: &key, UploadId: uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
		IfNoneMatch:     aws.String("*"),
	})
	if err != nil {
		return fmt.Errorf("complete multipart upload: %w", err)
	}
	return nil
}

// sendPart copies a part server-side, or reads its pieces into a buffer of
// at most segmentSize bytes and sends that.
func (s *Store) sendPart(ctx context.Context, key string, uploadID *string, num int32, p part) (*string, error) {
	if p.isCopy() {
		pc := p.pieces[0]
		out, err := s.client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
			Bucket: &s.bucket, Key: &key, UploadId: uploadID, PartNumber: aws.Int32(num),
			CopySource:      aws.String(s.copySource(pc.key)),
			CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", pc.off, pc.off+pc.n-1)),
		})
		if err != nil {
			return nil, fmt.Errorf("copy %d bytes of %s: %w", pc.n, pc.key, err)
		}
		if out.CopyPartResult == nil {
			return nil, fmt.Errorf("copy %d bytes of %s: no ETag in the answer", pc.n, pc.key)
		}
		return out.CopyPartResult.ETag, nil
	}

	bp := segmentPool.Get().(*[]byte)
	defer segmentPool.Put(bp)
	buf := (*bp)[:p.size]
	var n int64
	for _, pc := range p.pieces {
		body, err := s.getRange(ctx, pc)
		if err != nil {
			return nil, err
		}
		_, err = io.ReadFull(body, buf[n:n+pc.n])
		body.Close()
		if err != nil {
			return nil, fmt.Errorf("read %d bytes of %s: %w", pc.n, pc.key, err)
		}
		n += pc.n
	}
	out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: &s.bucket, Key: &key, UploadId: uploadID, PartNumber: aws.Int32(num),
		Body: bytes.NewReader(buf), ContentLength: aws.Int64(p.size),
	})
	if err != nil {
		return nil, fmt.Errorf("send %d bytes: %w", p.size, err)
	}
	return out.ETag, nil
}
