package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

func (s *Store) CreateUpload(ctx context.Context, u *meta.Upload) error {
	return s.write(ctx, "create upload", func(tx *wtx) error {
		if err := repoExists(ctx, tx, u.RepoID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO uploads (id, repo_id, "offset", hash_state, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`,
			u.ID, u.RepoID, u.Offset, nullBytes(u.HashState), nanos(u.CreatedAt), nanos(u.UpdatedAt))
		return err
	})
}

func (s *Store) GetUpload(ctx context.Context, repoID int64, id string) (*meta.Upload, error) {
	u := meta.Upload{ID: id, RepoID: repoID}
	var created, updated sql.NullInt64
	err := s.queryRow(ctx, `
		SELECT "offset", hash_state, created_at, updated_at FROM uploads
		WHERE id = ? AND repo_id = ?`, id, repoID,
	).Scan(&u.Offset, &u.HashState, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		err = meta.ErrUploadUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get upload %s: %w", id, err)
	}
	u.CreatedAt, u.UpdatedAt = fromNanos(created), fromNanos(updated)
	return &u, nil
}

// AdvanceUpload stores u's Offset, HashState and UpdatedAt.
func (s *Store) AdvanceUpload(ctx context.Context, id string, from int64, u *meta.Upload) error {
	return s.write(ctx, "advance upload", func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE uploads SET "offset" = ?, hash_state = ?, updated_at = ?
			WHERE id = ? AND "offset" = ?`,
			u.Offset, nullBytes(u.HashState), nanos(u.UpdatedAt), id, from)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		// Nothing matched: tell a stale offset from a missing session.
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM uploads WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return meta.ErrUploadUnknown
		}
		if err != nil {
			return err
		}
		return meta.ErrOffsetMismatch
	})
}

func (s *Store) CompleteUpload(ctx context.Context, id string, repoID int64, b meta.Blob) error {
	return s.write(ctx, "complete upload", func(tx *wtx) error {
		err := execAffect(ctx, tx, meta.ErrUploadUnknown,
			`DELETE FROM uploads WHERE id = ? AND repo_id = ?`, id, repoID)
		if err != nil {
			return err
		}
		return linkBlob(ctx, tx, repoID, b)
	})
}

func (s *Store) DeleteUpload(ctx context.Context, id string) error {
	return s.write(ctx, "delete upload", func(tx *wtx) error {
		return execAffect(ctx, tx, meta.ErrUploadUnknown,
			`DELETE FROM uploads WHERE id = ?`, id)
	})
}

func (s *Store) UploadIDs(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM uploads ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: upload ids: %w", err)
	}
	ids, err := scanStrings(rows)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: upload ids: %w", err)
	}
	return ids, nil
}

func scanStrings(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (s *Store) StaleUploads(ctx context.Context, before time.Time) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM uploads WHERE updated_at < ? ORDER BY id`, nanos(before))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: stale uploads: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("meta/sqlite: stale uploads: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: stale uploads: %w", err)
	}
	return ids, nil
}
