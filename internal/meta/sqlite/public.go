package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/berth-registry/berth/internal/meta"
)

// SetPublicAlias checks and writes in one write transaction; the store has
// a single writer connection, so two accounts cannot both take an alias.
func (s *Store) SetPublicAlias(ctx context.Context, a meta.PublicAlias) error {
	return s.write(ctx, "set public alias", func(tx *wtx) error {
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT account FROM public_aliases WHERE alias = ?`, a.Alias).Scan(&owner)
		switch {
		case err == nil && owner != a.Account:
			return meta.ErrPublicAliasTaken
		case err == nil:
			return nil // already this account's
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM public_aliases WHERE account = ?`, a.Account); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO public_aliases (alias, account, created_at) VALUES (?, ?, ?)`,
			a.Alias, a.Account, nanos(a.CreatedAt))
		return err
	})
}

func (s *Store) PublicAliasAccount(ctx context.Context, alias string) (string, error) {
	var acct string
	err := s.queryRow(ctx, `SELECT account FROM public_aliases WHERE alias = ?`, alias).Scan(&acct)
	if errors.Is(err, sql.ErrNoRows) {
		err = meta.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("meta/sqlite: public alias %s: %w", alias, err)
	}
	return acct, nil
}

func (s *Store) PublicAliasOf(ctx context.Context, account string) (*meta.PublicAlias, error) {
	a := meta.PublicAlias{Account: account}
	var created sql.NullInt64
	err := s.queryRow(ctx, `SELECT alias, created_at FROM public_aliases WHERE account = ?`, account).Scan(&a.Alias, &created)
	if errors.Is(err, sql.ErrNoRows) {
		err = meta.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: public alias of %s: %w", account, err)
	}
	a.CreatedAt = fromNanos(created)
	return &a, nil
}

func (s *Store) ListPublicAliases(ctx context.Context) ([]*meta.PublicAlias, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT alias, account, created_at FROM public_aliases ORDER BY alias`)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list public aliases: %w", err)
	}
	defer rows.Close()
	var out []*meta.PublicAlias
	for rows.Next() {
		var (
			a       meta.PublicAlias
			created sql.NullInt64
		)
		if err := rows.Scan(&a.Alias, &a.Account, &created); err != nil {
			return nil, fmt.Errorf("meta/sqlite: list public aliases: %w", err)
		}
		a.CreatedAt = fromNanos(created)
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: list public aliases: %w", err)
	}
	return out, nil
}

func (s *Store) CountPublicPull(ctx context.Context, key string, window int64) (int64, error) {
	var n int64
	err := s.write(ctx, "count public pull", func(tx *wtx) error {
		if err := tx.QueryRowContext(ctx, `
			INSERT INTO public_pull_counts (key, win, count) VALUES (?, ?, 1)
			ON CONFLICT (key, win) DO UPDATE SET count = count + 1
			RETURNING count`, key, window).Scan(&n); err != nil {
			return err
		}
		if n == 1 {
			// The first pull of a window is rare enough to pay for
			// forgetting the windows that can no longer be asked about.
			_, err := tx.ExecContext(ctx, `DELETE FROM public_pull_counts WHERE win < ?`, window-1)
			return err
		}
		return nil
	})
	return n, err
}
