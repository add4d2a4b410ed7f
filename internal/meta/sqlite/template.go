package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/berth-registry/berth/internal/meta"
)

const templateColumns = `account, region, key, created_at, updated_at, settings`

func scanTemplate(row interface{ Scan(...any) error }) (*meta.RepositoryTemplate, error) {
	var (
		t                meta.RepositoryTemplate
		created, updated sql.NullInt64
		settings         sql.NullString
	)
	if err := row.Scan(&t.Registry.Account, &t.Registry.Region, &t.Key, &created, &updated, &settings); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = fromNanos(created), fromNanos(updated)
	if settings.Valid {
		t.Settings = []byte(settings.String)
	}
	return &t, nil
}

// CreateTemplate counts and inserts in one write transaction; the store's
// single writer keeps any other creation out between the two.
func (s *Store) CreateTemplate(ctx context.Context, t *meta.RepositoryTemplate, limit int) error {
	return s.write(ctx, "create repository template "+t.Key, func(tx *wtx) error {
		var exists, n int
		err := tx.QueryRowContext(ctx, `
			SELECT count(*), coalesce(sum(key = ?), 0) FROM repository_templates WHERE account = ? AND region = ?`,
			t.Key, t.Registry.Account, t.Registry.Region).Scan(&n, &exists)
		if err != nil {
			return err
		}
		if exists > 0 {
			return meta.ErrTemplateExists
		}
		if n >= limit {
			return meta.ErrTemplateLimit
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO repository_templates (account, region, key, created_at, updated_at, settings)
			VALUES (?, ?, ?, ?, ?, ?)`,
			t.Registry.Account, t.Registry.Region, t.Key, nanos(t.CreatedAt), nanos(t.UpdatedAt), nullSettings(t.Settings))
		return err
	})
}

func getTemplate(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, reg meta.RegistryKey, key string) (*meta.RepositoryTemplate, error) {
	t, err := scanTemplate(q.QueryRowContext(ctx, `
		SELECT `+templateColumns+` FROM repository_templates WHERE account = ? AND region = ? AND key = ?`,
		reg.Account, reg.Region, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, meta.ErrNotFound
	}
	return t, err
}

func (s *Store) GetTemplate(ctx context.Context, reg meta.RegistryKey, key string) (*meta.RepositoryTemplate, error) {
	t, err := getTemplate(ctx, s.r, reg, key)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get repository template %s: %w", key, err)
	}
	return t, nil
}

func (s *Store) ListTemplates(ctx context.Context, reg meta.RegistryKey, after string, limit int) ([]*meta.RepositoryTemplate, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT `+templateColumns+` FROM repository_templates
		WHERE account = ? AND region = ? AND key > ?
		ORDER BY key LIMIT ?`,
		reg.Account, reg.Region, after, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list repository templates: %w", err)
	}
	defer rows.Close()
	var out []*meta.RepositoryTemplate
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return nil, fmt.Errorf("meta/sqlite: list repository templates: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: list repository templates: %w", err)
	}
	return out, nil
}

func (s *Store) ModifyTemplate(ctx context.Context, reg meta.RegistryKey, key string, fn func(t *meta.RepositoryTemplate) error) (*meta.RepositoryTemplate, error) {
	var out *meta.RepositoryTemplate
	err := s.write(ctx, "modify repository template "+key, func(tx *wtx) error {
		t, err := getTemplate(ctx, tx, reg, key)
		if err != nil {
			return err
		}
		if err := fn(t); err != nil {
			return err
		}
		// Only the configuration changes.
		out, err = scanTemplate(tx.QueryRowContext(ctx, `
			UPDATE repository_templates SET updated_at = ?, settings = ?
			WHERE account = ? AND region = ? AND key = ?
			RETURNING `+templateColumns,
			nanos(t.UpdatedAt), nullSettings(t.Settings), reg.Account, reg.Region, key))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) DeleteTemplate(ctx context.Context, reg meta.RegistryKey, key string) (*meta.RepositoryTemplate, error) {
	var t *meta.RepositoryTemplate
	err := s.write(ctx, "delete repository template "+key, func(tx *wtx) error {
		var err error
		if t, err = getTemplate(ctx, tx, reg, key); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM repository_templates WHERE account = ? AND region = ? AND key = ?`,
			reg.Account, reg.Region, key)
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// CreateRepositoryWithLifecycle is CreateRepository and PutLifecyclePolicy
// in one write transaction.
func (s *Store) CreateRepositoryWithLifecycle(ctx context.Context, r *meta.Repository, lifecyclePolicy string) error {
	var id int64
	err := s.write(ctx, "create repository "+r.Name, func(tx *wtx) error {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO repositories (account, region, name, created_at, tag_mutability, settings)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (account, region, name) DO NOTHING
			RETURNING id`,
			r.Registry.Account, r.Registry.Region, r.Name, nanos(r.CreatedAt), r.TagMutability, nullSettings(r.Settings),
		).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", r.Name, meta.ErrRepositoryExists)
		}
		if err != nil || lifecyclePolicy == "" {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO lifecycle_policies (repo_id, policy_text, updated_at) VALUES (?, ?, ?)`,
			id, lifecyclePolicy, nanos(r.CreatedAt))
		return err
	})
	if err == nil {
		r.ID = id
	}
	return err
}
