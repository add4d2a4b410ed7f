package blobsend

import "golang.org/x/sys/unix"

// mapPopulate maps the whole window up front instead of a page fault per
// page as the kernel reads it.
const mapPopulate = unix.MAP_POPULATE

// readAhead starts reading the next window from disk while the current
// one is sent; for a file in the page cache it costs a lookup.
func readAhead(fd int, off, n int64) { _ = unix.Fadvise(fd, off, n, unix.FADV_WILLNEED) }
