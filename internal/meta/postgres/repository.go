package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/berth-registry/berth/internal/meta"
)

const repoColumns = `id, account, region, name, created_at, tag_mutability, settings`

func scanRepo(row scanner) (*meta.Repository, error) {
	var (
		r        meta.Repository
		created  pgtype.Timestamptz
		settings *string
	)
	err := row.Scan(&r.ID, &r.Registry.Account, &r.Registry.Region, &r.Name, &created, &r.TagMutability, &settings)
	if err != nil {
		return nil, err
	}
	r.CreatedAt = fromTS(created)
	if settings != nil {
		r.Settings = json.RawMessage(*settings)
	}
	return &r, nil
}

func nullSettings(s json.RawMessage) any {
	if len(s) == 0 {
		return nil
	}
	return string(s)
}

// CreateRepository sets r.ID. ON CONFLICT makes the check for the name and
// the insert one step: of two nodes creating one name, the second waits for
// the first to commit and then inserts nothing.
func (s *Store) CreateRepository(ctx context.Context, r *meta.Repository) error {
	var id int64
	err := s.retry(ctx, "create repository "+r.Name, func() error {
		err := s.pool.QueryRow(ctx, `
			INSERT INTO repositories (account, region, name, created_at, tag_mutability, settings)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (account, region, name) DO NOTHING
			RETURNING id`,
			r.Registry.Account, r.Registry.Region, r.Name, ts(r.CreatedAt), r.TagMutability, nullSettings(r.Settings),
		).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return meta.ErrRepositoryExists
		}
		return err
	})
	if err == nil {
		r.ID = id
	}
	return err
}

const getRepositoryQuery = `SELECT ` + repoColumns + ` FROM repositories WHERE account = $1 AND region = $2 AND name = $3`

// GetRepository is on the path of every request: one statement, one
// indexed lookup, one round trip.
func (s *Store) GetRepository(ctx context.Context, reg meta.RegistryKey, name string) (*meta.Repository, error) {
	r, err := scanRepo(s.pool.QueryRow(ctx, getRepositoryQuery, reg.Account, reg.Region, name))
	if errors.Is(err, pgx.ErrNoRows) {
		err = meta.ErrRepositoryUnknown
	}
	if err != nil {
		return nil, wrap(ctx, "get repository "+name, err)
	}
	return r, nil
}

func (s *Store) ListRepositories(ctx context.Context, reg meta.RegistryKey, after string, limit int) ([]*meta.Repository, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT `+repoColumns+` FROM repositories
		WHERE account = $1 AND region = $2 AND name > $3
		ORDER BY name LIMIT $4`,
		reg.Account, reg.Region, after, sqlLimit(limit))
	repos, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*meta.Repository, error) { return scanRepo(row) })
	if err != nil {
		return nil, wrap(ctx, "list repositories", err)
	}
	return repos, nil
}

// UpdateRepository stores r's TagMutability and Settings; a repository's
// name, registry and creation time never change.
func (s *Store) UpdateRepository(ctx context.Context, r *meta.Repository) error {
	return s.exec(ctx, "update repository", meta.ErrRepositoryUnknown,
		`UPDATE repositories SET tag_mutability = $1, settings = $2 WHERE id = $3`,
		r.TagMutability, nullSettings(r.Settings), r.ID)
}

// DeleteRepository locks the repository's row FOR UPDATE before it looks
// for manifests: a push holds the row FOR KEY SHARE until it commits, so
// the check sees every push that started before, and every later push finds
// the repository gone. The cascades remove manifests, tags, blob links,
// uploads, lifecycle state and scan requests; the blobs stay for garbage
// collection, and image scans, which belong to digests.
func (s *Store) DeleteRepository(ctx context.Context, repoID int64, force bool) error {
	return s.write(ctx, "delete repository", func(tx pgx.Tx) error {
		found, err := exists(ctx, tx, `SELECT 1 FROM repositories WHERE id = $1 FOR UPDATE`, repoID)
		if err != nil {
			return err
		}
		if !found {
			return meta.ErrRepositoryUnknown
		}
		if !force {
			used, err := exists(ctx, tx, `SELECT 1 FROM manifests WHERE repo_id = $1 LIMIT 1`, repoID)
			if err != nil {
				return err
			}
			if used {
				return meta.ErrRepositoryNotEmpty
			}
		}
		_, err = tx.Exec(ctx, `DELETE FROM repositories WHERE id = $1`, repoID)
		return err
	})
}

// ModifyRepository reads the repository FOR NO KEY UPDATE: concurrent
// read-modify-writes queue on the row, each reading what the one before
// wrote, while pushes (FOR KEY SHARE) go on.
func (s *Store) ModifyRepository(ctx context.Context, repoID int64, fn func(r *meta.Repository) error) error {
	return s.write(ctx, "modify repository", func(tx pgx.Tx) error {
		r, err := scanRepo(tx.QueryRow(ctx, `SELECT `+repoColumns+` FROM repositories WHERE id = $1 FOR NO KEY UPDATE`, repoID))
		if errors.Is(err, pgx.ErrNoRows) {
			return meta.ErrRepositoryUnknown
		}
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE repositories SET tag_mutability = $1, settings = $2 WHERE id = $3`,
			r.TagMutability, nullSettings(r.Settings), repoID)
		return err
	})
}

func (s *Store) GetRegistrySetting(ctx context.Context, reg meta.RegistryKey, name string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx,
		`SELECT value FROM registry_settings WHERE account = $1 AND region = $2 AND name = $3`,
		reg.Account, reg.Region, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		err = meta.ErrNotFound
	}
	if err != nil {
		return "", wrap(ctx, "get registry setting "+name, err)
	}
	return v, nil
}

func (s *Store) PutRegistrySetting(ctx context.Context, reg meta.RegistryKey, name, value string) error {
	return s.exec(ctx, "put registry setting "+name, nil, `
		INSERT INTO registry_settings (account, region, name, value) VALUES ($1, $2, $3, $4)
		ON CONFLICT (account, region, name) DO UPDATE SET value = excluded.value`,
		reg.Account, reg.Region, name, value)
}
