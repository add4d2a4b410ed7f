package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/berth-registry/berth/internal/meta"
)

func (s *Store) LinkBlob(ctx context.Context, repoID int64, b meta.Blob) error {
	return s.write(ctx, "link blob "+b.Digest, func(tx pgx.Tx) error {
		if err := lockDigest(ctx, tx, b.Digest); err != nil {
			return err
		}
		ok, err := lockRepo(ctx, tx, repoID)
		if err != nil {
			return err
		}
		if !ok {
			return meta.ErrRepositoryUnknown
		}
		return linkBlob(ctx, tx, repoID, b)
	})
}

// linkBlob records the blob and links it, stamped with the database's clock
// (clock_timestamp: the moment of the write, after any wait for a lock, so
// the grace period counts from when the link really was made). The caller
// holds lockDigest: no garbage collector claims the digest meanwhile.
func linkBlob(ctx context.Context, tx pgx.Tx, repoID int64, b meta.Blob) error {
	gone, err := exists(ctx, tx, `SELECT 1 FROM blob_deletions WHERE digest = $1`, b.Digest)
	if err != nil {
		return err
	}
	if gone {
		return meta.ErrBlobDeleting
	}
	// A digest names its bytes, so a blob recorded earlier already has
	// this size.
	if _, err := tx.Exec(ctx, `
		INSERT INTO blobs (digest, size, created_at) VALUES ($1, $2, clock_timestamp())
		ON CONFLICT (digest) DO NOTHING`, b.Digest, b.Size); err != nil {
		return err
	}
	// Linking again restamps the link: the push that did it is in flight,
	// and garbage collection gives it the grace period.
	_, err = tx.Exec(ctx, `
		INSERT INTO repo_blobs (repo_id, digest, linked_at) VALUES ($1, $2, clock_timestamp())
		ON CONFLICT (repo_id, digest) DO UPDATE SET linked_at = excluded.linked_at`, repoID, b.Digest)
	return err
}

const getBlobQuery = `
	SELECT b.size FROM repo_blobs rb JOIN blobs b ON b.digest = rb.digest
	WHERE rb.repo_id = $1 AND rb.digest = $2`

// GetBlob is on the path of every blob pull: one statement, one round trip.
func (s *Store) GetBlob(ctx context.Context, repoID int64, digest string) (meta.Blob, error) {
	b := meta.Blob{Digest: digest}
	err := s.pool.QueryRow(ctx, getBlobQuery, repoID, digest).Scan(&b.Size)
	if errors.Is(err, pgx.ErrNoRows) {
		err = meta.ErrBlobUnknown
	}
	if err != nil {
		return meta.Blob{}, wrap(ctx, "get blob "+digest, err)
	}
	return b, nil
}

// UnlinkBlob is one DELETE. A push that references the link holds it FOR
// KEY SHARE, so the DELETE waits for that push and then removes the link
// as it would after it: a manifest may outlive its blobs' links.
func (s *Store) UnlinkBlob(ctx context.Context, repoID int64, digest string) error {
	return s.exec(ctx, "unlink blob "+digest, meta.ErrBlobUnknown,
		`DELETE FROM repo_blobs WHERE repo_id = $1 AND digest = $2`, repoID, digest)
}

func (s *Store) BlobRepositories(ctx context.Context, reg meta.RegistryKey, digest string, limit int) ([]string, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT r.name FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id
		WHERE rb.digest = $1 AND r.account = $2 AND r.region = $3
		ORDER BY r.name LIMIT $4`, digest, reg.Account, reg.Region, sqlLimit(limit))
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap(ctx, "blob repositories "+digest, err)
	}
	return names, nil
}
