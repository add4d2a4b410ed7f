package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/berth-registry/berth/internal/meta"
)

// PutManifest checks the refs and the immutable tags and writes in the same
// transaction, so a failed push writes nothing. Re-putting a stored digest
// keeps the stored row (and its PushedAt) and still applies the tags.
//
// Locks, in this order: the repository and the refs FOR KEY SHARE (they
// stay until commit: a DeleteManifest of a child or a garbage collector
// removing a link waits for the push, or the push finds them gone), the
// manifest (its own new row, or FOR KEY SHARE), then each tag's row as the
// upsert writes it. Tags are written in name order, so that two pushes
// moving the same tags take their rows in the same order and never
// deadlock.
func (s *Store) PutManifest(ctx context.Context, p *meta.PutManifest) error {
	m := &p.Manifest
	op := "put manifest " + m.Digest
	annotations, err := marshalAnnotations(m.Annotations)
	if err != nil {
		return wrap(ctx, op, err)
	}
	if err := meta.CheckJobs(p.Jobs); err != nil {
		return wrap(ctx, op, err)
	}
	var refDigests, refKinds []string
	for _, r := range p.Refs {
		if r.Kind != meta.RefBlob && r.Kind != meta.RefManifest {
			return wrap(ctx, op, fmt.Errorf("reference %s has unknown kind %q", r.Digest, r.Kind))
		}
		refDigests, refKinds = append(refDigests, r.Digest), append(refKinds, string(r.Kind))
	}
	tagWrites := slices.SortedStableFunc(slices.Values(p.Tags), func(a, b meta.TagWrite) int {
		return strings.Compare(a.Name, b.Name)
	})
	// Links take their digests' locks first, as LinkBlob does, and in
	// digest order: two pushes linking the same blobs cannot deadlock.
	links := slices.SortedFunc(slices.Values(p.Links), func(a, b meta.Blob) int {
		return strings.Compare(a.Digest, b.Digest)
	})
	return s.write(ctx, op, func(tx pgx.Tx) error {
		for _, b := range links {
			if err := lockDigest(ctx, tx, b.Digest); err != nil {
				return err
			}
		}
		if err := lockRepoCurrent(ctx, tx, p.RepoID, p.Repository); err != nil {
			return err
		}
		for _, b := range links {
			if err := linkBlob(ctx, tx, p.RepoID, b); err != nil {
				return err
			}
		}
		if err := lockRefs(ctx, tx, p.RepoID, p.Refs); err != nil {
			return err
		}
		if err := ensureManifest(ctx, tx, p.RepoID, m, annotations); err != nil {
			return err
		}
		if len(refDigests) > 0 {
			_, err := tx.Exec(ctx, `
				INSERT INTO manifest_refs (repo_id, manifest_digest, ref_digest, kind)
				SELECT DISTINCT $1::bigint, $2, r.digest, r.kind FROM unnest($3::text[], $4::text[]) AS r (digest, kind)
				ON CONFLICT DO NOTHING`,
				p.RepoID, m.Digest, refDigests, refKinds)
			if err != nil {
				return err
			}
		}
		for _, t := range tagWrites {
			if err := putTag(ctx, tx, p.RepoID, m.Digest, t); err != nil {
				return err
			}
		}
		return insertJobs(ctx, tx, p.Jobs, time.Time{})
	})
}

// lockRefs fails with a *MissingRefError for the first ref the repository
// does not hold, and locks the others FOR KEY SHARE: the blob links and
// child manifests stay until the push commits.
func lockRefs(ctx context.Context, tx pgx.Tx, repoID int64, refs []meta.Ref) error {
	var blobs, manifests []string
	for _, r := range refs {
		if r.Kind == meta.RefBlob {
			blobs = append(blobs, r.Digest)
		} else {
			manifests = append(manifests, r.Digest)
		}
	}
	found := map[meta.Ref]bool{}
	for _, q := range []struct {
		kind    meta.RefKind
		digests []string
		query   string
	}{
		{meta.RefBlob, blobs, `SELECT digest FROM repo_blobs WHERE repo_id = $1 AND digest = ANY ($2) FOR KEY SHARE`},
		{meta.RefManifest, manifests, `SELECT digest FROM manifests WHERE repo_id = $1 AND digest = ANY ($2) FOR KEY SHARE`},
	} {
		if len(q.digests) == 0 {
			continue
		}
		rows, _ := tx.Query(ctx, q.query, repoID, q.digests)
		held, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, d := range held {
			found[meta.Ref{Digest: d, Kind: q.kind}] = true
		}
	}
	for _, r := range refs {
		if !found[r] {
			return &meta.MissingRefError{Ref: r}
		}
	}
	return nil
}

// maxManifestRaces bounds ensureManifest's loop; each turn needs another
// transaction to delete the manifest between two statements of this one.
const maxManifestRaces = 10

// ensureManifest makes sure the repository holds the manifest until the
// transaction ends: it inserts it, or, when it is stored already, locks its
// row FOR KEY SHARE so that a DeleteManifest waits for this push. Should
// the stored row be deleted between the two statements, it inserts again.
func ensureManifest(ctx context.Context, tx pgx.Tx, repoID int64, m *meta.Manifest, annotations *string) error {
	for range maxManifestRaces {
		tag, err := tx.Exec(ctx, `
			INSERT INTO manifests (repo_id, digest, media_type, artifact_type, subject, annotations,
				content, image_size, pushed_at, last_pulled_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (repo_id, digest) DO NOTHING`,
			repoID, m.Digest, m.MediaType, m.ArtifactType, m.Subject, annotations,
			m.Content, m.ImageSize, ts(m.PushedAt), ts(m.LastPulledAt))
		if err != nil || tag.RowsAffected() == 1 {
			return err
		}
		held, err := exists(ctx, tx, `SELECT 1 FROM manifests WHERE repo_id = $1 AND digest = $2 FOR KEY SHARE`, repoID, m.Digest)
		if err != nil || held {
			return err
		}
	}
	return fmt.Errorf("manifest %s deleted %d times while being pushed", m.Digest, maxManifestRaces)
}

// putTag points a tag at digest with one upsert, which locks the tag's row
// until commit. An immutable write only moves a tag that points at digest
// already: of two immutable writes of one new tag, the second waits for the
// first's row, then finds the tag pointing elsewhere and writes nothing.
func putTag(ctx context.Context, tx pgx.Tx, repoID int64, digest string, t meta.TagWrite) error {
	if !t.Immutable {
		_, err := tx.Exec(ctx, `
			INSERT INTO tags (repo_id, name, digest) VALUES ($1, $2, $3)
			ON CONFLICT (repo_id, name) DO UPDATE SET digest = excluded.digest`,
			repoID, t.Name, digest)
		return err
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO tags (repo_id, name, digest) VALUES ($1, $2, $3)
		ON CONFLICT (repo_id, name) DO UPDATE SET digest = excluded.digest
		WHERE tags.digest = excluded.digest`,
		repoID, t.Name, digest)
	if err != nil || tag.RowsAffected() == 1 {
		return err
	}
	var cur string
	if err := tx.QueryRow(ctx, `SELECT digest FROM tags WHERE repo_id = $1 AND name = $2`, repoID, t.Name).Scan(&cur); err != nil {
		return err
	}
	return fmt.Errorf("tag %s points at %s: %w", t.Name, cur, meta.ErrTagImmutable)
}

// GetManifest, GetTaggedManifest and ResolveTag are on the path of every
// pull: each is one statement and one indexed lookup, one round trip. The
// tags come in the manifest's row, through tags_digest.
const (
	getManifestQuery = `
		SELECT media_type, artifact_type, subject, annotations, content, image_size,
			pushed_at, last_pulled_at,
			ARRAY (SELECT t.name FROM tags t WHERE t.repo_id = m.repo_id AND t.digest = m.digest ORDER BY t.name)
		FROM manifests m WHERE m.repo_id = $1 AND m.digest = $2`
	resolveTagQuery = `SELECT digest FROM tags WHERE repo_id = $1 AND name = $2`
	// getTaggedManifestQuery is a pull by tag: the tag and its manifest in
	// one statement, both by primary key, without aggregating the tags.
	getTaggedManifestQuery = `
		SELECT m.digest, m.media_type, m.artifact_type, m.subject, m.annotations, m.content, m.image_size,
			m.pushed_at, m.last_pulled_at
		FROM tags t JOIN manifests m ON m.repo_id = t.repo_id AND m.digest = t.digest
		WHERE t.repo_id = $1 AND t.name = $2`
)

func (s *Store) GetTaggedManifest(ctx context.Context, repoID int64, tag string) (*meta.Manifest, error) {
	var (
		m              meta.Manifest
		annotations    *string
		pushed, pulled pgtype.Timestamptz
	)
	err := s.pool.QueryRow(ctx, getTaggedManifestQuery, repoID, tag).Scan(
		&m.Digest, &m.MediaType, &m.ArtifactType, &m.Subject, &annotations, &m.Content, &m.ImageSize,
		&pushed, &pulled)
	if errors.Is(err, pgx.ErrNoRows) {
		err = meta.ErrTagUnknown
	}
	if err == nil {
		m.Annotations, err = unmarshalAnnotations(annotations)
	}
	if err != nil {
		return nil, wrap(ctx, "get manifest of tag "+tag, err)
	}
	m.PushedAt, m.LastPulledAt = fromTS(pushed), fromTS(pulled)
	return &m, nil
}

func (s *Store) GetManifest(ctx context.Context, repoID int64, digest string) (*meta.Manifest, error) {
	m := meta.Manifest{Digest: digest}
	var (
		annotations    *string
		pushed, pulled pgtype.Timestamptz
	)
	err := s.pool.QueryRow(ctx, getManifestQuery, repoID, digest).Scan(
		&m.MediaType, &m.ArtifactType, &m.Subject, &annotations, &m.Content, &m.ImageSize,
		&pushed, &pulled, &m.Tags)
	if errors.Is(err, pgx.ErrNoRows) {
		err = meta.ErrManifestUnknown
	}
	if err == nil {
		m.Annotations, err = unmarshalAnnotations(annotations)
	}
	if err != nil {
		return nil, wrap(ctx, "get manifest "+digest, err)
	}
	if len(m.Tags) == 0 {
		m.Tags = nil
	}
	m.PushedAt, m.LastPulledAt = fromTS(pushed), fromTS(pulled)
	return &m, nil
}

func (s *Store) ResolveTag(ctx context.Context, repoID int64, tag string) (string, error) {
	var digest string
	err := s.pool.QueryRow(ctx, resolveTagQuery, repoID, tag).Scan(&digest)
	if errors.Is(err, pgx.ErrNoRows) {
		err = meta.ErrTagUnknown
	}
	if err != nil {
		return "", wrap(ctx, "resolve tag "+tag, err)
	}
	return digest, nil
}

// DeleteManifest locks the manifest FOR UPDATE before it asks whether an
// index lists it: an index push holds its children FOR KEY SHARE until it
// commits, so either the push commits first and the check sees its refs, or
// the push waits and then finds the child gone. Referrers whose subject it
// is stay: dangling referrers are allowed.
func (s *Store) DeleteManifest(ctx context.Context, repoID int64, digest string, jobs []meta.NewJob) error {
	op := "delete manifest " + digest
	if err := meta.CheckJobs(jobs); err != nil {
		return wrap(ctx, op, err)
	}
	return s.write(ctx, op, func(tx pgx.Tx) error {
		held, err := lockManifest(ctx, tx, repoID, digest)
		if err != nil {
			return err
		}
		if !held {
			return meta.ErrManifestUnknown
		}
		if by, err := listedBy(ctx, tx, repoID, digest); err != nil || by != "" {
			if by != "" {
				err = &meta.ReferencedError{By: by}
			}
			return err
		}
		if err := deleteManifest(ctx, tx, repoID, digest); err != nil {
			return err
		}
		return insertJobs(ctx, tx, jobs, time.Time{})
	})
}

// lockManifest locks the repository FOR KEY SHARE (as every writer under it
// does) and the manifest FOR UPDATE, and reports whether both exist.
func lockManifest(ctx context.Context, tx pgx.Tx, repoID int64, digest string) (bool, error) {
	ok, err := lockRepo(ctx, tx, repoID)
	if err != nil || !ok {
		return false, err
	}
	return exists(ctx, tx, `SELECT 1 FROM manifests WHERE repo_id = $1 AND digest = $2 FOR UPDATE`, repoID, digest)
}

// listedBy names an index of the repository that lists the manifest, or
// returns "".
func listedBy(ctx context.Context, tx pgx.Tx, repoID int64, digest string) (string, error) {
	var by string
	err := tx.QueryRow(ctx, `
		SELECT manifest_digest FROM manifest_refs
		WHERE repo_id = $1 AND ref_digest = $2 AND kind = 'manifest' AND manifest_digest <> ref_digest
		ORDER BY manifest_digest LIMIT 1`, repoID, digest).Scan(&by)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return by, err
}

// deleteManifest deletes a manifest the transaction has locked; the
// cascades take its tags and refs. The links of the blobs it referenced
// are stamped with the database's clock: garbage collection measures their
// grace period from the moment the manifest stopped holding them.
func deleteManifest(ctx context.Context, tx pgx.Tx, repoID int64, digest string) error {
	_, err := tx.Exec(ctx, `
		WITH released AS (
			UPDATE repo_blobs SET linked_at = clock_timestamp()
			WHERE repo_id = $1 AND digest IN (
				SELECT ref_digest FROM manifest_refs
				WHERE repo_id = $1 AND manifest_digest = $2 AND kind = 'blob'))
		DELETE FROM manifests WHERE repo_id = $1 AND digest = $2`, repoID, digest)
	return err
}

func (s *Store) DeleteTag(ctx context.Context, repoID int64, tag string, jobs []meta.NewJob) error {
	op := "delete tag " + tag
	if err := meta.CheckJobs(jobs); err != nil {
		return wrap(ctx, op, err)
	}
	return s.write(ctx, op, func(tx pgx.Tx) error {
		err := execAffect(ctx, tx, meta.ErrTagUnknown, `DELETE FROM tags WHERE repo_id = $1 AND name = $2`, repoID, tag)
		if err != nil {
			return err
		}
		return insertJobs(ctx, tx, jobs, time.Time{})
	})
}

func (s *Store) ListTags(ctx context.Context, repoID int64, after string, limit int) ([]string, error) {
	rows, _ := s.pool.Query(ctx,
		`SELECT name FROM tags WHERE repo_id = $1 AND name > $2 ORDER BY name LIMIT $3`,
		repoID, after, sqlLimit(limit))
	tags, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap(ctx, "list tags", err)
	}
	return tags, nil
}

// listReferrersQuery has PostgreSQL compute Size, so the manifest bytes
// stay in the database.
const listReferrersQuery = `
	SELECT digest, media_type, artifact_type, octet_length(content), annotations FROM manifests
	WHERE repo_id = $1 AND subject = $2 AND ($3 = '' OR artifact_type = $3)
	ORDER BY digest`

// ListReferrers returns the referrers in digest order.
func (s *Store) ListReferrers(ctx context.Context, repoID int64, digest, artifactType string) ([]meta.Referrer, error) {
	if digest == "" {
		// Manifests without a subject store "" there.
		return nil, nil
	}
	rows, _ := s.pool.Query(ctx, listReferrersQuery, repoID, digest, artifactType)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (meta.Referrer, error) {
		var (
			r           meta.Referrer
			annotations *string
		)
		if err := row.Scan(&r.Digest, &r.MediaType, &r.ArtifactType, &r.Size, &annotations); err != nil {
			return r, err
		}
		var err error
		r.Annotations, err = unmarshalAnnotations(annotations)
		return r, err
	})
	if err != nil {
		return nil, wrap(ctx, "list referrers of "+digest, err)
	}
	return out, nil
}

// Annotations are stored as JSON text, NULL for none.
func marshalAnnotations(a map[string]string) (*string, error) {
	if len(a) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(a)
	s := string(b)
	return &s, err
}

func unmarshalAnnotations(s *string) (map[string]string, error) {
	if s == nil {
		return nil, nil
	}
	var a map[string]string
	err := json.Unmarshal([]byte(*s), &a)
	return a, err
}

// lockRepoCurrent locks the repository FOR KEY SHARE, as lockRepo, and,
// when the caller says how it read it, checks that its tag mutability and
// settings are still those (meta.ErrRepositoryChanged). A settings change
// committing meanwhile (FOR NO KEY UPDATE does not wait for this lock)
// comes after this push in the order of events, which the push's reading
// matches.
func lockRepoCurrent(ctx context.Context, tx pgx.Tx, repoID int64, read *meta.Repository) error {
	if read == nil {
		ok, err := lockRepo(ctx, tx, repoID)
		if err == nil && !ok {
			err = meta.ErrRepositoryUnknown
		}
		return err
	}
	var (
		mutability string
		settings   *string
	)
	err := tx.QueryRow(ctx, `SELECT tag_mutability, settings FROM repositories WHERE id = $1 FOR KEY SHARE`, repoID).Scan(&mutability, &settings)
	if errors.Is(err, pgx.ErrNoRows) {
		return meta.ErrRepositoryUnknown
	}
	if err != nil {
		return err
	}
	current := ""
	if settings != nil {
		current = *settings
	}
	if mutability != read.TagMutability || current != string(read.Settings) {
		return meta.ErrRepositoryChanged
	}
	return nil
}
