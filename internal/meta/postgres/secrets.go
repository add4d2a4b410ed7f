package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/berth-registry/berth/internal/meta"
)

// Secrets Manager's secrets (meta.SecretStore). A change to a secret
// locks its row FOR NO KEY UPDATE before it looks at anything, so changes
// to one secret queue (two PutSecretValue calls never both hand
// AWSPREVIOUS to the version that was current) while reads go on.

const secretColumns = `secrets.id, secrets.account, secrets.region, secrets.name, secrets.arn, secrets.description,
	secrets.kms_key_id, secrets.created_at, secrets.changed_at, secrets.accessed_at, secrets.deleted_at, secrets.deletion_date`

func scanSecret(row scanner) (meta.Secret, error) {
	var (
		s                                 meta.Secret
		accessed, deletedAt, deletionDate pgtype.Timestamptz
	)
	err := row.Scan(&s.ID, &s.Registry.Account, &s.Registry.Region, &s.Name, &s.ARN, &s.Description, &s.KMSKeyID,
		&s.CreatedAt, &s.ChangedAt, &accessed, &deletedAt, &deletionDate)
	s.CreatedAt, s.ChangedAt = s.CreatedAt.UTC(), s.ChangedAt.UTC()
	s.AccessedAt, s.DeletedAt, s.DeletionDate = fromTS(accessed), fromTS(deletedAt), fromTS(deletionDate)
	return s, err
}

func (s *Store) CreateSecret(ctx context.Context, sec *meta.Secret, v *meta.SecretVersion) error {
	return s.write(ctx, "create secret "+sec.Name, func(tx pgx.Tx) error {
		var (
			oldID    int64
			deletion pgtype.Timestamptz
		)
		err := tx.QueryRow(ctx, `SELECT id, deletion_date FROM secrets WHERE account = $1 AND region = $2 AND name = $3 FOR UPDATE`,
			sec.Registry.Account, sec.Registry.Region, sec.Name).Scan(&oldID, &deletion)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		case !deletion.Valid:
			return meta.ErrSecretExists
		case deletion.Time.After(sec.CreatedAt):
			return meta.ErrSecretScheduled
		default:
			// Its recovery window is over: it goes, the new one comes.
			if _, err := tx.Exec(ctx, `DELETE FROM secrets WHERE id = $1`, oldID); err != nil {
				return err
			}
		}
		// Of two creations of one name at once, the second waits for the
		// first's row and then inserts nothing.
		err = tx.QueryRow(ctx, `
			INSERT INTO secrets (account, region, name, arn, description, kms_key_id, created_at, changed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id`,
			sec.Registry.Account, sec.Registry.Region, sec.Name, sec.ARN, sec.Description, sec.KMSKeyID,
			sec.CreatedAt, sec.ChangedAt).Scan(&sec.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return meta.ErrSecretExists
		}
		if err != nil {
			return err
		}
		if err := setSecretTags(ctx, tx, sec.ID, sec.Tags); err != nil {
			return err
		}
		if v != nil {
			return addSecretVersion(ctx, tx, sec.ID, v)
		}
		return nil
	})
}

func setSecretTags(ctx context.Context, tx pgx.Tx, id int64, tags []meta.Tag) error {
	for _, t := range tags {
		if _, err := tx.Exec(ctx, `
			INSERT INTO secret_tags (secret_id, key, value) VALUES ($1, $2, $3)
			ON CONFLICT (secret_id, key) DO UPDATE SET value = excluded.value`, id, t.Key, t.Value); err != nil {
			return err
		}
	}
	return nil
}

// addSecretVersion adds v and moves its labels to it (AWSCURRENT's
// previous holder gets AWSPREVIOUS), then removes the oldest deprecated
// versions past meta.MaxSecretVersions. The caller holds the secret's row.
func addSecretVersion(ctx context.Context, tx pgx.Tx, id int64, v *meta.SecretVersion) error {
	added, err := exists(ctx, tx, `
		INSERT INTO secret_versions (secret_id, version_id, value, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING RETURNING 1`, id, v.ID, v.Value, v.CreatedAt)
	if err != nil {
		return err
	}
	if !added {
		return meta.ErrSecretVersionExists
	}
	const moveStage = `
		INSERT INTO secret_stages (secret_id, stage, version_id) VALUES ($1, $2, $3)
		ON CONFLICT (secret_id, stage) DO UPDATE SET version_id = excluded.version_id`
	for _, stage := range v.Stages {
		if stage != meta.StageCurrent {
			continue
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO secret_stages (secret_id, stage, version_id)
			SELECT secret_id, $2, version_id FROM secret_stages WHERE secret_id = $1 AND stage = $3
			ON CONFLICT (secret_id, stage) DO UPDATE SET version_id = excluded.version_id`,
			id, meta.StagePrevious, meta.StageCurrent); err != nil {
			return err
		}
	}
	for _, stage := range v.Stages {
		if _, err := tx.Exec(ctx, moveStage, id, stage, v.ID); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `
		DELETE FROM secret_versions WHERE secret_id = $1 AND version_id IN (
			SELECT v.version_id FROM secret_versions v
			WHERE v.secret_id = $1 AND NOT EXISTS (
				SELECT 1 FROM secret_stages st WHERE st.secret_id = v.secret_id AND st.version_id = v.version_id)
			ORDER BY v.created_at, v.version_id
			LIMIT greatest(0, (SELECT count(*) FROM secret_versions WHERE secret_id = $1) - $2))`, id, meta.MaxSecretVersions)
	return err
}

func (s *Store) UpdateSecret(ctx context.Context, id int64, u meta.SecretUpdate) error {
	return s.write(ctx, fmt.Sprint("update secret ", id), func(tx pgx.Tx) error {
		var deletion pgtype.Timestamptz
		err := tx.QueryRow(ctx, `SELECT deletion_date FROM secrets WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&deletion)
		if errors.Is(err, pgx.ErrNoRows) {
			return meta.ErrSecretNotFound
		}
		if err != nil {
			return err
		}
		if u.Live && deletion.Valid {
			return meta.ErrSecretScheduled
		}
		var (
			schedule                bool
			deletedAt, deletionDate pgtype.Timestamptz
		)
		if u.Schedule != nil {
			schedule, deletedAt, deletionDate = true, ts(u.Schedule.DeletedAt), ts(u.Schedule.DeletionDate)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE secrets SET
				description = coalesce($2, description),
				kms_key_id = coalesce($3, kms_key_id),
				changed_at = coalesce($4, changed_at),
				accessed_at = coalesce($5, accessed_at),
				deleted_at = CASE WHEN $6::boolean THEN $7 ELSE deleted_at END,
				deletion_date = CASE WHEN $6::boolean THEN $8 ELSE deletion_date END
			WHERE id = $1`,
			id, u.Description, u.KMSKeyID, ts(u.At), ts(u.AccessedAt), schedule, deletedAt, deletionDate); err != nil {
			return err
		}
		if u.Version != nil {
			if err := addSecretVersion(ctx, tx, id, u.Version); err != nil {
				return err
			}
		}
		if err := setSecretTags(ctx, tx, id, u.SetTags); err != nil {
			return err
		}
		if len(u.RemoveTags) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM secret_tags WHERE secret_id = $1 AND key = ANY($2)`, id, u.RemoveTags); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) DeleteSecret(ctx context.Context, id int64) error {
	return s.exec(ctx, fmt.Sprint("delete secret ", id), meta.ErrSecretNotFound, `DELETE FROM secrets WHERE id = $1`, id)
}

func (s *Store) Secret(ctx context.Context, reg meta.RegistryKey, name string) (*meta.Secret, error) {
	return s.oneSecret(ctx, "secret "+name, `secrets.account = $1 AND secrets.region = $2 AND secrets.name = $3`, reg.Account, reg.Region, name)
}

func (s *Store) SecretByARN(ctx context.Context, arn string) (*meta.Secret, error) {
	return s.oneSecret(ctx, "secret "+arn, `secrets.arn = $1`, arn)
}

func (s *Store) oneSecret(ctx context.Context, op, where string, args ...any) (*meta.Secret, error) {
	secs, err := s.loadSecrets(ctx, op, where, args...)
	if err != nil {
		return nil, err
	}
	if len(secs) == 0 {
		return nil, fmt.Errorf("meta/postgres: %s: %w", op, meta.ErrSecretNotFound)
	}
	return &secs[0], nil
}

func (s *Store) Secrets(ctx context.Context, reg meta.RegistryKey) ([]meta.Secret, error) {
	return s.loadSecrets(ctx, "secrets", `secrets.account = $1 AND secrets.region = $2`, reg.Account, reg.Region)
}

// loadSecrets reads the secrets where says, with their versions and tags,
// in one snapshot so that the three agree.
func (s *Store) loadSecrets(ctx context.Context, op, where string, args ...any) (out []meta.Secret, err error) {
	err = s.read(ctx, op, func(tx pgx.Tx) error {
		out = nil
		rows, _ := tx.Query(ctx, `SELECT `+secretColumns+` FROM secrets WHERE `+where+` ORDER BY secrets.name`, args...)
		secs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (meta.Secret, error) { return scanSecret(row) })
		if err != nil || len(secs) == 0 {
			return err
		}
		out = secs
		byID := map[int64]int{}
		for i, sec := range out {
			byID[sec.ID] = i
		}
		rows, _ = tx.Query(ctx, `
			SELECT v.secret_id, v.version_id, v.created_at, st.stage
			FROM secrets JOIN secret_versions v ON v.secret_id = secrets.id
			LEFT JOIN secret_stages st ON st.secret_id = v.secret_id AND st.version_id = v.version_id
			WHERE `+where+`
			ORDER BY v.secret_id, v.created_at DESC, v.version_id DESC, st.stage`, args...)
		var (
			sid   int64
			vid   string
			v     meta.SecretVersion
			stage *string
		)
		_, err = pgx.ForEachRow(rows, []any{&sid, &vid, &v.CreatedAt, &stage}, func() error {
			sec := &out[byID[sid]]
			if n := len(sec.Versions); n == 0 || sec.Versions[n-1].ID != vid {
				sec.Versions = append(sec.Versions, meta.SecretVersion{ID: vid, CreatedAt: v.CreatedAt.UTC()})
			}
			if stage != nil {
				last := &sec.Versions[len(sec.Versions)-1]
				last.Stages = append(last.Stages, *stage)
			}
			return nil
		})
		if err != nil {
			return err
		}
		rows, _ = tx.Query(ctx, `
			SELECT t.secret_id, t.key, t.value FROM secrets JOIN secret_tags t ON t.secret_id = secrets.id
			WHERE `+where+` ORDER BY t.secret_id, t.key`, args...)
		var t meta.Tag
		_, err = pgx.ForEachRow(rows, []any{&sid, &t.Key, &t.Value}, func() error {
			sec := &out[byID[sid]]
			sec.Tags = append(sec.Tags, t)
			return nil
		})
		return err
	})
	return out, err
}

func (s *Store) SecretVersionValue(ctx context.Context, secretID int64, versionID, stage string) (*meta.SecretVersion, error) {
	var v *meta.SecretVersion
	op := fmt.Sprintf("secret %d version %q stage %q", secretID, versionID, stage)
	err := s.read(ctx, op, func(tx pgx.Tx) error {
		v = &meta.SecretVersion{}
		var err error
		if versionID != "" {
			v.ID = versionID
			err = tx.QueryRow(ctx, `SELECT created_at, value FROM secret_versions WHERE secret_id = $1 AND version_id = $2`,
				secretID, versionID).Scan(&v.CreatedAt, &v.Value)
		} else {
			err = tx.QueryRow(ctx, `
				SELECT v.version_id, v.created_at, v.value FROM secret_stages st
				JOIN secret_versions v ON v.secret_id = st.secret_id AND v.version_id = st.version_id
				WHERE st.secret_id = $1 AND st.stage = $2`, secretID, stage).Scan(&v.ID, &v.CreatedAt, &v.Value)
		}
		if errors.Is(err, pgx.ErrNoRows) {
			found, err := exists(ctx, tx, `SELECT 1 FROM secrets WHERE id = $1`, secretID)
			if err != nil {
				return err
			}
			if !found {
				return meta.ErrSecretNotFound
			}
			return meta.ErrSecretVersionNotFound
		}
		if err != nil {
			return err
		}
		v.CreatedAt = v.CreatedAt.UTC()
		rows, _ := tx.Query(ctx, `SELECT stage FROM secret_stages WHERE secret_id = $1 AND version_id = $2 ORDER BY stage`, secretID, v.ID)
		v.Stages, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}
