package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/berth-registry/berth/internal/meta"
)

// OIDC providers: client ids and thumbprints are text arrays.

const oidcColumns = `arn, account, url, client_ids, thumbprints, created_at`

func scanOIDCProvider(row scanner) (*meta.IAMOIDCProvider, error) {
	var (
		p       meta.IAMOIDCProvider
		created pgtype.Timestamptz
	)
	if err := row.Scan(&p.ARN, &p.Account, &p.URL, &p.ClientIDs, &p.Thumbprints, &created); err != nil {
		return nil, err
	}
	p.CreatedAt = fromTS(created)
	return &p, nil
}

// textList is list for a NOT NULL text[] column.
func textList(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

func (s *Store) CreateOIDCProvider(ctx context.Context, p *meta.IAMOIDCProvider) error {
	return s.write(ctx, "create oidc provider", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO iam_oidc_providers (`+oidcColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (arn) DO NOTHING`,
			p.ARN, p.Account, p.URL, textList(p.ClientIDs), textList(p.Thumbprints), ts(p.CreatedAt))
		if err == nil && tag.RowsAffected() == 0 {
			err = iamErr(meta.ErrIAMExists, meta.IAMWhatOIDCProvider, p.ARN)
		}
		return err
	})
}

func (s *Store) GetOIDCProvider(ctx context.Context, arn string) (*meta.IAMOIDCProvider, error) {
	p, err := scanOIDCProvider(s.pool.QueryRow(ctx, `SELECT `+oidcColumns+` FROM iam_oidc_providers WHERE arn = $1`, arn))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.IAMWhatOIDCProvider, arn)
	}
	if err != nil {
		return nil, wrap(ctx, "get oidc provider", err)
	}
	return p, nil
}

func (s *Store) ListOIDCProviders(ctx context.Context, account string) ([]*meta.IAMOIDCProvider, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+oidcColumns+` FROM iam_oidc_providers WHERE account = $1 ORDER BY arn`, account)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*meta.IAMOIDCProvider, error) {
		return scanOIDCProvider(row)
	})
	if err != nil {
		return nil, wrap(ctx, "list oidc providers", err)
	}
	return out, nil
}

// UpdateOIDCProvider locks the row FOR UPDATE, so that concurrent updates
// apply one after the other.
func (s *Store) UpdateOIDCProvider(ctx context.Context, arn string, update func(p *meta.IAMOIDCProvider) error) error {
	return s.write(ctx, "update oidc provider", func(tx pgx.Tx) error {
		p, err := scanOIDCProvider(tx.QueryRow(ctx, `SELECT `+oidcColumns+` FROM iam_oidc_providers WHERE arn = $1 FOR UPDATE`, arn))
		if errors.Is(err, pgx.ErrNoRows) {
			return iamErr(meta.ErrIAMNotFound, meta.IAMWhatOIDCProvider, arn)
		}
		if err != nil {
			return err
		}
		if err := update(p); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE iam_oidc_providers SET client_ids = $1, thumbprints = $2 WHERE arn = $3`,
			textList(p.ClientIDs), textList(p.Thumbprints), arn)
		return err
	})
}

func (s *Store) DeleteOIDCProvider(ctx context.Context, arn string) error {
	return s.write(ctx, "delete oidc provider", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM iam_oidc_providers WHERE arn = $1`, arn)
		if err == nil && tag.RowsAffected() == 0 {
			err = iamErr(meta.ErrIAMNotFound, meta.IAMWhatOIDCProvider, arn)
		}
		return err
	})
}
