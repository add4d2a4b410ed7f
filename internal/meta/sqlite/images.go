package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// listImagesQuery walks the repository's primary key from ?2 and asks
// tags_digest for each manifest's tags; ?3 picks the tag filter. Content
// stays on disk: only the columns ECR describes are read.
const listImagesQuery = `
	SELECT m.digest, m.media_type, m.artifact_type, m.subject, m.image_size,
		m.pushed_at, m.last_pulled_at,
		(SELECT json_group_array(t.name ORDER BY t.name) FROM tags t
		 WHERE t.repo_id = m.repo_id AND t.digest = m.digest)
	FROM manifests m
	WHERE m.repo_id = ?1 AND m.digest > ?2
		AND (?3 = 'ANY'
			OR (?3 = 'TAGGED') = EXISTS (SELECT 1 FROM tags t WHERE t.repo_id = m.repo_id AND t.digest = m.digest))
	ORDER BY m.digest
	LIMIT ?4`

func (s *Store) ListImages(ctx context.Context, repoID int64, q meta.ImageQuery) ([]*meta.Manifest, error) {
	status := q.TagStatus
	switch status {
	case "":
		status = meta.TagStatusAny
	case meta.TagStatusAny, meta.TagStatusTagged, meta.TagStatusUntagged:
	default:
		return nil, fmt.Errorf("meta/sqlite: list images: unknown tag status %q", status)
	}
	rows, err := s.r.QueryContext(ctx, listImagesQuery, repoID, q.After, string(status), sqlLimit(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list images: %w", err)
	}
	defer rows.Close()
	var out []*meta.Manifest
	for rows.Next() {
		var (
			m              meta.Manifest
			pushed, pulled sql.NullInt64
			tags           string
		)
		if err := rows.Scan(&m.Digest, &m.MediaType, &m.ArtifactType, &m.Subject, &m.ImageSize, &pushed, &pulled, &tags); err != nil {
			return nil, fmt.Errorf("meta/sqlite: list images: %w", err)
		}
		if tags != "[]" {
			if err := json.Unmarshal([]byte(tags), &m.Tags); err != nil {
				return nil, fmt.Errorf("meta/sqlite: list images: tags of %s: %w", m.Digest, err)
			}
		}
		m.PushedAt, m.LastPulledAt = fromNanos(pushed), fromNanos(pulled)
		out = append(out, &m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: list images: %w", err)
	}
	return out, nil
}

// RecordPulls writes a whole batch in one transaction: the pull recorder
// calls it with everything pulled since its last flush.
func (s *Store) RecordPulls(ctx context.Context, pulls []meta.Pull) error {
	if len(pulls) == 0 {
		return nil
	}
	return s.write(ctx, "record pulls", func(tx *wtx) error {
		stmt, err := tx.PrepareContext(ctx, `
			UPDATE manifests SET last_pulled_at = ?3
			WHERE repo_id = ?1 AND digest = ?2 AND (last_pulled_at IS NULL OR last_pulled_at < ?3)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, p := range pulls {
			if p.At.IsZero() {
				continue
			}
			if _, err := stmt.ExecContext(ctx, p.RepoID, p.Digest, nanos(p.At)); err != nil {
				return err
			}
		}
		return nil
	})
}

const manifestsReferencingQuery = `
	SELECT manifest_digest FROM manifest_refs
	WHERE repo_id = ? AND ref_digest = ? AND kind = ?
	ORDER BY manifest_digest LIMIT ?`

func (s *Store) ManifestsReferencing(ctx context.Context, repoID int64, blobDigest string, limit int) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, manifestsReferencingQuery,
		repoID, blobDigest, string(meta.RefBlob), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: manifests referencing %s: %w", blobDigest, err)
	}
	out, err := scanStrings(rows)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: manifests referencing %s: %w", blobDigest, err)
	}
	return out, nil
}

func (s *Store) DeleteUntaggedManifest(ctx context.Context, repoID int64, digest string, jobs []meta.NewJob) (bool, error) {
	if err := meta.CheckJobs(jobs); err != nil {
		return false, fmt.Errorf("meta/sqlite: delete untagged manifest %s: %w", digest, err)
	}
	var deleted bool
	err := s.write(ctx, "delete untagged manifest "+digest, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `
			DELETE FROM manifests
			WHERE repo_id = ?1 AND digest = ?2
				AND NOT EXISTS (SELECT 1 FROM tags WHERE repo_id = ?1 AND digest = ?2)
				AND NOT EXISTS (SELECT 1 FROM manifest_refs
					WHERE repo_id = ?1 AND ref_digest = ?2 AND kind = ?3 AND manifest_digest <> ref_digest)`,
			repoID, digest, string(meta.RefManifest))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		deleted = true
		return insertJobs(ctx, tx, jobs, time.Time{})
	})
	return deleted && err == nil, err
}
