package fs

import (
	"io"
	"os"
)

// writebackEvery is how many staged bytes Append lets accumulate before it
// asks the kernel to start writing them to disk.
const writebackEvery = 8 << 20

// writebackWriter writes an upload at increasing offsets and, every
// writebackEvery bytes, starts the disk writes of the range just written
// without waiting for them (startWriteback). Commit's fsync then finds most
// of the blob already on disk instead of flushing all of it at the end: the
// disk works while the network still delivers. Durability is unchanged;
// Commit still fsyncs before the rename.
type writebackWriter struct {
	f       *os.File
	off     int64 // where the next write goes
	flushed int64 // writeback has been started below this offset
}

func (w *writebackWriter) Write(p []byte) (int, error) {
	n, err := w.f.WriteAt(p, w.off)
	w.off += int64(n)
	if w.off-w.flushed >= writebackEvery {
		startWriteback(w.f, w.flushed, w.off-w.flushed)
		w.flushed = w.off
	}
	return n, err
}

var _ io.Writer = (*writebackWriter)(nil)
