// Package authn establishes who is calling: access keys and the principals
// they belong to, and the ECR login tokens that the data plane accepts as
// `AWS:<password>`.
package authn

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Principal is an authenticated identity.
type Principal struct {
	Account string
	// ARN is what GetCallerIdentity reports and what denials name, e.g.
	// arn:aws:iam::123456789012:root.
	ARN    string
	UserID string
	// AccessKeyID is the key the request was signed with, or the key the
	// login token was issued to.
	AccessKeyID string
	// Expires is when temporary credentials stop working (zero for
	// long-term keys).
	Expires time.Time
	// Kind is root, user or assumed-role; "" for a Principal made before
	// IAM, which is a root.
	Kind PrincipalKind
	// UserName is an IAM user's name (KindUser), as stored.
	UserName string
	// RoleName and RoleARN (arn:aws:iam::<account>:role/<path><name>) name
	// the role behind a session (KindAssumedRole); ARN is the session's.
	RoleName string
	RoleARN  string
	// SessionToken is what requests signed with temporary credentials must
	// carry as X-Amz-Security-Token; "" for long-term keys, whose requests
	// must carry none.
	SessionToken string
}

var (
	// ErrUnknownAccessKey means no identity owns the access key.
	ErrUnknownAccessKey = errors.New("authn: unknown access key")
	// ErrNoCredentials means the request carried none.
	ErrNoCredentials = errors.New("authn: no credentials")
	// ErrInvalidToken means a login token is malformed or forged.
	ErrInvalidToken = errors.New("authn: invalid login token")
	// ErrTokenExpired means a login token was genuine but is too old.
	ErrTokenExpired = errors.New("authn: login token expired")
	// ErrInactiveAccessKey means the access key exists but is Inactive. It
	// matches ErrUnknownAccessKey, since the AWS APIs answer both alike;
	// the data plane tells them apart to say what fixes a login.
	ErrInactiveAccessKey = fmt.Errorf("%w: the access key is Inactive", ErrUnknownAccessKey)
)

// InactiveKeyError is a genuine login token whose access key has been made
// Inactive since it was issued. It matches ErrInvalidToken and
// ErrInactiveAccessKey.
type InactiveKeyError struct{ AccessKeyID string }

func (e *InactiveKeyError) Error() string {
	return "authn: the login token's access key " + e.AccessKeyID + " is Inactive"
}

// Unwrap lets errors.Is match both sentinels.
func (e *InactiveKeyError) Unwrap() []error {
	return []error{ErrInvalidToken, ErrInactiveAccessKey}
}

// Directory finds the identity and secret behind an access key.
type Directory interface {
	Lookup(ctx context.Context, accessKeyID string) (*Principal, string, error)
}

// RootARN is the ARN of an account's root identity.
func RootARN(account string) string { return "arn:aws:iam::" + account + ":root" }
