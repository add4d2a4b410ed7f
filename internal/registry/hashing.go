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

// WriteTo is the copy io.Copy takes: it hashes each chunk in a second
// goroutine while w writes the same chunk, so a push costs about the larger
// of sha256 and the disk write rather than their sum. Both only read the
// buffer, and the next read waits for both.
func (h *hashingReader) WriteTo(w io.Writer) (int64, error) {
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
		switch rerr {
		case nil:
		case io.EOF:
			return written, nil
		default:
			h.err = rerr
			return written, rerr
		}
	}
}
