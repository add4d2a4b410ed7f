package fs

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback queues the dirty pages of [off, off+n) for writing and
// returns without waiting for the disk. It is a hint: an error only means
// the pages are written later, by the kernel or by Commit's fsync.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
