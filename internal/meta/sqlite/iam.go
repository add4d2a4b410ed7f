package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// nameKey is how IAM names compare: ASCII case-insensitively.
func nameKey(name string) string { return strings.ToLower(name) }

func iamErr(err error, what, name string) error {
	return &meta.IAMError{Err: err, What: what, Name: name}
}

func conflict(what, name, blockedBy string) error {
	return &meta.IAMError{Err: meta.ErrIAMConflict, What: what, Name: name, BlockedBy: blockedBy}
}

// exists runs a query for a single row and reports whether it found one.
// rowQuerier is a transaction or a pool that reads one row.
type rowQuerier interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

func exists(ctx context.Context, q rowQuerier, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// --- accounts

func (s *Store) CreateAccount(ctx context.Context, a *meta.IAMAccount, root *meta.IAMAccessKey) error {
	return s.write(ctx, "create account", func(tx *wtx) error {
		found, err := exists(ctx, tx, `SELECT 1 FROM iam_accounts WHERE id = ?`, a.ID)
		if err != nil {
			return err
		}
		if found {
			return iamErr(meta.ErrIAMExists, meta.IAMWhatAccount, a.ID)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO iam_accounts (id, created_at) VALUES (?, ?)`, a.ID, nanos(a.CreatedAt)); err != nil {
			return err
		}
		if root == nil {
			return nil
		}
		k := *root
		k.Account, k.UserName = a.ID, ""
		return insertAccessKey(ctx, tx, &k)
	})
}

func (s *Store) GetAccount(ctx context.Context, id string) (*meta.IAMAccount, error) {
	a := &meta.IAMAccount{ID: id}
	var created sql.NullInt64
	err := s.queryRow(ctx, `SELECT created_at FROM iam_accounts WHERE id = ?`, id).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.IAMWhatAccount, id)
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get account: %w", err)
	}
	a.CreatedAt = fromNanos(created)
	return a, nil
}

func (s *Store) ListAccounts(ctx context.Context) ([]*meta.IAMAccount, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, created_at FROM iam_accounts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list accounts: %w", err)
	}
	defer rows.Close()
	var out []*meta.IAMAccount
	for rows.Next() {
		var a meta.IAMAccount
		var created sql.NullInt64
		if err := rows.Scan(&a.ID, &created); err != nil {
			return nil, fmt.Errorf("meta/sqlite: list accounts: %w", err)
		}
		a.CreatedAt = fromNanos(created)
		out = append(out, &a)
	}
	return out, rows.Err()
}

// --- users, groups, roles

const entityColumns = `account, kind, name, path, id, created_at, trust_policy, description, max_session_duration`

func scanEntity(row interface{ Scan(...any) error }) (*meta.IAMEntity, error) {
	var e meta.IAMEntity
	var kind string
	var created sql.NullInt64
	if err := row.Scan(&e.Account, &kind, &e.Name, &e.Path, &e.ID, &created, &e.AssumeRolePolicy, &e.Description, &e.MaxSessionDuration); err != nil {
		return nil, err
	}
	e.Kind, e.CreatedAt = meta.IAMKind(kind), fromNanos(created)
	return &e, nil
}

func scanEntities(rows *sql.Rows) ([]*meta.IAMEntity, error) {
	defer rows.Close()
	var out []*meta.IAMEntity
	for rows.Next() {
		e, err := scanEntity(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// entityExists fails with ErrIAMNotFound unless the entity exists.
func entityExists(ctx context.Context, tx rowQuerier, account string, kind meta.IAMKind, name string) error {
	found, err := exists(ctx, tx, `SELECT 1 FROM iam_entities WHERE account = ? AND kind = ? AND name_key = ?`, account, string(kind), nameKey(name))
	if err != nil {
		return err
	}
	if !found {
		return iamErr(meta.ErrIAMNotFound, string(kind), name)
	}
	return nil
}

func (s *Store) CreateIAMEntity(ctx context.Context, e *meta.IAMEntity) error {
	return s.write(ctx, "create "+string(e.Kind), func(tx *wtx) error {
		found, err := exists(ctx, tx, `SELECT 1 FROM iam_entities WHERE account = ? AND kind = ? AND name_key = ?`, e.Account, string(e.Kind), nameKey(e.Name))
		if err != nil {
			return err
		}
		if found {
			return iamErr(meta.ErrIAMExists, string(e.Kind), e.Name)
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO iam_entities (account, kind, name_key, name, path, id, created_at, trust_policy, description, max_session_duration)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Account, string(e.Kind), nameKey(e.Name), e.Name, e.Path, e.ID, nanos(e.CreatedAt), e.AssumeRolePolicy, e.Description, e.MaxSessionDuration)
		return err
	})
}

func (s *Store) GetIAMEntity(ctx context.Context, account string, kind meta.IAMKind, name string) (*meta.IAMEntity, error) {
	e, err := scanEntity(s.queryRow(ctx, `SELECT `+entityColumns+` FROM iam_entities WHERE account = ? AND kind = ? AND name_key = ?`,
		account, string(kind), nameKey(name)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, string(kind), name)
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get %s: %w", kind, err)
	}
	return e, nil
}

func (s *Store) ListIAMEntities(ctx context.Context, account string, kind meta.IAMKind, q meta.IAMListQuery) ([]*meta.IAMEntity, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT `+entityColumns+` FROM iam_entities
		WHERE account = ? AND kind = ? AND name_key > ? AND substr(path, 1, length(?)) = ?
		ORDER BY name_key LIMIT ?`,
		account, string(kind), nameKey(q.After), q.PathPrefix, q.PathPrefix, sqlLimit(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list %ss: %w", kind, err)
	}
	out, err := scanEntities(rows)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list %ss: %w", kind, err)
	}
	return out, nil
}

// blockers are the checks DeleteIAMEntity makes, in the order IAM makes
// them, per kind: a query counting dependants and what to call them.
var blockers = map[meta.IAMKind][]struct {
	query     string
	blockedBy string
}{
	meta.IAMUser: {
		{`SELECT 1 FROM iam_access_keys WHERE account = ?1 AND user_key = ?3 LIMIT 1`, meta.IAMBlockedByAccessKeys},
		{`SELECT 1 FROM iam_inline_policies WHERE account = ?1 AND owner_kind = ?2 AND owner_key = ?3 LIMIT 1`, meta.IAMBlockedByInlinePolicies},
		{`SELECT 1 FROM iam_attachments WHERE account = ?1 AND owner_kind = ?2 AND owner_key = ?3 LIMIT 1`, meta.IAMBlockedByAttachedPolicies},
		{`SELECT 1 FROM iam_group_members WHERE account = ?1 AND user_key = ?3 LIMIT 1`, meta.IAMBlockedByGroups},
	},
	meta.IAMGroup: {
		{`SELECT 1 FROM iam_group_members WHERE account = ?1 AND group_key = ?3 LIMIT 1`, meta.IAMBlockedByMembers},
		{`SELECT 1 FROM iam_inline_policies WHERE account = ?1 AND owner_kind = ?2 AND owner_key = ?3 LIMIT 1`, meta.IAMBlockedByInlinePolicies},
		{`SELECT 1 FROM iam_attachments WHERE account = ?1 AND owner_kind = ?2 AND owner_key = ?3 LIMIT 1`, meta.IAMBlockedByAttachedPolicies},
	},
	meta.IAMRole: {
		{`SELECT 1 FROM iam_inline_policies WHERE account = ?1 AND owner_kind = ?2 AND owner_key = ?3 LIMIT 1`, meta.IAMBlockedByInlinePolicies},
		{`SELECT 1 FROM iam_attachments WHERE account = ?1 AND owner_kind = ?2 AND owner_key = ?3 LIMIT 1`, meta.IAMBlockedByAttachedPolicies},
	},
}

func (s *Store) DeleteIAMEntity(ctx context.Context, account string, kind meta.IAMKind, name string) error {
	return s.write(ctx, "delete "+string(kind), func(tx *wtx) error {
		if err := entityExists(ctx, tx, account, kind, name); err != nil {
			return err
		}
		key := nameKey(name)
		for _, b := range blockers[kind] {
			found, err := exists(ctx, tx, b.query, account, string(kind), key)
			if err != nil {
				return err
			}
			if found {
				return conflict(string(kind), name, b.blockedBy)
			}
		}
		if kind == meta.IAMRole {
			if _, err := tx.ExecContext(ctx, `DELETE FROM iam_sessions WHERE account = ? AND role_key = ?`, account, key); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM iam_entities WHERE account = ? AND kind = ? AND name_key = ?`, account, string(kind), key)
		return err
	})
}

func (s *Store) UpdateAssumeRolePolicy(ctx context.Context, account, role, document string) error {
	return s.write(ctx, "update assume role policy", func(tx *wtx) error {
		return execAffect(ctx, tx, iamErr(meta.ErrIAMNotFound, string(meta.IAMRole), role),
			`UPDATE iam_entities SET trust_policy = ? WHERE account = ? AND kind = 'role' AND name_key = ?`,
			document, account, nameKey(role))
	})
}

// --- groups

func (s *Store) AddGroupMember(ctx context.Context, account, group, user string) error {
	return s.write(ctx, "add group member", func(tx *wtx) error {
		if err := entityExists(ctx, tx, account, meta.IAMGroup, group); err != nil {
			return err
		}
		if err := entityExists(ctx, tx, account, meta.IAMUser, user); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO iam_group_members (account, group_key, user_key) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			account, nameKey(group), nameKey(user))
		return err
	})
}

func (s *Store) RemoveGroupMember(ctx context.Context, account, group, user string) error {
	return s.write(ctx, "remove group member", func(tx *wtx) error {
		if err := entityExists(ctx, tx, account, meta.IAMGroup, group); err != nil {
			return err
		}
		if err := entityExists(ctx, tx, account, meta.IAMUser, user); err != nil {
			return err
		}
		return execAffect(ctx, tx, iamErr(meta.ErrIAMNotFound, meta.IAMWhatMembership, user),
			`DELETE FROM iam_group_members WHERE account = ? AND group_key = ? AND user_key = ?`, account, nameKey(group), nameKey(user))
	})
}

// ListGroupMembers and ListUserGroups read in a transaction so that the
// existence check and the list agree.
func (s *Store) ListGroupMembers(ctx context.Context, account, group string) ([]*meta.IAMEntity, error) {
	return s.listRelated(ctx, account, meta.IAMGroup, group, `
		SELECT e.account, e.kind, e.name, e.path, e.id, e.created_at, e.trust_policy, e.description, e.max_session_duration
		FROM iam_group_members m JOIN iam_entities e ON e.account = m.account AND e.kind = 'user' AND e.name_key = m.user_key
		WHERE m.account = ? AND m.group_key = ? ORDER BY e.name_key`)
}

func (s *Store) ListUserGroups(ctx context.Context, account, user string) ([]*meta.IAMEntity, error) {
	return s.listRelated(ctx, account, meta.IAMUser, user, `
		SELECT e.account, e.kind, e.name, e.path, e.id, e.created_at, e.trust_policy, e.description, e.max_session_duration
		FROM iam_group_members m JOIN iam_entities e ON e.account = m.account AND e.kind = 'group' AND e.name_key = m.group_key
		WHERE m.account = ? AND m.user_key = ? ORDER BY e.name_key`)
}

func (s *Store) listRelated(ctx context.Context, account string, kind meta.IAMKind, name, query string) ([]*meta.IAMEntity, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list: %w", err)
	}
	defer tx.Rollback()
	if err := entityExists(ctx, tx, account, kind, name); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, query, account, nameKey(name))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list: %w", err)
	}
	out, err := scanEntities(rows)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list: %w", err)
	}
	return out, nil
}

// --- inline policies

func inlineWhat(kind meta.IAMKind) string { return string(kind) + " policy" }

func (s *Store) PutInlinePolicy(ctx context.Context, account string, kind meta.IAMKind, owner string, p meta.IAMInlinePolicy) error {
	return s.write(ctx, "put "+inlineWhat(kind), func(tx *wtx) error {
		if err := entityExists(ctx, tx, account, kind, owner); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO iam_inline_policies (account, owner_kind, owner_key, name_key, name, document) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (account, owner_kind, owner_key, name_key) DO UPDATE SET document = excluded.document`,
			account, string(kind), nameKey(owner), nameKey(p.Name), p.Name, p.Document)
		return err
	})
}

func (s *Store) GetInlinePolicy(ctx context.Context, account string, kind meta.IAMKind, owner, name string) (*meta.IAMInlinePolicy, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get %s: %w", inlineWhat(kind), err)
	}
	defer tx.Rollback()
	if err := entityExists(ctx, tx, account, kind, owner); err != nil {
		return nil, err
	}
	var p meta.IAMInlinePolicy
	err = tx.QueryRowContext(ctx, `SELECT name, document FROM iam_inline_policies WHERE account = ? AND owner_kind = ? AND owner_key = ? AND name_key = ?`,
		account, string(kind), nameKey(owner), nameKey(name)).Scan(&p.Name, &p.Document)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, inlineWhat(kind), name)
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get %s: %w", inlineWhat(kind), err)
	}
	return &p, nil
}

func (s *Store) ListInlinePolicies(ctx context.Context, account string, kind meta.IAMKind, owner string) ([]string, error) {
	return s.listNames(ctx, account, kind, owner,
		`SELECT name FROM iam_inline_policies WHERE account = ? AND owner_kind = ? AND owner_key = ? ORDER BY name_key`)
}

func (s *Store) DeleteInlinePolicy(ctx context.Context, account string, kind meta.IAMKind, owner, name string) error {
	return s.write(ctx, "delete "+inlineWhat(kind), func(tx *wtx) error {
		if err := entityExists(ctx, tx, account, kind, owner); err != nil {
			return err
		}
		return execAffect(ctx, tx, iamErr(meta.ErrIAMNotFound, inlineWhat(kind), name),
			`DELETE FROM iam_inline_policies WHERE account = ? AND owner_kind = ? AND owner_key = ? AND name_key = ?`,
			account, string(kind), nameKey(owner), nameKey(name))
	})
}

// listNames lists one column of an owner's rows, after checking the owner
// exists, in one read transaction.
func (s *Store) listNames(ctx context.Context, account string, kind meta.IAMKind, owner, query string) ([]string, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list: %w", err)
	}
	defer tx.Rollback()
	if err := entityExists(ctx, tx, account, kind, owner); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, query, account, string(kind), nameKey(owner))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("meta/sqlite: list: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// --- managed policies

const policyColumns = `account, name, path, id, arn, description, document, created_at, updated_at`

func scanPolicy(row interface{ Scan(...any) error }) (*meta.IAMPolicy, error) {
	var p meta.IAMPolicy
	var created, updated sql.NullInt64
	if err := row.Scan(&p.Account, &p.Name, &p.Path, &p.ID, &p.ARN, &p.Description, &p.Document, &created, &updated); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = fromNanos(created), fromNanos(updated)
	return &p, nil
}

func (s *Store) CreateManagedPolicy(ctx context.Context, p *meta.IAMPolicy) error {
	return s.write(ctx, "create policy", func(tx *wtx) error {
		found, err := exists(ctx, tx, `SELECT 1 FROM iam_policies WHERE (account = ? AND name_key = ?) OR arn = ?`, p.Account, nameKey(p.Name), p.ARN)
		if err != nil {
			return err
		}
		if found {
			return iamErr(meta.ErrIAMExists, meta.IAMWhatPolicy, p.Name)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO iam_policies (account, name_key, name, path, id, arn, description, document, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.Account, nameKey(p.Name), p.Name, p.Path, p.ID, p.ARN, p.Description, p.Document, nanos(p.CreatedAt), nanos(p.UpdatedAt))
		return err
	})
}

func (s *Store) GetManagedPolicy(ctx context.Context, arn string) (*meta.IAMPolicy, error) {
	p, err := scanPolicy(s.queryRow(ctx, `SELECT `+policyColumns+` FROM iam_policies WHERE arn = ?`, arn))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.IAMWhatPolicy, arn)
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get policy: %w", err)
	}
	return p, nil
}

func (s *Store) ListManagedPolicies(ctx context.Context, account string, q meta.IAMListQuery) ([]*meta.IAMPolicy, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT `+policyColumns+` FROM iam_policies
		WHERE account = ? AND name_key > ? AND substr(path, 1, length(?)) = ?
		ORDER BY name_key LIMIT ?`,
		account, nameKey(q.After), q.PathPrefix, q.PathPrefix, sqlLimit(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list policies: %w", err)
	}
	defer rows.Close()
	var out []*meta.IAMPolicy
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, fmt.Errorf("meta/sqlite: list policies: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Store) DeleteManagedPolicy(ctx context.Context, arn string) error {
	return s.write(ctx, "delete policy", func(tx *wtx) error {
		var account string
		err := tx.QueryRowContext(ctx, `SELECT account FROM iam_policies WHERE arn = ?`, arn).Scan(&account)
		if errors.Is(err, sql.ErrNoRows) {
			return iamErr(meta.ErrIAMNotFound, meta.IAMWhatPolicy, arn)
		}
		if err != nil {
			return err
		}
		found, err := exists(ctx, tx, `SELECT 1 FROM iam_attachments WHERE account = ? AND policy_arn = ? LIMIT 1`, account, arn)
		if err != nil {
			return err
		}
		if found {
			return conflict(meta.IAMWhatPolicy, arn, meta.IAMBlockedByAttachments)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM iam_policies WHERE arn = ?`, arn)
		return err
	})
}

// --- attachments

// awsManagedPrefix starts the ARNs of AWS managed policies, which the store
// does not hold.
const awsManagedPrefix = "arn:aws:iam::aws:policy/"

func (s *Store) AttachPolicy(ctx context.Context, account string, kind meta.IAMKind, owner, policyARN string) error {
	return s.write(ctx, "attach policy", func(tx *wtx) error {
		if err := entityExists(ctx, tx, account, kind, owner); err != nil {
			return err
		}
		if !strings.HasPrefix(policyARN, awsManagedPrefix) {
			found, err := exists(ctx, tx, `SELECT 1 FROM iam_policies WHERE arn = ? AND account = ?`, policyARN, account)
			if err != nil {
				return err
			}
			if !found {
				return iamErr(meta.ErrIAMNotFound, meta.IAMWhatPolicy, policyARN)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO iam_attachments (account, owner_kind, owner_key, policy_arn) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			account, string(kind), nameKey(owner), policyARN)
		return err
	})
}

func (s *Store) DetachPolicy(ctx context.Context, account string, kind meta.IAMKind, owner, policyARN string) error {
	return s.write(ctx, "detach policy", func(tx *wtx) error {
		if err := entityExists(ctx, tx, account, kind, owner); err != nil {
			return err
		}
		return execAffect(ctx, tx, iamErr(meta.ErrIAMNotFound, meta.IAMWhatAttachment, policyARN),
			`DELETE FROM iam_attachments WHERE account = ? AND owner_kind = ? AND owner_key = ? AND policy_arn = ?`,
			account, string(kind), nameKey(owner), policyARN)
	})
}

func (s *Store) ListAttachedPolicies(ctx context.Context, account string, kind meta.IAMKind, owner string) ([]string, error) {
	return s.listNames(ctx, account, kind, owner,
		`SELECT policy_arn FROM iam_attachments WHERE account = ? AND owner_kind = ? AND owner_key = ? ORDER BY policy_arn`)
}

func (s *Store) PolicyAttachmentCounts(ctx context.Context, account string) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT policy_arn, count(*) FROM iam_attachments WHERE account = ? GROUP BY policy_arn`, account)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: policy attachment counts: %w", err)
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var arn string
		var n int
		if err := rows.Scan(&arn, &n); err != nil {
			return nil, fmt.Errorf("meta/sqlite: policy attachment counts: %w", err)
		}
		counts[arn] = n
	}
	return counts, rows.Err()
}

// --- access keys

func insertAccessKey(ctx context.Context, tx *wtx, k *meta.IAMAccessKey) error {
	found, err := exists(ctx, tx, `SELECT 1 FROM iam_access_keys WHERE id = ?`, k.ID)
	if err != nil {
		return err
	}
	if found {
		return iamErr(meta.ErrIAMExists, meta.IAMWhatAccessKey, k.ID)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO iam_access_keys (id, account, user_key, user_name, secret, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Account, nameKey(k.UserName), k.UserName, k.SecretAccessKey, k.Status, nanos(k.CreatedAt))
	return err
}

const accessKeyColumns = `id, account, user_name, secret, status, created_at`

func scanAccessKey(row interface{ Scan(...any) error }) (*meta.IAMAccessKey, error) {
	var k meta.IAMAccessKey
	var created sql.NullInt64
	if err := row.Scan(&k.ID, &k.Account, &k.UserName, &k.SecretAccessKey, &k.Status, &created); err != nil {
		return nil, err
	}
	k.CreatedAt = fromNanos(created)
	return &k, nil
}

func (s *Store) CreateAccessKey(ctx context.Context, k *meta.IAMAccessKey) error {
	return s.write(ctx, "create access key", func(tx *wtx) error {
		if k.UserName != "" {
			// The stored spelling of the name, not the caller's.
			var name string
			err := tx.QueryRowContext(ctx, `SELECT name FROM iam_entities WHERE account = ? AND kind = 'user' AND name_key = ?`,
				k.Account, nameKey(k.UserName)).Scan(&name)
			if errors.Is(err, sql.ErrNoRows) {
				return iamErr(meta.ErrIAMNotFound, string(meta.IAMUser), k.UserName)
			}
			if err != nil {
				return err
			}
			k.UserName = name
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM iam_access_keys WHERE account = ? AND user_key = ?`,
			k.Account, nameKey(k.UserName)).Scan(&n); err != nil {
			return err
		}
		if n >= meta.MaxAccessKeysPerUser {
			return iamErr(meta.ErrIAMLimit, meta.IAMWhatAccessKey, k.UserName)
		}
		return insertAccessKey(ctx, tx, k)
	})
}

func (s *Store) GetAccessKey(ctx context.Context, id string) (*meta.IAMAccessKey, error) {
	k, err := scanAccessKey(s.queryRow(ctx, `SELECT `+accessKeyColumns+` FROM iam_access_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.IAMWhatAccessKey, id)
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get access key: %w", err)
	}
	return k, nil
}

func (s *Store) ListAccessKeys(ctx context.Context, account, user string) ([]*meta.IAMAccessKey, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list access keys: %w", err)
	}
	defer tx.Rollback()
	if user != "" {
		if err := entityExists(ctx, tx, account, meta.IAMUser, user); err != nil {
			return nil, err
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+accessKeyColumns+` FROM iam_access_keys WHERE account = ? AND user_key = ? ORDER BY created_at, id`,
		account, nameKey(user))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list access keys: %w", err)
	}
	defer rows.Close()
	var out []*meta.IAMAccessKey
	for rows.Next() {
		k, err := scanAccessKey(rows)
		if err != nil {
			return nil, fmt.Errorf("meta/sqlite: list access keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// keyOwnerCheck fails unless the user exists (for a user's key) and owns
// the key.
func keyOwnerCheck(ctx context.Context, tx *wtx, account, user, id string) error {
	if user != "" {
		if err := entityExists(ctx, tx, account, meta.IAMUser, user); err != nil {
			return err
		}
	}
	found, err := exists(ctx, tx, `SELECT 1 FROM iam_access_keys WHERE id = ? AND account = ? AND user_key = ?`, id, account, nameKey(user))
	if err != nil {
		return err
	}
	if !found {
		return iamErr(meta.ErrIAMNotFound, meta.IAMWhatAccessKey, id)
	}
	return nil
}

func (s *Store) UpdateAccessKeyStatus(ctx context.Context, account, user, id, status string) error {
	return s.write(ctx, "update access key", func(tx *wtx) error {
		if err := keyOwnerCheck(ctx, tx, account, user, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE iam_access_keys SET status = ? WHERE id = ?`, status, id)
		return err
	})
}

func (s *Store) DeleteAccessKey(ctx context.Context, account, user, id string) error {
	return s.write(ctx, "delete access key", func(tx *wtx) error {
		if err := keyOwnerCheck(ctx, tx, account, user, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM iam_access_keys WHERE id = ?`, id)
		return err
	})
}

// --- role sessions

func (s *Store) CreateRoleSession(ctx context.Context, rs *meta.IAMSession) error {
	return s.write(ctx, "create role session", func(tx *wtx) error {
		found, err := sessionOwnerExists(ctx, tx, rs)
		if err != nil {
			return err
		}
		if !found {
			return sessionOwnerMissing(rs)
		}
		found, err = exists(ctx, tx, `SELECT 1 FROM iam_sessions WHERE id = ?`, rs.AccessKeyID)
		if err != nil {
			return err
		}
		if found {
			return iamErr(meta.ErrIAMExists, meta.IAMWhatSession, rs.AccessKeyID)
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO iam_sessions (id, secret, token, account, role_key, role_name, role_path, role_id, session_name, user_name, source_arn, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			rs.AccessKeyID, rs.SecretAccessKey, rs.SessionToken, rs.Account, nameKey(rs.RoleName), rs.RoleName, rs.RolePath, rs.RoleID,
			rs.SessionName, rs.UserName, rs.SourceARN, nanos(rs.CreatedAt), nanos(rs.ExpiresAt))
		return err
	})
}

func (s *Store) GetRoleSession(ctx context.Context, accessKeyID string) (*meta.IAMSession, error) {
	var rs meta.IAMSession
	var created, expires sql.NullInt64
	err := s.queryRow(ctx, `
		SELECT id, secret, token, account, role_name, role_path, role_id, session_name, user_name, source_arn, created_at, expires_at
		FROM iam_sessions WHERE id = ?`, accessKeyID).Scan(
		&rs.AccessKeyID, &rs.SecretAccessKey, &rs.SessionToken, &rs.Account, &rs.RoleName, &rs.RolePath, &rs.RoleID,
		&rs.SessionName, &rs.UserName, &rs.SourceARN, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.IAMWhatSession, accessKeyID)
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get role session: %w", err)
	}
	rs.CreatedAt, rs.ExpiresAt = fromNanos(created), fromNanos(expires)
	return &rs, nil
}

func (s *Store) DeleteRoleSessionsExpiredBefore(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "delete expired role sessions", func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM iam_sessions WHERE expires_at < ?`, t.UnixNano())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// sessionOwnerExists says whether a session's role (with its id), or for a
// user's session its user, exists; an account root always does.
func sessionOwnerExists(ctx context.Context, tx *wtx, rs *meta.IAMSession) (bool, error) {
	switch {
	case rs.RoleID != "":
		return exists(ctx, tx, `SELECT 1 FROM iam_entities WHERE account = ? AND kind = 'role' AND name_key = ? AND id = ?`,
			rs.Account, nameKey(rs.RoleName), rs.RoleID)
	case rs.UserName != "":
		return exists(ctx, tx, `SELECT 1 FROM iam_entities WHERE account = ? AND kind = 'user' AND name_key = ?`,
			rs.Account, nameKey(rs.UserName))
	}
	return true, nil
}

func sessionOwnerMissing(rs *meta.IAMSession) error {
	if rs.RoleID == "" {
		return iamErr(meta.ErrIAMNotFound, string(meta.IAMUser), rs.UserName)
	}
	return iamErr(meta.ErrIAMNotFound, string(meta.IAMRole), rs.RoleName)
}
