package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/berth-registry/berth/internal/meta"
)

const repoColumns = `id, account, region, name, created_at, tag_mutability, settings`

func scanRepo(row interface{ Scan(...any) error }) (*meta.Repository, error) {
	var (
		r        meta.Repository
		created  sql.NullInt64
		settings sql.NullString
	)
	err := row.Scan(&r.ID, &r.Registry.Account, &r.Registry.Region, &r.Name, &created, &r.TagMutability, &settings)
	if err != nil {
		return nil, err
	}
	r.CreatedAt = fromNanos(created)
	if settings.Valid {
		r.Settings = json.RawMessage(settings.String)
	}
	return &r, nil
}

func nullSettings(s json.RawMessage) sql.NullString {
	return sql.NullString{String: string(s), Valid: len(s) > 0}
}

// CreateRepository sets r.ID.
func (s *Store) CreateRepository(ctx context.Context, r *meta.Repository) error {
	var id int64
	err := s.write(ctx, "create repository", func(tx *wtx) error {
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
		return err
	})
	if err == nil {
		r.ID = id
	}
	return err
}

const getRepositoryQuery = `SELECT ` + repoColumns + ` FROM repositories WHERE account = ? AND region = ? AND name = ?`

func (s *Store) GetRepository(ctx context.Context, reg meta.RegistryKey, name string) (*meta.Repository, error) {
	r, err := scanRepo(s.queryRow(ctx, getRepositoryQuery,
		reg.Account, reg.Region, name))
	if errors.Is(err, sql.ErrNoRows) {
		err = meta.ErrRepositoryUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get repository %s: %w", name, err)
	}
	return r, nil
}

// ListRepositories treats limit <= 0 as no limit.
func (s *Store) ListRepositories(ctx context.Context, reg meta.RegistryKey, after string, limit int) ([]*meta.Repository, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT `+repoColumns+` FROM repositories
		WHERE account = ? AND region = ? AND name > ?
		ORDER BY name LIMIT ?`,
		reg.Account, reg.Region, after, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list repositories: %w", err)
	}
	defer rows.Close()
	var repos []*meta.Repository
	for rows.Next() {
		r, err := scanRepo(rows)
		if err != nil {
			return nil, fmt.Errorf("meta/sqlite: list repositories: %w", err)
		}
		repos = append(repos, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: list repositories: %w", err)
	}
	return repos, nil
}

// UpdateRepository stores r's TagMutability and Settings; a repository's
// name, registry and creation time never change.
func (s *Store) UpdateRepository(ctx context.Context, r *meta.Repository) error {
	return s.write(ctx, "update repository", func(tx *wtx) error {
		return execAffect(ctx, tx, meta.ErrRepositoryUnknown,
			`UPDATE repositories SET tag_mutability = ?, settings = ? WHERE id = ?`,
			r.TagMutability, nullSettings(r.Settings), r.ID)
	})
}

// DeleteRepository relies on ON DELETE CASCADE for manifests, tags, blob
// links, uploads, lifecycle state and scan requests. The blobs themselves
// stay for garbage collection, and image scans, which belong to digests.
func (s *Store) DeleteRepository(ctx context.Context, repoID int64, force bool) error {
	return s.write(ctx, "delete repository", func(tx *wtx) error {
		if !force {
			var used bool
			err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM manifests WHERE repo_id = ?)`, repoID).Scan(&used)
			if err != nil {
				return err
			}
			if used {
				return meta.ErrRepositoryNotEmpty
			}
		}
		return execAffect(ctx, tx, meta.ErrRepositoryUnknown,
			`DELETE FROM repositories WHERE id = ?`, repoID)
	})
}
