package meta

import (
	"context"
	"time"
)

// IAM Identity Center (SSO): the deployment's instance and its identity
// store, users who sign in with a password, permission sets and their
// assignments to accounts, and the OAuth device flow's clients,
// authorizations and tokens. Everything a node decides from (a device
// code's last poll, a refresh token already redeemed) is here, so any node
// answers any step of a sign-in.
//
// Bearer secrets (client secrets, device codes, access and refresh tokens)
// are stored as hashes only: the store never holds what would let a reader
// of the database act as a client or a user. User codes are short and
// typed by people; they are stored as given, and expire in minutes.
//
// Missing and duplicate records are *IAMError wrapping ErrIAMNotFound and
// ErrIAMExists, with What one of the SSOWhat constants; deleting what is
// still in use is ErrIAMConflict.

// What an *IAMError about Identity Center names.
const (
	SSOWhatInstance         = "sso instance"
	SSOWhatUser             = "sso user"
	SSOWhatPermissionSet    = "permission set"
	SSOWhatAssignment       = "account assignment"
	SSOWhatClient           = "oidc client"
	SSOWhatDevice           = "device authorization"
	SSOWhatToken            = "sso token"
	SSOBlockedByAssignments = "account assignments"
)

// SSOInstance is the deployment's one Identity Center instance.
type SSOInstance struct {
	// ARN is arn:aws:sso:::instance/ssoins-<16 hex>.
	ARN string
	// IdentityStoreID is d-<10 hex>.
	IdentityStoreID string
	// Account is the management account that owns the instance.
	Account   string
	CreatedAt time.Time
}

// SSOEmail is one of a user's email addresses.
type SSOEmail struct {
	Value   string `json:"Value,omitempty"`
	Type    string `json:"Type,omitempty"`
	Primary bool   `json:"Primary,omitempty"`
}

// SSOUser is a user of the identity store.
type SSOUser struct {
	IdentityStoreID string
	// UserID is a UUID, unique in the deployment.
	UserID string
	// UserName is unique in the identity store, compared case-insensitively.
	UserName    string
	DisplayName string
	GivenName   string
	FamilyName  string
	Emails      []SSOEmail
	// PasswordHash is a bcrypt hash; empty until an administrator sets a
	// password, and then the user cannot sign in.
	PasswordHash string
	CreatedAt    time.Time
}

// SSOPermissionSet is a permission set: the policies the role it becomes
// in each assigned account carries.
type SSOPermissionSet struct {
	// ARN is arn:aws:sso:::permissionSet/<instance id>/ps-<16 hex>.
	ARN         string
	InstanceARN string
	// Name is unique in the instance, compared case-insensitively.
	Name        string
	Description string
	// SessionDuration is an ISO 8601 duration, PT1H by default.
	SessionDuration string
	// ManagedPolicies are the attached managed policies' ARNs, in the order
	// attached.
	ManagedPolicies []string
	// InlinePolicy is the inline policy document, "" when none.
	InlinePolicy string
	CreatedAt    time.Time
}

// SSOAssignment grants a user a permission set in an account.
type SSOAssignment struct {
	InstanceARN      string
	PermissionSetARN string
	Account          string
	// PrincipalType is USER (groups are not served); PrincipalID the user's
	// id.
	PrincipalType string
	PrincipalID   string
	CreatedAt     time.Time
}

// SSOAssignmentQuery selects assignments; an empty field matches all.
type SSOAssignmentQuery struct {
	InstanceARN      string
	PermissionSetARN string
	Account          string
	PrincipalID      string
}

// SSOClient is a client registered with the OIDC service (the AWS CLI
// registers one per sign-in session).
type SSOClient struct {
	ClientID string
	// SecretHash is the SHA-256 of the client secret, hex.
	SecretHash string
	Name, Type string
	Scopes     []string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// SSODeviceAuthorization is one device flow in progress: a device code the
// client polls with, and the user code a person approves in a browser.
type SSODeviceAuthorization struct {
	// DeviceCodeHash is the SHA-256 of the device code, hex.
	DeviceCodeHash string
	// UserCode is unique among authorizations not yet expired.
	UserCode string
	ClientID string
	StartURL string
	// Interval is the least number of seconds between polls.
	Interval  int
	CreatedAt time.Time
	ExpiresAt time.Time
	// ApprovedBy is the approving user's id, "" until approved.
	ApprovedBy string
	ApprovedAt time.Time
	// LastPolledAt is the previous CreateToken poll, zero before the first.
	LastPolledAt time.Time
}

// SSOTokenKind tells access tokens from refresh tokens.
type SSOTokenKind string

const (
	SSOAccessToken  SSOTokenKind = "access"
	SSORefreshToken SSOTokenKind = "refresh"
)

// SSOToken is an access or refresh token issued to a user through a client.
type SSOToken struct {
	// TokenHash is the SHA-256 of the token, hex.
	TokenHash       string
	Kind            SSOTokenKind
	ClientID        string
	IdentityStoreID string
	UserID          string
	CreatedAt       time.Time
	ExpiresAt       time.Time
}

// SSOStore keeps Identity Center's state. Every method is one transaction.
type SSOStore interface {
	// EnsureSSOInstance stores inst unless an instance exists already, and
	// returns the stored one: every node that starts agrees on one.
	EnsureSSOInstance(ctx context.Context, inst *SSOInstance) (*SSOInstance, error)

	CreateSSOUser(ctx context.Context, u *SSOUser) error
	GetSSOUser(ctx context.Context, identityStoreID, userID string) (*SSOUser, error)
	GetSSOUserByName(ctx context.Context, identityStoreID, userName string) (*SSOUser, error)
	// ListSSOUsers returns the store's users in user name order.
	ListSSOUsers(ctx context.Context, identityStoreID string) ([]*SSOUser, error)
	SetSSOUserPassword(ctx context.Context, identityStoreID, userID, hash string) error
	// DeleteSSOUser deletes a user with its assignments and tokens.
	DeleteSSOUser(ctx context.Context, identityStoreID, userID string) error

	CreatePermissionSet(ctx context.Context, ps *SSOPermissionSet) error
	GetPermissionSet(ctx context.Context, arn string) (*SSOPermissionSet, error)
	// ListPermissionSets returns an instance's permission sets in ARN order.
	ListPermissionSets(ctx context.Context, instanceARN string) ([]*SSOPermissionSet, error)
	// UpdatePermissionSet runs update on the stored permission set inside
	// the transaction and stores what it leaves; an error from update
	// aborts the change and is returned as it is.
	UpdatePermissionSet(ctx context.Context, arn string, update func(ps *SSOPermissionSet) error) error
	// DeletePermissionSet refuses (ErrIAMConflict, blocked by
	// SSOBlockedByAssignments) while the set is assigned.
	DeletePermissionSet(ctx context.Context, arn string) error

	// CreateSSOAssignment fails with ErrIAMExists for an assignment that
	// exists, and ErrIAMNotFound when the permission set or user is gone.
	CreateSSOAssignment(ctx context.Context, a *SSOAssignment) error
	// ListSSOAssignments returns matching assignments ordered by account,
	// permission set and principal.
	ListSSOAssignments(ctx context.Context, q SSOAssignmentQuery) ([]*SSOAssignment, error)
	DeleteSSOAssignment(ctx context.Context, a *SSOAssignment) error

	CreateSSOClient(ctx context.Context, c *SSOClient) error
	GetSSOClient(ctx context.Context, clientID string) (*SSOClient, error)

	CreateDeviceAuthorization(ctx context.Context, d *SSODeviceAuthorization) error
	GetDeviceAuthorizationByUserCode(ctx context.Context, userCode string) (*SSODeviceAuthorization, error)
	// ApproveDeviceAuthorization records userID's approval of the
	// authorization with userCode at at; ErrIAMNotFound when none is
	// pending or it expired before at.
	ApproveDeviceAuthorization(ctx context.Context, userCode, userID string, at time.Time) error
	// PollDeviceAuthorization records a poll at at and returns the
	// authorization as it was before, so that the caller sees the previous
	// poll's time: two nodes polled at once see each other's poll.
	PollDeviceAuthorization(ctx context.Context, deviceCodeHash string, at time.Time) (*SSODeviceAuthorization, error)
	// RedeemDeviceAuthorization deletes an approved authorization and
	// stores the tokens issued for it, together: a device code yields
	// tokens once. ErrIAMNotFound when it is gone or not approved.
	RedeemDeviceAuthorization(ctx context.Context, deviceCodeHash string, tokens ...*SSOToken) error

	CreateSSOTokens(ctx context.Context, tokens ...*SSOToken) error
	GetSSOToken(ctx context.Context, tokenHash string) (*SSOToken, error)
	// RedeemSSOToken deletes a refresh token and stores the tokens issued
	// in its place, together: a refresh token is used once.
	RedeemSSOToken(ctx context.Context, tokenHash string, tokens ...*SSOToken) error
	// DeleteSSOSignIn ends the sign-in a token belongs to: it deletes the
	// token and every other token its client holds for its user (the
	// refresh tokens too, so a logged-out session cannot be revived), and
	// says how many; ErrIAMNotFound when there is no such token.
	DeleteSSOSignIn(ctx context.Context, tokenHash string) (int, error)
	// DeleteSSOExpiredBefore deletes device authorizations, tokens and
	// client registrations that expired before t, and reports how many.
	DeleteSSOExpiredBefore(ctx context.Context, t time.Time) (int, error)
}
