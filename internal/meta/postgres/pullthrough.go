package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/berth-registry/berth/internal/meta"
)

const ptcColumns = `account, region, prefix, upstream_url, upstream, upstream_prefix, credential_arn, custom_role_arn, created_at, updated_at`

func scanPTC(row scanner) (*meta.PullThroughRule, error) {
	var (
		r                meta.PullThroughRule
		created, updated pgtype.Timestamptz
	)
	err := row.Scan(&r.Registry.Account, &r.Registry.Region, &r.Prefix, &r.UpstreamURL, &r.Upstream, &r.UpstreamPrefix,
		&r.CredentialARN, &r.CustomRoleARN, &created, &updated)
	if err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = fromTS(created), fromTS(updated)
	return &r, nil
}

// CreatePullThroughRule takes a transaction-scoped advisory lock on the
// registry's rules before counting them: two nodes creating rules at once
// are queued, so the limit holds (the primary key alone would let both
// count 49 and insert).
func (s *Store) CreatePullThroughRule(ctx context.Context, r *meta.PullThroughRule, limit int) error {
	return s.write(ctx, "create pull through cache rule "+r.Prefix, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('pull-through-rules/' || $1 || '/' || $2, 0))`,
			r.Registry.Account, r.Registry.Region); err != nil {
			return err
		}
		var n int
		var exists bool
		if err := tx.QueryRow(ctx, `
			SELECT count(*), coalesce(bool_or(prefix = $3), false) FROM pull_through_rules WHERE account = $1 AND region = $2`,
			r.Registry.Account, r.Registry.Region, r.Prefix).Scan(&n, &exists); err != nil {
			return err
		}
		switch {
		case exists:
			return meta.ErrPullThroughRuleExists
		case n >= limit:
			return meta.ErrPullThroughRuleLimit
		}
		_, err := tx.Exec(ctx, `INSERT INTO pull_through_rules (`+ptcColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			r.Registry.Account, r.Registry.Region, r.Prefix, r.UpstreamURL, r.Upstream, r.UpstreamPrefix,
			r.CredentialARN, r.CustomRoleARN, ts(r.CreatedAt), ts(r.UpdatedAt))
		return err
	})
}

func (s *Store) GetPullThroughRule(ctx context.Context, reg meta.RegistryKey, prefix string) (*meta.PullThroughRule, error) {
	r, err := scanPTC(s.pool.QueryRow(ctx, `SELECT `+ptcColumns+` FROM pull_through_rules WHERE account = $1 AND region = $2 AND prefix = $3`,
		reg.Account, reg.Region, prefix))
	if errors.Is(err, pgx.ErrNoRows) {
		err = meta.ErrNotFound
	}
	if err != nil {
		return nil, wrap(ctx, "get pull through cache rule "+prefix, err)
	}
	return r, nil
}

func (s *Store) ListPullThroughRules(ctx context.Context, reg meta.RegistryKey) ([]*meta.PullThroughRule, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+ptcColumns+` FROM pull_through_rules WHERE account = $1 AND region = $2 ORDER BY prefix`,
		reg.Account, reg.Region)
	if err != nil {
		return nil, wrap(ctx, "list pull through cache rules", err)
	}
	defer rows.Close()
	var out []*meta.PullThroughRule
	for rows.Next() {
		r, err := scanPTC(rows)
		if err != nil {
			return nil, wrap(ctx, "list pull through cache rules", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "list pull through cache rules", err)
	}
	return out, nil
}

func (s *Store) UpdatePullThroughRule(ctx context.Context, r *meta.PullThroughRule) error {
	return s.exec(ctx, "update pull through cache rule "+r.Prefix, meta.ErrNotFound, `
		UPDATE pull_through_rules SET credential_arn = $1, custom_role_arn = $2, updated_at = $3
		WHERE account = $4 AND region = $5 AND prefix = $6`,
		r.CredentialARN, r.CustomRoleARN, ts(r.UpdatedAt), r.Registry.Account, r.Registry.Region, r.Prefix)
}

func (s *Store) DeletePullThroughRule(ctx context.Context, reg meta.RegistryKey, prefix string) (*meta.PullThroughRule, error) {
	var r *meta.PullThroughRule
	err := s.retry(ctx, "delete pull through cache rule "+prefix, func() error {
		var err error
		r, err = scanPTC(s.pool.QueryRow(ctx, `DELETE FROM pull_through_rules WHERE account = $1 AND region = $2 AND prefix = $3 RETURNING `+ptcColumns,
			reg.Account, reg.Region, prefix))
		if errors.Is(err, pgx.ErrNoRows) {
			return meta.ErrNotFound
		}
		return err
	})
	return r, err
}

func (s *Store) PullThroughChecked(ctx context.Context, repoID int64, tag string) (time.Time, error) {
	var at pgtype.Timestamptz
	err := s.pool.QueryRow(ctx, `SELECT checked_at FROM pull_through_checks WHERE repo_id = $1 AND tag = $2`, repoID, tag).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		err = meta.ErrNotFound
	}
	if err != nil {
		return time.Time{}, wrap(ctx, "pull through check of "+tag, err)
	}
	return fromTS(at), nil
}

// MarkPullThroughChecked inserts from the repository's row: a repository
// deleted meanwhile inserts nothing, which is ErrRepositoryUnknown.
func (s *Store) MarkPullThroughChecked(ctx context.Context, repoID int64, tag string, at time.Time) error {
	return s.exec(ctx, "mark pull through check of "+tag, meta.ErrRepositoryUnknown, `
		INSERT INTO pull_through_checks (repo_id, tag, checked_at)
		SELECT id, $2, $3 FROM repositories WHERE id = $1
		ON CONFLICT (repo_id, tag) DO UPDATE SET checked_at = excluded.checked_at`, repoID, tag, ts(at))
}
