package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/berth-registry/berth/internal/meta"
)

// ModifyRepository reads and writes inside one write transaction; the store
// has a single writer connection, so nothing interleaves.
func (s *Store) ModifyRepository(ctx context.Context, repoID int64, fn func(r *meta.Repository) error) error {
	return s.write(ctx, "modify repository", func(tx *wtx) error {
		r, err := scanRepo(tx.QueryRowContext(ctx, `SELECT `+repoColumns+` FROM repositories WHERE id = ?`, repoID))
		if errors.Is(err, sql.ErrNoRows) {
			return meta.ErrRepositoryUnknown
		}
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE repositories SET tag_mutability = ?, settings = ? WHERE id = ?`,
			r.TagMutability, nullSettings(r.Settings), repoID)
		return err
	})
}

func (s *Store) GetRegistrySetting(ctx context.Context, reg meta.RegistryKey, name string) (string, error) {
	var v string
	err := s.queryRow(ctx,
		`SELECT value FROM registry_settings WHERE account = ? AND region = ? AND name = ?`,
		reg.Account, reg.Region, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		err = meta.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("meta/sqlite: get registry setting %s: %w", name, err)
	}
	return v, nil
}

func (s *Store) PutRegistrySetting(ctx context.Context, reg meta.RegistryKey, name, value string) error {
	return s.write(ctx, "put registry setting", func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO registry_settings (account, region, name, value) VALUES (?, ?, ?, ?)
			ON CONFLICT (account, region, name) DO UPDATE SET value = excluded.value`,
			reg.Account, reg.Region, name, value)
		return err
	})
}
