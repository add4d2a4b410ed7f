// Package postgres is the meta.Store for deployments of several Berth nodes
// sharing one PostgreSQL database, over pgx's connection pool.
//
// Every method is one transaction (a read that is one statement runs alone)
// in READ COMMITTED, PostgreSQL's default. What SQLite gets from its single
// writer — nothing runs between a method's check and its write — this
// store gets per method family from the cheapest tool that gives it:
//
//   - one statement that checks and writes at once: INSERT … ON CONFLICT
//     (a repository's name, a tag, a lease, a job's key, an IAM name), or
//     an UPDATE whose WHERE is the check (an upload's offset, a job's
//     holder), which PostgreSQL evaluates again on the newest row version
//     when it had to wait for a concurrent writer;
//   - row locks, where a method checks one row and writes others: a write
//     that needs a row to keep existing (a push needs its repository, its
//     blob links and child manifests; an attachment its user and policy)
//     locks it FOR KEY SHARE, and a method that deletes the row (a
//     repository, a manifest, a link, an IAM user) first locks it
//     FOR UPDATE and only then checks, in a later statement, what depends
//     on it: each statement of a READ COMMITTED transaction sees what
//     committed before it started, so the check sees every writer it waited
//     for;
//   - a transaction-scoped advisory lock where the thing guarded has no row
//     to lock: a blob digest between garbage collection and the uploads and
//     links that bring it back (lockDigest), an account root's quota of
//     access keys;
//   - FOR UPDATE SKIP LOCKED to claim jobs, so that claimers pass each other
//     instead of queueing.
//
// No method runs SERIALIZABLE; a transaction that still fails as a deadlock
// or a serialization failure is run again (see retry).
//
// Times are the callers' where a method takes one (leases, jobs, uploads);
// where it takes none (a link's stamp, a change's jobs) they are the
// database's clock, which every node shares.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/berth-registry/berth/internal/meta"
)

// Store is a meta.Store in a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
}

var _ meta.Store = (*Store)(nil)

// defaultConnectTimeout bounds a connection attempt whose URL sets no
// connect_timeout: a database that does not answer is unavailable, not a
// request that hangs.
const defaultConnectTimeout = 10 * time.Second

// Open connects to the database at url (postgres://user:password@host:port/
// database?…, or any form pgx accepts) and brings its schema up to date.
// A database that cannot be reached fails with an error wrapping
// meta.ErrUnavailable.
func Open(ctx context.Context, url string) (*Store, error) {
	return open(ctx, url, migrations)
}

func open(ctx context.Context, url string, fsys migrationFS) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("meta/postgres: open: %w", err)
	}
	cc := cfg.ConnConfig
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = defaultConnectTimeout
	}
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "berth"
	}
	where := fmt.Sprintf("open database %s on %s:%d", cc.Database, cc.Host, cc.Port)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, wrap(ctx, where, err)
	}
	if err := migrate(ctx, pool, fsys); err != nil {
		pool.Close()
		return nil, wrap(ctx, where, err)
	}
	return &Store{pool: pool}, nil
}

// Ping asks the database a question, on one of the pool's connections.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return wrap(ctx, "ping", err)
	}
	return nil
}

func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// maxAttempts bounds how often a transaction that PostgreSQL aborted as a
// deadlock or a serialization failure is run again.
const maxAttempts = 5

// write runs fn in a transaction and commits it (see retry). Errors are
// wrapped with op.
func (s *Store) write(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	return s.retry(ctx, op, func() error { return pgx.BeginFunc(ctx, s.pool, fn) })
}

// exec runs a write that is one statement as its own transaction
// (PostgreSQL commits a lone statement by itself: one round trip, where
// write takes three), and returns notFound when it matched no row.
func (s *Store) exec(ctx context.Context, op string, notFound error, query string, args ...any) error {
	return s.retry(ctx, op, func() error { return execAffect(ctx, s.pool, notFound, query, args...) })
}

// retry runs a transaction, do, again from the start when PostgreSQL
// aborted it because it deadlocked with another or failed to serialize, or
// when its connection was found broken before anything was sent. Errors
// are wrapped with op.
func (s *Store) retry(ctx context.Context, op string, do func() error) error {
	for attempt := 1; ; attempt++ {
		err := do()
		if err == nil {
			return nil
		}
		if attempt == maxAttempts || !retryable(ctx, err) {
			return wrap(ctx, op, err)
		}
		// Jittered, so that the two sides of a deadlock do not meet again.
		wait := time.Duration(attempt) * time.Duration(1+rand.IntN(10)) * time.Millisecond
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return wrap(ctx, op, err)
		}
	}
}

// read runs fn in a read-only REPEATABLE READ transaction: one snapshot for
// reads of several statements that must agree (an owner exists, and these
// are its policies).
func (s *Store) read(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
	return wrap(ctx, op, err)
}

func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01" // serialization_failure, deadlock_detected
	}
	return pgconn.SafeToRetry(err)
}

// wrap prefixes err with the store and op, and makes it wrap
// meta.ErrUnavailable when the database could not be reached.
func wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if unreachable(ctx, err) {
		return fmt.Errorf("meta/postgres: %s: %w: %w", op, meta.ErrUnavailable, err)
	}
	return fmt.Errorf("meta/postgres: %s: %w", op, err)
}

// unreachable tells a database that could not be reached, or went away,
// from every other failure: the caller's context ending, a refused login
// or a database that does not exist (wrong configuration, not an outage),
// an error the server reported about the request.
func unreachable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"): // connection_exception
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03": // shutdowns, cannot_connect_now
			return true
		case pgErr.Code == "53300": // too_many_connections
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// Lock classes of the two-key advisory locks; one-key advisory locks are
// a key space of their own (the migrations').
const (
	lockDigestClass int32 = 0x62657201 // a blob digest
	lockKeysClass   int32 = 0x62657202 // an account's root access keys
	lockRCTClass    int32 = 0x62657203 // a registry's repository creation templates
)

// lockDigest serializes, across every node, the transactions that decide
// a digest's fate: linking it (LinkBlob, CompleteUpload), reserving it for
// an upload (BeginBlobCommit) and claiming it for deletion
// (ClaimBlobDeletion). What they check has no row to lock — the absence of
// links, of a deletion, of a reservation — so they take a lock on the
// digest itself, held until commit; each then checks in statements that
// see whatever the previous holder committed.
func lockDigest(ctx context.Context, tx pgx.Tx, digest string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockDigestClass, hash32(digest))
	return err
}

func hash32(s string) int32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return int32(h.Sum32())
}

// lockRepo reports whether the repository exists and keeps it existing
// until the transaction ends: FOR KEY SHARE conflicts with DeleteRepository's
// FOR UPDATE, not with other writers (pushes, settings changes). Writers
// under a repository take it first, so that a DeleteRepository waits for
// them, rather than deadlocking with them on the rows it cascades to.
func lockRepo(ctx context.Context, tx pgx.Tx, repoID int64) (bool, error) {
	return exists(ctx, tx, `SELECT 1 FROM repositories WHERE id = $1 FOR KEY SHARE`, repoID)
}

// querier runs a query: the pool, or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func exists(ctx context.Context, q querier, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRow(ctx, query, args...).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// execer runs a statement: the pool, or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// execAffect runs an UPDATE or DELETE and returns notFound when it matched
// no row; a nil notFound asks for no check.
func execAffect(ctx context.Context, db execer, notFound error, query string, args ...any) error {
	tag, err := db.Exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 && notFound != nil {
		return notFound
	}
	return nil
}

// scanner is a row to scan: pgx.Row or pgx.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// ts stores t, and the zero time as NULL.
func ts(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

// fromTS reads a stored time back in UTC; NULL is the zero time.
func fromTS(v pgtype.Timestamptz) time.Time {
	if !v.Valid || v.InfinityModifier != pgtype.Finite {
		return time.Time{}
	}
	return v.Time.UTC()
}

// sqlLimit maps "no limit" (limit <= 0) to LIMIT NULL, which is none.
func sqlLimit(limit int) any {
	if limit <= 0 {
		return nil
	}
	return limit
}

// nullBytes stores empty byte slices as NULL, so that nil and empty read
// back the same.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// nullString stores "" as NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Now is the database server's clock.
func (s *Store) Now(ctx context.Context) (time.Time, error) {
	var t time.Time
	if err := s.pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&t); err != nil {
		return time.Time{}, wrap(ctx, "read the clock", err)
	}
	return t, nil
}
