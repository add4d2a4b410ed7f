package fs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// Uploads are written with direct I/O where the platform and filesystem
// allow it: the bytes go from one aligned buffer to the disk without a
// copy into the page cache. That copy was the largest kernel cost of a
// push (and on a virtual machine whose host backs memory on first touch,
// every new page-cache page could cost a host fault as well). Direct
// writes also leave Commit's fsync only the device flush and the tail.
//
// Direct I/O needs the file offset, the length and the buffer aligned;
// directAlign is a multiple of every logical block size in use. Only whole
// aligned blocks are written directly; the tail of an append (less than
// one block) goes through the page cache on the ordinary descriptor, and
// an append that starts at an unaligned offset (after such a tail) is
// written the ordinary way throughout.
const (
	directAlign = 4096
	directChunk = 1 << 20
)

var directBufPool = sync.Pool{New: func() any {
	b := make([]byte, directChunk+directAlign)
	off := int(uintptr(unsafe.Pointer(&b[0])) & (directAlign - 1))
	if off != 0 {
		off = directAlign - off
	}
	b = b[off : off+directChunk]
	return &b
}}

// directWriter stages an append: whole aligned chunks go to df (opened
// with O_DIRECT), the tail to f at finish. A direct write waits for the
// disk, so each full chunk is written in the background while the next
// one fills (two buffers). written counts the bytes that are in the file;
// buffered bytes are not.
type directWriter struct {
	df, f   *os.File
	buf     []byte // being filled
	spare   []byte // being written, or free
	n       int    // bytes held in buf
	off     int64  // file offset of buf[0]
	written int64
	direct  bool // false once the filesystem refused a direct write

	inflight chan writeResult // the background write, if one runs
	err      error            // the first failed write
}

type writeResult struct {
	n   int
	err error
}

func newDirectWriter(df, f *os.File, off int64) *directWriter {
	return &directWriter{
		df: df, f: f, off: off, direct: true,
		buf:   *directBufPool.Get().(*[]byte),
		spare: *directBufPool.Get().(*[]byte),
	}
}

func (w *directWriter) Write(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		if w.err != nil {
			return total, w.err
		}
		k := copy(w.buf[w.n:], p)
		w.n += k
		p = p[k:]
		total += k
		if w.n == len(w.buf) {
			w.startFlush()
		}
	}
	return total, w.err
}

// LendBuffer returns the free space of the buffer being filled, so that a
// caller can read into it instead of handing Write a copy.
func (w *directWriter) LendBuffer() []byte { return w.buf[w.n:] }

// Filled takes the first n bytes of the space LendBuffer returned as
// written to w.
func (w *directWriter) Filled(n int) error {
	if w.err != nil {
		return w.err
	}
	if n < 0 || n > len(w.buf)-w.n {
		return fmt.Errorf("filled %d bytes of %d lent", n, len(w.buf)-w.n)
	}
	w.n += n
	if w.n == len(w.buf) {
		w.startFlush()
	}
	return w.err
}

// wait ends the background write, if any, and accounts for it.
func (w *directWriter) wait() {
	if w.inflight == nil {
		return
	}
	r := <-w.inflight
	w.inflight = nil
	w.written += int64(r.n)
	if r.err != nil && w.err == nil {
		w.err = r.err
	}
}

// startFlush hands the full buffer to a background write and goes on
// filling the other one.
func (w *directWriter) startFlush() {
	w.wait()
	if w.err != nil {
		return
	}
	full, off := w.buf[:w.n], w.off
	w.buf, w.spare = w.spare, w.buf
	w.off += int64(w.n)
	w.n = 0
	ch := make(chan writeResult, 1)
	w.inflight = ch
	go func() {
		m, err := w.writeAt(full, off)
		ch <- writeResult{m, err}
	}()
}

// writeAt writes b at off directly, or through the page cache once the
// filesystem has refused a direct write. Only the background write or
// finish calls it, never both at once.
func (w *directWriter) writeAt(b []byte, off int64) (int, error) {
	if w.direct {
		m, err := w.df.WriteAt(b, off)
		if m == 0 && errors.Is(err, syscall.EINVAL) && off%directAlign == 0 && w.written == 0 {
			// The filesystem took O_DIRECT at open but not the write.
			w.direct = false
			return w.f.WriteAt(b, off)
		}
		return m, err
	}
	return w.f.WriteAt(b, off)
}

// finish waits for the background write, writes what is buffered (whole
// blocks directly, the tail through the page cache) and releases the
// buffers. It returns the bytes in the file. After a failed write nothing
// more is written: the file holds a prefix, and the count says which.
func (w *directWriter) finish() (int64, error) {
	defer func() {
		for _, b := range [][]byte{w.buf, w.spare} {
			directBufPool.Put(&b)
		}
		w.buf, w.spare = nil, nil
	}()
	w.wait()
	if w.err != nil {
		return w.written, w.err
	}
	whole := w.n
	if w.direct {
		whole = w.n &^ (directAlign - 1)
	}
	for _, part := range []struct {
		b      []byte
		direct bool
	}{{w.buf[:whole], true}, {w.buf[whole:w.n], false}} {
		if len(part.b) == 0 {
			continue
		}
		var m int
		var err error
		if part.direct {
			m, err = w.writeAt(part.b, w.off)
		} else {
			m, err = w.f.WriteAt(part.b, w.off)
		}
		w.off += int64(m)
		w.written += int64(m)
		if err != nil {
			return w.written, err
		}
	}
	w.n = 0
	return w.written, nil
}

var _ io.Writer = (*directWriter)(nil)
