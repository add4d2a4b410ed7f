package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

func (s *Store) PutLifecyclePolicy(ctx context.Context, repoID int64, text string, at time.Time) error {
	return s.write(ctx, "put lifecycle policy", func(tx *wtx) error {
		if err := repoExists(ctx, tx, repoID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO lifecycle_policies (repo_id, policy_text, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (repo_id) DO UPDATE SET policy_text = excluded.policy_text, updated_at = excluded.updated_at`,
			repoID, text, nanos(at))
		return err
	})
}

const lifecycleColumns = `p.repo_id, r.account, r.region, r.name, p.policy_text, p.updated_at, p.last_evaluated_at`

func scanLifecyclePolicy(row interface{ Scan(...any) error }) (*meta.LifecyclePolicy, error) {
	var (
		p                  meta.LifecyclePolicy
		updated, evaluated sql.NullInt64
	)
	err := row.Scan(&p.RepoID, &p.Registry.Account, &p.Registry.Region, &p.Repository, &p.Text, &updated, &evaluated)
	if err != nil {
		return nil, err
	}
	p.UpdatedAt, p.LastEvaluatedAt = fromNanos(updated), fromNanos(evaluated)
	return &p, nil
}

func getLifecyclePolicy(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, repoID int64) (*meta.LifecyclePolicy, error) {
	p, err := scanLifecyclePolicy(q.QueryRowContext(ctx, `
		SELECT `+lifecycleColumns+` FROM lifecycle_policies p JOIN repositories r ON r.id = p.repo_id
		WHERE p.repo_id = ?`, repoID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, meta.ErrNotFound
	}
	return p, err
}

func (s *Store) GetLifecyclePolicy(ctx context.Context, repoID int64) (*meta.LifecyclePolicy, error) {
	p, err := getLifecyclePolicy(ctx, s.r, repoID)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get lifecycle policy: %w", err)
	}
	return p, nil
}

func (s *Store) DeleteLifecyclePolicy(ctx context.Context, repoID int64) (*meta.LifecyclePolicy, error) {
	var p *meta.LifecyclePolicy
	err := s.write(ctx, "delete lifecycle policy", func(tx *wtx) error {
		var err error
		if p, err = getLifecyclePolicy(ctx, tx, repoID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM lifecycle_policies WHERE repo_id = ?`, repoID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Store) ListLifecyclePolicies(ctx context.Context) ([]*meta.LifecyclePolicy, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT `+lifecycleColumns+` FROM lifecycle_policies p JOIN repositories r ON r.id = p.repo_id
		ORDER BY p.repo_id`)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list lifecycle policies: %w", err)
	}
	defer rows.Close()
	var out []*meta.LifecyclePolicy
	for rows.Next() {
		p, err := scanLifecyclePolicy(rows)
		if err != nil {
			return nil, fmt.Errorf("meta/sqlite: list lifecycle policies: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: list lifecycle policies: %w", err)
	}
	return out, nil
}

func (s *Store) MarkLifecycleEvaluated(ctx context.Context, repoID int64, text string, at time.Time) error {
	return s.write(ctx, "mark lifecycle evaluated", func(tx *wtx) error {
		_, err := tx.ExecContext(ctx,
			`UPDATE lifecycle_policies SET last_evaluated_at = ? WHERE repo_id = ? AND policy_text = ?`,
			nanos(at), repoID, text)
		return err
	})
}

func (s *Store) StartLifecyclePreview(ctx context.Context, p *meta.LifecyclePreview, staleBefore time.Time, jobs []meta.NewJob) error {
	if err := meta.CheckJobs(jobs); err != nil {
		return fmt.Errorf("meta/sqlite: start lifecycle preview: %w", err)
	}
	return s.write(ctx, "start lifecycle preview", func(tx *wtx) error {
		if err := repoExists(ctx, tx, p.RepoID); err != nil {
			return err
		}
		var (
			status  string
			started sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `SELECT status, started_at FROM lifecycle_previews WHERE repo_id = ?`, p.RepoID).Scan(&status, &started)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case status == meta.PreviewInProgress && !fromNanos(started).Before(staleBefore):
			return meta.ErrPreviewInProgress
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM lifecycle_preview_results WHERE repo_id = ?`, p.RepoID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO lifecycle_previews (repo_id, id, policy_text, status, reason, started_at, finished_at)
			VALUES (?, ?, ?, ?, '', ?, NULL)
			ON CONFLICT (repo_id) DO UPDATE SET id = excluded.id, policy_text = excluded.policy_text,
				status = excluded.status, reason = '', started_at = excluded.started_at, finished_at = NULL`,
			p.RepoID, p.ID, p.Text, meta.PreviewInProgress, nanos(p.StartedAt))
		if err != nil {
			return err
		}
		return insertJobs(ctx, tx, jobs, time.Time{})
	})
}

func (s *Store) FinishLifecyclePreview(ctx context.Context, p *meta.LifecyclePreview) error {
	return s.write(ctx, "finish lifecycle preview", func(tx *wtx) error {
		err := execAffect(ctx, tx, meta.ErrNotFound, `
			UPDATE lifecycle_previews SET status = ?, reason = ?, finished_at = ?
			WHERE repo_id = ? AND id = ? AND status = ?`,
			p.Status, p.Reason, nanos(p.FinishedAt), p.RepoID, p.ID, meta.PreviewInProgress)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `
			INSERT INTO lifecycle_preview_results (repo_id, digest, tags, pushed_at, action,
				target_storage_class, rule_priority, storage_class)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (repo_id, digest) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range p.Results {
			tags, err := marshalTags(r.Tags)
			if err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, p.RepoID, r.Digest, tags, nanos(r.PushedAt), r.Action,
				r.TargetStorageClass, r.RulePriority, r.StorageClass); err != nil {
				return err
			}
		}
		return nil
	})
}

// GetLifecyclePreview reads the preview and its results in one read
// transaction, so that they belong together.
func (s *Store) GetLifecyclePreview(ctx context.Context, repoID int64) (*meta.LifecyclePreview, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get lifecycle preview: %w", err)
	}
	defer tx.Rollback()
	p := meta.LifecyclePreview{RepoID: repoID}
	var started, finished sql.NullInt64
	err = tx.QueryRowContext(ctx, `
		SELECT id, policy_text, status, reason, started_at, finished_at FROM lifecycle_previews WHERE repo_id = ?`,
		repoID).Scan(&p.ID, &p.Text, &p.Status, &p.Reason, &started, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		err = meta.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get lifecycle preview: %w", err)
	}
	p.StartedAt, p.FinishedAt = fromNanos(started), fromNanos(finished)
	rows, err := tx.QueryContext(ctx, `
		SELECT digest, tags, pushed_at, action, target_storage_class, rule_priority, storage_class
		FROM lifecycle_preview_results WHERE repo_id = ? ORDER BY digest`, repoID)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get lifecycle preview: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			r      meta.PreviewResult
			tags   sql.NullString
			pushed sql.NullInt64
		)
		if err := rows.Scan(&r.Digest, &tags, &pushed, &r.Action, &r.TargetStorageClass, &r.RulePriority, &r.StorageClass); err != nil {
			return nil, fmt.Errorf("meta/sqlite: get lifecycle preview: %w", err)
		}
		if tags.Valid {
			if err := json.Unmarshal([]byte(tags.String), &r.Tags); err != nil {
				return nil, fmt.Errorf("meta/sqlite: get lifecycle preview: tags of %s: %w", r.Digest, err)
			}
		}
		r.PushedAt = fromNanos(pushed)
		p.Results = append(p.Results, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: get lifecycle preview: %w", err)
	}
	return &p, nil
}

func marshalTags(tags []string) (sql.NullString, error) {
	if len(tags) == 0 {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(tags)
	return sql.NullString{String: string(b), Valid: true}, err
}

func (s *Store) ManifestChildren(ctx context.Context, repoID int64) (map[string][]string, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT manifest_digest, ref_digest FROM manifest_refs
		WHERE repo_id = ? AND kind = ? AND manifest_digest <> ref_digest
		ORDER BY manifest_digest, ref_digest`, repoID, string(meta.RefManifest))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: manifest children: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var parent, child string
		if err := rows.Scan(&parent, &child); err != nil {
			return nil, fmt.Errorf("meta/sqlite: manifest children: %w", err)
		}
		out[parent] = append(out[parent], child)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: manifest children: %w", err)
	}
	return out, nil
}

// DeleteManifestIf compares times as stored: unix nanoseconds, NULL for
// the zero time.
func (s *Store) DeleteManifestIf(ctx context.Context, repoID int64, want meta.ManifestState, jobs []meta.NewJob) (bool, error) {
	if err := meta.CheckJobs(jobs); err != nil {
		return false, fmt.Errorf("meta/sqlite: delete manifest %s if unchanged: %w", want.Digest, err)
	}
	var deleted bool
	err := s.write(ctx, "delete manifest "+want.Digest+" if unchanged", func(tx *wtx) error {
		var (
			pushed, pulled sql.NullInt64
			tagsJSON       string
		)
		err := tx.QueryRowContext(ctx, `
			SELECT pushed_at, last_pulled_at,
				(SELECT json_group_array(t.name ORDER BY t.name) FROM tags t
				 WHERE t.repo_id = m.repo_id AND t.digest = m.digest)
			FROM manifests m WHERE m.repo_id = ? AND m.digest = ?`, repoID, want.Digest).Scan(&pushed, &pulled, &tagsJSON)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		var tags []string
		if err := json.Unmarshal([]byte(tagsJSON), &tags); err != nil {
			return err
		}
		wantTags := slices.Clone(want.Tags)
		slices.Sort(wantTags)
		wantTags = slices.Compact(wantTags)
		if pushed != nanos(want.PushedAt) || pulled != nanos(want.LastPulledAt) || !slices.Equal(tags, wantTags) {
			return nil
		}
		var by string
		err = tx.QueryRowContext(ctx, `
			SELECT manifest_digest FROM manifest_refs
			WHERE repo_id = ? AND ref_digest = ? AND kind = ? AND manifest_digest <> ref_digest
			ORDER BY manifest_digest LIMIT 1`, repoID, want.Digest, string(meta.RefManifest)).Scan(&by)
		switch {
		case err == nil:
			return &meta.ReferencedError{By: by}
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM manifests WHERE repo_id = ? AND digest = ?`, repoID, want.Digest); err != nil {
			return err
		}
		deleted = true
		return insertJobs(ctx, tx, jobs, time.Time{})
	})
	return deleted && err == nil, err
}

// Now is the local clock: an SQLite file has one node.
func (s *Store) Now(context.Context) (time.Time, error) { return time.Now(), nil }
