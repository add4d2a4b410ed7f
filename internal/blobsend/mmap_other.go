//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package blobsend

import (
	"errors"
	"io"
	"os"
)

const mappedSendSupported = false

var errNotMappable = errors.New("file cannot be memory-mapped")

func sendMapped(io.Writer, *os.File, int64, int64) (int64, error) { return 0, errNotMappable }
