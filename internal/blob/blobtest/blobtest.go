// Package blobtest is the conformance suite for blob.Store implementations.
// Every implementation runs it unchanged:
//
//	func TestConformance(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t) })
//	}
//
// newStore is called once per subtest and must return an empty store that
// no other subtest sees. RunTwoHandles adds the cases of several nodes
// sharing one store, each with its own handle.
package blobtest

import (
	_ "crypto/sha256"
	_ "crypto/sha512"

	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob"
)

// Run runs the whole suite, with a fresh store from newStore per subtest.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"Missing", testMissing},
		{"AppendCreates", testAppendCreates},
		{"AppendSequential", testAppendSequential},
		{"AppendBadOffset", testAppendBadOffset},
		{"AppendTornTail", testAppendTornTail},
		{"AppendReaderError", testAppendReaderError},
		{"OpenUpload", testOpenUpload},
		{"Commit", testCommit},
		{"CommitShortStaging", testCommitShortStaging},
		{"CommitExisting", testCommitExisting},
		{"CommitRetried", testCommitRetried},
		{"OpenSeek", testOpenSeek},
		{"Abort", testAbort},
		{"Uploads", testUploads},
		{"Walk", testWalk},
		{"Delete", testDelete},
		{"InvalidDigest", testInvalidDigest},
		{"ConcurrentAppends", testConcurrentAppends},
		{"ConcurrentCommitSameDigest", testConcurrentCommitSameDigest},
		{"Large", testLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

var algorithms = []digest.Algorithm{digest.SHA256, digest.SHA512}

func testMissing(t *testing.T, s blob.Store) {
	ctx := t.Context()
	d := digest.FromString("missing")

	if _, err := s.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat: got %v, want ErrNotFound", err)
	}
	if rc, _, err := s.Open(ctx, d); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open: got %v, want ErrNotFound", err)
		if err == nil {
			rc.Close()
		}
	}
	if err := s.Delete(ctx, d); err != nil {
		t.Errorf("Delete: got %v, want nil", err)
	}
	if rc, err := s.OpenUpload(ctx, "nope", 0); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("OpenUpload: got %v, want ErrNotFound", err)
		if err == nil {
			rc.Close()
		}
	}
	if err := s.Commit(ctx, "nope", 0, digest.FromString("")); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Commit: got %v, want ErrNotFound", err)
	}
	n, err := s.Append(ctx, "nope", 5, strings.NewReader("data"))
	if !errors.Is(err, blob.ErrNotFound) || n != 0 {
		t.Errorf("Append at 5: got (%d, %v), want (0, ErrNotFound)", n, err)
	}
	if ids := uploads(t, s); len(ids) != 0 {
		t.Errorf("Uploads after failed Append: got %q, want none", ids)
	}
}

func testAppendCreates(t *testing.T, s blob.Store) {
	for _, data := range []string{"hello", ""} {
		id := fmt.Sprintf("u%d", len(data))
		appendOK(t, s, id, 0, data)
		if ids := uploads(t, s); !slices.Contains(ids, id) {
			t.Errorf("Uploads: got %q, want it to contain %q", ids, id)
		}
		checkStaged(t, s, id, data)
	}
}

func testAppendSequential(t *testing.T, s blob.Store) {
	const id = "seq"
	chunks := []string{"first ", "second ", "", "third"}
	var off int64
	for _, c := range chunks {
		appendOK(t, s, id, off, c)
		off += int64(len(c))
	}
	checkStaged(t, s, id, strings.Join(chunks, ""))
}

func testAppendBadOffset(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const id = "bad"
	appendOK(t, s, id, 0, "hello")

	for _, off := range []int64{6, 1 << 40, -1} {
		n, err := s.Append(ctx, id, off, strings.NewReader("more"))
		if !errors.Is(err, blob.ErrInvalidOffset) || n != 0 {
			t.Errorf("Append at %d: got (%d, %v), want (0, ErrInvalidOffset)", off, n, err)
		}
	}
	checkStaged(t, s, id, "hello")
}

func testAppendTornTail(t *testing.T, s blob.Store) {
	const id = "torn"
	// The session acknowledged 5 bytes; the rest is a write it never saw
	// finish.
	appendOK(t, s, id, 0, "hello, world")
	appendOK(t, s, id, 5, "XY")
	checkStaged(t, s, id, "helloXY")
	checkShort(t, s, id, 8)
	appendOK(t, s, id, 7, "Z")
	checkStaged(t, s, id, "helloXYZ")
	commitAndCheck(t, s, id, "helloXYZ")

	// Offset 0 on an existing upload starts it over.
	appendOK(t, s, "restart", 0, "something long")
	appendOK(t, s, "restart", 0, "new")
	checkStaged(t, s, "restart", "new")
	checkShort(t, s, "restart", 4)
}

// failingReader yields data and then fails, like a client that hangs up.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	// Short reads, so the failure lands mid-copy rather than on a boundary.
	n := copy(p[:min(len(p), 1000)], r.data)
	r.data = r.data[n:]
	return n, nil
}

func testAppendReaderError(t *testing.T, s blob.Store) {
	ctx := t.Context()
	hangup := errors.New("client hung up")
	for _, size := range []int{0, 1, 4321, 3<<20 + 7} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			id := fmt.Sprintf("hangup%d", size)
			data := randBytes(size)
			appendOK(t, s, id, 0, "head")
			n, err := s.Append(ctx, id, 4, &failingReader{data: data, err: hangup})
			if !errors.Is(err, hangup) {
				t.Errorf("Append: got error %v, want it to wrap the reader's", err)
			}
			if n != int64(size) {
				t.Fatalf("Append: got count %d, want %d", n, size)
			}
			appendOK(t, s, id, 4+n, "tail")
			commitAndCheck(t, s, id, "head"+string(data)+"tail")
		})
	}
}

func testOpenUpload(t *testing.T, s blob.Store) {
	const id = "readback"
	appendOK(t, s, id, 0, "0123456789")
	for _, size := range []int{0, 4, 10} {
		checkStaged(t, s, id, "0123456789"[:size])
	}
	checkShort(t, s, id, 11)
}

func testCommit(t *testing.T, s blob.Store) {
	for _, alg := range algorithms {
		for _, data := range []string{"", "x", "some blob content"} {
			t.Run(fmt.Sprintf("%s/%d", alg, len(data)), func(t *testing.T) {
				ctx := t.Context()
				id := fmt.Sprintf("%s-%d", alg, len(data))
				d := alg.FromString(data)
				// Bytes beyond size, e.g. from a torn write, are not part of the blob.
				appendOK(t, s, id, 0, data+"extra")
				if err := s.Commit(ctx, id, int64(len(data)), d); err != nil {
					t.Fatalf("Commit: %v", err)
				}
				checkBlob(t, s, d, data)
				checkGone(t, s, id)
				if got := walk(t, s); got[d] != int64(len(data)) {
					t.Errorf("Walk: got %v, want it to contain %s of size %d", got, d, len(data))
				}
			})
		}
	}
}

func testCommitShortStaging(t *testing.T, s blob.Store) {
	ctx := t.Context()
	appendOK(t, s, "short", 0, "abc")
	d := digest.FromString("abcd")
	if err := s.Commit(ctx, "short", 4, d); err == nil {
		t.Errorf("Commit of 4 bytes with 3 staged: got nil error")
	}
	if _, err := s.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat after failed Commit: got %v, want ErrNotFound", err)
	}
}

func testCommitExisting(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const data = "shared layer"
	d := digest.FromString(data)
	appendOK(t, s, "a", 0, data)
	commitAndCheck(t, s, "a", data)

	appendOK(t, s, "b", 0, data)
	if err := s.Commit(ctx, "b", int64(len(data)), d); err != nil {
		t.Fatalf("Commit onto existing blob: %v", err)
	}
	checkBlob(t, s, d, data)
	checkGone(t, s, "b")
}

// A Commit retried after it already went through (say the server crashed
// before recording it) finds the blob in place and succeeds.
func testCommitRetried(t *testing.T, s blob.Store) {
	const data = "retried"
	d := digest.FromString(data)
	appendOK(t, s, "r", 0, data)
	commitAndCheck(t, s, "r", data)
	if err := s.Commit(t.Context(), "r", int64(len(data)), d); err != nil {
		t.Fatalf("second Commit: %v", err)
	}
	checkBlob(t, s, d, data)
}

func testOpenSeek(t *testing.T, s blob.Store) {
	data := randBytes(100_000)
	appendOK(t, s, "seek", 0, string(data))
	d := commitAndCheck(t, s, "seek", string(data))

	rc, size, err := s.Open(t.Context(), d)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	if size != int64(len(data)) {
		t.Fatalf("Open: got size %d, want %d", size, len(data))
	}
	for _, tc := range []struct {
		offset int64
		whence int
		pos    int64
		n      int
	}{
		{1234, io.SeekStart, 1234, 500},
		{-10, io.SeekEnd, 99_990, 10},
		{-5000, io.SeekCurrent, 95_000, 4096},
		{0, io.SeekStart, 0, 100_000},
		{0, io.SeekEnd, 100_000, 0},
	} {
		pos, err := rc.Seek(tc.offset, tc.whence)
		if err != nil || pos != tc.pos {
			t.Fatalf("Seek(%d, %d): got (%d, %v), want %d", tc.offset, tc.whence, pos, err, tc.pos)
		}
		got := make([]byte, tc.n)
		if _, err := io.ReadFull(rc, got); err != nil {
			t.Fatalf("read %d bytes at %d: %v", tc.n, pos, err)
		}
		if !bytes.Equal(got, data[pos:pos+int64(tc.n)]) {
			t.Fatalf("read %d bytes at %d: wrong content", tc.n, pos)
		}
	}
	if n, err := rc.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("Read at end: got (%d, %v), want (0, EOF)", n, err)
	}
}

func testAbort(t *testing.T, s blob.Store) {
	ctx := t.Context()
	appendOK(t, s, "ab", 0, "staged")
	for i := range 2 {
		if err := s.Abort(ctx, "ab"); err != nil {
			t.Fatalf("Abort #%d: %v", i+1, err)
		}
	}
	checkGone(t, s, "ab")
	if n, err := s.Append(ctx, "ab", 6, strings.NewReader("more")); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Append after Abort: got (%d, %v), want ErrNotFound", n, err)
	}
	if err := s.Abort(ctx, "never-existed"); err != nil {
		t.Errorf("Abort of unknown upload: %v", err)
	}
}

func testUploads(t *testing.T, s blob.Store) {
	ctx := t.Context()
	if ids := uploads(t, s); len(ids) != 0 {
		t.Fatalf("Uploads of empty store: got %q", ids)
	}
	for _, id := range []string{"c", "a", "b-1_X"} {
		appendOK(t, s, id, 0, id)
	}
	if got, want := uploads(t, s), []string{"a", "b-1_X", "c"}; !slices.Equal(got, want) {
		t.Errorf("Uploads: got %q, want %q", got, want)
	}
	commitAndCheck(t, s, "a", "a")
	if err := s.Abort(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if got, want := uploads(t, s), []string{"b-1_X"}; !slices.Equal(got, want) {
		t.Errorf("Uploads after Commit and Abort: got %q, want %q", got, want)
	}
}

func testWalk(t *testing.T, s blob.Store) {
	ctx := t.Context()
	if got := walk(t, s); len(got) != 0 {
		t.Fatalf("Walk of empty store: got %v", got)
	}
	want := map[digest.Digest]int64{}
	for i, data := range []string{"", "one", "two two", "three three three"} {
		alg := algorithms[i%len(algorithms)]
		id := fmt.Sprint("w", i)
		appendOK(t, s, id, 0, data)
		d := alg.FromString(data)
		if err := s.Commit(ctx, id, int64(len(data)), d); err != nil {
			t.Fatal(err)
		}
		want[d] = int64(len(data))
	}
	appendOK(t, s, "uncommitted", 0, "not a blob")

	got := walk(t, s)
	if len(got) != len(want) {
		t.Errorf("Walk: got %v, want %v", got, want)
	}
	for d, size := range want {
		if got[d] != size {
			t.Errorf("Walk: %s: got size %d, want %d", d, got[d], size)
		}
	}

	stop := errors.New("stop")
	calls := 0
	err := s.Walk(ctx, func(digest.Digest, int64) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Walk with failing fn: got %v after %d calls, want stop after 1", err, calls)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	ctx := t.Context()
	appendOK(t, s, "del", 0, "doomed")
	d := commitAndCheck(t, s, "del", "doomed")
	for i := range 2 {
		if err := s.Delete(ctx, d); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
	}
	if _, err := s.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat after Delete: got %v, want ErrNotFound", err)
	}
	if rc, _, err := s.Open(ctx, d); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open after Delete: got %v, want ErrNotFound", err)
		if err == nil {
			rc.Close()
		}
	}
	if got := walk(t, s); len(got) != 0 {
		t.Errorf("Walk after Delete: got %v", got)
	}
	// The same blob can be pushed again.
	appendOK(t, s, "again", 0, "doomed")
	commitAndCheck(t, s, "again", "doomed")
}

func testInvalidDigest(t *testing.T, s blob.Store) {
	ctx := t.Context()
	appendOK(t, s, "inv", 0, "data")
	for _, d := range []digest.Digest{
		"",
		"sha256",
		"sha256:",
		"sha256:abc",
		"sha256:../../../../etc/passwd",
		digest.Digest("sha256:" + strings.Repeat("A", 64)),
		digest.Digest("md5:" + strings.Repeat("a", 32)),
	} {
		if _, err := s.Stat(ctx, d); err == nil {
			t.Errorf("Stat(%q): got nil error", d)
		}
		if rc, _, err := s.Open(ctx, d); err == nil {
			t.Errorf("Open(%q): got nil error", d)
			rc.Close()
		}
		if err := s.Delete(ctx, d); err == nil {
			t.Errorf("Delete(%q): got nil error", d)
		}
		if err := s.Commit(ctx, "inv", 4, d); err == nil {
			t.Errorf("Commit(%q): got nil error", d)
		}
	}
	checkStaged(t, s, "inv", "data")
}

func testConcurrentAppends(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const workers, chunks, chunkSize = 8, 4, 64 << 10
	var wg sync.WaitGroup
	want := make([][]byte, workers)
	for w := range workers {
		want[w] = randBytes(chunks * chunkSize)
		wg.Go(func() {
			id := fmt.Sprint("conc", w)
			for c := range chunks {
				off := int64(c * chunkSize)
				n, err := s.Append(ctx, id, off, bytes.NewReader(want[w][off:off+chunkSize]))
				if err != nil || n != chunkSize {
					t.Errorf("%s: Append at %d: got (%d, %v)", id, off, n, err)
					return
				}
			}
			d := digest.FromBytes(want[w])
			if err := s.Commit(ctx, id, int64(len(want[w])), d); err != nil {
				t.Errorf("%s: Commit: %v", id, err)
			}
		})
	}
	wg.Wait()
	for w := range workers {
		checkBlob(t, s, digest.FromBytes(want[w]), string(want[w]))
	}
	if ids := uploads(t, s); len(ids) != 0 {
		t.Errorf("Uploads after commits: got %q", ids)
	}
}

// Clients pushing the same layer race to commit it. All succeed, and a
// reader never sees anything but no blob or the whole one.
func testConcurrentCommitSameDigest(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const workers = 8
	data := randBytes(256 << 10)
	d := digest.FromBytes(data)
	for w := range workers {
		appendOK(t, s, fmt.Sprint("same", w), 0, string(data)+"tail")
	}

	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				rc, size, err := s.Open(ctx, d)
				if errors.Is(err, blob.ErrNotFound) {
					continue
				}
				if err != nil {
					t.Errorf("Open during commits: %v", err)
					return
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil || size != int64(len(data)) || !bytes.Equal(got, data) {
					t.Errorf("Open during commits: size %d, read %d bytes (%v), want whole blob of %d",
						size, len(got), err, len(data))
					return
				}
			}
		})
	}

	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			if err := s.Commit(ctx, fmt.Sprint("same", w), int64(len(data)), d); err != nil {
				t.Errorf("Commit same%d: %v", w, err)
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()

	checkBlob(t, s, d, string(data))
	if ids := uploads(t, s); len(ids) != 0 {
		t.Errorf("Uploads after commits: got %q", ids)
	}
	if got := walk(t, s); len(got) != 1 || got[d] != int64(len(data)) {
		t.Errorf("Walk: got %v, want only %s", got, d)
	}
}

func testLarge(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const size = 8 << 20
	data := randBytes(size)
	// Uneven chunks, so appends straddle any buffer or part boundaries.
	var off int64
	for _, n := range []int64{1<<20 + 3, 3<<20 - 5, 17, 1 << 20} {
		appendOK(t, s, "large", off, string(data[off:off+n]))
		off += n
	}
	appendOK(t, s, "large", off, string(data[off:]))

	d := digest.FromBytes(data)
	if err := s.Commit(ctx, "large", size, d); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	rc, n, err := s.Open(ctx, d)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	if n != size {
		t.Errorf("Open: got size %d, want %d", n, size)
	}
	got, err := digest.SHA256.FromReader(rc)
	if err != nil || got != d {
		t.Errorf("read back: got %s (%v), want %s", got, err, d)
	}
}

// appendOK appends data and fails the test unless all of it was written.
func appendOK(t *testing.T, s blob.Store, id string, off int64, data string) {
	t.Helper()
	// Hide WriterTo so that implementations see a plain stream, as from a
	// request body.
	r := struct{ io.Reader }{strings.NewReader(data)}
	n, err := s.Append(t.Context(), id, off, r)
	if err != nil || n != int64(len(data)) {
		t.Fatalf("Append(%q, %d, %d bytes): got (%d, %v)", id, off, len(data), n, err)
	}
}

// checkStaged checks that upload id reads back as want.
func checkStaged(t *testing.T, s blob.Store, id, want string) {
	t.Helper()
	rc, err := s.OpenUpload(t.Context(), id, int64(len(want)))
	if err != nil {
		t.Fatalf("OpenUpload(%q, %d): %v", id, len(want), err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("OpenUpload(%q, %d): read: %v", id, len(want), err)
	}
	if string(got) != want {
		t.Fatalf("OpenUpload(%q, %d): got %s, want %s", id, len(want), abbrev(got), abbrev([]byte(want)))
	}
}

// checkShort checks that upload id has fewer than size bytes staged: asking
// for size must fail, when opening or when reading, rather than silently
// come up short.
func checkShort(t *testing.T, s blob.Store, id string, size int64) {
	t.Helper()
	rc, err := s.OpenUpload(t.Context(), id, size)
	if err != nil {
		return
	}
	defer rc.Close()
	if got, err := io.ReadAll(rc); err == nil {
		t.Errorf("OpenUpload(%q, %d): read %d bytes without error, want fewer staged", id, size, len(got))
	}
}

// commitAndCheck commits all of want, staged in upload id, under its sha256
// digest and checks the result.
func commitAndCheck(t *testing.T, s blob.Store, id, want string) digest.Digest {
	t.Helper()
	d := digest.FromString(want)
	if err := s.Commit(t.Context(), id, int64(len(want)), d); err != nil {
		t.Fatalf("Commit(%q, %s): %v", id, d, err)
	}
	checkBlob(t, s, d, want)
	checkGone(t, s, id)
	return d
}

// checkBlob checks that Stat and Open agree that blob d is exactly want.
func checkBlob(t *testing.T, s blob.Store, d digest.Digest, want string) {
	t.Helper()
	ctx := t.Context()
	size, err := s.Stat(ctx, d)
	if err != nil || size != int64(len(want)) {
		t.Fatalf("Stat(%s): got (%d, %v), want %d", d, size, err, len(want))
	}
	rc, size, err := s.Open(ctx, d)
	if err != nil {
		t.Fatalf("Open(%s): %v", d, err)
	}
	defer rc.Close()
	if size != int64(len(want)) {
		t.Errorf("Open(%s): got size %d, want %d", d, size, len(want))
	}
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Open(%s): read: %v", d, err)
	}
	if string(got) != want {
		t.Fatalf("Open(%s): got %s, want %s", d, abbrev(got), abbrev([]byte(want)))
	}
}

// checkGone checks that upload id no longer exists.
func checkGone(t *testing.T, s blob.Store, id string) {
	t.Helper()
	if ids := uploads(t, s); slices.Contains(ids, id) {
		t.Errorf("Uploads: got %q, want %q gone", ids, id)
	}
	rc, err := s.OpenUpload(t.Context(), id, 0)
	if !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("OpenUpload(%q): got %v, want ErrNotFound", id, err)
	}
	if err == nil {
		rc.Close()
	}
}

// uploads returns the sorted upload ids.
func uploads(t *testing.T, s blob.Store) []string {
	t.Helper()
	ids, err := s.Uploads(t.Context())
	if err != nil {
		t.Fatalf("Uploads: %v", err)
	}
	slices.Sort(ids)
	return ids
}

func walk(t *testing.T, s blob.Store) map[digest.Digest]int64 {
	t.Helper()
	got := map[digest.Digest]int64{}
	err := s.Walk(t.Context(), func(d digest.Digest, size int64) error {
		if _, dup := got[d]; dup {
			t.Errorf("Walk: %s seen twice", d)
		}
		got[d] = size
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return got
}

var seed atomic.Uint32

// randBytes returns n pseudo-random bytes, different on each call.
func randBytes(n int) []byte {
	var s [32]byte
	binary.LittleEndian.PutUint32(s[:], seed.Add(1))
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

// abbrev keeps failure messages about large blobs readable.
func abbrev(b []byte) string {
	if len(b) <= 64 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%d bytes %q... (sha256 %s)", len(b), b[:32], digest.FromBytes(b))
}
