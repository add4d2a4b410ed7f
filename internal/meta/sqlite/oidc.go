package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/berth-registry/berth/internal/meta"
)

// OIDC providers: client ids and thumbprints are kept as JSON arrays.

const oidcColumns = `arn, account, url, client_ids, thumbprints, created_at`

func scanOIDCProvider(row interface{ Scan(...any) error }) (*meta.IAMOIDCProvider, error) {
	var (
		p               meta.IAMOIDCProvider
		clients, thumbs string
		created         sql.NullInt64
	)
	if err := row.Scan(&p.ARN, &p.Account, &p.URL, &clients, &thumbs, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(clients), &p.ClientIDs); err != nil {
		return nil, fmt.Errorf("client ids of %s: %w", p.ARN, err)
	}
	if err := json.Unmarshal([]byte(thumbs), &p.Thumbprints); err != nil {
		return nil, fmt.Errorf("thumbprints of %s: %w", p.ARN, err)
	}
	p.CreatedAt = fromNanos(created)
	return &p, nil
}

// jsonList is list as a JSON array, never null.
func jsonList(list []string) string {
	if list == nil {
		list = []string{}
	}
	b, _ := json.Marshal(list) // strings always marshal
	return string(b)
}

func (s *Store) CreateOIDCProvider(ctx context.Context, p *meta.IAMOIDCProvider) error {
	return s.write(ctx, "create oidc provider", func(tx *wtx) error {
		found, err := exists(ctx, tx, `SELECT 1 FROM iam_oidc_providers WHERE arn = ?`, p.ARN)
		if err != nil {
			return err
		}
		if found {
			return iamErr(meta.ErrIAMExists, meta.IAMWhatOIDCProvider, p.ARN)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO iam_oidc_providers (`+oidcColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			p.ARN, p.Account, p.URL, jsonList(p.ClientIDs), jsonList(p.Thumbprints), nanos(p.CreatedAt))
		return err
	})
}

func (s *Store) GetOIDCProvider(ctx context.Context, arn string) (*meta.IAMOIDCProvider, error) {
	p, err := scanOIDCProvider(s.queryRow(ctx, `SELECT `+oidcColumns+` FROM iam_oidc_providers WHERE arn = ?`, arn))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.IAMWhatOIDCProvider, arn)
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get oidc provider: %w", err)
	}
	return p, nil
}

func (s *Store) ListOIDCProviders(ctx context.Context, account string) ([]*meta.IAMOIDCProvider, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+oidcColumns+` FROM iam_oidc_providers WHERE account = ? ORDER BY arn`, account)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list oidc providers: %w", err)
	}
	defer rows.Close()
	var out []*meta.IAMOIDCProvider
	for rows.Next() {
		p, err := scanOIDCProvider(rows)
		if err != nil {
			return nil, fmt.Errorf("meta/sqlite: list oidc providers: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Store) UpdateOIDCProvider(ctx context.Context, arn string, update func(p *meta.IAMOIDCProvider) error) error {
	return s.write(ctx, "update oidc provider", func(tx *wtx) error {
		p, err := scanOIDCProvider(tx.QueryRowContext(ctx, `SELECT `+oidcColumns+` FROM iam_oidc_providers WHERE arn = ?`, arn))
		if errors.Is(err, sql.ErrNoRows) {
			return iamErr(meta.ErrIAMNotFound, meta.IAMWhatOIDCProvider, arn)
		}
		if err != nil {
			return err
		}
		if err := update(p); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE iam_oidc_providers SET client_ids = ?, thumbprints = ? WHERE arn = ?`,
			jsonList(p.ClientIDs), jsonList(p.Thumbprints), arn)
		return err
	})
}

func (s *Store) DeleteOIDCProvider(ctx context.Context, arn string) error {
	return s.write(ctx, "delete oidc provider", func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM iam_oidc_providers WHERE arn = ?`, arn)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = iamErr(meta.ErrIAMNotFound, meta.IAMWhatOIDCProvider, arn)
			}
			return err
		}
		return nil
	})
}
