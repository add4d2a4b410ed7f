// Package sqlite is the embedded meta.Store, for single-node deployments. It
// uses the pure-Go SQLite driver, so Berth stays one static binary.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/berth-registry/berth/internal/meta"
)

// Store is a meta.Store kept in one SQLite database file.
//
// It holds two pools on the file. Every write transaction goes through w,
// which has a single connection: SQLite allows one writer at a time anyway,
// and this way our writers queue in database/sql instead of meeting as
// SQLITE_BUSY inside SQLite. WAL lets the reader pool r run alongside.
type Store struct {
	w *sql.DB
	r *sql.DB

	// stmts holds the reader pool's prepared statements of the hot reads,
	// by query text (see queryRow).
	stmts sync.Map
	// wst holds the writer's prepared statements (see wtx).
	wst writeStmts

	// lock is the open lock file beside the database (see lock.go),
	// held until Close.
	lock *dbLock
}

var _ meta.Store = (*Store)(nil)

// pragmas are set on every connection of both pools.
//
// synchronous=NORMAL is enough with WAL: a commit is written to the WAL
// before COMMIT returns, so once the call returns the transaction survives
// the process being killed; what NORMAL gives up is only the fsync per
// commit, so a power loss or kernel crash may roll back the last commits,
// yet still leaves a consistent database. FULL would pay an fsync on every
// push to cover the power loss case as well.
var pragmas = []string{
	"_pragma=busy_timeout(10000)",
	"_pragma=foreign_keys(1)",
	"_pragma=synchronous(NORMAL)",
}

// Open opens the database at path, creating it if needed, and brings its
// schema up to date. Any number of Stores, in any processes, may have one
// database open, unless one of them opened it with OpenExclusive: then
// Open fails with ErrInUse.
func Open(path string) (*Store, error) {
	return open(path, migrations, false)
}

// OpenExclusive opens the database as Open does, but alone: it fails with
// ErrInUse while another Store has the database open, in this process or
// another (a running berth serve, a berth admin command), and keeps every
// other Open out until Close. `berth admin migrate` reads the database
// through it, so that nothing writes while it copies.
func OpenExclusive(path string) (*Store, error) {
	return open(path, migrations, true)
}

func open(path string, fsys fs.FS, exclusive bool) (s *Store, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: open: %w", err)
	}
	lock, err := lockDatabase(abs, exclusive)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: open %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			lock.Close()
		}
	}()
	// BEGIN IMMEDIATE takes the write lock as the transaction starts, so
	// that a transaction reading before it writes cannot fail on the
	// upgrade should another process (a backup, the sqlite3 shell) write.
	writer := slices.Concat(pragmas, []string{"_pragma=journal_mode(WAL)", "_txlock=immediate"})
	w, err := sql.Open("sqlite", dsn(abs, writer...))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	if err := migrate(context.Background(), w, fsys); err != nil {
		w.Close()
		return nil, fmt.Errorf("meta/sqlite: open %s: %w", path, err)
	}

	// Opened once the writer has switched the file to WAL, which is a
	// property of the file, not of the connection. query_only guards
	// against a write slipping onto a reader, around the single writer.
	reader := slices.Concat(pragmas, []string{"_pragma=query_only(1)"})
	r, err := sql.Open("sqlite", dsn(abs, reader...))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("meta/sqlite: open: %w", err)
	}
	n := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.Ping(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("meta/sqlite: open %s: %w", path, err)
	}
	return &Store{w: w, r: r, lock: lock}, nil
}

// uriPath escapes what SQLite's URI parser would otherwise read as the start
// of the query, a fragment or an escape.
var uriPath = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

func dsn(path string, params ...string) string {
	return "file:" + uriPath.Replace(filepath.ToSlash(path)) + "?" + strings.Join(params, "&")
}

// Ping reads from the database file.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("meta/sqlite: ping: %w", err)
	}
	return nil
}

func (s *Store) Close() error {
	s.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	s.wst.close()
	err := errors.Join(s.r.Close(), s.w.Close())
	// Only once the database is closed may an exclusive opener have it.
	return errors.Join(err, s.lock.Close())
}

// queryRow runs a one-row read on the reader pool through a statement
// prepared once. The pure-Go driver otherwise parses and plans the SQL on
// every call, which the profile of a manifest GET load showed to be a third
// of the server's CPU time. database/sql keeps the statement prepared on
// each pooled connection. Only fixed query texts go through here, so the
// cache stays as small as the set of hot queries.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt).QueryRowContext(ctx, args...)
	}
	st, err := s.r.PrepareContext(ctx, query)
	if err != nil {
		return s.r.QueryRowContext(ctx, query, args...)
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		st = prev.(*sql.Stmt)
	}
	return st.QueryRowContext(ctx, args...)
}

// write runs fn in a write transaction. Reads that are a single statement
// skip this: SQLite runs a lone statement as its own transaction.
func (s *Store) write(ctx context.Context, op string, fn func(tx *wtx) error) error {
	err := s.writeTx(ctx, fn)
	s.preparePending(ctx)
	if err != nil {
		return fmt.Errorf("meta/sqlite: %s: %w", op, err)
	}
	return nil
}

func (s *Store) writeTx(ctx context.Context, fn func(tx *wtx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(&wtx{Tx: tx, s: s}); err != nil {
		return err
	}
	return tx.Commit()
}

// execAffect runs an UPDATE or DELETE and returns notFound when it matched
// no row.
func execAffect(ctx context.Context, tx *wtx, notFound error, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound
	}
	return nil
}

func repoExists(ctx context.Context, tx *wtx, repoID int64) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM repositories WHERE id = ?`, repoID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return meta.ErrRepositoryUnknown
	}
	return err
}

// sqlLimit maps "no limit" (limit <= 0) to SQLite's LIMIT -1.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

// nanos stores t as unix nanoseconds, and the zero time as NULL: the zero
// time has no unix nanosecond value.
func nanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// nullBytes stores empty byte slices as NULL, so that nil and empty read
// back the same.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
