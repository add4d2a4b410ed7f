package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// nowNanos is the database's clock in unix nanoseconds: links are stamped
// with it (see migration 0005).
const nowNanos = `CAST(unixepoch('subsec') * 1000000000 AS INTEGER)`

// Blob deletion states (blob_deletions.state).
const (
	deletionRunning = "deleting"
	deletionDone    = "deleted"
)

// A link is stale when its stamp is older than ?before and no manifest of
// its repository references the blob; linked_at is NULL only for rows some
// writer made without a stamp, which count as old.
const staleLinkCond = `COALESCE(rb.linked_at, 0) < ?
	AND NOT EXISTS (SELECT 1 FROM manifest_refs mr
		WHERE mr.repo_id = rb.repo_id AND mr.ref_digest = rb.digest AND mr.kind = 'blob')`

func (s *Store) StaleBlobLinks(ctx context.Context, before time.Time, afterRepo int64, afterDigest string, limit int) ([]meta.BlobLink, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT rb.repo_id, r.account, r.region, r.name, rb.digest, b.size, rb.linked_at
		FROM repo_blobs rb
			JOIN repositories r ON r.id = rb.repo_id
			JOIN blobs b ON b.digest = rb.digest
		WHERE (rb.repo_id, rb.digest) > (?, ?) AND `+staleLinkCond+`
		ORDER BY rb.repo_id, rb.digest LIMIT ?`,
		afterRepo, afterDigest, before.UnixNano(), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: stale blob links: %w", err)
	}
	defer rows.Close()
	var out []meta.BlobLink
	for rows.Next() {
		var (
			l      meta.BlobLink
			linked sql.NullInt64
		)
		if err := rows.Scan(&l.RepoID, &l.Registry.Account, &l.Registry.Region, &l.Repository, &l.Digest, &l.Size, &linked); err != nil {
			return nil, fmt.Errorf("meta/sqlite: stale blob links: %w", err)
		}
		l.LinkedAt = fromNanos(linked)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: stale blob links: %w", err)
	}
	return out, nil
}

func (s *Store) RemoveStaleBlobLink(ctx context.Context, repoID int64, digest string, before time.Time) (bool, error) {
	var removed bool
	err := s.write(ctx, "remove stale blob link "+digest, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `
			DELETE FROM repo_blobs AS rb WHERE rb.repo_id = ? AND rb.digest = ? AND `+staleLinkCond,
			repoID, digest, before.UnixNano())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		removed = n > 0
		return err
	})
	return removed, err
}

// unreferencedCond holds for a blob no repository links and no manifest
// references.
const unreferencedCond = `NOT EXISTS (SELECT 1 FROM repo_blobs rb WHERE rb.digest = ?1)
	AND NOT EXISTS (SELECT 1 FROM manifest_refs mr WHERE mr.ref_digest = ?1 AND mr.kind = 'blob')`

func (s *Store) UnreferencedBlobs(ctx context.Context, before time.Time, after string, limit int) ([]meta.Blob, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT b.digest, b.size FROM blobs b
		WHERE b.digest > ? AND COALESCE(b.created_at, 0) < ?
			AND NOT EXISTS (SELECT 1 FROM repo_blobs rb WHERE rb.digest = b.digest)
			AND NOT EXISTS (SELECT 1 FROM manifest_refs mr WHERE mr.ref_digest = b.digest AND mr.kind = 'blob')
		ORDER BY b.digest LIMIT ?`, after, before.UnixNano(), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: unreferenced blobs: %w", err)
	}
	defer rows.Close()
	var out []meta.Blob
	for rows.Next() {
		var b meta.Blob
		if err := rows.Scan(&b.Digest, &b.Size); err != nil {
			return nil, fmt.Errorf("meta/sqlite: unreferenced blobs: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: unreferenced blobs: %w", err)
	}
	return out, nil
}

// recordedBatch bounds the parameters of one RecordedBlobs query, well
// under SQLite's limit.
const recordedBatch = 500

func (s *Store) RecordedBlobs(ctx context.Context, digests []string) (map[string]bool, error) {
	out := make(map[string]bool, len(digests))
	for len(digests) > 0 {
		n := min(len(digests), recordedBatch)
		batch := digests[:n]
		digests = digests[n:]
		args := make([]any, n)
		for i, d := range batch {
			args[i] = d
		}
		rows, err := s.r.QueryContext(ctx,
			`SELECT digest FROM blobs WHERE digest IN (?`+strings.Repeat(",?", n-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("meta/sqlite: recorded blobs: %w", err)
		}
		found, err := scanStrings(rows)
		if err != nil {
			return nil, fmt.Errorf("meta/sqlite: recorded blobs: %w", err)
		}
		for _, d := range found {
			out[d] = true
		}
	}
	return out, nil
}

func (s *Store) ClaimBlobDeletion(ctx context.Context, digest string, at time.Time) (bool, error) {
	var claimed bool
	err := s.write(ctx, "claim blob deletion "+digest, func(tx *wtx) error {
		var free bool
		err := tx.QueryRowContext(ctx, `
			SELECT `+unreferencedCond+`
				AND NOT EXISTS (SELECT 1 FROM uploads WHERE commit_digest = ?1)
				AND NOT EXISTS (SELECT 1 FROM blob_deletions WHERE digest = ?1 AND state = ?2)`,
			digest, deletionRunning).Scan(&free)
		if err != nil || !free {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE digest = ?`, digest); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO blob_deletions (digest, state, at) VALUES (?, ?, ?)
			ON CONFLICT (digest) DO UPDATE SET state = excluded.state, at = excluded.at`,
			digest, deletionRunning, at.UnixNano())
		claimed = err == nil
		return err
	})
	return claimed, err
}

func (s *Store) FinishBlobDeletion(ctx context.Context, digest string) error {
	return s.write(ctx, "finish blob deletion "+digest, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `UPDATE blob_deletions SET state = ? WHERE digest = ? AND state = ?`,
			deletionDone, digest, deletionRunning)
		return err
	})
}

func (s *Store) PendingBlobDeletions(ctx context.Context, before time.Time) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT digest FROM blob_deletions WHERE state = ? AND at < ? ORDER BY digest`,
		deletionRunning, before.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: pending blob deletions: %w", err)
	}
	out, err := scanStrings(rows)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: pending blob deletions: %w", err)
	}
	return out, nil
}

func (s *Store) PruneBlobDeletions(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "prune blob deletions", func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM blob_deletions WHERE state = ? AND at < ?`, deletionDone, before.UnixNano())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

func (s *Store) BeginBlobCommit(ctx context.Context, id, digest string) error {
	return s.write(ctx, "begin blob commit "+digest, func(tx *wtx) error {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM blob_deletions WHERE digest = ?`, digest).Scan(&state)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case state == deletionRunning:
			return meta.ErrBlobDeleting
		default:
			// The bytes are gone: this upload brings them back.
			if _, err := tx.ExecContext(ctx, `DELETE FROM blob_deletions WHERE digest = ?`, digest); err != nil {
				return err
			}
		}
		return execAffect(ctx, tx, meta.ErrUploadUnknown,
			`UPDATE uploads SET commit_digest = ? WHERE id = ?`, digest, id)
	})
}

// checkNotDeleted refuses linking a digest whose bytes garbage collection
// is deleting or has deleted.
func checkNotDeleted(ctx context.Context, tx *wtx, digest string) error {
	var gone bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM blob_deletions WHERE digest = ?)`, digest).Scan(&gone)
	if err != nil {
		return err
	}
	if gone {
		return meta.ErrBlobDeleting
	}
	return nil
}

func (s *Store) BlobUsage(ctx context.Context) ([]meta.RepositoryUsage, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT r.id, r.account, r.region, r.name,
			count(*) FILTER (WHERE u.referenced), COALESCE(sum(u.size) FILTER (WHERE u.referenced), 0),
			count(*) FILTER (WHERE NOT u.referenced), COALESCE(sum(u.size) FILTER (WHERE NOT u.referenced), 0)
		FROM (
			SELECT rb.repo_id, b.size,
				EXISTS (SELECT 1 FROM manifest_refs mr
					WHERE mr.repo_id = rb.repo_id AND mr.ref_digest = rb.digest AND mr.kind = 'blob') AS referenced
			FROM repo_blobs rb JOIN blobs b ON b.digest = rb.digest
		) u JOIN repositories r ON r.id = u.repo_id
		GROUP BY r.id ORDER BY r.id`)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: blob usage: %w", err)
	}
	defer rows.Close()
	var out []meta.RepositoryUsage
	for rows.Next() {
		var u meta.RepositoryUsage
		if err := rows.Scan(&u.RepoID, &u.Registry.Account, &u.Registry.Region, &u.Repository,
			&u.ReferencedBlobs, &u.ReferencedBytes, &u.UnreferencedBlobs, &u.UnreferencedBytes); err != nil {
			return nil, fmt.Errorf("meta/sqlite: blob usage: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: blob usage: %w", err)
	}
	return out, nil
}

// AcquireLease is one conditional upsert: it writes only when the lease is
// free, lapsed, or already holder's.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	var got bool
	err := s.write(ctx, "acquire lease "+name, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE leases.holder = excluded.holder OR leases.expires_at <= ?4`,
			name, holder, now.Add(ttl).UnixNano(), now.UnixNano())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		got = n > 0
		return err
	})
	return got, err
}

func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	return s.write(ctx, "release lease "+name, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder)
		return err
	})
}
