package fs

import (
	"os"
	"syscall"
)

// openDirect opens path for direct writes, or returns nil where the
// filesystem does not do direct I/O (tmpfs, for one, refuses O_DIRECT).
func openDirect(path string) *os.File {
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return nil
	}
	return f
}
