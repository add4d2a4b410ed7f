package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/berth-registry/berth/internal/meta"
)

const templateColumns = `account, region, key, created_at, updated_at, settings`

func scanTemplate(row scanner) (*meta.RepositoryTemplate, error) {
	var (
		t                meta.RepositoryTemplate
		created, updated pgtype.Timestamptz
		settings         *string
	)
	if err := row.Scan(&t.Registry.Account, &t.Registry.Region, &t.Key, &created, &updated, &settings); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = fromTS(created), fromTS(updated)
	if settings != nil {
		t.Settings = []byte(*settings)
	}
	return &t, nil
}

// CreateTemplate takes the registry's advisory lock before it counts: in
// READ COMMITTED two creations could each count below the limit and both
// insert; under the lock the second counts after the first has committed.
func (s *Store) CreateTemplate(ctx context.Context, t *meta.RepositoryTemplate, limit int) error {
	return s.write(ctx, "create repository template "+t.Key, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`,
			lockRCTClass, hash32(t.Registry.Account+"/"+t.Registry.Region)); err != nil {
			return err
		}
		var n, exists int
		err := tx.QueryRow(ctx, `
			SELECT count(*), count(*) FILTER (WHERE key = $3) FROM repository_templates WHERE account = $1 AND region = $2`,
			t.Registry.Account, t.Registry.Region, t.Key).Scan(&n, &exists)
		if err != nil {
			return err
		}
		if exists > 0 {
			return meta.ErrTemplateExists
		}
		if n >= limit {
			return meta.ErrTemplateLimit
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO repository_templates (account, region, key, created_at, updated_at, settings)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			t.Registry.Account, t.Registry.Region, t.Key, ts(t.CreatedAt), ts(t.UpdatedAt), nullSettings(t.Settings))
		return err
	})
}

const getTemplateQuery = `SELECT ` + templateColumns + ` FROM repository_templates WHERE account = $1 AND region = $2 AND key = $3`

func (s *Store) GetTemplate(ctx context.Context, reg meta.RegistryKey, key string) (*meta.RepositoryTemplate, error) {
	t, err := scanTemplate(s.pool.QueryRow(ctx, getTemplateQuery, reg.Account, reg.Region, key))
	if errors.Is(err, pgx.ErrNoRows) {
		err = meta.ErrNotFound
	}
	if err != nil {
		return nil, wrap(ctx, "get repository template "+key, err)
	}
	return t, nil
}

func (s *Store) ListTemplates(ctx context.Context, reg meta.RegistryKey, after string, limit int) ([]*meta.RepositoryTemplate, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT `+templateColumns+` FROM repository_templates
		WHERE account = $1 AND region = $2 AND key > $3
		ORDER BY key LIMIT $4`,
		reg.Account, reg.Region, after, sqlLimit(limit))
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*meta.RepositoryTemplate, error) { return scanTemplate(row) })
	if err != nil {
		return nil, wrap(ctx, "list repository templates", err)
	}
	return out, nil
}

// ModifyTemplate reads the template FOR UPDATE: concurrent updates queue on
// the row, each reading what the one before wrote.
func (s *Store) ModifyTemplate(ctx context.Context, reg meta.RegistryKey, key string, fn func(t *meta.RepositoryTemplate) error) (*meta.RepositoryTemplate, error) {
	var out *meta.RepositoryTemplate
	err := s.write(ctx, "modify repository template "+key, func(tx pgx.Tx) error {
		t, err := scanTemplate(tx.QueryRow(ctx, getTemplateQuery+` FOR UPDATE`, reg.Account, reg.Region, key))
		if errors.Is(err, pgx.ErrNoRows) {
			return meta.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := fn(t); err != nil {
			return err
		}
		// Only the configuration changes.
		out, err = scanTemplate(tx.QueryRow(ctx, `
			UPDATE repository_templates SET updated_at = $1, settings = $2
			WHERE account = $3 AND region = $4 AND key = $5
			RETURNING `+templateColumns,
			ts(t.UpdatedAt), nullSettings(t.Settings), reg.Account, reg.Region, key))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteTemplate is one statement: RETURNING gives the row as it was.
func (s *Store) DeleteTemplate(ctx context.Context, reg meta.RegistryKey, key string) (*meta.RepositoryTemplate, error) {
	var t *meta.RepositoryTemplate
	err := s.retry(ctx, "delete repository template "+key, func() error {
		var err error
		t, err = scanTemplate(s.pool.QueryRow(ctx, `
			DELETE FROM repository_templates WHERE account = $1 AND region = $2 AND key = $3
			RETURNING `+templateColumns, reg.Account, reg.Region, key))
		if errors.Is(err, pgx.ErrNoRows) {
			return meta.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// CreateRepositoryWithLifecycle inserts the repository and its policy in
// one transaction; ON CONFLICT makes the name's check and insert one step,
// as in CreateRepository.
func (s *Store) CreateRepositoryWithLifecycle(ctx context.Context, r *meta.Repository, lifecyclePolicy string) error {
	var id int64
	err := s.write(ctx, "create repository "+r.Name, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO repositories (account, region, name, created_at, tag_mutability, settings)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (account, region, name) DO NOTHING
			RETURNING id`,
			r.Registry.Account, r.Registry.Region, r.Name, ts(r.CreatedAt), r.TagMutability, nullSettings(r.Settings),
		).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return meta.ErrRepositoryExists
		}
		if err != nil || lifecyclePolicy == "" {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO lifecycle_policies (repo_id, policy_text, updated_at) VALUES ($1, $2, $3)`,
			id, lifecyclePolicy, ts(r.CreatedAt))
		return err
	})
	if err == nil {
		r.ID = id
	}
	return err
}
