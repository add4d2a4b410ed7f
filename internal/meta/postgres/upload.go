package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/berth-registry/berth/internal/meta"
)

func (s *Store) CreateUpload(ctx context.Context, u *meta.Upload) error {
	return s.write(ctx, "create upload "+u.ID, func(tx pgx.Tx) error {
		ok, err := lockRepo(ctx, tx, u.RepoID)
		if err != nil {
			return err
		}
		if !ok {
			return meta.ErrRepositoryUnknown
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO uploads (id, repo_id, "offset", hash_state, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			u.ID, u.RepoID, u.Offset, nullBytes(u.HashState), ts(u.CreatedAt), ts(u.UpdatedAt))
		return err
	})
}

func (s *Store) GetUpload(ctx context.Context, repoID int64, id string) (*meta.Upload, error) {
	u := meta.Upload{ID: id, RepoID: repoID}
	var created, updated pgtype.Timestamptz
	err := s.pool.QueryRow(ctx, `
		SELECT "offset", hash_state, created_at, updated_at FROM uploads
		WHERE id = $1 AND repo_id = $2`, id, repoID,
	).Scan(&u.Offset, &u.HashState, &created, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		err = meta.ErrUploadUnknown
	}
	if err != nil {
		return nil, wrap(ctx, "get upload "+id, err)
	}
	u.CreatedAt, u.UpdatedAt = fromTS(created), fromTS(updated)
	return &u, nil
}

// AdvanceUpload stores u's Offset, HashState and UpdatedAt, in one
// statement: the UPDATE's WHERE is the check. Of two advances from one
// offset, the second waits for the first's row lock, and PostgreSQL then
// evaluates its WHERE again on the row the first wrote, which no longer
// matches. The statement's second column tells a stale offset from a
// missing session.
func (s *Store) AdvanceUpload(ctx context.Context, id string, from int64, u *meta.Upload) error {
	return s.retry(ctx, "advance upload "+id, func() error {
		var advanced, found bool
		err := s.pool.QueryRow(ctx, `
			WITH advanced AS (
				UPDATE uploads SET "offset" = $1, hash_state = $2, updated_at = $3
				WHERE id = $4 AND "offset" = $5
				RETURNING 1)
			SELECT EXISTS (SELECT 1 FROM advanced), EXISTS (SELECT 1 FROM uploads WHERE id = $4)`,
			u.Offset, nullBytes(u.HashState), ts(u.UpdatedAt), id, from).Scan(&advanced, &found)
		switch {
		case err != nil:
			return err
		case advanced:
			return nil
		case found:
			return meta.ErrOffsetMismatch
		}
		return meta.ErrUploadUnknown
	})
}

// CompleteUpload takes the digest's lock first (see lockDigest), then the
// repository's, in the order LinkBlob takes them.
func (s *Store) CompleteUpload(ctx context.Context, id string, repoID int64, b meta.Blob) error {
	return s.write(ctx, "complete upload "+id, func(tx pgx.Tx) error {
		if err := lockDigest(ctx, tx, b.Digest); err != nil {
			return err
		}
		ok, err := lockRepo(ctx, tx, repoID)
		if err != nil {
			return err
		}
		if !ok {
			return meta.ErrUploadUnknown
		}
		err = execAffect(ctx, tx, meta.ErrUploadUnknown,
			`DELETE FROM uploads WHERE id = $1 AND repo_id = $2`, id, repoID)
		if err != nil {
			return err
		}
		return linkBlob(ctx, tx, repoID, b)
	})
}

func (s *Store) DeleteUpload(ctx context.Context, id string) error {
	return s.exec(ctx, "delete upload "+id, meta.ErrUploadUnknown, `DELETE FROM uploads WHERE id = $1`, id)
}

func (s *Store) UploadIDs(ctx context.Context) ([]string, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id FROM uploads ORDER BY id`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap(ctx, "upload ids", err)
	}
	return ids, nil
}

func (s *Store) StaleUploads(ctx context.Context, before time.Time) ([]string, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id FROM uploads WHERE updated_at < $1 ORDER BY id`, ts(before))
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap(ctx, "stale uploads", err)
	}
	return ids, nil
}
