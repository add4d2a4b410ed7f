package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/berth-registry/berth/internal/meta"
)

// IAM's references between rows (a membership names a user and a group, a
// policy is attached to a role) have no foreign keys: the name they hold is
// a case-folded key. Row locks keep them whole instead. A write that adds a
// row depending on an entity or a managed policy locks it FOR KEY SHARE;
// deleting one locks it FOR UPDATE first and only then looks, in later
// statements, for what still depends on it. Either the writer commits first
// and the delete sees its row, or the writer waits and then finds the
// entity gone.

// nameKey is how IAM names compare: ASCII case-insensitively. It matches
// the name_key columns, lower(name) under COLLATE "C", which folds ASCII
// only.
func nameKey(name string) string {
	b := []byte(name)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func iamErr(err error, what, name string) error {
	return &meta.IAMError{Err: err, What: what, Name: name}
}

func conflict(what, name, blockedBy string) error {
	return &meta.IAMError{Err: meta.ErrIAMConflict, What: what, Name: name, BlockedBy: blockedBy}
}

// Row locks entityExists takes.
const (
	keepIt   = "FOR KEY SHARE" // a row will depend on the entity
	deleteIt = "FOR UPDATE"    // the entity is about to be deleted
)

// entityExists fails with ErrIAMNotFound unless the entity exists, and
// locks it with lock ("" for none).
func entityExists(ctx context.Context, q querier, lock string, account string, kind meta.IAMKind, name string) error {
	found, err := exists(ctx, q, `SELECT 1 FROM iam_entities WHERE account = $1 AND kind = $2 AND name_key = $3 `+lock,
		account, string(kind), nameKey(name))
	if err != nil {
		return err
	}
	if !found {
		return iamErr(meta.ErrIAMNotFound, string(kind), name)
	}
	return nil
}

// --- accounts

func (s *Store) CreateAccount(ctx context.Context, a *meta.IAMAccount, root *meta.IAMAccessKey) error {
	return s.write(ctx, "create account", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO iam_accounts (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
			a.ID, ts(a.CreatedAt))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return iamErr(meta.ErrIAMExists, meta.IAMWhatAccount, a.ID)
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
	var created pgtype.Timestamptz
	err := s.pool.QueryRow(ctx, `SELECT created_at FROM iam_accounts WHERE id = $1`, id).Scan(&created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.IAMWhatAccount, id)
	}
	if err != nil {
		return nil, wrap(ctx, "get account", err)
	}
	a.CreatedAt = fromTS(created)
	return a, nil
}

func (s *Store) ListAccounts(ctx context.Context) ([]*meta.IAMAccount, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, created_at FROM iam_accounts ORDER BY id`)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*meta.IAMAccount, error) {
		var (
			a       meta.IAMAccount
			created pgtype.Timestamptz
		)
		err := row.Scan(&a.ID, &created)
		a.CreatedAt = fromTS(created)
		return &a, err
	})
	if err != nil {
		return nil, wrap(ctx, "list accounts", err)
	}
	return out, nil
}

// --- users, groups, roles

const entityColumns = `account, kind, name, path, id, created_at, trust_policy, description, max_session_duration`

func scanEntity(row scanner) (*meta.IAMEntity, error) {
	var (
		e       meta.IAMEntity
		kind    string
		created pgtype.Timestamptz
	)
	if err := row.Scan(&e.Account, &kind, &e.Name, &e.Path, &e.ID, &created, &e.AssumeRolePolicy, &e.Description, &e.MaxSessionDuration); err != nil {
		return nil, err
	}
	e.Kind, e.CreatedAt = meta.IAMKind(kind), fromTS(created)
	return &e, nil
}

func collectEntities(rows pgx.Rows) ([]*meta.IAMEntity, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*meta.IAMEntity, error) { return scanEntity(row) })
}

// CreateIAMEntity lets the primary key on the case-folded name decide:
// of two creations of one name, the second waits for the first and then
// inserts nothing.
func (s *Store) CreateIAMEntity(ctx context.Context, e *meta.IAMEntity) error {
	return s.retry(ctx, "create "+string(e.Kind), func() error {
		tag, err := s.pool.Exec(ctx, `
			INSERT INTO iam_entities (account, kind, name, path, id, created_at, trust_policy, description, max_session_duration)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (account, kind, name_key) DO NOTHING`,
			e.Account, string(e.Kind), e.Name, e.Path, e.ID, ts(e.CreatedAt), e.AssumeRolePolicy, e.Description, e.MaxSessionDuration)
		if err == nil && tag.RowsAffected() == 0 {
			err = iamErr(meta.ErrIAMExists, string(e.Kind), e.Name)
		}
		return err
	})
}

func (s *Store) GetIAMEntity(ctx context.Context, account string, kind meta.IAMKind, name string) (*meta.IAMEntity, error) {
	e, err := scanEntity(s.pool.QueryRow(ctx, `SELECT `+entityColumns+` FROM iam_entities WHERE account = $1 AND kind = $2 AND name_key = $3`,
		account, string(kind), nameKey(name)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, string(kind), name)
	}
	if err != nil {
		return nil, wrap(ctx, "get "+string(kind), err)
	}
	return e, nil
}

func (s *Store) ListIAMEntities(ctx context.Context, account string, kind meta.IAMKind, q meta.IAMListQuery) ([]*meta.IAMEntity, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT `+entityColumns+` FROM iam_entities
		WHERE account = $1 AND kind = $2 AND name_key > $3 AND starts_with(path, $4)
		ORDER BY name_key LIMIT $5`,
		account, string(kind), nameKey(q.After), q.PathPrefix, sqlLimit(q.Limit))
	out, err := collectEntities(rows)
	if err != nil {
		return nil, wrap(ctx, "list "+string(kind)+"s", err)
	}
	return out, nil
}

// blockers are the checks DeleteIAMEntity makes, in the order IAM makes
// them, per kind: a query ($1 the account, $2 the name's key) finding a
// dependant, and what to call it.
var blockers = map[meta.IAMKind][]struct {
	query     string
	blockedBy string
}{
	meta.IAMUser: {
		{`SELECT 1 FROM iam_access_keys WHERE account = $1 AND user_key = $2 LIMIT 1`, meta.IAMBlockedByAccessKeys},
		{`SELECT 1 FROM iam_inline_policies WHERE account = $1 AND owner_kind = 'user' AND owner_key = $2 LIMIT 1`, meta.IAMBlockedByInlinePolicies},
		{`SELECT 1 FROM iam_attachments WHERE account = $1 AND owner_kind = 'user' AND owner_key = $2 LIMIT 1`, meta.IAMBlockedByAttachedPolicies},
		{`SELECT 1 FROM iam_group_members WHERE account = $1 AND user_key = $2 LIMIT 1`, meta.IAMBlockedByGroups},
	},
	meta.IAMGroup: {
		{`SELECT 1 FROM iam_group_members WHERE account = $1 AND group_key = $2 LIMIT 1`, meta.IAMBlockedByMembers},
		{`SELECT 1 FROM iam_inline_policies WHERE account = $1 AND owner_kind = 'group' AND owner_key = $2 LIMIT 1`, meta.IAMBlockedByInlinePolicies},
		{`SELECT 1 FROM iam_attachments WHERE account = $1 AND owner_kind = 'group' AND owner_key = $2 LIMIT 1`, meta.IAMBlockedByAttachedPolicies},
	},
	meta.IAMRole: {
		{`SELECT 1 FROM iam_inline_policies WHERE account = $1 AND owner_kind = 'role' AND owner_key = $2 LIMIT 1`, meta.IAMBlockedByInlinePolicies},
		{`SELECT 1 FROM iam_attachments WHERE account = $1 AND owner_kind = 'role' AND owner_key = $2 LIMIT 1`, meta.IAMBlockedByAttachedPolicies},
	},
}

// DeleteIAMEntity locks the entity FOR UPDATE, then looks for dependants.
func (s *Store) DeleteIAMEntity(ctx context.Context, account string, kind meta.IAMKind, name string) error {
	return s.write(ctx, "delete "+string(kind), func(tx pgx.Tx) error {
		if err := entityExists(ctx, tx, deleteIt, account, kind, name); err != nil {
			return err
		}
		key := nameKey(name)
		for _, b := range blockers[kind] {
			found, err := exists(ctx, tx, b.query, account, key)
			if err != nil {
				return err
			}
			if found {
				return conflict(string(kind), name, b.blockedBy)
			}
		}
		if kind == meta.IAMRole {
			if _, err := tx.Exec(ctx, `DELETE FROM iam_sessions WHERE account = $1 AND role_key = $2`, account, key); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `DELETE FROM iam_entities WHERE account = $1 AND kind = $2 AND name_key = $3`, account, string(kind), key)
		return err
	})
}

func (s *Store) UpdateAssumeRolePolicy(ctx context.Context, account, role, document string) error {
	return s.exec(ctx, "update assume role policy", iamErr(meta.ErrIAMNotFound, string(meta.IAMRole), role),
		`UPDATE iam_entities SET trust_policy = $1 WHERE account = $2 AND kind = 'role' AND name_key = $3`,
		document, account, nameKey(role))
}

// --- groups

func (s *Store) AddGroupMember(ctx context.Context, account, group, user string) error {
	return s.write(ctx, "add group member", func(tx pgx.Tx) error {
		if err := entityExists(ctx, tx, keepIt, account, meta.IAMGroup, group); err != nil {
			return err
		}
		if err := entityExists(ctx, tx, keepIt, account, meta.IAMUser, user); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO iam_group_members (account, group_key, user_key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			account, nameKey(group), nameKey(user))
		return err
	})
}

func (s *Store) RemoveGroupMember(ctx context.Context, account, group, user string) error {
	return s.write(ctx, "remove group member", func(tx pgx.Tx) error {
		if err := entityExists(ctx, tx, "", account, meta.IAMGroup, group); err != nil {
			return err
		}
		if err := entityExists(ctx, tx, "", account, meta.IAMUser, user); err != nil {
			return err
		}
		return execAffect(ctx, tx, iamErr(meta.ErrIAMNotFound, meta.IAMWhatMembership, user),
			`DELETE FROM iam_group_members WHERE account = $1 AND group_key = $2 AND user_key = $3`, account, nameKey(group), nameKey(user))
	})
}

func (s *Store) ListGroupMembers(ctx context.Context, account, group string) ([]*meta.IAMEntity, error) {
	return s.listRelated(ctx, account, meta.IAMGroup, group, `
		SELECT e.account, e.kind, e.name, e.path, e.id, e.created_at, e.trust_policy, e.description, e.max_session_duration
		FROM iam_group_members m JOIN iam_entities e ON e.account = m.account AND e.kind = 'user' AND e.name_key = m.user_key
		WHERE m.account = $1 AND m.group_key = $2 ORDER BY e.name_key`)
}

func (s *Store) ListUserGroups(ctx context.Context, account, user string) ([]*meta.IAMEntity, error) {
	return s.listRelated(ctx, account, meta.IAMUser, user, `
		SELECT e.account, e.kind, e.name, e.path, e.id, e.created_at, e.trust_policy, e.description, e.max_session_duration
		FROM iam_group_members m JOIN iam_entities e ON e.account = m.account AND e.kind = 'group' AND e.name_key = m.group_key
		WHERE m.account = $1 AND m.user_key = $2 ORDER BY e.name_key`)
}

// listRelated checks that an entity exists and lists what query finds for
// it, in one snapshot, so that the two agree.
func (s *Store) listRelated(ctx context.Context, account string, kind meta.IAMKind, name, query string) ([]*meta.IAMEntity, error) {
	var out []*meta.IAMEntity
	err := s.read(ctx, "list", func(tx pgx.Tx) error {
		if err := entityExists(ctx, tx, "", account, kind, name); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, query, account, nameKey(name))
		var err error
		out, err = collectEntities(rows)
		return err
	})
	return out, err
}

// --- inline policies

func inlineWhat(kind meta.IAMKind) string { return string(kind) + " policy" }

func (s *Store) PutInlinePolicy(ctx context.Context, account string, kind meta.IAMKind, owner string, p meta.IAMInlinePolicy) error {
	return s.write(ctx, "put "+inlineWhat(kind), func(tx pgx.Tx) error {
		if err := entityExists(ctx, tx, keepIt, account, kind, owner); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO iam_inline_policies (account, owner_kind, owner_key, name, document) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (account, owner_kind, owner_key, name_key) DO UPDATE SET document = excluded.document`,
			account, string(kind), nameKey(owner), p.Name, p.Document)
		return err
	})
}

func (s *Store) GetInlinePolicy(ctx context.Context, account string, kind meta.IAMKind, owner, name string) (*meta.IAMInlinePolicy, error) {
	var p meta.IAMInlinePolicy
	err := s.read(ctx, "get "+inlineWhat(kind), func(tx pgx.Tx) error {
		if err := entityExists(ctx, tx, "", account, kind, owner); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `
			SELECT name, document FROM iam_inline_policies
			WHERE account = $1 AND owner_kind = $2 AND owner_key = $3 AND name_key = $4`,
			account, string(kind), nameKey(owner), nameKey(name)).Scan(&p.Name, &p.Document)
		if errors.Is(err, pgx.ErrNoRows) {
			return iamErr(meta.ErrIAMNotFound, inlineWhat(kind), name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func (s *Store) ListInlinePolicies(ctx context.Context, account string, kind meta.IAMKind, owner string) ([]string, error) {
	return s.listNames(ctx, account, kind, owner,
		`SELECT name FROM iam_inline_policies WHERE account = $1 AND owner_kind = $2 AND owner_key = $3 ORDER BY name_key`)
}

func (s *Store) DeleteInlinePolicy(ctx context.Context, account string, kind meta.IAMKind, owner, name string) error {
	return s.write(ctx, "delete "+inlineWhat(kind), func(tx pgx.Tx) error {
		if err := entityExists(ctx, tx, "", account, kind, owner); err != nil {
			return err
		}
		return execAffect(ctx, tx, iamErr(meta.ErrIAMNotFound, inlineWhat(kind), name), `
			DELETE FROM iam_inline_policies WHERE account = $1 AND owner_kind = $2 AND owner_key = $3 AND name_key = $4`,
			account, string(kind), nameKey(owner), nameKey(name))
	})
}

// listNames lists one column of an owner's rows, after checking the owner
// exists, in one snapshot.
func (s *Store) listNames(ctx context.Context, account string, kind meta.IAMKind, owner, query string) ([]string, error) {
	var out []string
	err := s.read(ctx, "list", func(tx pgx.Tx) error {
		if err := entityExists(ctx, tx, "", account, kind, owner); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, query, account, string(kind), nameKey(owner))
		var err error
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return out, err
}

// --- managed policies

const policyColumns = `account, name, path, id, arn, description, document, created_at, updated_at`

func scanPolicy(row scanner) (*meta.IAMPolicy, error) {
	var (
		p                meta.IAMPolicy
		created, updated pgtype.Timestamptz
	)
	if err := row.Scan(&p.Account, &p.Name, &p.Path, &p.ID, &p.ARN, &p.Description, &p.Document, &created, &updated); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = fromTS(created), fromTS(updated)
	return &p, nil
}

// CreateManagedPolicy refuses a name, an id or an ARN that is taken: ON
// CONFLICT without a target stands back for any of the three.
func (s *Store) CreateManagedPolicy(ctx context.Context, p *meta.IAMPolicy) error {
	return s.retry(ctx, "create policy", func() error {
		tag, err := s.pool.Exec(ctx, `
			INSERT INTO iam_policies (account, name, path, id, arn, description, document, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT DO NOTHING`,
			p.Account, p.Name, p.Path, p.ID, p.ARN, p.Description, p.Document, ts(p.CreatedAt), ts(p.UpdatedAt))
		if err == nil && tag.RowsAffected() == 0 {
			err = iamErr(meta.ErrIAMExists, meta.IAMWhatPolicy, p.Name)
		}
		return err
	})
}

func (s *Store) GetManagedPolicy(ctx context.Context, arn string) (*meta.IAMPolicy, error) {
	p, err := scanPolicy(s.pool.QueryRow(ctx, `SELECT `+policyColumns+` FROM iam_policies WHERE arn = $1`, arn))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.IAMWhatPolicy, arn)
	}
	if err != nil {
		return nil, wrap(ctx, "get policy", err)
	}
	return p, nil
}

func (s *Store) ListManagedPolicies(ctx context.Context, account string, q meta.IAMListQuery) ([]*meta.IAMPolicy, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT `+policyColumns+` FROM iam_policies
		WHERE account = $1 AND name_key > $2 AND starts_with(path, $3)
		ORDER BY name_key LIMIT $4`,
		account, nameKey(q.After), q.PathPrefix, sqlLimit(q.Limit))
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*meta.IAMPolicy, error) { return scanPolicy(row) })
	if err != nil {
		return nil, wrap(ctx, "list policies", err)
	}
	return out, nil
}

// DeleteManagedPolicy locks the policy FOR UPDATE, then looks for
// attachments (AttachPolicy holds the policy FOR KEY SHARE).
func (s *Store) DeleteManagedPolicy(ctx context.Context, arn string) error {
	return s.write(ctx, "delete policy", func(tx pgx.Tx) error {
		var account string
		err := tx.QueryRow(ctx, `SELECT account FROM iam_policies WHERE arn = $1 FOR UPDATE`, arn).Scan(&account)
		if errors.Is(err, pgx.ErrNoRows) {
			return iamErr(meta.ErrIAMNotFound, meta.IAMWhatPolicy, arn)
		}
		if err != nil {
			return err
		}
		found, err := exists(ctx, tx, `SELECT 1 FROM iam_attachments WHERE account = $1 AND policy_arn = $2 LIMIT 1`, account, arn)
		if err != nil {
			return err
		}
		if found {
			return conflict(meta.IAMWhatPolicy, arn, meta.IAMBlockedByAttachments)
		}
		_, err = tx.Exec(ctx, `DELETE FROM iam_policies WHERE arn = $1`, arn)
		return err
	})
}

// --- attachments

// awsManagedPrefix starts the ARNs of AWS managed policies, which the store
// does not hold.
const awsManagedPrefix = "arn:aws:iam::aws:policy/"

func (s *Store) AttachPolicy(ctx context.Context, account string, kind meta.IAMKind, owner, policyARN string) error {
	return s.write(ctx, "attach policy", func(tx pgx.Tx) error {
		if err := entityExists(ctx, tx, keepIt, account, kind, owner); err != nil {
			return err
		}
		if !strings.HasPrefix(policyARN, awsManagedPrefix) {
			found, err := exists(ctx, tx, `SELECT 1 FROM iam_policies WHERE arn = $1 AND account = $2 FOR KEY SHARE`, policyARN, account)
			if err != nil {
				return err
			}
			if !found {
				return iamErr(meta.ErrIAMNotFound, meta.IAMWhatPolicy, policyARN)
			}
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO iam_attachments (account, owner_kind, owner_key, policy_arn) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`,
			account, string(kind), nameKey(owner), policyARN)
		return err
	})
}

func (s *Store) DetachPolicy(ctx context.Context, account string, kind meta.IAMKind, owner, policyARN string) error {
	return s.write(ctx, "detach policy", func(tx pgx.Tx) error {
		if err := entityExists(ctx, tx, "", account, kind, owner); err != nil {
			return err
		}
		return execAffect(ctx, tx, iamErr(meta.ErrIAMNotFound, meta.IAMWhatAttachment, policyARN),
			`DELETE FROM iam_attachments WHERE account = $1 AND owner_kind = $2 AND owner_key = $3 AND policy_arn = $4`,
			account, string(kind), nameKey(owner), policyARN)
	})
}

func (s *Store) ListAttachedPolicies(ctx context.Context, account string, kind meta.IAMKind, owner string) ([]string, error) {
	return s.listNames(ctx, account, kind, owner,
		`SELECT policy_arn FROM iam_attachments WHERE account = $1 AND owner_kind = $2 AND owner_key = $3 ORDER BY policy_arn`)
}

func (s *Store) PolicyAttachmentCounts(ctx context.Context, account string) (map[string]int, error) {
	rows, _ := s.pool.Query(ctx, `SELECT policy_arn, count(*) FROM iam_attachments WHERE account = $1 GROUP BY policy_arn`, account)
	counts := map[string]int{}
	var (
		arn string
		n   int
	)
	_, err := pgx.ForEachRow(rows, []any{&arn, &n}, func() error {
		counts[arn] = n
		return nil
	})
	if err != nil {
		return nil, wrap(ctx, "policy attachment counts", err)
	}
	return counts, nil
}

// --- access keys

// insertAccessKey refuses an id that is taken, by any account.
func insertAccessKey(ctx context.Context, tx pgx.Tx, k *meta.IAMAccessKey) error {
	tag, err := tx.Exec(ctx, `
		INSERT INTO iam_access_keys (id, account, user_key, user_name, secret, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO NOTHING`,
		k.ID, k.Account, nameKey(k.UserName), k.UserName, k.SecretAccessKey, k.Status, ts(k.CreatedAt))
	if err == nil && tag.RowsAffected() == 0 {
		err = iamErr(meta.ErrIAMExists, meta.IAMWhatAccessKey, k.ID)
	}
	return err
}

const accessKeyColumns = `id, account, user_name, secret, status, created_at`

func scanAccessKey(row scanner) (*meta.IAMAccessKey, error) {
	var (
		k       meta.IAMAccessKey
		created pgtype.Timestamptz
	)
	if err := row.Scan(&k.ID, &k.Account, &k.UserName, &k.SecretAccessKey, &k.Status, &created); err != nil {
		return nil, err
	}
	k.CreatedAt = fromTS(created)
	return &k, nil
}

// CreateAccessKey counts the keys and adds one under a lock that every
// creation of a key for the same owner takes: the user's row FOR NO KEY
// UPDATE (which also keeps the user from being deleted meanwhile), or, for
// an account's root, which has no row, an advisory lock on the account.
// Two creations at once cannot both find room for one more key.
func (s *Store) CreateAccessKey(ctx context.Context, k *meta.IAMAccessKey) error {
	return s.write(ctx, "create access key", func(tx pgx.Tx) error {
		if k.UserName != "" {
			// The stored spelling of the name, not the caller's.
			var name string
			err := tx.QueryRow(ctx, `
				SELECT name FROM iam_entities WHERE account = $1 AND kind = 'user' AND name_key = $2
				FOR NO KEY UPDATE`,
				k.Account, nameKey(k.UserName)).Scan(&name)
			if errors.Is(err, pgx.ErrNoRows) {
				return iamErr(meta.ErrIAMNotFound, string(meta.IAMUser), k.UserName)
			}
			if err != nil {
				return err
			}
			k.UserName = name
		} else if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockKeysClass, hash32(k.Account)); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM iam_access_keys WHERE account = $1 AND user_key = $2`,
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
	k, err := scanAccessKey(s.pool.QueryRow(ctx, `SELECT `+accessKeyColumns+` FROM iam_access_keys WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.IAMWhatAccessKey, id)
	}
	if err != nil {
		return nil, wrap(ctx, "get access key", err)
	}
	return k, nil
}

func (s *Store) ListAccessKeys(ctx context.Context, account, user string) ([]*meta.IAMAccessKey, error) {
	var out []*meta.IAMAccessKey
	err := s.read(ctx, "list access keys", func(tx pgx.Tx) error {
		if user != "" {
			if err := entityExists(ctx, tx, "", account, meta.IAMUser, user); err != nil {
				return err
			}
		}
		rows, _ := tx.Query(ctx, `SELECT `+accessKeyColumns+` FROM iam_access_keys WHERE account = $1 AND user_key = $2 ORDER BY created_at, id`,
			account, nameKey(user))
		var err error
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*meta.IAMAccessKey, error) { return scanAccessKey(row) })
		return err
	})
	return out, err
}

// keyOwnerCheck fails unless the user exists (for a user's key) and owns
// the key.
func keyOwnerCheck(ctx context.Context, tx pgx.Tx, account, user, id string) error {
	if user != "" {
		if err := entityExists(ctx, tx, "", account, meta.IAMUser, user); err != nil {
			return err
		}
	}
	found, err := exists(ctx, tx, `SELECT 1 FROM iam_access_keys WHERE id = $1 AND account = $2 AND user_key = $3`, id, account, nameKey(user))
	if err != nil {
		return err
	}
	if !found {
		return iamErr(meta.ErrIAMNotFound, meta.IAMWhatAccessKey, id)
	}
	return nil
}

func (s *Store) UpdateAccessKeyStatus(ctx context.Context, account, user, id, status string) error {
	return s.write(ctx, "update access key", func(tx pgx.Tx) error {
		if err := keyOwnerCheck(ctx, tx, account, user, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE iam_access_keys SET status = $1 WHERE id = $2`, status, id)
		return err
	})
}

func (s *Store) DeleteAccessKey(ctx context.Context, account, user, id string) error {
	return s.write(ctx, "delete access key", func(tx pgx.Tx) error {
		if err := keyOwnerCheck(ctx, tx, account, user, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM iam_access_keys WHERE id = $1`, id)
		return err
	})
}

// --- role sessions

// CreateRoleSession holds the role FOR KEY SHARE: deleting the role, which
// ends its sessions, waits for the session to be written, or the session
// finds the role gone.
func (s *Store) CreateRoleSession(ctx context.Context, rs *meta.IAMSession) error {
	return s.write(ctx, "create role session", func(tx pgx.Tx) error {
		found, err := sessionOwnerExists(ctx, tx, rs)
		if err != nil {
			return err
		}
		if !found {
			return sessionOwnerMissing(rs)
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO iam_sessions (id, secret, token, account, role_key, role_name, role_path, role_id, session_name, user_name, source_arn, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT (id) DO NOTHING`,
			rs.AccessKeyID, rs.SecretAccessKey, rs.SessionToken, rs.Account, nameKey(rs.RoleName), rs.RoleName, rs.RolePath, rs.RoleID,
			rs.SessionName, rs.UserName, rs.SourceARN, ts(rs.CreatedAt), ts(rs.ExpiresAt))
		if err == nil && tag.RowsAffected() == 0 {
			err = iamErr(meta.ErrIAMExists, meta.IAMWhatSession, rs.AccessKeyID)
		}
		return err
	})
}

func (s *Store) GetRoleSession(ctx context.Context, accessKeyID string) (*meta.IAMSession, error) {
	var (
		rs               meta.IAMSession
		created, expires pgtype.Timestamptz
	)
	err := s.pool.QueryRow(ctx, `
		SELECT id, secret, token, account, role_name, role_path, role_id, session_name, user_name, source_arn, created_at, expires_at
		FROM iam_sessions WHERE id = $1`, accessKeyID).Scan(
		&rs.AccessKeyID, &rs.SecretAccessKey, &rs.SessionToken, &rs.Account, &rs.RoleName, &rs.RolePath, &rs.RoleID,
		&rs.SessionName, &rs.UserName, &rs.SourceARN, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, iamErr(meta.ErrIAMNotFound, meta.IAMWhatSession, accessKeyID)
	}
	if err != nil {
		return nil, wrap(ctx, "get role session", err)
	}
	rs.CreatedAt, rs.ExpiresAt = fromTS(created), fromTS(expires)
	return &rs, nil
}

func (s *Store) DeleteRoleSessionsExpiredBefore(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := s.retry(ctx, "delete expired role sessions", func() error {
		tag, err := s.pool.Exec(ctx, `DELETE FROM iam_sessions WHERE expires_at < $1`, t)
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}

// sessionOwnerExists says whether a session's role (with its id), or for a
// user's session its user, exists — holding it FOR KEY SHARE, so that
// deleting it waits for the session to be written; an account root always
// exists.
func sessionOwnerExists(ctx context.Context, tx pgx.Tx, rs *meta.IAMSession) (bool, error) {
	switch {
	case rs.RoleID != "":
		return exists(ctx, tx, `
			SELECT 1 FROM iam_entities WHERE account = $1 AND kind = 'role' AND name_key = $2 AND id = $3 FOR KEY SHARE`,
			rs.Account, nameKey(rs.RoleName), rs.RoleID)
	case rs.UserName != "":
		return exists(ctx, tx, `
			SELECT 1 FROM iam_entities WHERE account = $1 AND kind = 'user' AND name_key = $2 FOR KEY SHARE`,
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
