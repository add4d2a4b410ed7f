package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// PutManifest checks the refs and the immutable tags and writes in the same
// transaction, so a failed push writes nothing. Re-putting a stored digest
// keeps the stored row (and its PushedAt) and still applies the tags.
func (s *Store) PutManifest(ctx context.Context, p *meta.PutManifest) error {
	m := &p.Manifest
	annotations, err := marshalAnnotations(m.Annotations)
	if err != nil {
		return fmt.Errorf("meta/sqlite: put manifest %s: %w", m.Digest, err)
	}
	if err := meta.CheckJobs(p.Jobs); err != nil {
		return fmt.Errorf("meta/sqlite: put manifest %s: %w", m.Digest, err)
	}
	return s.write(ctx, "put manifest "+m.Digest, func(tx *wtx) error {
		if err := repoCurrent(ctx, tx, p.RepoID, p.Repository); err != nil {
			return err
		}
		for _, b := range p.Links {
			if err := linkBlob(ctx, tx, p.RepoID, b); err != nil {
				return err
			}
		}
		for _, ref := range p.Refs {
			if err := refExists(ctx, tx, p.RepoID, ref); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO manifests (repo_id, digest, media_type, artifact_type, subject, annotations,
				content, image_size, pushed_at, last_pulled_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (repo_id, digest) DO NOTHING`,
			p.RepoID, m.Digest, m.MediaType, m.ArtifactType, m.Subject, annotations,
			m.Content, m.ImageSize, nanos(m.PushedAt), nanos(m.LastPulledAt))
		if err != nil {
			return err
		}
		for _, ref := range p.Refs {
			_, err := tx.ExecContext(ctx, `
				INSERT INTO manifest_refs (repo_id, manifest_digest, ref_digest, kind)
				VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				p.RepoID, m.Digest, ref.Digest, string(ref.Kind))
			if err != nil {
				return err
			}
		}
		for _, t := range p.Tags {
			if err := putTag(ctx, tx, p.RepoID, m.Digest, t); err != nil {
				return err
			}
		}
		return insertJobs(ctx, tx, p.Jobs, time.Time{})
	})
}

func refExists(ctx context.Context, tx *wtx, repoID int64, ref meta.Ref) error {
	var q string
	switch ref.Kind {
	case meta.RefBlob:
		q = `SELECT 1 FROM repo_blobs WHERE repo_id = ? AND digest = ?`
	case meta.RefManifest:
		q = `SELECT 1 FROM manifests WHERE repo_id = ? AND digest = ?`
	default:
		return fmt.Errorf("reference %s has unknown kind %q", ref.Digest, ref.Kind)
	}
	var one int
	err := tx.QueryRowContext(ctx, q, repoID, ref.Digest).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return &meta.MissingRefError{Ref: ref}
	}
	return err
}

func putTag(ctx context.Context, tx *wtx, repoID int64, digest string, t meta.TagWrite) error {
	if t.Immutable {
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT digest FROM tags WHERE repo_id = ? AND name = ?`, repoID, t.Name).Scan(&cur)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case cur != digest:
			return fmt.Errorf("tag %s points at %s: %w", t.Name, cur, meta.ErrTagImmutable)
		}
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO tags (repo_id, name, digest) VALUES (?, ?, ?)
		ON CONFLICT (repo_id, name) DO UPDATE SET digest = excluded.digest`,
		repoID, t.Name, digest)
	return err
}

// GetManifest and ResolveTag are on the path of every pull: each is one
// statement and one indexed lookup (TestQueryPlans watches that). The tags
// come in the manifest's row, through tags_digest.
const (
	getManifestQuery = `
		SELECT media_type, artifact_type, subject, annotations, content, image_size,
			pushed_at, last_pulled_at,
			(SELECT json_group_array(t.name ORDER BY t.name) FROM tags t
			 WHERE t.repo_id = m.repo_id AND t.digest = m.digest)
		FROM manifests m WHERE m.repo_id = ? AND m.digest = ?`
	resolveTagQuery = `SELECT digest FROM tags WHERE repo_id = ? AND name = ?`
	// getTaggedManifestQuery is a pull by tag: the tag and its manifest in
	// one statement, both by primary key, without aggregating the tags.
	getTaggedManifestQuery = `
		SELECT m.digest, m.media_type, m.artifact_type, m.subject, m.annotations, m.content, m.image_size,
			m.pushed_at, m.last_pulled_at
		FROM tags t JOIN manifests m ON m.repo_id = t.repo_id AND m.digest = t.digest
		WHERE t.repo_id = ? AND t.name = ?`
)

func (s *Store) GetTaggedManifest(ctx context.Context, repoID int64, tag string) (*meta.Manifest, error) {
	var (
		m              meta.Manifest
		annotations    sql.NullString
		pushed, pulled sql.NullInt64
	)
	err := s.queryRow(ctx, getTaggedManifestQuery, repoID, tag).Scan(
		&m.Digest, &m.MediaType, &m.ArtifactType, &m.Subject, &annotations, &m.Content, &m.ImageSize,
		&pushed, &pulled)
	if errors.Is(err, sql.ErrNoRows) {
		err = meta.ErrTagUnknown
	}
	if err == nil {
		m.Annotations, err = unmarshalAnnotations(annotations)
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get manifest of tag %s: %w", tag, err)
	}
	m.PushedAt, m.LastPulledAt = fromNanos(pushed), fromNanos(pulled)
	return &m, nil
}

func (s *Store) GetManifest(ctx context.Context, repoID int64, digest string) (*meta.Manifest, error) {
	m := meta.Manifest{Digest: digest}
	var (
		annotations    sql.NullString
		pushed, pulled sql.NullInt64
		tags           string
	)
	err := s.queryRow(ctx, getManifestQuery, repoID, digest).Scan(
		&m.MediaType, &m.ArtifactType, &m.Subject, &annotations, &m.Content, &m.ImageSize,
		&pushed, &pulled, &tags)
	if errors.Is(err, sql.ErrNoRows) {
		err = meta.ErrManifestUnknown
	}
	if err == nil {
		m.Annotations, err = unmarshalAnnotations(annotations)
	}
	if err == nil && tags != "[]" {
		err = json.Unmarshal([]byte(tags), &m.Tags)
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get manifest %s: %w", digest, err)
	}
	m.PushedAt, m.LastPulledAt = fromNanos(pushed), fromNanos(pulled)
	return &m, nil
}

func (s *Store) ResolveTag(ctx context.Context, repoID int64, tag string) (string, error) {
	var digest string
	err := s.queryRow(ctx, resolveTagQuery, repoID, tag).Scan(&digest)
	if errors.Is(err, sql.ErrNoRows) {
		err = meta.ErrTagUnknown
	}
	if err != nil {
		return "", fmt.Errorf("meta/sqlite: resolve tag %s: %w", tag, err)
	}
	return digest, nil
}

// DeleteManifest lets the cascades remove the manifest's tags and refs.
// Referrers whose subject it is stay: dangling referrers are allowed.
func (s *Store) DeleteManifest(ctx context.Context, repoID int64, digest string, jobs []meta.NewJob) error {
	if err := meta.CheckJobs(jobs); err != nil {
		return fmt.Errorf("meta/sqlite: delete manifest %s: %w", digest, err)
	}
	return s.write(ctx, "delete manifest "+digest, func(tx *wtx) error {
		var by string
		err := tx.QueryRowContext(ctx, `
			SELECT manifest_digest FROM manifest_refs
			WHERE repo_id = ? AND ref_digest = ? AND kind = ? AND manifest_digest <> ref_digest
			ORDER BY manifest_digest LIMIT 1`, repoID, digest, string(meta.RefManifest)).Scan(&by)
		switch {
		case err == nil:
			return &meta.ReferencedError{By: by}
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		err = execAffect(ctx, tx, meta.ErrManifestUnknown,
			`DELETE FROM manifests WHERE repo_id = ? AND digest = ?`, repoID, digest)
		if err != nil {
			return err
		}
		return insertJobs(ctx, tx, jobs, time.Time{})
	})
}

func (s *Store) DeleteTag(ctx context.Context, repoID int64, tag string, jobs []meta.NewJob) error {
	if err := meta.CheckJobs(jobs); err != nil {
		return fmt.Errorf("meta/sqlite: delete tag %s: %w", tag, err)
	}
	return s.write(ctx, "delete tag "+tag, func(tx *wtx) error {
		err := execAffect(ctx, tx, meta.ErrTagUnknown,
			`DELETE FROM tags WHERE repo_id = ? AND name = ?`, repoID, tag)
		if err != nil {
			return err
		}
		return insertJobs(ctx, tx, jobs, time.Time{})
	})
}

// ListTags treats limit <= 0 as no limit.
func (s *Store) ListTags(ctx context.Context, repoID int64, after string, limit int) ([]string, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT name FROM tags WHERE repo_id = ? AND name > ? ORDER BY name LIMIT ?`,
		repoID, after, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list tags: %w", err)
	}
	tags, err := scanStrings(rows)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list tags: %w", err)
	}
	return tags, nil
}

// listReferrersQuery has SQLite compute Size, so the manifest bytes stay on
// disk.
const listReferrersQuery = `
	SELECT digest, media_type, artifact_type, length(content), annotations FROM manifests
	WHERE repo_id = ?1 AND subject = ?2 AND (?3 = '' OR artifact_type = ?3)
	ORDER BY digest`

// ListReferrers returns the referrers in digest order.
func (s *Store) ListReferrers(ctx context.Context, repoID int64, digest, artifactType string) ([]meta.Referrer, error) {
	if digest == "" {
		// Manifests without a subject store "" there.
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, listReferrersQuery, repoID, digest, artifactType)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list referrers of %s: %w", digest, err)
	}
	defer rows.Close()
	var out []meta.Referrer
	for rows.Next() {
		var (
			r           meta.Referrer
			annotations sql.NullString
		)
		if err := rows.Scan(&r.Digest, &r.MediaType, &r.ArtifactType, &r.Size, &annotations); err != nil {
			return nil, fmt.Errorf("meta/sqlite: list referrers of %s: %w", digest, err)
		}
		if r.Annotations, err = unmarshalAnnotations(annotations); err != nil {
			return nil, fmt.Errorf("meta/sqlite: list referrers of %s: %w", digest, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: list referrers of %s: %w", digest, err)
	}
	return out, nil
}

func marshalAnnotations(a map[string]string) (sql.NullString, error) {
	if len(a) == 0 {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(a)
	return sql.NullString{String: string(b), Valid: true}, err
}

func unmarshalAnnotations(s sql.NullString) (map[string]string, error) {
	if !s.Valid {
		return nil, nil
	}
	var a map[string]string
	err := json.Unmarshal([]byte(s.String), &a)
	return a, err
}

// repoCurrent checks that the repository exists and, when the caller says
// how it read it, that its tag mutability and settings are still those.
func repoCurrent(ctx context.Context, tx *wtx, repoID int64, read *meta.Repository) error {
	if read == nil {
		return repoExists(ctx, tx, repoID)
	}
	var (
		mutability string
		settings   sql.NullString
	)
	err := tx.QueryRowContext(ctx, `SELECT tag_mutability, settings FROM repositories WHERE id = ?`, repoID).Scan(&mutability, &settings)
	if errors.Is(err, sql.ErrNoRows) {
		return meta.ErrRepositoryUnknown
	}
	if err != nil {
		return err
	}
	if mutability != read.TagMutability || settings.String != string(read.Settings) {
		return meta.ErrRepositoryChanged
	}
	return nil
}
