package s3

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/berth-registry/berth/internal/blob"
)

// segment is one staging object of an upload.
type segment struct {
	key   string
	start int64 // offset of its first byte in the upload
	size  int64
}

func (g segment) end() int64 { return g.start + g.size }

// piece is a stretch of bytes inside one object.
type piece struct {
	key     string
	objSize int64
	off, n  int64
}

// staging is what a listing says about an upload.
type staging struct {
	segs  []segment // well-formed segments, by start
	other []string  // any other keys under the upload's prefix
}

func (st *staging) exists() bool { return len(st.segs) > 0 }

// pieces returns the staged bytes as pieces of segments, in order, without
// empty ones: each segment up to where the next one starts, from offset 0
// while the segments leave no gap.
func (st *staging) pieces() []piece {
	var ps []piece
	var end int64 // of the staged bytes so far
	for i, g := range st.segs {
		if g.start != end {
			break // a gap: what follows was never acknowledged
		}
		to := g.end()
		if i+1 < len(st.segs) {
			to = min(to, st.segs[i+1].start)
		}
		if to > g.start {
			ps = append(ps, piece{key: g.key, objSize: g.size, n: to - g.start})
			end = to
		}
	}
	return ps
}

// length is the number of staged bytes.
func (st *staging) length() int64 {
	var n int64
	for _, p := range st.pieces() {
		n += p.n
	}
	return n
}

// clip returns the first size bytes of ps.
func clip(ps []piece, size int64) []piece {
	var out []piece
	for _, p := range ps {
		if size <= 0 {
			break
		}
		p.n = min(p.n, size)
		size -= p.n
		out = append(out, p)
	}
	return out
}

func (s *Store) segmentKey(id string, start int64) string {
	return fmt.Sprintf("%s%016x", s.uploadPrefix(id), start)
}

// listStaging lists an upload's objects.
func (s *Store) listStaging(ctx context.Context, id string) (*staging, error) {
	prefix := s.uploadPrefix(id)
	st := &staging{}
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list staging: %w", err)
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			name := strings.TrimPrefix(key, prefix)
			start, err := strconv.ParseUint(name, 16, 63)
			if len(name) != 16 || err != nil || strings.ToLower(name) != name {
				st.other = append(st.other, key)
				continue
			}
			st.segs = append(st.segs, segment{key: key, start: int64(start), size: aws.ToInt64(obj.Size)})
		}
	}
	// Keys are listed in order and the names have a fixed width, so this
	// only guards against a server that lists otherwise.
	slices.SortFunc(st.segs, func(a, b segment) int { return cmp.Compare(a.start, b.start) })
	return st, nil
}

var (
	smallPool   = sync.Pool{New: func() any { b := make([]byte, smallSize); return &b }}
	segmentPool = sync.Pool{New: func() any { b := make([]byte, segmentSize); return &b }}
)

// Append writes r to upload id from offset on, as segments of at most
// segmentSize. Memory: 256 KiB while the chunk fits in it, then two
// segment buffers, one filling from r while the other is sent.
func (s *Store) Append(ctx context.Context, id string, offset int64, r io.Reader) (int64, error) {
	if err := validID(id); err != nil {
		return 0, fmt.Errorf("blob/s3: append %s: %w", id, err)
	}
	if offset < 0 {
		return 0, fmt.Errorf("blob/s3: append %s at %d: %w", id, offset, blob.ErrInvalidOffset)
	}
	st, err := s.listStaging(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("blob/s3: append %s: %w", id, err)
	}
	staged := st.length()
	switch {
	case !st.exists() && offset > 0:
		return 0, fmt.Errorf("blob/s3: append %s: %w", id, blob.ErrNotFound)
	case offset > staged:
		return 0, fmt.Errorf("blob/s3: append %s at %d, %d bytes staged: %w", id, offset, staged, blob.ErrInvalidOffset)
	}

	// A torn tail: the caller never acknowledged the bytes beyond offset.
	// The segments that start beyond it go; the one it falls in is cut by
	// the segment written at offset.
	var doomed []string
	for _, g := range st.segs {
		if g.start > offset {
			doomed = append(doomed, g.key)
		}
	}
	if err := s.deleteKeys(ctx, doomed); err != nil {
		return 0, fmt.Errorf("blob/s3: append %s: discard beyond %d: %w", id, offset, err)
	}
	mustWrite := !st.exists() || offset < staged
	n, err := s.writeSegments(ctx, id, offset, r, mustWrite)
	if err != nil {
		return n, fmt.Errorf("blob/s3: append %s: %w", id, err)
	}
	return n, nil
}

// writeSegments copies r into segments from offset on and returns the
// bytes in segments that were written. With mustWrite, a segment is written
// at offset even if r has nothing (to create the upload, or to cut a torn
// tail). Segments are written one after the other, so a crash never leaves
// a gap below a written one.
func (s *Store) writeSegments(ctx context.Context, id string, offset int64, r io.Reader, mustWrite bool) (int64, error) {
	// Bytes read from r are sent even when the caller has gone: the
	// caller counts them as received (its hash includes them).
	putCtx := context.WithoutCancel(ctx)

	small := smallPool.Get().(*[]byte)
	n, readErr := fill(r, *small)
	if readErr != nil {
		// The whole chunk fits in the small buffer.
		defer smallPool.Put(small)
		if n > 0 || mustWrite {
			if err := s.putSegment(putCtx, id, offset, (*small)[:n]); err != nil {
				return 0, err
			}
		}
		return int64(n), readEOF(readErr)
	}

	bufs := [2]*[]byte{segmentPool.Get().(*[]byte), segmentPool.Get().(*[]byte)}
	defer segmentPool.Put(bufs[0])
	defer segmentPool.Put(bufs[1])
	copy(*bufs[0], (*small)[:n])
	smallPool.Put(small)

	written, err := sendInTurn(r, bufs, n, func(off int64, data []byte) error {
		return s.putSegment(putCtx, id, offset+off, data)
	})
	return written, readEOF(err)
}

// sendInTurn reads r into the two buffers in turn, bufs[0] already holding
// its first n bytes, and sends each buffer as it fills: one send in flight
// while the other buffer fills, each started once the one before it
// succeeded, so they land in order. send gets each chunk with its offset
// from the first byte of bufs[0]; it must keep nothing of data once it
// returns. sendInTurn returns how many bytes were sent, and the first
// send's error, else r's (io.EOF at its end).
func sendInTurn(r io.Reader, bufs [2]*[]byte, n int, send func(off int64, data []byte) error) (int64, error) {
	var (
		sent     int64
		pos      int64
		inflight chan error // the previous chunk's send, if any
		sending  int        // its size
	)
	wait := func() error {
		if inflight == nil {
			return nil
		}
		err := <-inflight
		inflight = nil
		if err == nil {
			sent += int64(sending)
		}
		return err
	}
	for i := 0; ; i++ {
		buf := *bufs[i%2]
		if i > 0 {
			n = 0 // only the first buffer came with bytes
		}
		m, readErr := fill(r, buf[n:])
		n += m
		// The other buffer's send must finish before this one's starts: it
		// is then free, and chunks land in order.
		if err := wait(); err != nil {
			return sent, err
		}
		if n > 0 {
			done := make(chan error, 1)
			go func(off int64, data []byte) { done <- send(off, data) }(pos, buf[:n])
			inflight, sending = done, n
			pos += int64(n)
		}
		if readErr != nil {
			if err := wait(); err != nil {
				return sent, err
			}
			return sent, readErr
		}
	}
}

// fill reads from r until buf is full or r fails (io.EOF included). A nil
// error means that buf is full.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// readEOF turns the end of the reader into success.
func readEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

func (s *Store) putSegment(ctx context.Context, id string, start int64, data []byte) error {
	key := s.segmentKey(id, start)
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           &key,
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		return fmt.Errorf("write segment at %d: %w", start, err)
	}
	return nil
}

// OpenUpload streams the first size staged bytes of an upload, one ranged
// GET per segment. Fewer staged bytes than size is an error (wrapping
// io.ErrUnexpectedEOF): the upload lost data its session counted on.
func (s *Store) OpenUpload(ctx context.Context, id string, size int64) (io.ReadCloser, error) {
	if err := validID(id); err != nil {
		return nil, fmt.Errorf("blob/s3: open upload %s: %w", id, err)
	}
	if size < 0 {
		return nil, fmt.Errorf("blob/s3: open upload %s: negative size %d", id, size)
	}
	st, err := s.listStaging(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("blob/s3: open upload %s: %w", id, err)
	}
	if !st.exists() {
		return nil, fmt.Errorf("blob/s3: open upload %s: %w", id, blob.ErrNotFound)
	}
	if staged := st.length(); staged < size {
		return nil, fmt.Errorf("blob/s3: open upload %s: %d bytes staged, want %d: %w", id, staged, size, io.ErrUnexpectedEOF)
	}
	return &piecesReader{ctx: ctx, s: s, pieces: clip(st.pieces(), size)}, nil
}

// piecesReader reads pieces one after the other.
type piecesReader struct {
	ctx    context.Context
	s      *Store
	pieces []piece
	body   io.ReadCloser
	left   int64 // of the current piece
}

func (r *piecesReader) Read(p []byte) (int, error) {
	for r.body == nil {
		if len(r.pieces) == 0 {
			return 0, io.EOF
		}
		pc := r.pieces[0]
		r.pieces = r.pieces[1:]
		body, err := r.s.getRange(r.ctx, pc)
		if err != nil {
			return 0, err
		}
		r.body, r.left = body, pc.n
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.body.Read(p)
	r.left -= int64(n)
	if r.left == 0 {
		r.body.Close()
		r.body = nil
		return n, nil
	}
	if errors.Is(err, io.EOF) {
		err = fmt.Errorf("blob/s3: staging segment ended early: %w", io.ErrUnexpectedEOF)
	}
	return n, err
}

func (r *piecesReader) Close() error {
	if r.body == nil {
		return nil
	}
	err := r.body.Close()
	r.body = nil
	return err
}

// getRange starts a GET of a piece.
func (s *Store) getRange(ctx context.Context, pc piece) (io.ReadCloser, error) {
	rng := fmt.Sprintf("bytes=%d-%d", pc.off, pc.off+pc.n-1)
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &pc.key, Range: &rng})
	if err != nil {
		return nil, fmt.Errorf("blob/s3: read %s %s: %w", pc.key, rng, notFound(err))
	}
	return out.Body, nil
}

// Abort removes an upload's objects; a missing upload is not an error.
func (s *Store) Abort(ctx context.Context, id string) error {
	if err := validID(id); err != nil {
		return fmt.Errorf("blob/s3: abort %s: %w", id, err)
	}
	if err := s.removeStaging(ctx, id); err != nil {
		return fmt.Errorf("blob/s3: abort %s: %w", id, err)
	}
	return nil
}

// removeStaging deletes everything under the upload's prefix.
func (s *Store) removeStaging(ctx context.Context, id string) error {
	st, err := s.listStaging(ctx, id)
	if err != nil {
		return err
	}
	keys := st.other
	for _, g := range st.segs {
		keys = append(keys, g.key)
	}
	return s.deleteKeys(ctx, keys)
}

// deleteKeys deletes objects, a thousand (S3's limit) per request.
func (s *Store) deleteKeys(ctx context.Context, keys []string) error {
	for batch := range slices.Chunk(keys, 1000) {
		ids := make([]types.ObjectIdentifier, len(batch))
		for i, k := range batch {
			ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &s.bucket,
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("delete %d objects: %w", len(batch), err)
		}
		for _, e := range out.Errors {
			if aws.ToString(e.Code) == "NoSuchKey" {
				continue
			}
			return fmt.Errorf("delete %s: %s: %s", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
	}
	return nil
}

// Uploads lists the ids of all uploads that have objects, ignoring keys
// under uploads/ that are not an upload's.
func (s *Store) Uploads(ctx context.Context) ([]string, error) {
	root := s.uploadsPrefix()
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: &s.bucket, Prefix: &root, Delimiter: aws.String("/"),
	})
	var ids []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("blob/s3: uploads: %w", err)
		}
		for _, cp := range page.CommonPrefixes {
			id := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), root), "/")
			if validID(id) == nil {
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}
