package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/berth-registry/berth/internal/meta"
)

var _ meta.ExportStore = (*Store)(nil)

func (s *Store) Registries(ctx context.Context) ([]meta.RegistryKey, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT account, region FROM repositories
		UNION SELECT account, region FROM registry_settings
		UNION SELECT account, region FROM repository_templates
		UNION SELECT account, region FROM secrets
		UNION SELECT account, region FROM pull_through_rules
		ORDER BY account, region`)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (meta.RegistryKey, error) {
		var k meta.RegistryKey
		err := row.Scan(&k.Account, &k.Region)
		return k, err
	})
	if err != nil {
		return nil, wrap(ctx, "registries", err)
	}
	return out, nil
}

func (s *Store) RegistrySettings(ctx context.Context, reg meta.RegistryKey) (map[string]string, error) {
	rows, _ := s.pool.Query(ctx,
		`SELECT name, value FROM registry_settings WHERE account = $1 AND region = $2`, reg.Account, reg.Region)
	out := map[string]string{}
	var name, value string
	_, err := pgx.ForEachRow(rows, []any{&name, &value}, func() error {
		out[name] = value
		return nil
	})
	if err != nil {
		return nil, wrap(ctx, "registry settings", err)
	}
	return out, nil
}

func (s *Store) BlobLinks(ctx context.Context, repoID int64, after string, limit int) ([]meta.Blob, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT rb.digest, b.size FROM repo_blobs rb JOIN blobs b ON b.digest = rb.digest
		WHERE rb.repo_id = $1 AND rb.digest > $2
		ORDER BY rb.digest LIMIT $3`, repoID, after, sqlLimit(limit))
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (meta.Blob, error) {
		var b meta.Blob
		err := row.Scan(&b.Digest, &b.Size)
		return b, err
	})
	if err != nil {
		return nil, wrap(ctx, "blob links", err)
	}
	return out, nil
}

// ManifestRefs reads the manifest and its refs in one snapshot, so that
// "no refs" and "no manifest" cannot be mistaken for each other.
func (s *Store) ManifestRefs(ctx context.Context, repoID int64, digest string) ([]meta.Ref, error) {
	var out []meta.Ref
	err := s.read(ctx, "manifest refs of "+digest, func(tx pgx.Tx) error {
		found, err := exists(ctx, tx, `SELECT 1 FROM manifests WHERE repo_id = $1 AND digest = $2`, repoID, digest)
		if err != nil {
			return err
		}
		if !found {
			return meta.ErrManifestUnknown
		}
		rows, _ := tx.Query(ctx, `
			SELECT kind, ref_digest FROM manifest_refs
			WHERE repo_id = $1 AND manifest_digest = $2
			ORDER BY kind, ref_digest`, repoID, digest)
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (meta.Ref, error) {
			var kind, ref string
			err := row.Scan(&kind, &ref)
			return meta.Ref{Digest: ref, Kind: meta.RefKind(kind)}, err
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) IAMAccounts(ctx context.Context) ([]string, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT id COLLATE "C" FROM iam_accounts
		UNION SELECT account COLLATE "C" FROM iam_entities
		UNION SELECT account COLLATE "C" FROM iam_policies
		UNION SELECT account COLLATE "C" FROM iam_access_keys
		UNION SELECT account COLLATE "C" FROM iam_oidc_providers
		ORDER BY 1`)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap(ctx, "IAM accounts", err)
	}
	return out, nil
}

func (s *Store) SSOInstance(ctx context.Context) (*meta.SSOInstance, error) {
	var (
		inst    meta.SSOInstance
		created pgtype.Timestamptz
	)
	err := s.pool.QueryRow(ctx, `SELECT arn, identity_store_id, account, created_at FROM sso_instances`).
		Scan(&inst.ARN, &inst.IdentityStoreID, &inst.Account, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(ctx, "sso instance", err)
	}
	inst.CreatedAt = fromTS(created)
	return &inst, nil
}
