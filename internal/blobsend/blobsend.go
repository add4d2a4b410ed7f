// Package blobsend chooses how a blob's bytes travel from the store's file
// to the client's connection.
//
// Over a network, sendfile is best: the kernel hands the page-cache pages
// to the NIC and the server copies nothing. When the peer runs on this
// host (docker or a CI job pulling from a local Berth, or a reverse proxy
// in front of it) no NIC reads the pages: with sendfile the receiving
// process copies the bytes out of page-cache pages that no CPU has touched
// lately, alone on its core, and that copy bounds the transfer. Writing
// the file to the socket from a memory mapping moves that cold read onto
// the sender, which copies the pages into socket buffers (one copy, as
// opposed to read + write's two); the receiver then copies from buffers
// still in the shared cache. On loopback that is about 25% faster than
// either sendfile or read + write.
//
// A blob that is not a file (an object store's response body) is copied
// through a large pooled buffer, filled before each write: io.Copy's 32 KiB
// would cost a read and a write system call per 32 KiB on each side.
package blobsend

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
)

// Writer returns the writer to pass to http.ServeContent for a blob body.
// A file goes out as w would send it — with sendfile, or behind TLS with
// the TLS layer's copy — except to a peer on this host over plain HTTP/1.x,
// where it is written from a memory mapping; anything else is copied
// through copyBufferSize buffers.
func Writer(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	if !mappedSendSupported || r.TLS != nil || r.ProtoMajor != 1 || !PeerIsLocal(r) {
		return &streamWriter{ResponseWriter: w}
	}
	return &localWriter{ResponseWriter: w}
}

// PeerIsLocal reports whether the request came from this host: over
// loopback, or to the same address it came from.
func PeerIsLocal(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	tcp, ok := local.(*net.TCPAddr)
	return ok && tcp.IP.Equal(ip)
}

// copyBufferSize is the copy buffer of a blob that is not a file. 256 KiB
// is past where larger writes stop paying on loopback and on a LAN, and
// small enough to hold one per concurrent pull.
const copyBufferSize = 256 << 10

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}

// copyStream copies src to w in full buffers: each write waits until the
// buffer is full or src ends, so the writes stay large even when src's
// reads return a socket's worth at a time.
func copyStream(w io.Writer, src io.Reader) (int64, error) {
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	buf := *bp
	var total int64
	for {
		n, rerr := io.ReadFull(src, buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
			if m < n {
				return total, io.ErrShortWrite
			}
		}
		switch {
		case rerr == nil:
		case errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF):
			return total, nil
		default:
			return total, rerr
		}
	}
}

// fileOf returns the file under what ServeContent passes to ReadFrom: the
// file itself, or a limited reader over it.
func fileOf(src io.Reader) (*os.File, *io.LimitedReader) {
	switch s := src.(type) {
	case *os.File:
		return s, nil
	case *io.LimitedReader:
		f, _ := s.R.(*os.File)
		return f, s
	}
	return nil, nil
}

// streamWriter sends files the response writer's own way and copies
// anything else in large buffers.
type streamWriter struct {
	http.ResponseWriter
}

func (w *streamWriter) ReadFrom(src io.Reader) (int64, error) {
	if f, _ := fileOf(src); f != nil {
		if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
			return rf.ReadFrom(src)
		}
	}
	return copyStream(writerOnly{w.ResponseWriter}, src)
}

func (w *streamWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type localWriter struct {
	http.ResponseWriter
}

// ReadFrom sends a file (what ServeContent passes: the file, or a limited
// reader over it) from a memory mapping, and anything else in large
// buffers.
func (w *localWriter) ReadFrom(src io.Reader) (int64, error) {
	f, limit := fileOf(src)
	if f == nil {
		return copyStream(writerOnly{w.ResponseWriter}, src)
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return io.Copy(writerOnly{w.ResponseWriter}, src)
	}
	fi, err := f.Stat()
	if err != nil {
		return io.Copy(writerOnly{w.ResponseWriter}, src)
	}
	n := fi.Size() - off
	if limit != nil && limit.N < n {
		n = limit.N
	}
	if n <= 0 {
		return 0, nil
	}
	// The response's buffers must be empty so that every write of the
	// mapping goes from the kernel's copy straight to the socket: a copy
	// in user space could fault on a disk error.
	if err := http.NewResponseController(w.ResponseWriter).Flush(); err != nil {
		return 0, err
	}
	sent, err := sendMapped(w.ResponseWriter, f, off, n)
	if _, serr := f.Seek(off+sent, io.SeekStart); serr != nil && err == nil {
		err = serr
	}
	if limit != nil {
		limit.N -= sent
	}
	if err == errNotMappable {
		// Nothing was sent: the filesystem cannot map files.
		rest, err := io.Copy(writerOnly{w.ResponseWriter}, src)
		return sent + rest, err
	}
	return sent, err
}

func (w *localWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writerOnly hides ReadFrom, which would take the copy back to sendfile.
type writerOnly struct{ io.Writer }
