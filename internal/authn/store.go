package authn

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// PrincipalKind says what sort of identity a Principal is.
type PrincipalKind string

const (
	// KindRoot is an account's root identity (arn:aws:iam::<account>:root).
	KindRoot PrincipalKind = "root"
	// KindUser is an IAM user (arn:aws:iam::<account>:user/<path><name>).
	KindUser PrincipalKind = "user"
	// KindAssumedRole is a role session made by AssumeRole
	// (arn:aws:sts::<account>:assumed-role/<role>/<session>).
	KindAssumedRole PrincipalKind = "assumed-role"
)

// ErrExpiredCredentials means temporary credentials were genuine but have
// expired. It matches ErrTokenExpired too, so a login token outliving its
// session (which Tokens.Issue prevents) is refused as expired.
var ErrExpiredCredentials = fmt.Errorf("%w: the temporary credentials expired", ErrTokenExpired)

// IAMReader is what Store reads from the metadata store.
type IAMReader interface {
	GetAccessKey(ctx context.Context, id string) (*meta.IAMAccessKey, error)
	GetIAMEntity(ctx context.Context, account string, kind meta.IAMKind, name string) (*meta.IAMEntity, error)
	GetRoleSession(ctx context.Context, accessKeyID string) (*meta.IAMSession, error)
}

// Store is the Directory of a deployment: the root keys of the default
// account (from the configuration, in static), then the access keys of
// other accounts' roots and of IAM users, and role sessions, all read from
// the metadata store on every lookup. It keeps no cache, so a key deleted
// or deactivated on any node stops working at the next request everywhere.
type Store struct {
	db     IAMReader
	static Directory
	now    func() time.Time
}

// NewStore returns a Directory that asks static first (nil for none), then
// db.
func NewStore(db IAMReader, static Directory) *Store {
	return &Store{db: db, static: static, now: time.Now}
}

// SetClock replaces the clock that decides whether sessions have expired,
// for tests.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// SessionKeyPrefix starts the access key ids of temporary credentials, as
// in AWS.
const SessionKeyPrefix = "ASIA"

// Lookup implements Directory. Unknown and Inactive keys alike match
// ErrUnknownAccessKey (an Inactive one is ErrInactiveAccessKey): IAM answers both with "The security token included
// in the request is invalid." A session past its expiry is
// ErrExpiredCredentials.
func (s *Store) Lookup(ctx context.Context, accessKeyID string) (*Principal, string, error) {
	if s.static != nil {
		p, secret, err := s.static.Lookup(ctx, accessKeyID)
		if !errors.Is(err, ErrUnknownAccessKey) {
			if p != nil && p.Kind == "" {
				p.Kind = KindRoot
			}
			return p, secret, err
		}
	}
	if strings.HasPrefix(accessKeyID, SessionKeyPrefix) {
		return s.lookupSession(ctx, accessKeyID)
	}
	k, err := s.db.GetAccessKey(ctx, accessKeyID)
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil, "", ErrUnknownAccessKey
	}
	if err != nil {
		return nil, "", err
	}
	if k.Status != "Active" {
		return nil, "", ErrInactiveAccessKey
	}
	if k.UserName == "" {
		return &Principal{Kind: KindRoot, Account: k.Account, ARN: RootARN(k.Account), UserID: k.Account, AccessKeyID: k.ID}, k.SecretAccessKey, nil
	}
	u, err := s.db.GetIAMEntity(ctx, k.Account, meta.IAMUser, k.UserName)
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil, "", ErrUnknownAccessKey // the store refuses this; belt and braces
	}
	if err != nil {
		return nil, "", err
	}
	return &Principal{
		Kind: KindUser, Account: u.Account, ARN: UserARN(u.Account, u.Path, u.Name), UserID: u.ID,
		AccessKeyID: k.ID, UserName: u.Name,
	}, k.SecretAccessKey, nil
}

func (s *Store) lookupSession(ctx context.Context, accessKeyID string) (*Principal, string, error) {
	rs, err := s.db.GetRoleSession(ctx, accessKeyID)
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil, "", ErrUnknownAccessKey
	}
	if err != nil {
		return nil, "", err
	}
	if !s.now().Before(rs.ExpiresAt) {
		return nil, "", ErrExpiredCredentials
	}
	if rs.RoleID == "" {
		return s.userSession(ctx, rs)
	}
	return &Principal{
		Kind:         KindAssumedRole,
		Account:      rs.Account,
		ARN:          AssumedRoleARN(rs.Account, rs.RoleName, rs.SessionName),
		UserID:       rs.RoleID + ":" + rs.SessionName,
		AccessKeyID:  rs.AccessKeyID,
		Expires:      rs.ExpiresAt,
		RoleName:     rs.RoleName,
		RoleARN:      RoleARN(rs.Account, rs.RolePath, rs.RoleName),
		SessionToken: rs.SessionToken,
	}, rs.SecretAccessKey, nil
}

// userSession is the principal of GetSessionToken's credentials: the user
// (or root) itself, with the session's expiry and token. A user deleted
// since is unknown, like its keys.
func (s *Store) userSession(ctx context.Context, rs *meta.IAMSession) (*Principal, string, error) {
	p := &Principal{Account: rs.Account, AccessKeyID: rs.AccessKeyID, Expires: rs.ExpiresAt, SessionToken: rs.SessionToken}
	if rs.UserName == "" {
		p.Kind, p.ARN, p.UserID = KindRoot, RootARN(rs.Account), rs.Account
		return p, rs.SecretAccessKey, nil
	}
	u, err := s.db.GetIAMEntity(ctx, rs.Account, meta.IAMUser, rs.UserName)
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil, "", ErrUnknownAccessKey
	}
	if err != nil {
		return nil, "", err
	}
	p.Kind, p.ARN, p.UserID, p.UserName = KindUser, UserARN(u.Account, u.Path, u.Name), u.ID, u.Name
	return p, rs.SecretAccessKey, nil
}

// UserARN is the ARN of an IAM user; path starts and ends with "/".
func UserARN(account, path, name string) string {
	return "arn:aws:iam::" + account + ":user" + path + name
}

// RoleARN is the ARN of an IAM role.
func RoleARN(account, path, name string) string {
	return "arn:aws:iam::" + account + ":role" + path + name
}

// AssumedRoleARN is the ARN of a role session; it leaves out the role's
// path, as STS does.
func AssumedRoleARN(account, role, session string) string {
	return "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + session
}

// Identifiers in AWS's shapes: four-letter prefixes naming the kind, then
// upper-case base32.
const idChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// NewID returns prefix followed by n random characters: NewID("AKIA", 16)
// is an access key id, NewID("AIDA", 17) a user's unique id.
func NewID(prefix string, n int) string {
	b := []byte(prefix)
	for _, r := range randomBytes(n) {
		b = append(b, idChars[int(r)%len(idChars)])
	}
	return string(b)
}

// NewSecretAccessKey returns a random 40-character secret.
func NewSecretAccessKey() string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, 0, 40)
	for _, r := range randomBytes(40) {
		b = append(b, chars[int(r)%len(chars)])
	}
	return string(b)
}

// NewSessionToken returns a random session token: opaque to clients, like
// STS's, and only ever compared with the stored one.
func NewSessionToken() string {
	return "berth" + base64.StdEncoding.EncodeToString(randomBytes(96))
}
