package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"slices"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations holds the schema changes, applied in the order of the number
// that starts their names. A released file never changes; a new one is added.
//
//go:embed migrations/*.sql
var migrations embed.FS

type migrationFS = fs.FS

// migrationLock is the advisory lock every migrating transaction takes
// first: nodes started at once apply each migration once, one after the
// other, and a node that waited finds the work done.
const migrationLock int64 = 0x6265727468 // "berth"

type migration = meta.Migration

// migrate applies the migrations of fsys that the database has not seen,
// each in its own transaction together with its schema_migrations row, so a
// failed migration leaves no trace and a crash never records half of one
// (PostgreSQL's DDL is transactional).
func migrate(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS) error {
	ms, err := meta.Migrations(fsys)
	if err != nil {
		return err
	}
	var applied []meta.Applied
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// Under the lock: two CREATE TABLE IF NOT EXISTS at once can both
		// find no table, and one then fails.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		// breaking marks the migrations older versions cannot work
		// beside (meta.CheckApplied); databases made before it was
		// recorded hold none.
		if _, err := tx.Exec(ctx, `ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS breaking boolean NOT NULL DEFAULT false`); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT version, breaking FROM schema_migrations`)
		applied, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (meta.Applied, error) {
			var a meta.Applied
			err := row.Scan(&a.Version, &a.Breaking)
			return a, err
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("schema_migrations: %w", err)
	}
	if err := meta.CheckApplied(ms, applied); err != nil {
		return err
	}
	for _, m := range ms {
		if slices.ContainsFunc(applied, func(a meta.Applied) bool { return a.Version == m.Version }) {
			continue
		}
		if err := apply(ctx, pool, fsys, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
}

func apply(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS, m migration) error {
	script, err := fs.ReadFile(fsys, m.Name)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return err
		}
		// Checked again under the lock: another node may have applied it
		// while this one waited.
		done, err := exists(ctx, tx, `SELECT 1 FROM schema_migrations WHERE version = $1`, m.Version)
		if err != nil || done {
			return err
		}
		// Without arguments pgx sends the script as one simple query, so
		// it may hold many statements.
		if _, err := tx.Exec(ctx, string(script)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (version, breaking) VALUES ($1, $2)`, m.Version, m.Breaking)
		return err
	})
}
