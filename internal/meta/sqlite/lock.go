package sqlite

import (
	"errors"
	"os"
)

// ErrInUse refuses opening a database that another Store holds in a way
// that excludes this one: OpenExclusive while any other Store has it open,
// Open while an OpenExclusive has it.
var ErrInUse = errors.New("database in use by another process")

// Every Store holds a lock on a file beside its database, <path>.lock: Open
// shares it, OpenExclusive takes it alone. The lock is an advisory flock,
// which the kernel drops when its holder exits, however it exits, so a
// server that crashed never leaves it behind, and it is on a file of its
// own because SQLite's POSIX locks on the database itself would be dropped
// by our closing any descriptor of that file. The lock file stays when
// nobody holds it: removing it could race a process taking it.
//
// SQLite's own locks cannot tell this: an idle server holds none of them.
// On systems without flock (lock_other.go) there is no lock, and nothing
// keeps a migration from copying a database a server is writing.
type dbLock struct{ f *os.File }

// LockPath is the lock file of the database at path.
func LockPath(path string) string { return path + ".lock" }

func (l *dbLock) Close() error {
	if l == nil || l.f == nil {
		return nil
	}
	return l.f.Close() // and with the descriptor goes the lock
}
