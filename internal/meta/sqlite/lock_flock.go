//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDatabase takes the lock of the database at path, shared or
// exclusive, without waiting: it fails with ErrInUse at once when another
// holder excludes it.
func lockDatabase(path string, exclusive bool) (*dbLock, error) {
	name := LockPath(path)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock file: %w", err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err = syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	switch {
	case err == nil:
		return &dbLock{f: f}, nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		f.Close()
		if exclusive {
			return nil, fmt.Errorf("%w: another process has it open (a running berth serve, or a berth admin command); stop it first", ErrInUse)
		}
		return nil, fmt.Errorf("%w: berth admin migrate is copying it (it holds %s); wait until it ends", ErrInUse, name)
	default:
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
}
