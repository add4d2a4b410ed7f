package postgres

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/berth-registry/berth/internal/meta"
)

func (s *Store) PutLifecyclePolicy(ctx context.Context, repoID int64, text string, at time.Time) error {
	return s.write(ctx, "put lifecycle policy", func(tx pgx.Tx) error {
		ok, err := lockRepo(ctx, tx, repoID)
		if err != nil {
			return err
		}
		if !ok {
			return meta.ErrRepositoryUnknown
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO lifecycle_policies (repo_id, policy_text, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (repo_id) DO UPDATE SET policy_text = excluded.policy_text, updated_at = excluded.updated_at`,
			repoID, text, ts(at))
		return err
	})
}

const lifecycleColumns = `p.repo_id, r.account, r.region, r.name, p.policy_text, p.updated_at, p.last_evaluated_at`

func scanLifecyclePolicy(row scanner) (*meta.LifecyclePolicy, error) {
	var (
		p                  meta.LifecyclePolicy
		updated, evaluated pgtype.Timestamptz
	)
	err := row.Scan(&p.RepoID, &p.Registry.Account, &p.Registry.Region, &p.Repository, &p.Text, &updated, &evaluated)
	if err != nil {
		return nil, err
	}
	p.UpdatedAt, p.LastEvaluatedAt = fromTS(updated), fromTS(evaluated)
	return &p, nil
}

func (s *Store) GetLifecyclePolicy(ctx context.Context, repoID int64) (*meta.LifecyclePolicy, error) {
	p, err := scanLifecyclePolicy(s.pool.QueryRow(ctx, `
		SELECT `+lifecycleColumns+` FROM lifecycle_policies p JOIN repositories r ON r.id = p.repo_id
		WHERE p.repo_id = $1`, repoID))
	if errors.Is(err, pgx.ErrNoRows) {
		err = meta.ErrNotFound
	}
	if err != nil {
		return nil, wrap(ctx, "get lifecycle policy", err)
	}
	return p, nil
}

// DeleteLifecyclePolicy deletes and returns the policy in one statement.
func (s *Store) DeleteLifecyclePolicy(ctx context.Context, repoID int64) (*meta.LifecyclePolicy, error) {
	var p *meta.LifecyclePolicy
	err := s.retry(ctx, "delete lifecycle policy", func() error {
		var err error
		p, err = scanLifecyclePolicy(s.pool.QueryRow(ctx, `
			DELETE FROM lifecycle_policies p USING repositories r
			WHERE p.repo_id = $1 AND r.id = p.repo_id
			RETURNING `+lifecycleColumns, repoID))
		if errors.Is(err, pgx.ErrNoRows) {
			return meta.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Store) ListLifecyclePolicies(ctx context.Context) ([]*meta.LifecyclePolicy, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT `+lifecycleColumns+` FROM lifecycle_policies p JOIN repositories r ON r.id = p.repo_id
		ORDER BY p.repo_id`)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*meta.LifecyclePolicy, error) { return scanLifecyclePolicy(row) })
	if err != nil {
		return nil, wrap(ctx, "list lifecycle policies", err)
	}
	return out, nil
}

func (s *Store) MarkLifecycleEvaluated(ctx context.Context, repoID int64, text string, at time.Time) error {
	return s.exec(ctx, "mark lifecycle evaluated", nil,
		`UPDATE lifecycle_policies SET last_evaluated_at = $1 WHERE repo_id = $2 AND policy_text = $3`,
		ts(at), repoID, text)
}

// StartLifecyclePreview locks the repository FOR NO KEY UPDATE: two starts
// for one repository queue there (pushes, FOR KEY SHARE, do not), and the
// second sees the first's preview in progress. The preview's row is locked
// before its results are deleted, so that a FinishLifecyclePreview still
// writing them is waited for, and its results go with it.
func (s *Store) StartLifecyclePreview(ctx context.Context, p *meta.LifecyclePreview, staleBefore time.Time, jobs []meta.NewJob) error {
	if err := meta.CheckJobs(jobs); err != nil {
		return wrap(ctx, "start lifecycle preview", err)
	}
	return s.write(ctx, "start lifecycle preview", func(tx pgx.Tx) error {
		ok, err := exists(ctx, tx, `SELECT 1 FROM repositories WHERE id = $1 FOR NO KEY UPDATE`, p.RepoID)
		if err != nil {
			return err
		}
		if !ok {
			return meta.ErrRepositoryUnknown
		}
		var (
			status  string
			started pgtype.Timestamptz
		)
		err = tx.QueryRow(ctx, `SELECT status, started_at FROM lifecycle_previews WHERE repo_id = $1 FOR UPDATE`,
			p.RepoID).Scan(&status, &started)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		case status == meta.PreviewInProgress && !fromTS(started).Before(staleBefore):
			return meta.ErrPreviewInProgress
		}
		if _, err := tx.Exec(ctx, `DELETE FROM lifecycle_preview_results WHERE repo_id = $1`, p.RepoID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO lifecycle_previews (repo_id, id, policy_text, status, reason, started_at, finished_at)
			VALUES ($1, $2, $3, $4, '', $5, NULL)
			ON CONFLICT (repo_id) DO UPDATE SET id = excluded.id, policy_text = excluded.policy_text,
				status = excluded.status, reason = '', started_at = excluded.started_at, finished_at = NULL`,
			p.RepoID, p.ID, p.Text, meta.PreviewInProgress, ts(p.StartedAt))
		if err != nil {
			return err
		}
		return insertJobs(ctx, tx, jobs, time.Time{})
	})
}

// FinishLifecyclePreview's UPDATE is its check (the preview is still p.ID
// and in progress) and locks the row: a StartLifecyclePreview replacing it
// waits until the results are written, then deletes them with it.
func (s *Store) FinishLifecyclePreview(ctx context.Context, p *meta.LifecyclePreview) error {
	return s.write(ctx, "finish lifecycle preview", func(tx pgx.Tx) error {
		err := execAffect(ctx, tx, meta.ErrNotFound, `
			UPDATE lifecycle_previews SET status = $1, reason = $2, finished_at = $3
			WHERE repo_id = $4 AND id = $5 AND status = $6`,
			p.Status, p.Reason, ts(p.FinishedAt), p.RepoID, p.ID, meta.PreviewInProgress)
		if err != nil || len(p.Results) == 0 {
			return err
		}
		var b pgx.Batch
		for _, r := range p.Results {
			b.Queue(`
				INSERT INTO lifecycle_preview_results (repo_id, digest, tags, pushed_at, action,
					target_storage_class, rule_priority, storage_class)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (repo_id, digest) DO NOTHING`,
				p.RepoID, r.Digest, nullTags(r.Tags), ts(r.PushedAt), r.Action, r.TargetStorageClass, r.RulePriority, r.StorageClass)
		}
		return tx.SendBatch(ctx, &b).Close()
	})
}

func nullTags(tags []string) []string {
	if len(tags) == 0 {
		return nil
	}
	return tags
}

// GetLifecyclePreview reads the preview and its results in one snapshot,
// so that they belong together.
func (s *Store) GetLifecyclePreview(ctx context.Context, repoID int64) (*meta.LifecyclePreview, error) {
	p := meta.LifecyclePreview{RepoID: repoID}
	err := s.read(ctx, "get lifecycle preview", func(tx pgx.Tx) error {
		var started, finished pgtype.Timestamptz
		err := tx.QueryRow(ctx, `
			SELECT id, policy_text, status, reason, started_at, finished_at FROM lifecycle_previews WHERE repo_id = $1`,
			repoID).Scan(&p.ID, &p.Text, &p.Status, &p.Reason, &started, &finished)
		if errors.Is(err, pgx.ErrNoRows) {
			return meta.ErrNotFound
		}
		if err != nil {
			return err
		}
		p.StartedAt, p.FinishedAt = fromTS(started), fromTS(finished)
		rows, _ := tx.Query(ctx, `
			SELECT digest, tags, pushed_at, action, target_storage_class, rule_priority, storage_class
			FROM lifecycle_preview_results WHERE repo_id = $1 ORDER BY digest`, repoID)
		p.Results, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (meta.PreviewResult, error) {
			var (
				r      meta.PreviewResult
				pushed pgtype.Timestamptz
			)
			err := row.Scan(&r.Digest, &r.Tags, &pushed, &r.Action, &r.TargetStorageClass, &r.RulePriority, &r.StorageClass)
			r.PushedAt = fromTS(pushed)
			return r, err
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func (s *Store) ManifestChildren(ctx context.Context, repoID int64) (map[string][]string, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT manifest_digest, ref_digest FROM manifest_refs
		WHERE repo_id = $1 AND kind = 'manifest' AND manifest_digest <> ref_digest
		ORDER BY manifest_digest, ref_digest`, repoID)
	out := map[string][]string{}
	var parent, child string
	_, err := pgx.ForEachRow(rows, []any{&parent, &child}, func() error {
		out[parent] = append(out[parent], child)
		return nil
	})
	if err != nil {
		return nil, wrap(ctx, "manifest children", err)
	}
	return out, nil
}

// DeleteManifestIf locks the manifest FOR UPDATE, then compares it with
// want: what it compares cannot change before it deletes. Times compare as
// stored, at microsecond precision.
func (s *Store) DeleteManifestIf(ctx context.Context, repoID int64, want meta.ManifestState, jobs []meta.NewJob) (bool, error) {
	op := "delete manifest " + want.Digest + " if unchanged"
	if err := meta.CheckJobs(jobs); err != nil {
		return false, wrap(ctx, op, err)
	}
	wantTags := slices.Clone(want.Tags)
	slices.Sort(wantTags)
	wantTags = slices.Compact(wantTags)
	var deleted bool
	err := s.write(ctx, op, func(tx pgx.Tx) error {
		deleted = false
		held, err := lockManifest(ctx, tx, repoID, want.Digest)
		if err != nil || !held {
			return err
		}
		// A statement after the lock: it sees the tags of every push the
		// lock waited for.
		var (
			pushed, pulled pgtype.Timestamptz
			tags           []string
		)
		err = tx.QueryRow(ctx, `
			SELECT pushed_at, last_pulled_at,
				ARRAY (SELECT t.name FROM tags t WHERE t.repo_id = m.repo_id AND t.digest = m.digest ORDER BY t.name)
			FROM manifests m WHERE m.repo_id = $1 AND m.digest = $2`, repoID, want.Digest).Scan(&pushed, &pulled, &tags)
		if err != nil {
			return err
		}
		if !sameTime(fromTS(pushed), want.PushedAt) || !sameTime(fromTS(pulled), want.LastPulledAt) || !slices.Equal(tags, wantTags) {
			return nil
		}
		if by, err := listedBy(ctx, tx, repoID, want.Digest); err != nil || by != "" {
			if by != "" {
				err = &meta.ReferencedError{By: by}
			}
			return err
		}
		if err := deleteManifest(ctx, tx, repoID, want.Digest); err != nil {
			return err
		}
		deleted = true
		return insertJobs(ctx, tx, jobs, time.Time{})
	})
	return deleted && err == nil, err
}

// sameTime compares a stored time with a wanted one as PostgreSQL stores
// it: to the microsecond, the zero time as NULL.
func sameTime(stored, want time.Time) bool {
	if want.IsZero() || stored.IsZero() {
		return want.IsZero() == stored.IsZero()
	}
	return stored.Equal(want.Truncate(time.Microsecond))
}
