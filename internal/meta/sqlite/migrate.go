package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"github.com/berth-registry/berth/internal/meta"
)

// migrations holds the schema changes, applied in the order of the number
// that starts their names. A released file never changes; a new one is added.
//
//go:embed migrations/*.sql
var migrations embed.FS

type migration = meta.Migration

// migrate applies the migrations of fsys that the database has not seen,
// each in its own transaction together with its schema_migrations row, so a
// failed migration leaves no trace and a crash never records half of one.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS) error {
	ms, err := meta.Migrations(fsys)
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	// breaking marks the migrations older versions cannot work beside
	// (meta.CheckApplied); databases made before it was recorded hold none.
	// Two processes opening the file at once may both add it: the second
	// finds it there.
	var hasBreaking bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pragma_table_info('schema_migrations') WHERE name = 'breaking')`).Scan(&hasBreaking); err != nil {
		return fmt.Errorf("schema_migrations: %w", err)
	}
	if !hasBreaking {
		if _, err := db.ExecContext(ctx, `ALTER TABLE schema_migrations ADD COLUMN breaking INTEGER NOT NULL DEFAULT 0`); err != nil &&
			!strings.Contains(err.Error(), "duplicate column name") {
			return fmt.Errorf("schema_migrations: %w", err)
		}
	}
	applied, err := appliedMigrations(ctx, db)
	if err != nil {
		return fmt.Errorf("schema_migrations: %w", err)
	}
	if err := meta.CheckApplied(ms, applied); err != nil {
		return err
	}
	for _, m := range ms {
		if err := apply(ctx, db, fsys, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, fsys fs.FS, m migration) error {
	script, err := fs.ReadFile(fsys, m.Name)
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Checked inside the transaction: another process opening the same
	// file may have applied it meanwhile.
	var done bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, m.Version).Scan(&done); err != nil {
		return err
	}
	if done {
		return nil
	}
	if _, err := tx.ExecContext(ctx, string(script)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, breaking) VALUES (?, ?)`, m.Version, m.Breaking); err != nil {
		return err
	}
	return tx.Commit()
}

func appliedMigrations(ctx context.Context, db *sql.DB) ([]meta.Applied, error) {
	rows, err := db.QueryContext(ctx, `SELECT version, breaking FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var applied []meta.Applied
	for rows.Next() {
		var a meta.Applied
		if err := rows.Scan(&a.Version, &a.Breaking); err != nil {
			return nil, err
		}
		applied = append(applied, a)
	}
	return applied, rows.Err()
}
