package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/berth-registry/berth/internal/meta"
)

// listImagesQuery walks the repository's primary key from $2 and asks
// tags_digest for each manifest's tags; $3 picks the tag filter. Content
// stays in the database: only the columns ECR describes are read.
const listImagesQuery = `
	SELECT m.digest, m.media_type, m.artifact_type, m.subject, m.image_size,
		m.pushed_at, m.last_pulled_at,
		ARRAY (SELECT t.name FROM tags t WHERE t.repo_id = m.repo_id AND t.digest = m.digest ORDER BY t.name)
	FROM manifests m
	WHERE m.repo_id = $1 AND m.digest > $2
		AND ($3 = 'ANY'
			OR ($3 = 'TAGGED') = EXISTS (SELECT 1 FROM tags t WHERE t.repo_id = m.repo_id AND t.digest = m.digest))
	ORDER BY m.digest
	LIMIT $4`

func (s *Store) ListImages(ctx context.Context, repoID int64, q meta.ImageQuery) ([]*meta.Manifest, error) {
	status := q.TagStatus
	switch status {
	case "":
		status = meta.TagStatusAny
	case meta.TagStatusAny, meta.TagStatusTagged, meta.TagStatusUntagged:
	default:
		return nil, fmt.Errorf("meta/postgres: list images: unknown tag status %q", status)
	}
	rows, _ := s.pool.Query(ctx, listImagesQuery, repoID, q.After, string(status), sqlLimit(q.Limit))
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*meta.Manifest, error) {
		var (
			m              meta.Manifest
			pushed, pulled pgtype.Timestamptz
		)
		if err := row.Scan(&m.Digest, &m.MediaType, &m.ArtifactType, &m.Subject, &m.ImageSize, &pushed, &pulled, &m.Tags); err != nil {
			return nil, err
		}
		if len(m.Tags) == 0 {
			m.Tags = nil
		}
		m.PushedAt, m.LastPulledAt = fromTS(pushed), fromTS(pulled)
		return &m, nil
	})
	if err != nil {
		return nil, wrap(ctx, "list images", err)
	}
	return out, nil
}

// RecordPulls writes a whole batch in one statement: the pull recorder calls
// it with everything pulled since its last flush. Each manifest takes the
// latest of its pulls, and only moves forward.
func (s *Store) RecordPulls(ctx context.Context, pulls []meta.Pull) error {
	var (
		repos   []int64
		digests []string
		times   []time.Time
	)
	for _, p := range pulls {
		if p.At.IsZero() {
			continue
		}
		repos, digests, times = append(repos, p.RepoID), append(digests, p.Digest), append(times, p.At)
	}
	if len(repos) == 0 {
		return nil
	}
	return s.exec(ctx, "record pulls", nil, `
		UPDATE manifests m SET last_pulled_at = p.at
		FROM (
			SELECT repo_id, digest, max(at) AS at
			FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS u (repo_id, digest, at)
			GROUP BY repo_id, digest
		) p
		WHERE m.repo_id = p.repo_id AND m.digest = p.digest
			AND (m.last_pulled_at IS NULL OR m.last_pulled_at < p.at)`,
		repos, digests, times)
}

func (s *Store) ManifestsReferencing(ctx context.Context, repoID int64, blobDigest string, limit int) ([]string, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT manifest_digest FROM manifest_refs
		WHERE repo_id = $1 AND ref_digest = $2 AND kind = 'blob'
		ORDER BY manifest_digest LIMIT $3`,
		repoID, blobDigest, sqlLimit(limit))
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap(ctx, "manifests referencing "+blobDigest, err)
	}
	return out, nil
}

// DeleteUntaggedManifest locks the manifest FOR UPDATE, then checks: a push
// tagging it, or an index listing it, holds it FOR KEY SHARE until it
// commits, so the check sees it, or it finds the manifest gone.
func (s *Store) DeleteUntaggedManifest(ctx context.Context, repoID int64, digest string, jobs []meta.NewJob) (bool, error) {
	op := "delete untagged manifest " + digest
	if err := meta.CheckJobs(jobs); err != nil {
		return false, wrap(ctx, op, err)
	}
	var deleted bool
	err := s.write(ctx, op, func(tx pgx.Tx) error {
		deleted = false
		held, err := lockManifest(ctx, tx, repoID, digest)
		if err != nil || !held {
			return err
		}
		used, err := exists(ctx, tx, `
			SELECT 1 WHERE EXISTS (SELECT 1 FROM tags WHERE repo_id = $1 AND digest = $2)
				OR EXISTS (SELECT 1 FROM manifest_refs
					WHERE repo_id = $1 AND ref_digest = $2 AND kind = 'manifest' AND manifest_digest <> ref_digest)`,
			repoID, digest)
		if err != nil || used {
			return err
		}
		if err := deleteManifest(ctx, tx, repoID, digest); err != nil {
			return err
		}
		deleted = true
		return insertJobs(ctx, tx, jobs, time.Time{})
	})
	return deleted && err == nil, err
}
