package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/berth-registry/berth/internal/meta"
)

// SetPublicAlias serialises alias changes on a transaction-level advisory
// lock: two nodes giving one alias to two accounts, or two aliases to one
// account, at once must not both win. Alias changes are rare admin work.
func (s *Store) SetPublicAlias(ctx context.Context, a meta.PublicAlias) error {
	return s.write(ctx, "set public alias", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('berth.public_aliases'))`); err != nil {
			return err
		}
		var owner string
		err := tx.QueryRow(ctx, `SELECT account FROM public_aliases WHERE alias = $1`, a.Alias).Scan(&owner)
		switch {
		case err == nil && owner != a.Account:
			return meta.ErrPublicAliasTaken
		case err == nil:
			return nil // already this account's
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM public_aliases WHERE account = $1`, a.Account); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO public_aliases (alias, account, created_at) VALUES ($1, $2, $3)`,
			a.Alias, a.Account, ts(a.CreatedAt))
		return err
	})
}

func (s *Store) PublicAliasAccount(ctx context.Context, alias string) (string, error) {
	var acct string
	err := s.pool.QueryRow(ctx, `SELECT account FROM public_aliases WHERE alias = $1`, alias).Scan(&acct)
	if errors.Is(err, pgx.ErrNoRows) {
		err = meta.ErrNotFound
	}
	if err != nil {
		return "", wrap(ctx, "public alias "+alias, err)
	}
	return acct, nil
}

func (s *Store) PublicAliasOf(ctx context.Context, account string) (*meta.PublicAlias, error) {
	a := meta.PublicAlias{Account: account}
	var created pgtype.Timestamptz
	err := s.pool.QueryRow(ctx, `SELECT alias, created_at FROM public_aliases WHERE account = $1`, account).Scan(&a.Alias, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		err = meta.ErrNotFound
	}
	if err != nil {
		return nil, wrap(ctx, "public alias of "+account, err)
	}
	a.CreatedAt = fromTS(created)
	return &a, nil
}

func (s *Store) ListPublicAliases(ctx context.Context) ([]*meta.PublicAlias, error) {
	rows, err := s.pool.Query(ctx, `SELECT alias, account, created_at FROM public_aliases ORDER BY alias`)
	if err != nil {
		return nil, wrap(ctx, "list public aliases", err)
	}
	defer rows.Close()
	var out []*meta.PublicAlias
	for rows.Next() {
		var (
			a       meta.PublicAlias
			created pgtype.Timestamptz
		)
		if err := rows.Scan(&a.Alias, &a.Account, &created); err != nil {
			return nil, wrap(ctx, "list public aliases", err)
		}
		a.CreatedAt = fromTS(created)
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "list public aliases", err)
	}
	return out, nil
}

// CountPublicPull is one upsert: PostgreSQL's row lock on the counter
// makes concurrent increments from every node add up.
func (s *Store) CountPublicPull(ctx context.Context, key string, window int64) (int64, error) {
	var n int64
	err := s.retry(ctx, "count public pull", func() error {
		return s.pool.QueryRow(ctx, `
			INSERT INTO public_pull_counts (key, win, count) VALUES ($1, $2, 1)
			ON CONFLICT (key, win) DO UPDATE SET count = public_pull_counts.count + 1
			RETURNING count`, key, window).Scan(&n)
	})
	if err != nil {
		return 0, err
	}
	if n == 1 {
		// The first pull of a window is rare enough to pay for forgetting
		// the windows that can no longer be asked about; losing this
		// cleanup to an error costs nothing but a row.
		_, _ = s.pool.Exec(ctx, `DELETE FROM public_pull_counts WHERE win < $1`, window-1)
	}
	return n, nil
}
