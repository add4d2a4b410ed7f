package registry

import (
	"hash"
	"io"
	"sync"
)

// hashingReader hashes what is read through it. n counts the bytes hashed;
// the store must report writing exactly n of them.
type hashingReader struct {
	r   io.Reader
	h   hash.Hash
	n   int64
	err error // the reader's own failure, other than io.EOF
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if n > 0 {
		h.h.Write(p[:n])
		h.n += int64(n)
	}
	if err != nil && err != io.EOF {
		h.err = err
	}
	return n, err
}

// hashChunk is the buffer WriteTo reads into. Bounded: one per upload in
// flight, no matter the blob's size.
const hashChunk = 1 << 20

// hashAside is the smallest read worth hashing in the second goroutine.
const hashAside = 32 << 10

var hashBufPool = sync.Pool{New: func() any {
	b := make([]byte, hashChunk)
	return &b
}}

// bufferLender is a store's writer that lends its own buffer: the request
// body is read straight into it, which saves a copy of every pushed byte.
type bufferLender interface {
	// LendBuffer returns free space in the writer's buffer, never empty.
	LendBuffer() []byte
	// Filled says that the first n bytes of the space last lent hold
	// data. The writer may start writing them to disk, reading them only.
	Filled(n int) error
}

// WriteTo is the copy io.Copy takes: it hashes each chunk in a second
// goroutine while w writes the same chunk, so a push costs about the larger
// of sha256 and the disk write rather than their sum. Both only read the
// buffer, and the next read waits for both.
func (h *hashingReader) WriteTo(w io.Writer) (int64, error) {
	if bl, ok := w.(bufferLender); ok {
		return h.writeToLender(bl)
	}
	bp := hashBufPool.Get().(*[]byte)
	defer hashBufPool.Put(bp)
	buf := *bp
	hashed := make(chan struct{}, 1)
	var written int64
	for {
		// One Read, not a filled buffer: bytes are hashed and handed to
		// the store as they arrive (which may hold up to a chunk of them;
		// see blob/fs/direct.go).
		n, rerr := h.r.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			var m int
			var werr error
			if n < hashAside {
				h.h.Write(chunk)
				m, werr = w.Write(chunk)
			} else {
				go func() {
					h.h.Write(chunk)
					hashed <- struct{}{}
				}()
				m, werr = w.Write(chunk)
				<-hashed
			}
			h.n += int64(n)
			written += int64(m)
			if werr == nil && m < n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				return written, werr
			}
		}
		if done, err := h.endOfBody(rerr); done {
			return written, err
		}
	}
}

// writeToLender reads the body into the writer's own buffer. Each chunk is
// hashed in a second goroutine while the next one is read; chunks are
// hashed in order. The writer may reuse a chunk's space only after a later
// Filled, and every Filled after a chunk's comes after its hash is done, so
// the hash never reads space being refilled.
func (h *hashingReader) writeToLender(w bufferLender) (written int64, err error) {
	hashed := make(chan struct{}, 1)
	hashing := false
	waitHash := func() {
		if hashing {
			<-hashed
			hashing = false
		}
	}
	defer waitHash()
	for {
		space := w.LendBuffer()
		n, rerr := h.r.Read(space)
		waitHash()
		if n > 0 {
			chunk := space[:n]
			if n < hashAside {
				h.h.Write(chunk)
			} else {
				hashing = true
				go func() {
					h.h.Write(chunk)
					hashed <- struct{}{}
				}()
			}
			h.n += int64(n)
			if err := w.Filled(n); err != nil {
				return written, err
			}
			written += int64(n)
		}
		if done, err := h.endOfBody(rerr); done {
			return written, err
		}
	}
}

// endOfBody reports whether a Read's error ends the copy, and with what:
// nil at io.EOF, otherwise the client's failure, which h.err keeps.
func (h *hashingReader) endOfBody(rerr error) (bool, error) {
	switch rerr {
	case nil:
		return false, nil
	case io.EOF:
		return true, nil
	default:
		h.err = rerr
		return true, rerr
	}
}
