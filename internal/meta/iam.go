package meta

import (
	"context"
	"errors"
	"time"
)

// IAM: accounts, identities, policies, access keys and role sessions.
//
// Names of users, groups, roles and policies compare case-insensitively
// (ASCII), as IAM's do: "Bob" and "bob" are one user, stored as first
// written. Documents are stored verbatim. List methods return name order.

// IAMKind is the kind of identity policies attach to.
type IAMKind string

const (
	IAMUser  IAMKind = "user"
	IAMGroup IAMKind = "group"
	IAMRole  IAMKind = "role"
)

// MaxAccessKeysPerUser is IAM's quota of access keys per user, Active and
// Inactive alike; an account's root has the same quota.
const MaxAccessKeysPerUser = 2

// IAM sentinels; IAM store methods return them inside an *IAMError.
var (
	ErrIAMExists   = errors.New("meta: IAM entity already exists")
	ErrIAMNotFound = errors.New("meta: IAM entity not found")
	// ErrIAMConflict refuses deleting what others still depend on.
	ErrIAMConflict = errors.New("meta: IAM entity still in use")
	// ErrIAMLimit refuses going over a quota (MaxAccessKeysPerUser).
	ErrIAMLimit = errors.New("meta: IAM quota exceeded")
)

// What an *IAMError is about, and what blocks a delete.
const (
	IAMWhatAccount    = "account"
	IAMWhatAccessKey  = "access key"
	IAMWhatPolicy     = "policy"     // managed; Name is the ARN
	IAMWhatAttachment = "attachment" // Name is the policy ARN
	IAMWhatMembership = "membership" // Name is the user
	IAMWhatSession    = "session"
	// IAMKind values name users, groups and roles; IAMKind+" policy"
	// ("user policy") an inline policy.

	IAMBlockedByAccessKeys       = "access keys"
	IAMBlockedByInlinePolicies   = "policies"
	IAMBlockedByAttachedPolicies = "attached policies"
	IAMBlockedByGroups           = "groups"      // a user's memberships
	IAMBlockedByMembers          = "members"     // a group's users
	IAMBlockedByAttachments      = "attachments" // a managed policy's
)

// IAMError says which entity an IAM store method found present, missing,
// in use or over quota. It wraps one of the IAM sentinels.
type IAMError struct {
	Err  error
	What string
	Name string
	// BlockedBy, with ErrIAMConflict, is what still depends on the entity.
	BlockedBy string
}

func (e *IAMError) Error() string {
	msg := e.Err.Error() + ": " + e.What + " " + e.Name
	if e.BlockedBy != "" {
		msg += " (has " + e.BlockedBy + ")"
	}
	return msg
}

func (e *IAMError) Unwrap() error { return e.Err }

// IAMAccount is an account of the deployment other than the default one,
// whose root keys come from the configuration.
type IAMAccount struct {
	ID        string
	CreatedAt time.Time
}

// IAMEntity is a user, group or role.
type IAMEntity struct {
	Account   string
	Kind      IAMKind
	Name      string
	Path      string
	ID        string // AIDA…, AGPA…, AROA…; unique in the deployment
	CreatedAt time.Time

	// Roles only.
	AssumeRolePolicy   string
	Description        string
	MaxSessionDuration int // seconds
}

// IAMInlinePolicy is a policy embedded in one user, group or role.
type IAMInlinePolicy struct {
	Name     string
	Document string
}

// IAMPolicy is a customer managed policy. AWS managed policies
// (arn:aws:iam::aws:policy/…) are built into the binary, not stored.
type IAMPolicy struct {
	Account     string
	Name        string
	Path        string
	ID          string // ANPA…
	ARN         string
	Description string
	// Document is the default (and only) version, v1.
	Document  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// IAMAccessKey is a long-term key of a user, or of an account's root when
// UserName is "".
type IAMAccessKey struct {
	ID              string
	Account         string
	UserName        string
	SecretAccessKey string
	Status          string // Active or Inactive
	CreatedAt       time.Time
}

// IAMSession is a role session made by AssumeRole (or
// AssumeRoleWithWebIdentity), or a user's session made by GetSessionToken:
// temporary credentials stored so that every node sharing the database
// accepts them. A user's session has no role (RoleID ""); its UserName is
// the user's, or "" for an account root's.
type IAMSession struct {
	AccessKeyID     string // ASIA…
	SecretAccessKey string
	SessionToken    string
	Account         string
	RoleName        string
	RolePath        string
	RoleID          string
	SessionName     string
	// UserName is the IAM user of a GetSessionToken session.
	UserName string
	// SourceARN is the identity that assumed the role.
	SourceARN string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// IAMListQuery selects one page of a list.
type IAMListQuery struct {
	// PathPrefix keeps entities whose path starts with it; "" keeps all.
	PathPrefix string
	// After is exclusive: the page starts after this name
	// (case-insensitively).
	After string
	// Limit <= 0 means no limit.
	Limit int
}

// IAMStore keeps IAM's state. Every method is one transaction; the checks
// it makes (the user exists, the role has no policies left) are made
// inside it.
type IAMStore interface {
	// CreateAccount records an account and, unless root is nil, its first
	// root access key.
	CreateAccount(ctx context.Context, a *IAMAccount, root *IAMAccessKey) error
	GetAccount(ctx context.Context, id string) (*IAMAccount, error)
	ListAccounts(ctx context.Context) ([]*IAMAccount, error)

	CreateIAMEntity(ctx context.Context, e *IAMEntity) error
	GetIAMEntity(ctx context.Context, account string, kind IAMKind, name string) (*IAMEntity, error)
	ListIAMEntities(ctx context.Context, account string, kind IAMKind, q IAMListQuery) ([]*IAMEntity, error)
	// DeleteIAMEntity refuses (ErrIAMConflict) while a user has access
	// keys, inline or attached policies or groups, a group has members or
	// policies, a role has policies. Deleting a role ends its sessions.
	DeleteIAMEntity(ctx context.Context, account string, kind IAMKind, name string) error
	UpdateAssumeRolePolicy(ctx context.Context, account, role, document string) error

	// AddGroupMember is idempotent; RemoveGroupMember fails with
	// ErrIAMNotFound (What membership) when the user is not a member.
	AddGroupMember(ctx context.Context, account, group, user string) error
	RemoveGroupMember(ctx context.Context, account, group, user string) error
	ListGroupMembers(ctx context.Context, account, group string) ([]*IAMEntity, error)
	ListUserGroups(ctx context.Context, account, user string) ([]*IAMEntity, error)

	// PutInlinePolicy adds or replaces an inline policy.
	PutInlinePolicy(ctx context.Context, account string, kind IAMKind, owner string, p IAMInlinePolicy) error
	GetInlinePolicy(ctx context.Context, account string, kind IAMKind, owner, name string) (*IAMInlinePolicy, error)
	ListInlinePolicies(ctx context.Context, account string, kind IAMKind, owner string) ([]string, error)
	DeleteInlinePolicy(ctx context.Context, account string, kind IAMKind, owner, name string) error

	CreateManagedPolicy(ctx context.Context, p *IAMPolicy) error
	GetManagedPolicy(ctx context.Context, arn string) (*IAMPolicy, error)
	ListManagedPolicies(ctx context.Context, account string, q IAMListQuery) ([]*IAMPolicy, error)
	// DeleteManagedPolicy refuses (ErrIAMConflict) while it is attached.
	DeleteManagedPolicy(ctx context.Context, arn string) error

	// AttachPolicy is idempotent. A customer managed policy must be the
	// account's own; an AWS managed ARN (arn:aws:iam::aws:policy/…) is
	// taken on the caller's word.
	AttachPolicy(ctx context.Context, account string, kind IAMKind, owner, policyARN string) error
	DetachPolicy(ctx context.Context, account string, kind IAMKind, owner, policyARN string) error
	ListAttachedPolicies(ctx context.Context, account string, kind IAMKind, owner string) ([]string, error)
	// PolicyAttachmentCounts counts, per policy ARN, the account's users,
	// groups and roles it is attached to.
	PolicyAttachmentCounts(ctx context.Context, account string) (map[string]int, error)

	// CreateAccessKey fails with ErrIAMLimit when the user (or root)
	// already has MaxAccessKeysPerUser keys.
	CreateAccessKey(ctx context.Context, k *IAMAccessKey) error
	GetAccessKey(ctx context.Context, id string) (*IAMAccessKey, error)
	ListAccessKeys(ctx context.Context, account, user string) ([]*IAMAccessKey, error)
	UpdateAccessKeyStatus(ctx context.Context, account, user, id, status string) error
	DeleteAccessKey(ctx context.Context, account, user, id string) error

	// CreateRoleSession fails with ErrIAMNotFound unless the role exists
	// with the session's RoleID — or, for a user's session (RoleID ""),
	// unless the user exists (UserName "" is the account's root).
	CreateRoleSession(ctx context.Context, s *IAMSession) error
	GetRoleSession(ctx context.Context, accessKeyID string) (*IAMSession, error)
	DeleteRoleSessionsExpiredBefore(ctx context.Context, t time.Time) (int, error)
}
