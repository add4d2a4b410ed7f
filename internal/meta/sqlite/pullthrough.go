package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

const ptcColumns = `account, region, prefix, upstream_url, upstream, upstream_prefix, credential_arn, custom_role_arn, created_at, updated_at`

func scanPTC(row interface{ Scan(...any) error }) (*meta.PullThroughRule, error) {
	var (
		r                meta.PullThroughRule
		created, updated sql.NullInt64
	)
	err := row.Scan(&r.Registry.Account, &r.Registry.Region, &r.Prefix, &r.UpstreamURL, &r.Upstream, &r.UpstreamPrefix,
		&r.CredentialARN, &r.CustomRoleARN, &created, &updated)
	if err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = fromNanos(created), fromNanos(updated)
	return &r, nil
}

// CreatePullThroughRule counts and inserts under the single writer, so the
// limit holds however many requests race.
func (s *Store) CreatePullThroughRule(ctx context.Context, r *meta.PullThroughRule, limit int) error {
	return s.write(ctx, "create pull through cache rule "+r.Prefix, func(tx *wtx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pull_through_rules WHERE account = ? AND region = ?`,
			r.Registry.Account, r.Registry.Region).Scan(&n); err != nil {
			return err
		}
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM pull_through_rules WHERE account = ? AND region = ? AND prefix = ?`,
			r.Registry.Account, r.Registry.Region, r.Prefix).Scan(&one)
		switch {
		case err == nil:
			return meta.ErrPullThroughRuleExists
		case !errors.Is(err, sql.ErrNoRows):
			return err
		case n >= limit:
			return meta.ErrPullThroughRuleLimit
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO pull_through_rules (`+ptcColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Registry.Account, r.Registry.Region, r.Prefix, r.UpstreamURL, r.Upstream, r.UpstreamPrefix,
			r.CredentialARN, r.CustomRoleARN, nanos(r.CreatedAt), nanos(r.UpdatedAt))
		return err
	})
}

func (s *Store) GetPullThroughRule(ctx context.Context, reg meta.RegistryKey, prefix string) (*meta.PullThroughRule, error) {
	r, err := scanPTC(s.queryRow(ctx, `SELECT `+ptcColumns+` FROM pull_through_rules WHERE account = ? AND region = ? AND prefix = ?`,
		reg.Account, reg.Region, prefix))
	if errors.Is(err, sql.ErrNoRows) {
		err = meta.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get pull through cache rule %s: %w", prefix, err)
	}
	return r, nil
}

func (s *Store) ListPullThroughRules(ctx context.Context, reg meta.RegistryKey) ([]*meta.PullThroughRule, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+ptcColumns+` FROM pull_through_rules WHERE account = ? AND region = ? ORDER BY prefix`,
		reg.Account, reg.Region)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list pull through cache rules: %w", err)
	}
	defer rows.Close()
	var out []*meta.PullThroughRule
	for rows.Next() {
		r, err := scanPTC(rows)
		if err != nil {
			return nil, fmt.Errorf("meta/sqlite: list pull through cache rules: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: list pull through cache rules: %w", err)
	}
	return out, nil
}

func (s *Store) UpdatePullThroughRule(ctx context.Context, r *meta.PullThroughRule) error {
	return s.write(ctx, "update pull through cache rule "+r.Prefix, func(tx *wtx) error {
		return execAffect(ctx, tx, meta.ErrNotFound, `
			UPDATE pull_through_rules SET credential_arn = ?, custom_role_arn = ?, updated_at = ?
			WHERE account = ? AND region = ? AND prefix = ?`,
			r.CredentialARN, r.CustomRoleARN, nanos(r.UpdatedAt), r.Registry.Account, r.Registry.Region, r.Prefix)
	})
}

func (s *Store) DeletePullThroughRule(ctx context.Context, reg meta.RegistryKey, prefix string) (*meta.PullThroughRule, error) {
	var r *meta.PullThroughRule
	err := s.write(ctx, "delete pull through cache rule "+prefix, func(tx *wtx) error {
		var err error
		r, err = scanPTC(tx.QueryRowContext(ctx, `DELETE FROM pull_through_rules WHERE account = ? AND region = ? AND prefix = ? RETURNING `+ptcColumns,
			reg.Account, reg.Region, prefix))
		if errors.Is(err, sql.ErrNoRows) {
			return meta.ErrNotFound
		}
		return err
	})
	return r, err
}

func (s *Store) PullThroughChecked(ctx context.Context, repoID int64, tag string) (time.Time, error) {
	var at sql.NullInt64
	err := s.queryRow(ctx, `SELECT checked_at FROM pull_through_checks WHERE repo_id = ? AND tag = ?`, repoID, tag).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		err = meta.ErrNotFound
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("meta/sqlite: pull through check of %s: %w", tag, err)
	}
	return fromNanos(at), nil
}

func (s *Store) MarkPullThroughChecked(ctx context.Context, repoID int64, tag string, at time.Time) error {
	return s.write(ctx, "mark pull through check of "+tag, func(tx *wtx) error {
		if err := repoExists(ctx, tx, repoID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO pull_through_checks (repo_id, tag, checked_at) VALUES (?, ?, ?)
			ON CONFLICT (repo_id, tag) DO UPDATE SET checked_at = excluded.checked_at`, repoID, tag, nanos(at))
		return err
	})
}
