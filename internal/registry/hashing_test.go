package registry

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"
)

// pacedReader returns data in reads of the given sizes (cycling), then
// io.EOF, or failErr once failAfter bytes are out.
type pacedReader struct {
	data      []byte
	sizes     []int
	i         int
	eofWith   bool // return the last bytes together with io.EOF
	failAfter int
	failErr   error
	delay     time.Duration
	returned  *atomic.Bool // set once WriteTo has returned
	lateReads atomic.Int32
}

func (r *pacedReader) Read(p []byte) (int, error) {
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	if r.returned != nil && r.returned.Load() {
		r.lateReads.Add(1)
	}
	if r.failErr != nil && r.failAfter <= 0 {
		return 0, r.failErr
	}
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(r.sizes[r.i%len(r.sizes)], len(p), len(r.data))
	if r.failErr != nil {
		n = min(n, r.failAfter)
		r.failAfter -= n
	}
	r.i++
	copy(p, r.data[:n])
	r.data = r.data[n:]
	if r.eofWith && len(r.data) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// limitedWriter fails once it has taken limit bytes.
type limitedWriter struct {
	buf   bytes.Buffer
	limit int
	err   error
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if w.err != nil && w.buf.Len()+len(p) > w.limit {
		n := w.limit - w.buf.Len()
		w.buf.Write(p[:n])
		return n, w.err
	}
	return w.buf.Write(p)
}

// lendingWriter lends two buffers in turn, as blob/fs's direct writer
// does: a full buffer is "written" (copied out) and the other one lent
// next, so under the race detector a hash still reading space being
// refilled shows. It fails, taking nothing more, once limit bytes would
// be exceeded.
type lendingWriter struct {
	bufs  [2][]byte
	cur   int
	n     int
	out   bytes.Buffer
	limit int
	err   error
}

func newLendingWriter(size, limit int, err error) *lendingWriter {
	return &lendingWriter{bufs: [2][]byte{make([]byte, size), make([]byte, size)}, limit: limit, err: err}
}

func (w *lendingWriter) LendBuffer() []byte { return w.bufs[w.cur][w.n:] }

func (w *lendingWriter) Filled(n int) error {
	if w.err != nil && w.out.Len()+w.n+n > w.limit {
		return w.err
	}
	w.n += n
	if w.n == len(w.bufs[w.cur]) {
		w.out.Write(w.bufs[w.cur])
		w.cur, w.n = 1-w.cur, 0
	}
	return nil
}

func (w *lendingWriter) Write([]byte) (int, error) {
	panic("Write called on a writer that lends its buffer")
}

// taken is every byte the writer has taken, written out or buffered.
func (w *lendingWriter) taken() []byte {
	return append(bytes.Clone(w.out.Bytes()), w.bufs[w.cur][:w.n]...)
}

func TestHashingReaderWriteTo(t *testing.T) {
	for _, lend := range []bool{false, true} {
		t.Run(map[bool]string{false: "copy", true: "lent buffer"}[lend], func(t *testing.T) {
			testHashingReaderWriteTo(t, lend)
		})
	}
}

func testHashingReaderWriteTo(t *testing.T, lend bool) {
	data := make([]byte, 5<<20+123)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	errDisk := errors.New("disk full")
	errClient := errors.New("connection reset")
	for _, tc := range []struct {
		name      string
		size      int
		sizes     []int
		eofWith   bool
		failAfter int   // reader fails after this many bytes (with readErr)
		readErr   error // nil: the reader ends with io.EOF
		writeErr  error
		writeMax  int // writer fails after this many bytes (with writeErr)
	}{
		{name: "empty", size: 0, sizes: []int{1}},
		{name: "one byte reads", size: 3000, sizes: []int{1}},
		{name: "small reads hashed inline", size: 1 << 20, sizes: []int{4096, 1000, 31 << 10}},
		{name: "large reads hashed aside", size: 5<<20 + 123, sizes: []int{1 << 20, 64 << 10, 300 << 10}},
		{name: "mixed sizes", size: 5<<20 + 123, sizes: []int{7, 1 << 20, 33 << 10, 100}},
		{name: "bytes with EOF", size: 2<<20 + 5, sizes: []int{1 << 20}, eofWith: true},
		{name: "client fails midway", size: 3 << 20, sizes: []int{256 << 10}, failAfter: 1<<20 + 17, readErr: errClient},
		{name: "client fails at once", size: 3 << 20, sizes: []int{256 << 10}, failAfter: 0, readErr: errClient},
		{name: "store fails midway", size: 4 << 20, sizes: []int{512 << 10}, writeErr: errDisk, writeMax: 1<<20 + 3},
		{name: "store fails at once", size: 4 << 20, sizes: []int{512 << 10}, writeErr: errDisk, writeMax: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var returned atomic.Bool
			r := &pacedReader{data: data[:tc.size], sizes: tc.sizes, eofWith: tc.eofWith,
				failAfter: tc.failAfter, failErr: tc.readErr, returned: &returned}
			if tc.writeErr != nil {
				r.delay = time.Millisecond // a Read is often in flight when the write fails
			}
			h := &hashingReader{r: r, h: sha256.New()}
			var n int64
			var err error
			var taken []byte
			if lend {
				w := newLendingWriter(200<<10, tc.writeMax, tc.writeErr)
				n, err = h.WriteTo(w)
				taken = w.taken()
			} else {
				w := &limitedWriter{limit: tc.writeMax, err: tc.writeErr}
				n, err = h.WriteTo(w)
				taken = w.buf.Bytes()
			}
			returned.Store(true)

			wantErr := tc.readErr
			if tc.writeErr != nil {
				wantErr = tc.writeErr
			}
			if !errors.Is(err, wantErr) {
				t.Fatalf("err = %v, want %v", err, wantErr)
			}
			if !errors.Is(h.err, tc.readErr) {
				t.Errorf("h.err = %v, want %v (the reader's own failure)", h.err, tc.readErr)
			}
			if n != int64(len(taken)) {
				t.Errorf("WriteTo = %d, writer took %d", n, len(taken))
			}
			if !bytes.Equal(taken, data[:len(taken)]) {
				t.Error("the writer got other bytes than the reader gave")
			}
			switch {
			case tc.writeErr != nil:
				// The failed write's chunk was hashed; the caller sees
				// n != h.n and discards the torn tail.
				if h.n <= n && tc.writeMax < tc.size {
					t.Errorf("hashed %d, written %d: a failed write must show as hashed > written", h.n, n)
				}
			default:
				want := tc.size
				if tc.readErr != nil {
					want = tc.failAfter
				}
				if h.n != int64(want) || n != int64(want) {
					t.Errorf("hashed %d, written %d, want %d", h.n, n, want)
				}
				if sum := sha256.Sum256(data[:want]); !bytes.Equal(h.h.Sum(nil), sum[:]) {
					t.Error("the hash is not the sha256 of the bytes written")
				}
			}
			time.Sleep(5 * time.Millisecond)
			if late := r.lateReads.Load(); late > 0 {
				t.Errorf("%d reads of the body after WriteTo returned", late)
			}
		})
	}
}
