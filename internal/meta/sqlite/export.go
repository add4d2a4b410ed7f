package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/berth-registry/berth/internal/meta"
)

var _ meta.ExportStore = (*Store)(nil)

func (s *Store) Registries(ctx context.Context) ([]meta.RegistryKey, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT account, region FROM repositories
		UNION SELECT account, region FROM registry_settings
		UNION SELECT account, region FROM repository_templates
		UNION SELECT account, region FROM secrets
		UNION SELECT account, region FROM pull_through_rules
		ORDER BY account, region`)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: registries: %w", err)
	}
	defer rows.Close()
	var out []meta.RegistryKey
	for rows.Next() {
		var k meta.RegistryKey
		if err := rows.Scan(&k.Account, &k.Region); err != nil {
			return nil, fmt.Errorf("meta/sqlite: registries: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: registries: %w", err)
	}
	return out, nil
}

func (s *Store) RegistrySettings(ctx context.Context, reg meta.RegistryKey) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT name, value FROM registry_settings WHERE account = ? AND region = ?`, reg.Account, reg.Region)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: registry settings: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return nil, fmt.Errorf("meta/sqlite: registry settings: %w", err)
		}
		out[name] = value
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: registry settings: %w", err)
	}
	return out, nil
}

func (s *Store) BlobLinks(ctx context.Context, repoID int64, after string, limit int) ([]meta.Blob, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT rb.digest, b.size FROM repo_blobs rb JOIN blobs b ON b.digest = rb.digest
		WHERE rb.repo_id = ? AND rb.digest > ?
		ORDER BY rb.digest LIMIT ?`, repoID, after, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: blob links: %w", err)
	}
	defer rows.Close()
	var out []meta.Blob
	for rows.Next() {
		var b meta.Blob
		if err := rows.Scan(&b.Digest, &b.Size); err != nil {
			return nil, fmt.Errorf("meta/sqlite: blob links: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: blob links: %w", err)
	}
	return out, nil
}

// ManifestRefs reads the manifest and its refs in one read transaction, so
// that "no refs" and "no manifest" cannot be mistaken for each other.
func (s *Store) ManifestRefs(ctx context.Context, repoID int64, digest string) ([]meta.Ref, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: manifest refs: %w", err)
	}
	defer tx.Rollback()
	found, err := exists(ctx, tx, `SELECT 1 FROM manifests WHERE repo_id = ? AND digest = ?`, repoID, digest)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: manifest refs: %w", err)
	}
	if !found {
		return nil, fmt.Errorf("meta/sqlite: manifest refs of %s: %w", digest, meta.ErrManifestUnknown)
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT kind, ref_digest FROM manifest_refs
		WHERE repo_id = ? AND manifest_digest = ?
		ORDER BY kind, ref_digest`, repoID, digest)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: manifest refs: %w", err)
	}
	defer rows.Close()
	var out []meta.Ref
	for rows.Next() {
		var kind, ref string
		if err := rows.Scan(&kind, &ref); err != nil {
			return nil, fmt.Errorf("meta/sqlite: manifest refs: %w", err)
		}
		out = append(out, meta.Ref{Digest: ref, Kind: meta.RefKind(kind)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: manifest refs: %w", err)
	}
	return out, nil
}

func (s *Store) IAMAccounts(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT id FROM iam_accounts
		UNION SELECT account FROM iam_entities
		UNION SELECT account FROM iam_policies
		UNION SELECT account FROM iam_access_keys
		UNION SELECT account FROM iam_oidc_providers
		ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: IAM accounts: %w", err)
	}
	out, err := scanStrings(rows)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: IAM accounts: %w", err)
	}
	return out, nil
}

func (s *Store) SSOInstance(ctx context.Context) (*meta.SSOInstance, error) {
	var (
		inst    meta.SSOInstance
		created sql.NullInt64
	)
	err := s.r.QueryRowContext(ctx, `SELECT arn, identity_store_id, account, created_at FROM sso_instances`).
		Scan(&inst.ARN, &inst.IdentityStoreID, &inst.Account, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: sso instance: %w", err)
	}
	inst.CreatedAt = fromNanos(created)
	return &inst, nil
}
