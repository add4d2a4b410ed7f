package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// IAM Identity Center. Lists are JSON arrays; names compare by their
// lower-cased key columns.

// EnsureSSOInstance inserts unless the one row exists (its singleton
// column is unique), then reads the row: two processes on one database
// agree.
func (s *Store) EnsureSSOInstance(ctx context.Context, inst *meta.SSOInstance) (*meta.SSOInstance, error) {
	var out meta.SSOInstance
	err := s.write(ctx, "ensure sso instance", func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sso_instances (arn, identity_store_id, account, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (singleton) DO NOTHING`, inst.ARN, inst.IdentityStoreID, inst.Account, nanos(inst.CreatedAt))
		if err != nil {
			return err
		}
		var created sql.NullInt64
		err = tx.QueryRowContext(ctx, `SELECT arn, identity_store_id, account, created_at FROM sso_instances`).
			Scan(&out.ARN, &out.IdentityStoreID, &out.Account, &created)
		out.CreatedAt = fromNanos(created)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

const ssoUserColumns = `identity_store_id, user_id, user_name, display_name, given_name, family_name, emails, password_hash, created_at`

func scanSSOUser(row interface{ Scan(...any) error }) (*meta.SSOUser, error) {
	var (
		u       meta.SSOUser
		emails  string
		created sql.NullInt64
	)
	if err := row.Scan(&u.IdentityStoreID, &u.UserID, &u.UserName, &u.DisplayName, &u.GivenName, &u.FamilyName, &emails, &u.PasswordHash, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(emails), &u.Emails); err != nil {
		return nil, fmt.Errorf("emails of %s: %w", u.UserID, err)
	}
	u.CreatedAt = fromNanos(created)
	return &u, nil
}

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
	return s.write(ctx, "create sso user", func(tx *wtx) error {
		found, err := exists(ctx, tx, `SELECT 1 FROM sso_users WHERE identity_store_id = ? AND (user_key = ? OR user_id = ?)`,
			u.IdentityStoreID, strings.ToLower(u.UserName), u.UserID)
		if err != nil {
			return err
		}
		if found {
			return iamErr(meta.ErrIAMExists, meta.SSOWhatUser, u.UserName)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sso_users (`+ssoUserColumns+`, user_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.IdentityStoreID, u.UserID, u.UserName, u.DisplayName, u.GivenName, u.FamilyName, emailsJSON(u.Emails), u.PasswordHash,
			nanos(u.CreatedAt), strings.ToLower(u.UserName))
		return err
	})
}

func (s *Store) getSSOUser(ctx context.Context, where, name string, args ...any) (*meta.SSOUser, error) {
	u, err := scanSSOUser(s.queryRow(ctx, `SELECT `+ssoUserColumns+` FROM sso_users WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.SSOWhatUser, name)
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get sso user: %w", err)
	}
	return u, nil
}

func (s *Store) GetSSOUser(ctx context.Context, identityStoreID, userID string) (*meta.SSOUser, error) {
	return s.getSSOUser(ctx, `identity_store_id = ? AND user_id = ?`, userID, identityStoreID, userID)
}

func (s *Store) GetSSOUserByName(ctx context.Context, identityStoreID, userName string) (*meta.SSOUser, error) {
	return s.getSSOUser(ctx, `identity_store_id = ? AND user_key = ?`, userName, identityStoreID, strings.ToLower(userName))
}

func (s *Store) ListSSOUsers(ctx context.Context, identityStoreID string) ([]*meta.SSOUser, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+ssoUserColumns+` FROM sso_users WHERE identity_store_id = ? ORDER BY user_key`, identityStoreID)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list sso users: %w", err)
	}
	defer rows.Close()
	var out []*meta.SSOUser
	for rows.Next() {
		u, err := scanSSOUser(rows)
		if err != nil {
			return nil, fmt.Errorf("meta/sqlite: list sso users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// affected turns "no row matched" into notFound.
func affected(res sql.Result, err error, notFound error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound
	}
	return nil
}

func (s *Store) SetSSOUserPassword(ctx context.Context, identityStoreID, userID, hash string) error {
	return s.write(ctx, "set sso user password", func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sso_users SET password_hash = ? WHERE identity_store_id = ? AND user_id = ?`, hash, identityStoreID, userID)
		return affected(res, err, iamErr(meta.ErrIAMNotFound, meta.SSOWhatUser, userID))
	})
}

func (s *Store) DeleteSSOUser(ctx context.Context, identityStoreID, userID string) error {
	return s.write(ctx, "delete sso user", func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sso_users WHERE identity_store_id = ? AND user_id = ?`, identityStoreID, userID)
		if err := affected(res, err, iamErr(meta.ErrIAMNotFound, meta.SSOWhatUser, userID)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sso_assignments WHERE principal_id = ?`, userID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sso_tokens WHERE identity_store_id = ? AND user_id = ?`, identityStoreID, userID)
		return err
	})
}

const permissionSetColumns = `arn, instance_arn, name, description, session_duration, managed_policies, inline_policy, created_at`

func scanPermissionSet(row interface{ Scan(...any) error }) (*meta.SSOPermissionSet, error) {
	var (
		ps      meta.SSOPermissionSet
		managed string
		created sql.NullInt64
	)
	if err := row.Scan(&ps.ARN, &ps.InstanceARN, &ps.Name, &ps.Description, &ps.SessionDuration, &managed, &ps.InlinePolicy, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(managed), &ps.ManagedPolicies); err != nil {
		return nil, fmt.Errorf("managed policies of %s: %w", ps.ARN, err)
	}
	ps.CreatedAt = fromNanos(created)
	return &ps, nil
}

func (s *Store) CreatePermissionSet(ctx context.Context, ps *meta.SSOPermissionSet) error {
	return s.write(ctx, "create permission set", func(tx *wtx) error {
		found, err := exists(ctx, tx, `SELECT 1 FROM sso_permission_sets WHERE arn = ? OR (instance_arn = ? AND name_key = ?)`,
			ps.ARN, ps.InstanceARN, strings.ToLower(ps.Name))
		if err != nil {
			return err
		}
		if found {
			return iamErr(meta.ErrIAMExists, meta.SSOWhatPermissionSet, ps.Name)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sso_permission_sets (`+permissionSetColumns+`, name_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ps.ARN, ps.InstanceARN, ps.Name, ps.Description, ps.SessionDuration, jsonList(ps.ManagedPolicies), ps.InlinePolicy,
			nanos(ps.CreatedAt), strings.ToLower(ps.Name))
		return err
	})
}

func (s *Store) GetPermissionSet(ctx context.Context, arn string) (*meta.SSOPermissionSet, error) {
	ps, err := scanPermissionSet(s.queryRow(ctx, `SELECT `+permissionSetColumns+` FROM sso_permission_sets WHERE arn = ?`, arn))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.SSOWhatPermissionSet, arn)
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get permission set: %w", err)
	}
	return ps, nil
}

func (s *Store) ListPermissionSets(ctx context.Context, instanceARN string) ([]*meta.SSOPermissionSet, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+permissionSetColumns+` FROM sso_permission_sets WHERE instance_arn = ? ORDER BY arn`, instanceARN)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list permission sets: %w", err)
	}
	defer rows.Close()
	var out []*meta.SSOPermissionSet
	for rows.Next() {
		ps, err := scanPermissionSet(rows)
		if err != nil {
			return nil, fmt.Errorf("meta/sqlite: list permission sets: %w", err)
		}
		out = append(out, ps)
	}
	return out, rows.Err()
}

func (s *Store) UpdatePermissionSet(ctx context.Context, arn string, update func(ps *meta.SSOPermissionSet) error) error {
	return s.write(ctx, "update permission set", func(tx *wtx) error {
		ps, err := scanPermissionSet(tx.QueryRowContext(ctx, `SELECT `+permissionSetColumns+` FROM sso_permission_sets WHERE arn = ?`, arn))
		if errors.Is(err, sql.ErrNoRows) {
			return iamErr(meta.ErrIAMNotFound, meta.SSOWhatPermissionSet, arn)
		}
		if err != nil {
			return err
		}
		if err := update(ps); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE sso_permission_sets SET description = ?, session_duration = ?, managed_policies = ?, inline_policy = ? WHERE arn = ?`,
			ps.Description, ps.SessionDuration, jsonList(ps.ManagedPolicies), ps.InlinePolicy, arn)
		return err
	})
}

func (s *Store) DeletePermissionSet(ctx context.Context, arn string) error {
	return s.write(ctx, "delete permission set", func(tx *wtx) error {
		used, err := exists(ctx, tx, `SELECT 1 FROM sso_assignments WHERE permission_set_arn = ?`, arn)
		if err != nil {
			return err
		}
		if used {
			return conflict(meta.SSOWhatPermissionSet, arn, meta.SSOBlockedByAssignments)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM sso_permission_sets WHERE arn = ?`, arn)
		return affected(res, err, iamErr(meta.ErrIAMNotFound, meta.SSOWhatPermissionSet, arn))
	})
}

func assignmentName(a *meta.SSOAssignment) string {
	return a.Account + "/" + a.PermissionSetARN + "/" + a.PrincipalType + "/" + a.PrincipalID
}

func (s *Store) CreateSSOAssignment(ctx context.Context, a *meta.SSOAssignment) error {
	return s.write(ctx, "create account assignment", func(tx *wtx) error {
		found, err := exists(ctx, tx, `SELECT 1 FROM sso_permission_sets WHERE arn = ?`, a.PermissionSetARN)
		if err != nil {
			return err
		}
		if !found {
			return iamErr(meta.ErrIAMNotFound, meta.SSOWhatPermissionSet, a.PermissionSetARN)
		}
		if found, err = exists(ctx, tx, `SELECT 1 FROM sso_users WHERE user_id = ?`, a.PrincipalID); err != nil {
			return err
		}
		if !found {
			return iamErr(meta.ErrIAMNotFound, meta.SSOWhatUser, a.PrincipalID)
		}
		if found, err = exists(ctx, tx, `SELECT 1 FROM sso_assignments WHERE account = ? AND permission_set_arn = ? AND principal_type = ? AND principal_id = ?`,
			a.Account, a.PermissionSetARN, a.PrincipalType, a.PrincipalID); err != nil {
			return err
		}
		if found {
			return iamErr(meta.ErrIAMExists, meta.SSOWhatAssignment, assignmentName(a))
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sso_assignments (instance_arn, permission_set_arn, account, principal_type, principal_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			a.InstanceARN, a.PermissionSetARN, a.Account, a.PrincipalType, a.PrincipalID, nanos(a.CreatedAt))
		return err
	})
}

func (s *Store) ListSSOAssignments(ctx context.Context, q meta.SSOAssignmentQuery) ([]*meta.SSOAssignment, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT instance_arn, permission_set_arn, account, principal_type, principal_id, created_at FROM sso_assignments
		WHERE (? = '' OR instance_arn = ?) AND (? = '' OR permission_set_arn = ?) AND (? = '' OR account = ?) AND (? = '' OR principal_id = ?)
		ORDER BY account, permission_set_arn, principal_id`,
		q.InstanceARN, q.InstanceARN, q.PermissionSetARN, q.PermissionSetARN, q.Account, q.Account, q.PrincipalID, q.PrincipalID)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list account assignments: %w", err)
	}
	defer rows.Close()
	var out []*meta.SSOAssignment
	for rows.Next() {
		var (
			a       meta.SSOAssignment
			created sql.NullInt64
		)
		if err := rows.Scan(&a.InstanceARN, &a.PermissionSetARN, &a.Account, &a.PrincipalType, &a.PrincipalID, &created); err != nil {
			return nil, fmt.Errorf("meta/sqlite: list account assignments: %w", err)
		}
		a.CreatedAt = fromNanos(created)
		out = append(out, &a)
	}
	return out, rows.Err()
}

func (s *Store) DeleteSSOAssignment(ctx context.Context, a *meta.SSOAssignment) error {
	return s.write(ctx, "delete account assignment", func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sso_assignments WHERE account = ? AND permission_set_arn = ? AND principal_type = ? AND principal_id = ?`,
			a.Account, a.PermissionSetARN, a.PrincipalType, a.PrincipalID)
		return affected(res, err, iamErr(meta.ErrIAMNotFound, meta.SSOWhatAssignment, assignmentName(a)))
	})
}

func (s *Store) CreateSSOClient(ctx context.Context, c *meta.SSOClient) error {
	return s.write(ctx, "create oidc client", func(tx *wtx) error {
		found, err := exists(ctx, tx, `SELECT 1 FROM sso_clients WHERE client_id = ?`, c.ClientID)
		if err != nil {
			return err
		}
		if found {
			return iamErr(meta.ErrIAMExists, meta.SSOWhatClient, c.ClientID)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sso_clients (client_id, secret_hash, name, type, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.ClientID, c.SecretHash, c.Name, c.Type, jsonList(c.Scopes), nanos(c.CreatedAt), nanos(c.ExpiresAt))
		return err
	})
}

func (s *Store) GetSSOClient(ctx context.Context, clientID string) (*meta.SSOClient, error) {
	var (
		c                meta.SSOClient
		scopes           string
		created, expires sql.NullInt64
	)
	err := s.queryRow(ctx, `SELECT client_id, secret_hash, name, type, scopes, created_at, expires_at FROM sso_clients WHERE client_id = ?`, clientID).
		Scan(&c.ClientID, &c.SecretHash, &c.Name, &c.Type, &scopes, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.SSOWhatClient, clientID)
	}
	if err == nil {
		err = json.Unmarshal([]byte(scopes), &c.Scopes)
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get oidc client: %w", err)
	}
	c.CreatedAt, c.ExpiresAt = fromNanos(created), fromNanos(expires)
	return &c, nil
}

const deviceColumns = `device_code_hash, user_code, client_id, start_url, interval_seconds, created_at, expires_at, approved_by, approved_at, last_polled_at`

func scanDevice(row interface{ Scan(...any) error }) (*meta.SSODeviceAuthorization, error) {
	var (
		d                                  meta.SSODeviceAuthorization
		created, expires, approved, polled sql.NullInt64
	)
	if err := row.Scan(&d.DeviceCodeHash, &d.UserCode, &d.ClientID, &d.StartURL, &d.Interval, &created, &expires, &d.ApprovedBy, &approved, &polled); err != nil {
		return nil, err
	}
	d.CreatedAt, d.ExpiresAt, d.ApprovedAt, d.LastPolledAt = fromNanos(created), fromNanos(expires), fromNanos(approved), fromNanos(polled)
	return &d, nil
}

func (s *Store) CreateDeviceAuthorization(ctx context.Context, d *meta.SSODeviceAuthorization) error {
	return s.write(ctx, "create device authorization", func(tx *wtx) error {
		// A user code of an expired authorization may be given again.
		if _, err := tx.ExecContext(ctx, `DELETE FROM sso_device_authorizations WHERE user_code = ? AND expires_at < ?`, d.UserCode, nanos(d.CreatedAt)); err != nil {
			return err
		}
		found, err := exists(ctx, tx, `SELECT 1 FROM sso_device_authorizations WHERE user_code = ? OR device_code_hash = ?`, d.UserCode, d.DeviceCodeHash)
		if err != nil {
			return err
		}
		if found {
			return iamErr(meta.ErrIAMExists, meta.SSOWhatDevice, d.UserCode)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sso_device_authorizations (`+deviceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.DeviceCodeHash, d.UserCode, d.ClientID, d.StartURL, d.Interval, nanos(d.CreatedAt), nanos(d.ExpiresAt), d.ApprovedBy, nanos(d.ApprovedAt), nanos(d.LastPolledAt))
		return err
	})
}

func (s *Store) GetDeviceAuthorizationByUserCode(ctx context.Context, userCode string) (*meta.SSODeviceAuthorization, error) {
	d, err := scanDevice(s.queryRow(ctx, `SELECT `+deviceColumns+` FROM sso_device_authorizations WHERE user_code = ?`, userCode))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.SSOWhatDevice, userCode)
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get device authorization: %w", err)
	}
	return d, nil
}

func (s *Store) ApproveDeviceAuthorization(ctx context.Context, userCode, userID string, at time.Time) error {
	return s.write(ctx, "approve device authorization", func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sso_device_authorizations SET approved_by = ?, approved_at = ? WHERE user_code = ? AND approved_by = '' AND expires_at >= ?`,
			userID, nanos(at), userCode, nanos(at))
		return affected(res, err, iamErr(meta.ErrIAMNotFound, meta.SSOWhatDevice, userCode))
	})
}

func (s *Store) PollDeviceAuthorization(ctx context.Context, deviceCodeHash string, at time.Time) (*meta.SSODeviceAuthorization, error) {
	var d *meta.SSODeviceAuthorization
	err := s.write(ctx, "poll device authorization", func(tx *wtx) error {
		var err error
		d, err = scanDevice(tx.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM sso_device_authorizations WHERE device_code_hash = ?`, deviceCodeHash))
		if errors.Is(err, sql.ErrNoRows) {
			return iamErr(meta.ErrIAMNotFound, meta.SSOWhatDevice, "")
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE sso_device_authorizations SET last_polled_at = ? WHERE device_code_hash = ?`, nanos(at), deviceCodeHash)
		return err
	})
	return d, err
}

func insertSSOTokens(ctx context.Context, tx *wtx, tokens []*meta.SSOToken) error {
	for _, t := range tokens {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sso_tokens (token_hash, kind, client_id, identity_store_id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.TokenHash, string(t.Kind), t.ClientID, t.IdentityStoreID, t.UserID, nanos(t.CreatedAt), nanos(t.ExpiresAt)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) RedeemDeviceAuthorization(ctx context.Context, deviceCodeHash string, tokens ...*meta.SSOToken) error {
	return s.write(ctx, "redeem device authorization", func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sso_device_authorizations WHERE device_code_hash = ? AND approved_by <> ''`, deviceCodeHash)
		if err := affected(res, err, iamErr(meta.ErrIAMNotFound, meta.SSOWhatDevice, "")); err != nil {
			return err
		}
		return insertSSOTokens(ctx, tx, tokens)
	})
}

func (s *Store) CreateSSOTokens(ctx context.Context, tokens ...*meta.SSOToken) error {
	return s.write(ctx, "create sso tokens", func(tx *wtx) error { return insertSSOTokens(ctx, tx, tokens) })
}

func (s *Store) GetSSOToken(ctx context.Context, tokenHash string) (*meta.SSOToken, error) {
	var (
		t                meta.SSOToken
		kind             string
		created, expires sql.NullInt64
	)
	err := s.queryRow(ctx, `SELECT token_hash, kind, client_id, identity_store_id, user_id, created_at, expires_at FROM sso_tokens WHERE token_hash = ?`, tokenHash).
		Scan(&t.TokenHash, &kind, &t.ClientID, &t.IdentityStoreID, &t.UserID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.SSOWhatToken, "")
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get sso token: %w", err)
	}
	t.Kind = meta.SSOTokenKind(kind)
	t.CreatedAt, t.ExpiresAt = fromNanos(created), fromNanos(expires)
	return &t, nil
}

func (s *Store) RedeemSSOToken(ctx context.Context, tokenHash string, tokens ...*meta.SSOToken) error {
	return s.write(ctx, "redeem sso token", func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sso_tokens WHERE token_hash = ?`, tokenHash)
		if err := affected(res, err, iamErr(meta.ErrIAMNotFound, meta.SSOWhatToken, "")); err != nil {
			return err
		}
		return insertSSOTokens(ctx, tx, tokens)
	})
}

func (s *Store) DeleteSSOSignIn(ctx context.Context, tokenHash string) (int, error) {
	var n int64
	err := s.write(ctx, "end sso sign-in", func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `
			DELETE FROM sso_tokens WHERE (client_id, identity_store_id, user_id) IN
				(SELECT client_id, identity_store_id, user_id FROM sso_tokens WHERE token_hash = ?)`, tokenHash)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			return iamErr(meta.ErrIAMNotFound, meta.SSOWhatToken, "")
		}
		return err
	})
	return int(n), err
}

func (s *Store) DeleteSSOExpiredBefore(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "delete expired sso records", func(tx *wtx) error {
		for _, q := range []string{
			`DELETE FROM sso_device_authorizations WHERE expires_at < ?`,
			`DELETE FROM sso_tokens WHERE expires_at < ?`,
			`DELETE FROM sso_clients WHERE expires_at < ?`,
		} {
			res, err := tx.ExecContext(ctx, q, nanos(t))
			if err != nil {
				return err
			}
			m, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += m
		}
		return nil
	})
	return int(n), err
}
