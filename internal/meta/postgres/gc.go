package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/berth-registry/berth/internal/meta"
)

// Blob deletion states (blob_deletions.state).
const (
	deletionRunning = "deleting"
	deletionDone    = "deleted"
)

// A link is stale when its stamp is older than $before and no manifest of
// its repository references the blob.
const staleLinkCond = `rb.linked_at < $1
	AND NOT EXISTS (SELECT 1 FROM manifest_refs mr
		WHERE mr.repo_id = rb.repo_id AND mr.ref_digest = rb.digest AND mr.kind = 'blob')`

func (s *Store) StaleBlobLinks(ctx context.Context, before time.Time, afterRepo int64, afterDigest string, limit int) ([]meta.BlobLink, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT rb.repo_id, r.account, r.region, r.name, rb.digest, b.size, rb.linked_at
		FROM repo_blobs rb
			JOIN repositories r ON r.id = rb.repo_id
			JOIN blobs b ON b.digest = rb.digest
		WHERE (rb.repo_id, rb.digest) > ($2, $3) AND `+staleLinkCond+`
		ORDER BY rb.repo_id, rb.digest LIMIT $4`,
		before, afterRepo, afterDigest, sqlLimit(limit))
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (meta.BlobLink, error) {
		var (
			l      meta.BlobLink
			linked pgtype.Timestamptz
		)
		err := row.Scan(&l.RepoID, &l.Registry.Account, &l.Registry.Region, &l.Repository, &l.Digest, &l.Size, &linked)
		l.LinkedAt = fromTS(linked)
		return l, err
	})
	if err != nil {
		return nil, wrap(ctx, "stale blob links", err)
	}
	return out, nil
}

// RemoveStaleBlobLink locks the link FOR UPDATE before it checks that it is
// stale: a push referencing the blob holds the link FOR KEY SHARE until it
// commits, so the check, a later statement, sees the push's refs; a push
// that comes after the lock finds the link gone.
func (s *Store) RemoveStaleBlobLink(ctx context.Context, repoID int64, digest string, before time.Time) (bool, error) {
	var removed bool
	err := s.write(ctx, "remove stale blob link "+digest, func(tx pgx.Tx) error {
		removed = false
		held, err := exists(ctx, tx, `SELECT 1 FROM repo_blobs WHERE repo_id = $1 AND digest = $2 FOR UPDATE`, repoID, digest)
		if err != nil || !held {
			return err
		}
		tag, err := tx.Exec(ctx, `
			DELETE FROM repo_blobs AS rb WHERE rb.repo_id = $2 AND rb.digest = $3 AND `+staleLinkCond,
			before, repoID, digest)
		removed = tag.RowsAffected() > 0
		return err
	})
	return removed && err == nil, err
}

func (s *Store) UnreferencedBlobs(ctx context.Context, before time.Time, after string, limit int) ([]meta.Blob, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT b.digest, b.size FROM blobs b
		WHERE b.digest > $1 AND b.created_at < $2
			AND NOT EXISTS (SELECT 1 FROM repo_blobs rb WHERE rb.digest = b.digest)
			AND NOT EXISTS (SELECT 1 FROM manifest_refs mr WHERE mr.ref_digest = b.digest AND mr.kind = 'blob')
		ORDER BY b.digest LIMIT $3`, after, before, sqlLimit(limit))
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[meta.Blob])
	if err != nil {
		return nil, wrap(ctx, "unreferenced blobs", err)
	}
	return out, nil
}

func (s *Store) RecordedBlobs(ctx context.Context, digests []string) (map[string]bool, error) {
	out := make(map[string]bool, len(digests))
	if len(digests) == 0 {
		return out, nil
	}
	rows, _ := s.pool.Query(ctx, `SELECT digest FROM blobs WHERE digest = ANY ($1)`, digests)
	var d string
	_, err := pgx.ForEachRow(rows, []any{&d}, func() error {
		out[d] = true
		return nil
	})
	if err != nil {
		return nil, wrap(ctx, "recorded blobs", err)
	}
	return out, nil
}

// ClaimBlobDeletion holds the digest's lock (see lockDigest) while it
// checks and claims: no link, upload reservation or other claim of the
// digest can commit between its check and its claim.
func (s *Store) ClaimBlobDeletion(ctx context.Context, digest string, at time.Time) (bool, error) {
	var claimed bool
	err := s.write(ctx, "claim blob deletion "+digest, func(tx pgx.Tx) error {
		claimed = false
		if err := lockDigest(ctx, tx, digest); err != nil {
			return err
		}
		var free bool
		err := tx.QueryRow(ctx, `
			SELECT NOT EXISTS (SELECT 1 FROM repo_blobs WHERE digest = $1)
				AND NOT EXISTS (SELECT 1 FROM manifest_refs WHERE ref_digest = $1 AND kind = 'blob')
				AND NOT EXISTS (SELECT 1 FROM uploads WHERE commit_digest = $1)
				AND NOT EXISTS (SELECT 1 FROM blob_deletions WHERE digest = $1 AND state = $2)`,
			digest, deletionRunning).Scan(&free)
		if err != nil || !free {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM blobs WHERE digest = $1`, digest); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO blob_deletions (digest, state, at) VALUES ($1, $2, $3)
			ON CONFLICT (digest) DO UPDATE SET state = excluded.state, at = excluded.at`,
			digest, deletionRunning, at)
		claimed = err == nil
		return err
	})
	return claimed && err == nil, err
}

func (s *Store) FinishBlobDeletion(ctx context.Context, digest string) error {
	return s.exec(ctx, "finish blob deletion "+digest, nil,
		`UPDATE blob_deletions SET state = $1 WHERE digest = $2 AND state = $3`,
		deletionDone, digest, deletionRunning)
}

func (s *Store) PendingBlobDeletions(ctx context.Context, before time.Time) ([]string, error) {
	rows, _ := s.pool.Query(ctx, `SELECT digest FROM blob_deletions WHERE state = $1 AND at < $2 ORDER BY digest`,
		deletionRunning, before)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap(ctx, "pending blob deletions", err)
	}
	return out, nil
}

func (s *Store) PruneBlobDeletions(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.retry(ctx, "prune blob deletions", func() error {
		tag, err := s.pool.Exec(ctx, `DELETE FROM blob_deletions WHERE state = $1 AND at < $2`, deletionDone, before)
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}

// BeginBlobCommit holds the digest's lock (see lockDigest) while it looks
// for a deletion of the digest and reserves it for the upload.
func (s *Store) BeginBlobCommit(ctx context.Context, id, digest string) error {
	return s.write(ctx, "begin blob commit "+digest, func(tx pgx.Tx) error {
		if err := lockDigest(ctx, tx, digest); err != nil {
			return err
		}
		var state string
		err := tx.QueryRow(ctx, `SELECT state FROM blob_deletions WHERE digest = $1`, digest).Scan(&state)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		case state == deletionRunning:
			return meta.ErrBlobDeleting
		default:
			// The bytes are gone: this upload brings them back.
			if _, err := tx.Exec(ctx, `DELETE FROM blob_deletions WHERE digest = $1`, digest); err != nil {
				return err
			}
		}
		return execAffect(ctx, tx, meta.ErrUploadUnknown,
			`UPDATE uploads SET commit_digest = $1 WHERE id = $2`, digest, id)
	})
}

func (s *Store) BlobUsage(ctx context.Context) ([]meta.RepositoryUsage, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT r.id, r.account, r.region, r.name,
			count(*) FILTER (WHERE u.referenced), COALESCE(sum(u.size) FILTER (WHERE u.referenced), 0)::bigint,
			count(*) FILTER (WHERE NOT u.referenced), COALESCE(sum(u.size) FILTER (WHERE NOT u.referenced), 0)::bigint
		FROM (
			SELECT rb.repo_id, b.size,
				EXISTS (SELECT 1 FROM manifest_refs mr
					WHERE mr.repo_id = rb.repo_id AND mr.ref_digest = rb.digest AND mr.kind = 'blob') AS referenced
			FROM repo_blobs rb JOIN blobs b ON b.digest = rb.digest
		) u JOIN repositories r ON r.id = u.repo_id
		GROUP BY r.id ORDER BY r.id`)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (meta.RepositoryUsage, error) {
		var u meta.RepositoryUsage
		err := row.Scan(&u.RepoID, &u.Registry.Account, &u.Registry.Region, &u.Repository,
			&u.ReferencedBlobs, &u.ReferencedBytes, &u.UnreferencedBlobs, &u.UnreferencedBytes)
		return u, err
	})
	if err != nil {
		return nil, wrap(ctx, "blob usage", err)
	}
	return out, nil
}

// AcquireLease is one conditional upsert: it writes only when the lease is
// free, lapsed, or already holder's. Of two nodes taking a free lease at
// once, the second waits for the first's insert and then finds it held.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	var got bool
	err := s.retry(ctx, "acquire lease "+name, func() error {
		tag, err := s.pool.Exec(ctx, `
			INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE leases.holder = excluded.holder OR leases.expires_at <= $4`,
			name, holder, now.Add(ttl), now)
		got = tag.RowsAffected() > 0
		return err
	})
	return got && err == nil, err
}

func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	return s.exec(ctx, "release lease "+name, nil, `DELETE FROM leases WHERE name = $1 AND holder = $2`, name, holder)
}
