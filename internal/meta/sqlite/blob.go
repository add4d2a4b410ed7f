package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/berth-registry/berth/internal/meta"
)

func (s *Store) LinkBlob(ctx context.Context, repoID int64, b meta.Blob) error {
	return s.write(ctx, "link blob", func(tx *wtx) error {
		if err := repoExists(ctx, tx, repoID); err != nil {
			return err
		}
		return linkBlob(ctx, tx, repoID, b)
	})
}

func linkBlob(ctx context.Context, tx *wtx, repoID int64, b meta.Blob) error {
	if err := checkNotDeleted(ctx, tx, b.Digest); err != nil {
		return err
	}
	// A digest names its bytes, so a blob recorded earlier already has
	// this size.
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, `+nowNanos+`) ON CONFLICT DO NOTHING`, b.Digest, b.Size); err != nil {
		return err
	}
	// Linking again restamps the link: the push that did it is in flight,
	// and garbage collection gives it the grace period (see gc.go).
	_, err := tx.ExecContext(ctx, `
		INSERT INTO repo_blobs (repo_id, digest, linked_at) VALUES (?, ?, `+nowNanos+`)
		ON CONFLICT (repo_id, digest) DO UPDATE SET linked_at = excluded.linked_at`, repoID, b.Digest)
	return err
}

const getBlobQuery = `
	SELECT b.size FROM repo_blobs rb JOIN blobs b ON b.digest = rb.digest
	WHERE rb.repo_id = ? AND rb.digest = ?`

func (s *Store) GetBlob(ctx context.Context, repoID int64, digest string) (meta.Blob, error) {
	b := meta.Blob{Digest: digest}
	err := s.queryRow(ctx, getBlobQuery, repoID, digest).Scan(&b.Size)
	if errors.Is(err, sql.ErrNoRows) {
		err = meta.ErrBlobUnknown
	}
	if err != nil {
		return meta.Blob{}, fmt.Errorf("meta/sqlite: get blob %s: %w", digest, err)
	}
	return b, nil
}

func (s *Store) UnlinkBlob(ctx context.Context, repoID int64, digest string) error {
	return s.write(ctx, "unlink blob", func(tx *wtx) error {
		return execAffect(ctx, tx, meta.ErrBlobUnknown,
			`DELETE FROM repo_blobs WHERE repo_id = ? AND digest = ?`, repoID, digest)
	})
}

func (s *Store) BlobRepositories(ctx context.Context, reg meta.RegistryKey, digest string, limit int) ([]string, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT r.name FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id
		WHERE rb.digest = ? AND r.account = ? AND r.region = ?
		ORDER BY r.name LIMIT ?`, digest, reg.Account, reg.Region, limit)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: blob repositories %s: %w", digest, err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("meta/sqlite: blob repositories %s: %w", digest, err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: blob repositories %s: %w", digest, err)
	}
	return names, nil
}
