package s3_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob"
	"github.com/berth-registry/berth/internal/blob/blobtest"
	"github.com/berth-registry/berth/internal/blob/s3"
	"github.com/berth-registry/berth/internal/blob/s3/s3test"
)

func TestMain(m *testing.M) { s3test.Main(m) }

func newStore(t testing.TB, cfg s3.Config) *s3.Store {
	t.Helper()
	s, err := s3.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		return newStore(t, s3test.NewBucket(t, "berth/conformance"))
	})
}

func TestTwoHandles(t *testing.T) {
	blobtest.RunTwoHandles(t, func(t *testing.T) (blob.Store, blob.Store) {
		cfg := s3test.NewBucket(t, "")
		return newStore(t, cfg), newStore(t, cfg)
	})
}

const mib = 1 << 20

// randBytes returns n pseudo-random bytes from seed.
func randBytes(seed uint64, n int) []byte {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

func appendOK(t *testing.T, s blob.Store, id string, off int64, data []byte) {
	t.Helper()
	n, err := s.Append(t.Context(), id, off, struct{ io.Reader }{bytes.NewReader(data)})
	if err != nil || n != int64(len(data)) {
		t.Fatalf("Append(%q, %d, %d bytes): got (%d, %v)", id, off, len(data), n, err)
	}
}

// checkStaged compares an upload's bytes with want by hash.
func checkStaged(t *testing.T, s blob.Store, id string, want []byte) {
	t.Helper()
	rc, err := s.OpenUpload(t.Context(), id, int64(len(want)))
	if err != nil {
		t.Fatalf("OpenUpload(%q, %d): %v", id, len(want), err)
	}
	defer rc.Close()
	got, err := digest.SHA256.FromReader(rc)
	if err != nil || got != digest.FromBytes(want) {
		t.Fatalf("OpenUpload(%q, %d): got %s (%v), want %s", id, len(want), got, err, digest.FromBytes(want))
	}
	if rc, err := s.OpenUpload(t.Context(), id, int64(len(want))+1); err == nil {
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err == nil {
			t.Fatalf("OpenUpload(%q, %d): read %d bytes, want fewer staged", id, len(want)+1, n)
		}
	}
}

func commitAndCheck(t *testing.T, s blob.Store, id string, want []byte) digest.Digest {
	t.Helper()
	ctx := t.Context()
	d := digest.FromBytes(want)
	if err := s.Commit(ctx, id, int64(len(want)), d); err != nil {
		t.Fatalf("Commit(%q): %v", id, err)
	}
	rc, size, err := s.Open(ctx, d)
	if err != nil {
		t.Fatalf("Open(%s): %v", d, err)
	}
	defer rc.Close()
	got, err := digest.SHA256.FromReader(rc)
	if err != nil || got != d || size != int64(len(want)) {
		t.Fatalf("Open(%s): size %d, read back %s (%v), want %d bytes", d, size, got, err, len(want))
	}
	if ids, err := s.Uploads(ctx); err != nil || slices.Contains(ids, id) {
		t.Fatalf("Uploads after Commit: got (%q, %v), want %q gone", ids, err, id)
	}
	return d
}

// keys lists the bucket's keys under prefix.
func keys(t *testing.T, cfg s3.Config, prefix string) []string {
	t.Helper()
	pages := awss3.NewListObjectsV2Paginator(s3test.Client(cfg), &awss3.ListObjectsV2Input{Bucket: &cfg.Bucket, Prefix: &prefix})
	var ks []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			ks = append(ks, aws.ToString(o.Key))
		}
	}
	return ks
}

func TestLayout(t *testing.T) {
	ctx := t.Context()
	cfg := s3test.NewBucket(t, "/team/berth/")
	s := newStore(t, cfg)
	appendOK(t, s, "up1", 0, []byte("layer"))
	appendOK(t, s, "up1", 5, []byte(" two"))
	if got, want := keys(t, cfg, ""), []string{
		"team/berth/uploads/up1/0000000000000000",
		"team/berth/uploads/up1/0000000000000005",
	}; !slices.Equal(got, want) {
		t.Errorf("staging keys: got %q, want %q", got, want)
	}
	d := digest.FromString("layer two")
	if err := s.Commit(ctx, "up1", 9, d); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(t, cfg, ""), []string{
		"team/berth/blobs/sha256/" + d.Encoded()[:2] + "/" + d.Encoded(),
	}; !slices.Equal(got, want) {
		t.Errorf("keys after Commit: got %q, want %q", got, want)
	}

	// Another prefix in the same bucket is another store.
	other := cfg
	other.Prefix = "team/other"
	o := newStore(t, other)
	if _, err := o.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat under another prefix: got %v, want ErrNotFound", err)
	}
	if err := o.Walk(ctx, func(d digest.Digest, _ int64) error {
		return fmt.Errorf("walked %s", d)
	}); err != nil {
		t.Errorf("Walk under another prefix: %v", err)
	}
}

// Torn tails that cut segments in the middle and at their boundaries, as
// chunks cut by crashes would.
func TestTornTailAcrossSegments(t *testing.T) {
	cfg := s3test.NewBucket(t, "")
	s := newStore(t, cfg)
	a := randBytes(1, 20*mib)
	b := randBytes(2, 5*mib)
	c := randBytes(3, 9*mib)

	appendOK(t, s, "torn", 0, a)
	if got := keys(t, cfg, "uploads/"); len(got) != 3 {
		t.Fatalf("20 MiB in one Append: got segments %q, want 3 of %d MiB at most", got, s3.SegmentSize/mib)
	}
	// Cut inside the second segment; the third goes.
	const cut = 10*mib + 7
	appendOK(t, s, "torn", cut, b)
	want := slices.Concat(a[:cut], b)
	checkStaged(t, s, "torn", want)

	// Cut at a segment boundary, below the previous cut.
	appendOK(t, s, "torn", 8*mib, c)
	want = slices.Concat(a[:8*mib], c)
	checkStaged(t, s, "torn", want)
	appendOK(t, s, "torn", int64(len(want)), nil)
	checkStaged(t, s, "torn", want)
	commitAndCheck(t, s, "torn", want)

	// An empty Append below the end cuts a segment with nothing after it.
	appendOK(t, s, "empty-cut", 0, a[:12*mib])
	appendOK(t, s, "empty-cut", 3*mib, nil)
	checkStaged(t, s, "empty-cut", a[:3*mib])
	commitAndCheck(t, s, "empty-cut", a[:3*mib])
}

// Chunks of every size around S3's 5 MiB part minimum, which the server
// enforces when a multipart upload completes.
func TestSmallAndLargeChunks(t *testing.T) {
	s := newStore(t, s3test.NewBucket(t, ""))
	for i, sizes := range [][]int{
		{3 * mib, 1024, 9 * mib, 2 * mib, 6 * mib, 100, 5 * mib},
		{5*mib - 1, 1, 5 * mib, 5*mib + 1, 4 * mib},
		{mib, mib, mib, mib, mib, mib, 7},
		{8 * mib, 1, 8 * mib},
	} {
		id := fmt.Sprint("chunks", i)
		var data []byte
		for j, n := range sizes {
			chunk := randBytes(uint64(10*i+j), n)
			appendOK(t, s, id, int64(len(data)), chunk)
			data = append(data, chunk...)
		}
		checkStaged(t, s, id, data)
		commitAndCheck(t, s, id, data)
	}
}

// A crash before the multipart upload completes leaves no blob; another
// node's retry commits it.
func TestCommitRetriedAfterCrash(t *testing.T) {
	ctx := t.Context()
	cfg := s3test.NewBucket(t, "")
	a, b := newStore(t, cfg), newStore(t, cfg)
	data := randBytes(4, 13*mib)
	appendOK(t, a, "up", 0, data[:mib])
	appendOK(t, a, "up", mib, data[mib:])
	d := digest.FromBytes(data)

	crash := errors.New("crash")
	s3.SetBeforeComplete(a, func() error { return crash })
	if err := a.Commit(ctx, "up", int64(len(data)), d); !errors.Is(err, crash) {
		t.Fatalf("Commit with a crash before completing: got %v", err)
	}
	if _, err := b.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Stat after the crash: got %v, want ErrNotFound", err)
	}
	checkStaged(t, b, "up", data)
	commitAndCheck(t, b, "up", data)
}

// A crash after the blob is in place, with some or all of the staging
// removed, leaves what this test builds: the blob (committed from another
// upload of the same bytes) and part of the upload's segments. A retried
// Commit keeps the blob and removes the rest.
func TestCommitRetriedAfterStagingHalfRemoved(t *testing.T) {
	ctx := t.Context()
	cfg := s3test.NewBucket(t, "")
	a, b := newStore(t, cfg), newStore(t, cfg)
	data := randBytes(5, 3*mib)
	var chunks [][]byte
	for c := range slices.Chunk(data, mib/2) {
		chunks = append(chunks, c)
	}
	for i, removed := range []int{0, 3, len(chunks) - 1, len(chunks)} {
		id := fmt.Sprint("retry", i)
		var off int64
		for _, c := range chunks {
			appendOK(t, a, id, off, c)
			off += int64(len(c))
		}
		d := digest.FromBytes(data)
		if i == 0 {
			appendOK(t, a, "first", 0, data)
			commitAndCheck(t, a, "first", data)
		}
		staged := keys(t, cfg, "uploads/"+id+"/")
		client := s3test.Client(cfg)
		for _, k := range staged[:removed] {
			if _, err := client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &cfg.Bucket, Key: aws.String(k)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Commit(ctx, id, int64(len(data)), d); err != nil {
			t.Fatalf("Commit retried with %d of %d segments removed: %v", removed, len(staged), err)
		}
		if got := keys(t, cfg, "uploads/"); len(got) != 0 {
			t.Fatalf("staging after the retried Commit: %q", got)
		}
		rc, _, err := a.Open(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("blob after the retried Commit: %d bytes (%v)", len(got), err)
		}
	}
}

// sampler reads a generated stream and records the heap in use as it goes.
type sampler struct {
	r        io.Reader
	h        hash.Hash
	n, next  int64
	maxHeap  uint64
	baseHeap uint64
}

func (s *sampler) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.h.Write(p[:n])
	s.n += int64(n)
	if s.n >= s.next {
		s.next += 4 * mib
		s.sample()
	}
	return n, err
}

// sample measures the live heap: a collection first, so that garbage not
// yet collected does not count.
func (s *sampler) sample() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.maxHeap = max(s.maxHeap, ms.HeapAlloc)
}

// A 128 MiB blob pushed in one stream and pulled back: the heap stays far
// below the blob's size. A whole-blob buffer anywhere would be at least
// 128 MiB; the store holds two 8 MiB buffers.
func TestMemoryBound(t *testing.T) {
	const size, bound = 128 * mib, 48 * mib
	ctx := t.Context()
	s := newStore(t, s3test.NewBucket(t, ""))

	var seed [32]byte
	hash := sha256.New()
	in := &sampler{r: io.LimitReader(rand.NewChaCha8(seed), size), h: hash}
	// Two collections empty the buffer pools, whose buffers would
	// otherwise count in the baseline.
	runtime.GC()
	in.sample()
	in.baseHeap = in.maxHeap
	n, err := s.Append(ctx, "big", 0, in)
	if err != nil || n != size {
		t.Fatalf("Append: got (%d, %v), want %d", n, err, size)
	}
	d := digest.NewDigest(digest.SHA256, hash)
	if err := s.Commit(ctx, "big", size, d); err != nil {
		t.Fatal(err)
	}
	rc, got, err := s.Open(ctx, d)
	if err != nil || got != size {
		t.Fatalf("Open: got (%d, %v)", got, err)
	}
	defer rc.Close()
	out := &sampler{r: rc, h: sha256.New(), maxHeap: in.maxHeap}
	if _, err := io.CopyBuffer(io.Discard, out, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	if back := digest.NewDigest(digest.SHA256, out.h); back != d {
		t.Fatalf("read back %s, want %s", back, d)
	}
	growth := int64(out.maxHeap) - int64(in.baseHeap)
	t.Logf("heap growth: %.1f MiB for a %d MiB blob", float64(growth)/mib, size/mib)
	if growth > bound {
		t.Errorf("heap grew by %.1f MiB while a %d MiB blob went through, want at most %d MiB",
			float64(growth)/mib, size/mib, bound/mib)
	}
}

func TestModTime(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, s3test.NewBucket(t, ""))
	d := digest.FromString("bytes")
	if _, err := s.ModTime(ctx, d); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("ModTime(missing) = %v, want ErrNotFound", err)
	}
	appendOK(t, s, "u", 0, []byte("bytes"))
	commitAndCheck(t, s, "u", []byte("bytes"))
	// The server's clock, not this one's: only a sanity check.
	mt, err := s.ModTime(ctx, d)
	if err != nil || time.Since(mt).Abs() > time.Hour {
		t.Fatalf("ModTime = %v, %v; want about now", mt, err)
	}
	if _, err := s.ModTime(ctx, "sha256:nothex"); err == nil {
		t.Fatal("ModTime accepted an invalid digest")
	}
}

func TestWalkAndUploadsSkipJunk(t *testing.T) {
	ctx := t.Context()
	cfg := s3test.NewBucket(t, "p")
	s := newStore(t, cfg)
	appendOK(t, s, "real", 0, []byte("real"))
	d := commitAndCheck(t, s, "real", []byte("real"))
	appendOK(t, s, "pending", 0, []byte("x"))

	other := digest.FromString("other").Encoded()
	client := s3test.Client(cfg)
	for _, k := range []string{
		"p/blobs/README",
		"p/blobs/sha256/README",
		"p/blobs/sha256/" + other,                         // missing prefix
		"p/blobs/sha256/" + d.Encoded()[:2] + "/" + other, // wrong prefix
		"p/blobs/sha256/" + d.Encoded()[:2] + "/not-a-digest",
		"p/blobs/sha256/" + d.Encoded()[:2] + "/" + strings.ToUpper(d.Encoded()),
		"p/blobs/md5/d4/d41d8cd98f00b204e9800998ecf8427e",
		"p/uploads/README",
		"p/uploads/with.dot/0000000000000000",
		"p/uploads/pending/junk",
		"blobs/sha256/" + other[:2] + "/" + other, // outside the prefix
	} {
		if _, err := client.PutObject(ctx, &awss3.PutObjectInput{
			Bucket: &cfg.Bucket, Key: aws.String(k), Body: strings.NewReader("junk"),
		}); err != nil {
			t.Fatal(err)
		}
	}
	var got []digest.Digest
	if err := s.Walk(ctx, func(d digest.Digest, _ int64) error {
		got = append(got, d)
		return nil
	}); err != nil || !slices.Equal(got, []digest.Digest{d}) {
		t.Errorf("Walk: got (%v, %v), want only %s", got, err, d)
	}
	if ids, err := s.Uploads(ctx); err != nil || !slices.Equal(ids, []string{"pending"}) {
		t.Errorf("Uploads: got (%q, %v), want [pending]", ids, err)
	}
	// Junk inside an upload is not staged data, and goes with it.
	checkStaged(t, s, "pending", []byte("x"))
	if err := s.Abort(ctx, "pending"); err != nil {
		t.Fatal(err)
	}
	if k := keys(t, cfg, "p/uploads/pending/"); len(k) != 0 {
		t.Errorf("keys after Abort: %q", k)
	}
}

func TestNew(t *testing.T) {
	cfg := s3test.NewBucket(t, "")
	missing := cfg
	missing.Bucket = cfg.Bucket + "-missing"
	if _, err := s3.New(t.Context(), missing); err == nil {
		t.Error("New with a missing bucket: got nil error")
	}
	if _, err := s3.New(t.Context(), s3.Config{}); err == nil {
		t.Error("New without a bucket: got nil error")
	}
	half := cfg
	half.SecretAccessKey = ""
	if _, err := s3.New(t.Context(), half); err == nil {
		t.Error("New with an access key and no secret: got nil error")
	}
}

// Upload ids become key elements: only the filesystem store's harmless ones
// are taken.
func TestInvalidIDs(t *testing.T) {
	ctx := t.Context()
	cfg := s3test.NewBucket(t, "p")
	s := newStore(t, cfg)
	for _, id := range []string{"", ".", "..", "../escape", "a/b", "a b", "a.b", "ü", strings.Repeat("a", 129)} {
		if _, err := s.Append(ctx, id, 0, strings.NewReader("x")); err == nil || !strings.Contains(err.Error(), "invalid upload id") {
			t.Errorf("Append(%q): got %v, want invalid upload id", id, err)
		}
		if rc, err := s.OpenUpload(ctx, id, 0); err == nil {
			rc.Close()
			t.Errorf("OpenUpload(%q): got nil error", id)
		}
		if err := s.Commit(ctx, id, 0, digest.FromString("")); err == nil {
			t.Errorf("Commit(%q): got nil error", id)
		}
		if err := s.Abort(ctx, id); err == nil {
			t.Errorf("Abort(%q): got nil error", id)
		}
	}
	if k := keys(t, cfg, ""); len(k) != 0 {
		t.Errorf("keys written for invalid ids: %q", k)
	}
}

// TestRedirectURL: the presigned URL serves the blob's bytes to a plain
// HTTP client with no credentials, and nothing for a blob that is absent.
func TestRedirectURL(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, s3test.NewBucket(t, "redirect"))
	data := []byte("bytes fetched from the store itself")
	d := digest.FromBytes(data)
	if _, err := s.Append(ctx, "up", 0, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, "up", int64(len(data)), d); err != nil {
		t.Fatal(err)
	}
	get := func(u string) (int, []byte) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	u, err := s.RedirectURL(ctx, d, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if status, got := get(u); status != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("GET the presigned URL: %d %q", status, got)
	}
	absent, err := s.RedirectURL(ctx, digest.FromString("never committed"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := get(absent); status != http.StatusNotFound {
		t.Errorf("GET the URL of an absent blob: %d", status)
	}
}

// TestDeleteBlobs deletes many blobs in a few requests (here four keys a
// request): the ones named go,
// a missing one is no error, the others stay.
func TestDeleteBlobs(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, s3test.NewBucket(t, "batch"))
	defer s3.SetMaxDeleteObjects(s3.SetMaxDeleteObjects(4)) // several requests
	var all []digest.Digest
	for i := range 12 {
		data := []byte(fmt.Sprintf("blob %d", i))
		d := digest.FromBytes(data)
		id := fmt.Sprintf("up%d", i)
		if _, err := s.Append(ctx, id, 0, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(ctx, id, int64(len(data)), d); err != nil {
			t.Fatal(err)
		}
		all = append(all, d)
	}
	gone, kept := all[:10], all[10:]
	if err := s.DeleteBlobs(ctx, append(slices.Clone(gone), digest.FromString("never there"))); err != nil {
		t.Fatal(err)
	}
	for _, d := range gone {
		if _, err := s.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("%s after DeleteBlobs: %v", d, err)
		}
	}
	for _, d := range kept {
		if _, err := s.Stat(ctx, d); err != nil {
			t.Errorf("%s, not named, is gone: %v", d, err)
		}
	}
}

// multipartKeys lists the keys of the bucket's unfinished multipart
// uploads.
func multipartKeys(t *testing.T, cfg s3.Config) []string {
	t.Helper()
	out, err := s3test.Client(cfg).ListMultipartUploads(t.Context(), &awss3.ListMultipartUploadsInput{Bucket: &cfg.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, u := range out.Uploads {
		ks = append(ks, aws.ToString(u.Key))
	}
	return ks
}

// A Commit cut short by a crash leaves a multipart upload at the blob's
// key; AbortPartialWrites removes it once it was begun before the cutoff,
// and leaves alone younger ones and those outside the store's prefix.
func TestAbortPartialWrites(t *testing.T) {
	ctx := t.Context()
	cfg := s3test.NewBucket(t, "berth/")
	s := newStore(t, cfg)
	data := randBytes(7, 6*mib)
	appendOK(t, s, "up", 0, data[:mib])
	appendOK(t, s, "up", mib, data[mib:])
	d := digest.FromBytes(data)
	crash := errors.New("crash")
	s3.SetBeforeComplete(s, func() error { return crash })
	if err := s.Commit(ctx, "up", int64(len(data)), d); !errors.Is(err, crash) {
		t.Fatalf("Commit with a crash before completing: got %v", err)
	}
	s3.SetBeforeComplete(s, nil)
	// Another program's multipart upload in the same bucket.
	other := "elsewhere/blobs/x"
	if _, err := s3test.Client(cfg).CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: &cfg.Bucket, Key: &other}); err != nil {
		t.Fatal(err)
	}
	if got := multipartKeys(t, cfg); len(got) != 2 {
		t.Fatalf("multipart uploads after the crash: %q, want the blob's and the other program's", got)
	}

	n, err := s.AbortPartialWrites(ctx, time.Now().Add(-time.Hour))
	if err != nil || n != 0 {
		t.Fatalf("AbortPartialWrites(an hour ago) = %d, %v; want 0 (the write is younger)", n, err)
	}
	n, err = s.AbortPartialWrites(ctx, time.Now().Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("AbortPartialWrites(now) = %d, %v; want 1", n, err)
	}
	if got := multipartKeys(t, cfg); !slices.Equal(got, []string{other}) {
		t.Fatalf("multipart uploads after AbortPartialWrites: %q, want only %q", got, other)
	}
	// The staging was never touched: the upload still commits.
	checkStaged(t, s, "up", data)
	commitAndCheck(t, s, "up", data)
}
