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
package blobsend

import (
	"io"
	"net"
	"net/http"
	"os"
)

// Writer returns the writer to pass to http.ServeContent for a blob body:
// w itself, so that a file goes out with sendfile (or, behind TLS, with
// the TLS layer's copy), and for a peer on this host over plain HTTP/1.x a
// writer that sends files from a memory mapping.
func Writer(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	if !mappedSendSupported || r.TLS != nil || r.ProtoMajor != 1 || !PeerIsLocal(r) {
		return w
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

type localWriter struct {
	http.ResponseWriter
}

// ReadFrom sends a file (what ServeContent passes: the file, or a limited
// reader over it) from a memory mapping, and anything else as w would.
func (w *localWriter) ReadFrom(src io.Reader) (int64, error) {
	var f *os.File
	var limit *io.LimitedReader
	switch s := src.(type) {
	case *os.File:
		f = s
	case *io.LimitedReader:
		limit = s
		f, _ = s.R.(*os.File)
	}
	if f == nil {
		return io.Copy(writerOnly{w.ResponseWriter}, src)
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
