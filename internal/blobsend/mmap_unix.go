//go:build linux || darwin || freebsd || netbsd || openbsd

package blobsend

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"

	"golang.org/x/sys/unix"
)

const mappedSendSupported = true

// mapWindow is how much of the file is mapped at a time and writeSize how
// much of it one write hands the kernel; 8 MiB and 1 MiB measured best on
// loopback. Tests make them small.
var (
	mapWindow int64 = 8 << 20
	writeSize int64 = 1 << 20
)

var errNotMappable = errors.New("file cannot be memory-mapped")

// sendMapped writes n bytes of f from offset off to w, a window of the
// file mapped at a time, and reports how many bytes it wrote. The window
// after the current one is read ahead meanwhile, for files not in the
// page cache. Only the kernel reads the mapping (w writes straight to the
// socket), and blob files are never truncated, so no access can fault;
// should a disk error make one fault anyway, it is an error, not a crash.
func sendMapped(w io.Writer, f *os.File, off, n int64) (sent int64, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	fd := int(f.Fd())
	page := int64(os.Getpagesize())
	end := off + n
	pos := off
	for pos < end {
		base := pos - pos%page
		length := min(end-base, mapWindow)
		if base+length < end {
			readAhead(fd, base+length, mapWindow)
		}
		m, merr := unix.Mmap(fd, base, int(length), unix.PROT_READ, unix.MAP_SHARED|mapPopulate)
		if merr != nil {
			if sent == 0 {
				return 0, errNotMappable
			}
			return sent, fmt.Errorf("map %s at %d: %w", f.Name(), base, merr)
		}
		k, werr := writeMapping(w, m[pos-base:])
		sent += k
		pos += k
		if uerr := unix.Munmap(m); uerr != nil && werr == nil {
			werr = fmt.Errorf("unmap %s: %w", f.Name(), uerr)
		}
		runtime.KeepAlive(f)
		if werr != nil {
			return sent, werr
		}
	}
	return sent, nil
}

// writeMapping writes b in pieces of writeSize, turning a fault on the
// mapping into an error.
func writeMapping(w io.Writer, b []byte) (written int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			re, ok := r.(runtime.Error)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("read mapped blob file: %w", re)
		}
	}()
	for len(b) > 0 {
		k := min(int64(len(b)), writeSize)
		nw, err := w.Write(b[:k])
		written += int64(nw)
		if err != nil {
			return written, err
		}
		b = b[k:]
	}
	return written, nil
}
