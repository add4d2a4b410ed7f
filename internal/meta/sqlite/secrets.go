package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// Secrets Manager's secrets (meta.SecretStore). Every write runs on the
// one writer, so a check and the write it guards never interleave with
// another's.

const secretColumns = `secrets.id, secrets.account, secrets.region, secrets.name, secrets.arn, secrets.description,
	secrets.kms_key_id, secrets.created_at, secrets.changed_at, secrets.accessed_at, secrets.deleted_at, secrets.deletion_date`

func scanSecret(row interface{ Scan(...any) error }) (meta.Secret, error) {
	var (
		s                                 meta.Secret
		created, changed                  int64
		accessed, deletedAt, deletionDate sql.NullInt64
	)
	err := row.Scan(&s.ID, &s.Registry.Account, &s.Registry.Region, &s.Name, &s.ARN, &s.Description, &s.KMSKeyID,
		&created, &changed, &accessed, &deletedAt, &deletionDate)
	s.CreatedAt, s.ChangedAt = time.Unix(0, created).UTC(), time.Unix(0, changed).UTC()
	s.AccessedAt, s.DeletedAt, s.DeletionDate = fromNanos(accessed), fromNanos(deletedAt), fromNanos(deletionDate)
	return s, err
}

func (s *Store) CreateSecret(ctx context.Context, sec *meta.Secret, v *meta.SecretVersion) error {
	return s.write(ctx, "create secret "+sec.Name, func(tx *wtx) error {
		var (
			oldID    int64
			deletion sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `SELECT id, deletion_date FROM secrets WHERE account = ? AND region = ? AND name = ?`,
			sec.Registry.Account, sec.Registry.Region, sec.Name).Scan(&oldID, &deletion)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case !deletion.Valid:
			return meta.ErrSecretExists
		case deletion.Int64 > sec.CreatedAt.UnixNano():
			return meta.ErrSecretScheduled
		default:
			// Its recovery window is over: it goes, the new one comes.
			if _, err := tx.ExecContext(ctx, `DELETE FROM secrets WHERE id = ?`, oldID); err != nil {
				return err
			}
		}
		err = tx.QueryRowContext(ctx, `
			INSERT INTO secrets (account, region, name, arn, description, kms_key_id, created_at, changed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			sec.Registry.Account, sec.Registry.Region, sec.Name, sec.ARN, sec.Description, sec.KMSKeyID,
			sec.CreatedAt.UnixNano(), sec.ChangedAt.UnixNano()).Scan(&sec.ID)
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

func setSecretTags(ctx context.Context, tx *wtx, id int64, tags []meta.Tag) error {
	for _, t := range tags {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO secret_tags (secret_id, key, value) VALUES (?, ?, ?)
			ON CONFLICT (secret_id, key) DO UPDATE SET value = excluded.value`, id, t.Key, t.Value); err != nil {
			return err
		}
	}
	return nil
}

// addSecretVersion adds v and moves its labels to it (AWSCURRENT's
// previous holder gets AWSPREVIOUS), then removes the oldest deprecated
// versions past meta.MaxSecretVersions.
func addSecretVersion(ctx context.Context, tx *wtx, id int64, v *meta.SecretVersion) error {
	var one int
	err := tx.QueryRowContext(ctx, `
		INSERT INTO secret_versions (secret_id, version_id, value, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT DO NOTHING RETURNING 1`, id, v.ID, v.Value, v.CreatedAt.UnixNano()).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return meta.ErrSecretVersionExists
	}
	if err != nil {
		return err
	}
	const moveStage = `
		INSERT INTO secret_stages (secret_id, stage, version_id) VALUES (?, ?, ?)
		ON CONFLICT (secret_id, stage) DO UPDATE SET version_id = excluded.version_id`
	for _, stage := range v.Stages {
		if stage == meta.StageCurrent {
			var prev string
			err := tx.QueryRowContext(ctx, `SELECT version_id FROM secret_stages WHERE secret_id = ? AND stage = ?`, id, meta.StageCurrent).Scan(&prev)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return err
			default:
				if _, err := tx.ExecContext(ctx, moveStage, id, meta.StagePrevious, prev); err != nil {
					return err
				}
			}
		}
	}
	for _, stage := range v.Stages {
		if _, err := tx.ExecContext(ctx, moveStage, id, stage, v.ID); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `
		DELETE FROM secret_versions WHERE secret_id = ?1 AND version_id IN (
			SELECT v.version_id FROM secret_versions v
			WHERE v.secret_id = ?1 AND NOT EXISTS (
				SELECT 1 FROM secret_stages st WHERE st.secret_id = v.secret_id AND st.version_id = v.version_id)
			ORDER BY v.created_at, v.version_id
			LIMIT max(0, (SELECT count(*) FROM secret_versions WHERE secret_id = ?1) - ?2))`, id, meta.MaxSecretVersions)
	return err
}

func (s *Store) UpdateSecret(ctx context.Context, id int64, u meta.SecretUpdate) error {
	return s.write(ctx, fmt.Sprint("update secret ", id), func(tx *wtx) error {
		var deletion sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT deletion_date FROM secrets WHERE id = ?`, id).Scan(&deletion)
		if errors.Is(err, sql.ErrNoRows) {
			return meta.ErrSecretNotFound
		}
		if err != nil {
			return err
		}
		if u.Live && deletion.Valid {
			return meta.ErrSecretScheduled
		}
		var schedule bool
		var deletedAt, deletionDate sql.NullInt64
		if u.Schedule != nil {
			schedule, deletedAt, deletionDate = true, nanos(u.Schedule.DeletedAt), nanos(u.Schedule.DeletionDate)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE secrets SET
				description = coalesce(?2, description),
				kms_key_id = coalesce(?3, kms_key_id),
				changed_at = coalesce(?4, changed_at),
				accessed_at = coalesce(?5, accessed_at),
				deleted_at = CASE WHEN ?6 THEN ?7 ELSE deleted_at END,
				deletion_date = CASE WHEN ?6 THEN ?8 ELSE deletion_date END
			WHERE id = ?1`,
			id, u.Description, u.KMSKeyID, nanos(u.At), nanos(u.AccessedAt), schedule, deletedAt, deletionDate); err != nil {
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
		for _, k := range u.RemoveTags {
			if _, err := tx.ExecContext(ctx, `DELETE FROM secret_tags WHERE secret_id = ? AND key = ?`, id, k); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) DeleteSecret(ctx context.Context, id int64) error {
	return s.write(ctx, fmt.Sprint("delete secret ", id), func(tx *wtx) error {
		return execAffect(ctx, tx, meta.ErrSecretNotFound, `DELETE FROM secrets WHERE id = ?`, id)
	})
}

func (s *Store) Secret(ctx context.Context, reg meta.RegistryKey, name string) (*meta.Secret, error) {
	return s.oneSecret(ctx, "secret "+name, `secrets.account = ? AND secrets.region = ? AND secrets.name = ?`, reg.Account, reg.Region, name)
}

func (s *Store) SecretByARN(ctx context.Context, arn string) (*meta.Secret, error) {
	return s.oneSecret(ctx, "secret "+arn, `secrets.arn = ?`, arn)
}

func (s *Store) oneSecret(ctx context.Context, op, where string, args ...any) (*meta.Secret, error) {
	secs, err := s.loadSecrets(ctx, op, where, args...)
	if err != nil {
		return nil, err
	}
	if len(secs) == 0 {
		return nil, fmt.Errorf("meta/sqlite: %s: %w", op, meta.ErrSecretNotFound)
	}
	return &secs[0], nil
}

func (s *Store) Secrets(ctx context.Context, reg meta.RegistryKey) ([]meta.Secret, error) {
	return s.loadSecrets(ctx, "secrets", `secrets.account = ? AND secrets.region = ?`, reg.Account, reg.Region)
}

// loadSecrets reads the secrets where says, with their versions and tags,
// in one read transaction so that the three agree.
func (s *Store) loadSecrets(ctx context.Context, op, where string, args ...any) (out []meta.Secret, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("meta/sqlite: %s: %w", op, err)
		}
	}()
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+secretColumns+` FROM secrets WHERE `+where+` ORDER BY secrets.name`, args...)
	if err != nil {
		return nil, err
	}
	byID := map[int64]int{}
	for rows.Next() {
		sec, err := scanSecret(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		byID[sec.ID] = len(out)
		out = append(out, sec)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	rows, err = tx.QueryContext(ctx, `
		SELECT v.secret_id, v.version_id, v.created_at, st.stage
		FROM secrets JOIN secret_versions v ON v.secret_id = secrets.id
		LEFT JOIN secret_stages st ON st.secret_id = v.secret_id AND st.version_id = v.version_id
		WHERE `+where+`
		ORDER BY v.secret_id, v.created_at DESC, v.version_id DESC, st.stage`, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var (
			sid     int64
			vid     string
			created int64
			stage   sql.NullString
		)
		if err := rows.Scan(&sid, &vid, &created, &stage); err != nil {
			rows.Close()
			return nil, err
		}
		sec := &out[byID[sid]]
		if n := len(sec.Versions); n == 0 || sec.Versions[n-1].ID != vid {
			sec.Versions = append(sec.Versions, meta.SecretVersion{ID: vid, CreatedAt: time.Unix(0, created).UTC()})
		}
		if stage.Valid {
			v := &sec.Versions[len(sec.Versions)-1]
			v.Stages = append(v.Stages, stage.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.QueryContext(ctx, `
		SELECT t.secret_id, t.key, t.value FROM secrets JOIN secret_tags t ON t.secret_id = secrets.id
		WHERE `+where+` ORDER BY t.secret_id, t.key`, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var (
			sid int64
			t   meta.Tag
		)
		if err := rows.Scan(&sid, &t.Key, &t.Value); err != nil {
			rows.Close()
			return nil, err
		}
		sec := &out[byID[sid]]
		sec.Tags = append(sec.Tags, t)
	}
	return out, rows.Err()
}

func (s *Store) SecretVersionValue(ctx context.Context, secretID int64, versionID, stage string) (v *meta.SecretVersion, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("meta/sqlite: secret %d version %q stage %q: %w", secretID, versionID, stage, err)
		}
	}()
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	v = &meta.SecretVersion{}
	var created int64
	if versionID != "" {
		v.ID = versionID
		err = tx.QueryRowContext(ctx, `SELECT created_at, value FROM secret_versions WHERE secret_id = ? AND version_id = ?`,
			secretID, versionID).Scan(&created, &v.Value)
	} else {
		err = tx.QueryRowContext(ctx, `
			SELECT v.version_id, v.created_at, v.value FROM secret_stages st
			JOIN secret_versions v ON v.secret_id = st.secret_id AND v.version_id = st.version_id
			WHERE st.secret_id = ? AND st.stage = ?`, secretID, stage).Scan(&v.ID, &created, &v.Value)
	}
	if errors.Is(err, sql.ErrNoRows) {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM secrets WHERE id = ?`, secretID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return nil, meta.ErrSecretNotFound
		}
		return nil, meta.ErrSecretVersionNotFound
	}
	if err != nil {
		return nil, err
	}
	v.CreatedAt = time.Unix(0, created).UTC()
	rows, err := tx.QueryContext(ctx, `SELECT stage FROM secret_stages WHERE secret_id = ? AND version_id = ? ORDER BY stage`, secretID, v.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		if err := rows.Scan(&st); err != nil {
			return nil, err
		}
		v.Stages = append(v.Stages, st)
	}
	return v, rows.Err()
}
