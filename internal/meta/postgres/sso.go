package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/berth-registry/berth/internal/meta"
)

// IAM Identity Center. Lists are JSON arrays; names compare by their
// lower-cased key columns.

// EnsureSSOInstance inserts unless the one row exists (its singleton
// column is unique), then reads the row: two nodes starting at once agree.
func (s *Store) EnsureSSOInstance(ctx context.Context, inst *meta.SSOInstance) (*meta.SSOInstance, error) {
	var out meta.SSOInstance
	err := s.write(ctx, "ensure sso instance", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sso_instances (arn, identity_store_id, account, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (singleton) DO NOTHING`, inst.ARN, inst.IdentityStoreID, inst.Account, ts(inst.CreatedAt))
		if err != nil {
			return err
		}
		var created pgtype.Timestamptz
		err = tx.QueryRow(ctx, `SELECT arn, identity_store_id, account, created_at FROM sso_instances`).
			Scan(&out.ARN, &out.IdentityStoreID, &out.Account, &created)
		out.CreatedAt = fromTS(created)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

const ssoUserColumns = `identity_store_id, user_id, user_name, display_name, given_name, family_name, emails, password_hash, created_at`

func scanSSOUser(row scanner) (*meta.SSOUser, error) {
	var (
		u       meta.SSOUser
		emails  string
		created pgtype.Timestamptz
	)
	if err := row.Scan(&u.IdentityStoreID, &u.UserID, &u.UserName, &u.DisplayName, &u.GivenName, &u.FamilyName, &emails, &u.PasswordHash, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(emails), &u.Emails); err != nil {
		return nil, fmt.Errorf("emails of %s: %w", u.UserID, err)
	}
	u.CreatedAt = fromTS(created)
	return &u, nil
}

// jsonList is list as a JSON array, never null.
func jsonList(list []string) string { return jsonOf(textList(list)) }

func jsonOf(v any) string {
	b, _ := json.Marshal(v) // the records' lists always marshal
	return string(b)
}

func emailsJSON(e []meta.SSOEmail) string {
	if e == nil {
		e = []meta.SSOEmail{}
	}
	return jsonOf(e)
}

func (s *Store) CreateSSOUser(ctx context.Context, u *meta.SSOUser) error {
	return s.write(ctx, "create sso user", func(tx pgx.Tx) error {
		found, err := exists(ctx, tx, `SELECT 1 FROM sso_users WHERE identity_store_id = $1 AND (user_key = $2 OR user_id = $3)`,
			u.IdentityStoreID, strings.ToLower(u.UserName), u.UserID)
		if err != nil {
			return err
		}
		if found {
			return iamErr(meta.ErrIAMExists, meta.SSOWhatUser, u.UserName)
		}
		return insertOnce(ctx, tx, iamErr(meta.ErrIAMExists, meta.SSOWhatUser, u.UserName),
			`INSERT INTO sso_users (`+ssoUserColumns+`, user_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
			u.IdentityStoreID, u.UserID, u.UserName, u.DisplayName, u.GivenName, u.FamilyName, emailsJSON(u.Emails), u.PasswordHash,
			ts(u.CreatedAt), strings.ToLower(u.UserName))
	})
}

func (s *Store) getSSOUser(ctx context.Context, where, name string, args ...any) (*meta.SSOUser, error) {
	u, err := scanSSOUser(s.pool.QueryRow(ctx, `SELECT `+ssoUserColumns+` FROM sso_users WHERE `+where, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.SSOWhatUser, name)
	}
	if err != nil {
		return nil, wrap(ctx, "get sso user", err)
	}
	return u, nil
}

func (s *Store) GetSSOUser(ctx context.Context, identityStoreID, userID string) (*meta.SSOUser, error) {
	return s.getSSOUser(ctx, `identity_store_id = $1 AND user_id = $2`, userID, identityStoreID, userID)
}

func (s *Store) GetSSOUserByName(ctx context.Context, identityStoreID, userName string) (*meta.SSOUser, error) {
	return s.getSSOUser(ctx, `identity_store_id = $1 AND user_key = $2`, userName, identityStoreID, strings.ToLower(userName))
}

func (s *Store) ListSSOUsers(ctx context.Context, identityStoreID string) ([]*meta.SSOUser, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+ssoUserColumns+` FROM sso_users WHERE identity_store_id = $1 ORDER BY user_key`, identityStoreID)
	if err != nil {
		return nil, wrap(ctx, "list sso users", err)
	}
	defer rows.Close()
	var out []*meta.SSOUser
	for rows.Next() {
		u, err := scanSSOUser(rows)
		if err != nil {
			return nil, wrap(ctx, "list sso users", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// insertOnce runs an INSERT … ON CONFLICT DO NOTHING and answers exists
// when it inserted nothing: the check before it may race with another
// transaction under READ COMMITTED, the unique constraints do not.
func insertOnce(ctx context.Context, tx pgx.Tx, exists error, query string, args ...any) error {
	tag, err := tx.Exec(ctx, query, args...)
	if err == nil && tag.RowsAffected() == 0 {
		return exists
	}
	return err
}

// affected turns "no row matched" into notFound.
func affected(res pgconn.CommandTag, err error, notFound error) error {
	if err != nil {
		return err
	}
	if res.RowsAffected() == 0 {
		return notFound
	}
	return nil
}

func (s *Store) SetSSOUserPassword(ctx context.Context, identityStoreID, userID, hash string) error {
	return s.write(ctx, "set sso user password", func(tx pgx.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE sso_users SET password_hash = $1 WHERE identity_store_id = $2 AND user_id = $3`, hash, identityStoreID, userID)
		return affected(res, err, iamErr(meta.ErrIAMNotFound, meta.SSOWhatUser, userID))
	})
}

func (s *Store) DeleteSSOUser(ctx context.Context, identityStoreID, userID string) error {
	return s.write(ctx, "delete sso user", func(tx pgx.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM sso_users WHERE identity_store_id = $1 AND user_id = $2`, identityStoreID, userID)
		if err := affected(res, err, iamErr(meta.ErrIAMNotFound, meta.SSOWhatUser, userID)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sso_assignments WHERE principal_id = $1`, userID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM sso_tokens WHERE identity_store_id = $1 AND user_id = $2`, identityStoreID, userID)
		return err
	})
}

const permissionSetColumns = `arn, instance_arn, name, description, session_duration, managed_policies, inline_policy, created_at`

func scanPermissionSet(row scanner) (*meta.SSOPermissionSet, error) {
	var (
		ps      meta.SSOPermissionSet
		managed string
		created pgtype.Timestamptz
	)
	if err := row.Scan(&ps.ARN, &ps.InstanceARN, &ps.Name, &ps.Description, &ps.SessionDuration, &managed, &ps.InlinePolicy, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(managed), &ps.ManagedPolicies); err != nil {
		return nil, fmt.Errorf("managed policies of %s: %w", ps.ARN, err)
	}
	ps.CreatedAt = fromTS(created)
	return &ps, nil
}

func (s *Store) CreatePermissionSet(ctx context.Context, ps *meta.SSOPermissionSet) error {
	return s.write(ctx, "create permission set", func(tx pgx.Tx) error {
		found, err := exists(ctx, tx, `SELECT 1 FROM sso_permission_sets WHERE arn = $1 OR (instance_arn = $2 AND name_key = $3)`,
			ps.ARN, ps.InstanceARN, strings.ToLower(ps.Name))
		if err != nil {
			return err
		}
		if found {
			return iamErr(meta.ErrIAMExists, meta.SSOWhatPermissionSet, ps.Name)
		}
		return insertOnce(ctx, tx, iamErr(meta.ErrIAMExists, meta.SSOWhatPermissionSet, ps.Name),
			`INSERT INTO sso_permission_sets (`+permissionSetColumns+`, name_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
			ps.ARN, ps.InstanceARN, ps.Name, ps.Description, ps.SessionDuration, jsonList(ps.ManagedPolicies), ps.InlinePolicy,
			ts(ps.CreatedAt), strings.ToLower(ps.Name))
	})
}

func (s *Store) GetPermissionSet(ctx context.Context, arn string) (*meta.SSOPermissionSet, error) {
	ps, err := scanPermissionSet(s.pool.QueryRow(ctx, `SELECT `+permissionSetColumns+` FROM sso_permission_sets WHERE arn = $1`, arn))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.SSOWhatPermissionSet, arn)
	}
	if err != nil {
		return nil, wrap(ctx, "get permission set", err)
	}
	return ps, nil
}

func (s *Store) ListPermissionSets(ctx context.Context, instanceARN string) ([]*meta.SSOPermissionSet, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+permissionSetColumns+` FROM sso_permission_sets WHERE instance_arn = $1 ORDER BY arn`, instanceARN)
	if err != nil {
		return nil, wrap(ctx, "list permission sets", err)
	}
	defer rows.Close()
	var out []*meta.SSOPermissionSet
	for rows.Next() {
		ps, err := scanPermissionSet(rows)
		if err != nil {
			return nil, wrap(ctx, "list permission sets", err)
		}
		out = append(out, ps)
	}
	return out, rows.Err()
}

func (s *Store) UpdatePermissionSet(ctx context.Context, arn string, update func(ps *meta.SSOPermissionSet) error) error {
	return s.write(ctx, "update permission set", func(tx pgx.Tx) error {
		ps, err := scanPermissionSet(tx.QueryRow(ctx, `SELECT `+permissionSetColumns+` FROM sso_permission_sets WHERE arn = $1 FOR UPDATE`, arn))
		if errors.Is(err, pgx.ErrNoRows) {
			return iamErr(meta.ErrIAMNotFound, meta.SSOWhatPermissionSet, arn)
		}
		if err != nil {
			return err
		}
		if err := update(ps); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE sso_permission_sets SET description = $1, session_duration = $2, managed_policies = $3, inline_policy = $4 WHERE arn = $5`,
			ps.Description, ps.SessionDuration, jsonList(ps.ManagedPolicies), ps.InlinePolicy, arn)
		return err
	})
}

func (s *Store) DeletePermissionSet(ctx context.Context, arn string) error {
	return s.write(ctx, "delete permission set", func(tx pgx.Tx) error {
		used, err := exists(ctx, tx, `SELECT 1 FROM sso_assignments WHERE permission_set_arn = $1`, arn)
		if err != nil {
			return err
		}
		if used {
			return conflict(meta.SSOWhatPermissionSet, arn, meta.SSOBlockedByAssignments)
		}
		res, err := tx.Exec(ctx, `DELETE FROM sso_permission_sets WHERE arn = $1`, arn)
		return affected(res, err, iamErr(meta.ErrIAMNotFound, meta.SSOWhatPermissionSet, arn))
	})
}

func assignmentName(a *meta.SSOAssignment) string {
	return a.Account + "/" + a.PermissionSetARN + "/" + a.PrincipalType + "/" + a.PrincipalID
}

func (s *Store) CreateSSOAssignment(ctx context.Context, a *meta.SSOAssignment) error {
	return s.write(ctx, "create account assignment", func(tx pgx.Tx) error {
		found, err := exists(ctx, tx, `SELECT 1 FROM sso_permission_sets WHERE arn = $1`, a.PermissionSetARN)
		if err != nil {
			return err
		}
		if !found {
			return iamErr(meta.ErrIAMNotFound, meta.SSOWhatPermissionSet, a.PermissionSetARN)
		}
		if found, err = exists(ctx, tx, `SELECT 1 FROM sso_users WHERE user_id = $1`, a.PrincipalID); err != nil {
			return err
		}
		if !found {
			return iamErr(meta.ErrIAMNotFound, meta.SSOWhatUser, a.PrincipalID)
		}
		if found, err = exists(ctx, tx, `SELECT 1 FROM sso_assignments WHERE account = $1 AND permission_set_arn = $2 AND principal_type = $3 AND principal_id = $4`,
			a.Account, a.PermissionSetARN, a.PrincipalType, a.PrincipalID); err != nil {
			return err
		}
		if found {
			return iamErr(meta.ErrIAMExists, meta.SSOWhatAssignment, assignmentName(a))
		}
		return insertOnce(ctx, tx, iamErr(meta.ErrIAMExists, meta.SSOWhatAssignment, assignmentName(a)), `INSERT INTO sso_assignments (instance_arn, permission_set_arn, account, principal_type, principal_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
			a.InstanceARN, a.PermissionSetARN, a.Account, a.PrincipalType, a.PrincipalID, ts(a.CreatedAt))
	})
}

func (s *Store) ListSSOAssignments(ctx context.Context, q meta.SSOAssignmentQuery) ([]*meta.SSOAssignment, error) {
	rows, err := s.pool.Query(ctx, `SELECT instance_arn, permission_set_arn, account, principal_type, principal_id, created_at FROM sso_assignments
		WHERE ($1 = '' OR instance_arn = $2) AND ($3 = '' OR permission_set_arn = $4) AND ($5 = '' OR account = $6) AND ($7 = '' OR principal_id = $8)
		ORDER BY account, permission_set_arn, principal_id`,
		q.InstanceARN, q.InstanceARN, q.PermissionSetARN, q.PermissionSetARN, q.Account, q.Account, q.PrincipalID, q.PrincipalID)
	if err != nil {
		return nil, wrap(ctx, "list account assignments", err)
	}
	defer rows.Close()
	var out []*meta.SSOAssignment
	for rows.Next() {
		var (
			a       meta.SSOAssignment
			created pgtype.Timestamptz
		)
		if err := rows.Scan(&a.InstanceARN, &a.PermissionSetARN, &a.Account, &a.PrincipalType, &a.PrincipalID, &created); err != nil {
			return nil, wrap(ctx, "list account assignments", err)
		}
		a.CreatedAt = fromTS(created)
		out = append(out, &a)
	}
	return out, rows.Err()
}

func (s *Store) DeleteSSOAssignment(ctx context.Context, a *meta.SSOAssignment) error {
	return s.write(ctx, "delete account assignment", func(tx pgx.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM sso_assignments WHERE account = $1 AND permission_set_arn = $2 AND principal_type = $3 AND principal_id = $4`,
			a.Account, a.PermissionSetARN, a.PrincipalType, a.PrincipalID)
		return affected(res, err, iamErr(meta.ErrIAMNotFound, meta.SSOWhatAssignment, assignmentName(a)))
	})
}

func (s *Store) CreateSSOClient(ctx context.Context, c *meta.SSOClient) error {
	return s.write(ctx, "create oidc client", func(tx pgx.Tx) error {
		found, err := exists(ctx, tx, `SELECT 1 FROM sso_clients WHERE client_id = $1`, c.ClientID)
		if err != nil {
			return err
		}
		if found {
			return iamErr(meta.ErrIAMExists, meta.SSOWhatClient, c.ClientID)
		}
		return insertOnce(ctx, tx, iamErr(meta.ErrIAMExists, meta.SSOWhatClient, c.ClientID), `INSERT INTO sso_clients (client_id, secret_hash, name, type, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
			c.ClientID, c.SecretHash, c.Name, c.Type, jsonList(c.Scopes), ts(c.CreatedAt), ts(c.ExpiresAt))
	})
}

func (s *Store) GetSSOClient(ctx context.Context, clientID string) (*meta.SSOClient, error) {
	var (
		c                meta.SSOClient
		scopes           string
		created, expires pgtype.Timestamptz
	)
	err := s.pool.QueryRow(ctx, `SELECT client_id, secret_hash, name, type, scopes, created_at, expires_at FROM sso_clients WHERE client_id = $1`, clientID).
		Scan(&c.ClientID, &c.SecretHash, &c.Name, &c.Type, &scopes, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.SSOWhatClient, clientID)
	}
	if err == nil {
		err = json.Unmarshal([]byte(scopes), &c.Scopes)
	}
	if err != nil {
		return nil, wrap(ctx, "get oidc client", err)
	}
	c.CreatedAt, c.ExpiresAt = fromTS(created), fromTS(expires)
	return &c, nil
}

const deviceColumns = `device_code_hash, user_code, client_id, start_url, interval_seconds, created_at, expires_at, approved_by, approved_at, last_polled_at`

func scanDevice(row scanner) (*meta.SSODeviceAuthorization, error) {
	var (
		d                                  meta.SSODeviceAuthorization
		created, expires, approved, polled pgtype.Timestamptz
	)
	if err := row.Scan(&d.DeviceCodeHash, &d.UserCode, &d.ClientID, &d.StartURL, &d.Interval, &created, &expires, &d.ApprovedBy, &approved, &polled); err != nil {
		return nil, err
	}
	d.CreatedAt, d.ExpiresAt, d.ApprovedAt, d.LastPolledAt = fromTS(created), fromTS(expires), fromTS(approved), fromTS(polled)
	return &d, nil
}

func (s *Store) CreateDeviceAuthorization(ctx context.Context, d *meta.SSODeviceAuthorization) error {
	return s.write(ctx, "create device authorization", func(tx pgx.Tx) error {
		// A user code of an expired authorization may be given again.
		if _, err := tx.Exec(ctx, `DELETE FROM sso_device_authorizations WHERE user_code = $1 AND expires_at < $2`, d.UserCode, ts(d.CreatedAt)); err != nil {
			return err
		}
		found, err := exists(ctx, tx, `SELECT 1 FROM sso_device_authorizations WHERE user_code = $1 OR device_code_hash = $2`, d.UserCode, d.DeviceCodeHash)
		if err != nil {
			return err
		}
		if found {
			return iamErr(meta.ErrIAMExists, meta.SSOWhatDevice, d.UserCode)
		}
		return insertOnce(ctx, tx, iamErr(meta.ErrIAMExists, meta.SSOWhatDevice, d.UserCode),
			`INSERT INTO sso_device_authorizations (`+deviceColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
			d.DeviceCodeHash, d.UserCode, d.ClientID, d.StartURL, d.Interval, ts(d.CreatedAt), ts(d.ExpiresAt), d.ApprovedBy, ts(d.ApprovedAt), ts(d.LastPolledAt))
	})
}

func (s *Store) GetDeviceAuthorizationByUserCode(ctx context.Context, userCode string) (*meta.SSODeviceAuthorization, error) {
	d, err := scanDevice(s.pool.QueryRow(ctx, `SELECT `+deviceColumns+` FROM sso_device_authorizations WHERE user_code = $1`, userCode))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.SSOWhatDevice, userCode)
	}
	if err != nil {
		return nil, wrap(ctx, "get device authorization", err)
	}
	return d, nil
}

func (s *Store) ApproveDeviceAuthorization(ctx context.Context, userCode, userID string, at time.Time) error {
	return s.write(ctx, "approve device authorization", func(tx pgx.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE sso_device_authorizations SET approved_by = $1, approved_at = $2 WHERE user_code = $3 AND approved_by = '' AND expires_at >= $4`,
			userID, ts(at), userCode, ts(at))
		return affected(res, err, iamErr(meta.ErrIAMNotFound, meta.SSOWhatDevice, userCode))
	})
}

func (s *Store) PollDeviceAuthorization(ctx context.Context, deviceCodeHash string, at time.Time) (*meta.SSODeviceAuthorization, error) {
	var d *meta.SSODeviceAuthorization
	err := s.write(ctx, "poll device authorization", func(tx pgx.Tx) error {
		var err error
		d, err = scanDevice(tx.QueryRow(ctx, `SELECT `+deviceColumns+` FROM sso_device_authorizations WHERE device_code_hash = $1 FOR UPDATE`, deviceCodeHash))
		if errors.Is(err, pgx.ErrNoRows) {
			return iamErr(meta.ErrIAMNotFound, meta.SSOWhatDevice, "")
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE sso_device_authorizations SET last_polled_at = $1 WHERE device_code_hash = $2`, ts(at), deviceCodeHash)
		return err
	})
	return d, err
}

func insertSSOTokens(ctx context.Context, tx pgx.Tx, tokens []*meta.SSOToken) error {
	for _, t := range tokens {
		if _, err := tx.Exec(ctx, `INSERT INTO sso_tokens (token_hash, kind, client_id, identity_store_id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			t.TokenHash, string(t.Kind), t.ClientID, t.IdentityStoreID, t.UserID, ts(t.CreatedAt), ts(t.ExpiresAt)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) RedeemDeviceAuthorization(ctx context.Context, deviceCodeHash string, tokens ...*meta.SSOToken) error {
	return s.write(ctx, "redeem device authorization", func(tx pgx.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM sso_device_authorizations WHERE device_code_hash = $1 AND approved_by <> ''`, deviceCodeHash)
		if err := affected(res, err, iamErr(meta.ErrIAMNotFound, meta.SSOWhatDevice, "")); err != nil {
			return err
		}
		return insertSSOTokens(ctx, tx, tokens)
	})
}

func (s *Store) CreateSSOTokens(ctx context.Context, tokens ...*meta.SSOToken) error {
	return s.write(ctx, "create sso tokens", func(tx pgx.Tx) error { return insertSSOTokens(ctx, tx, tokens) })
}

func (s *Store) GetSSOToken(ctx context.Context, tokenHash string) (*meta.SSOToken, error) {
	var (
		t                meta.SSOToken
		kind             string
		created, expires pgtype.Timestamptz
	)
	err := s.pool.QueryRow(ctx, `SELECT token_hash, kind, client_id, identity_store_id, user_id, created_at, expires_at FROM sso_tokens WHERE token_hash = $1`, tokenHash).
		Scan(&t.TokenHash, &kind, &t.ClientID, &t.IdentityStoreID, &t.UserID, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.SSOWhatToken, "")
	}
	if err != nil {
		return nil, wrap(ctx, "get sso token", err)
	}
	t.Kind = meta.SSOTokenKind(kind)
	t.CreatedAt, t.ExpiresAt = fromTS(created), fromTS(expires)
	return &t, nil
}

func (s *Store) RedeemSSOToken(ctx context.Context, tokenHash string, tokens ...*meta.SSOToken) error {
	return s.write(ctx, "redeem sso token", func(tx pgx.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM sso_tokens WHERE token_hash = $1`, tokenHash)
		if err := affected(res, err, iamErr(meta.ErrIAMNotFound, meta.SSOWhatToken, "")); err != nil {
			return err
		}
		return insertSSOTokens(ctx, tx, tokens)
	})
}

func (s *Store) DeleteSSOSignIn(ctx context.Context, tokenHash string) (int, error) {
	var n int64
	err := s.write(ctx, "end sso sign-in", func(tx pgx.Tx) error {
		res, err := tx.Exec(ctx, `
			DELETE FROM sso_tokens t USING sso_tokens k
			WHERE k.token_hash = $1 AND t.client_id = k.client_id
				AND t.identity_store_id = k.identity_store_id AND t.user_id = k.user_id`, tokenHash)
		if err != nil {
			return err
		}
		if n = res.RowsAffected(); n == 0 {
			return iamErr(meta.ErrIAMNotFound, meta.SSOWhatToken, "")
		}
		return nil
	})
	return int(n), err
}

func (s *Store) DeleteSSOExpiredBefore(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "delete expired sso records", func(tx pgx.Tx) error {
		for _, q := range []string{
			`DELETE FROM sso_device_authorizations WHERE expires_at < $1`,
			`DELETE FROM sso_tokens WHERE expires_at < $1`,
			`DELETE FROM sso_clients WHERE expires_at < $1`,
		} {
			res, err := tx.Exec(ctx, q, ts(t))
			if err != nil {
				return err
			}
			n += res.RowsAffected()
		}
		return nil
	})
	return int(n), err
}
