// Package sso is Berth's IAM Identity Center domain: the deployment's one
// instance and identity store, its users (who sign in with a password),
// permission sets and their assignments to accounts, the OAuth 2.0 device
// authorization flow that signs a CLI in, and the access portal that turns
// a signed-in user's access token into role credentials.
//
// A permission set assigned in an account becomes a role there
// (AWSReservedSSO_<set>_<id>, made and kept in step by the IAM domain), so
// the credentials the portal hands out are ordinary role sessions: the
// authorizer, GetCallerIdentity and expiry need nothing new.
//
// Every state a sign-in passes through is in the metadata store (see
// meta.SSOStore), so any node answers any step; bearer secrets are kept
// as SHA-256 hashes. The front doors (ssoapi, ssoweb) call it; it never
// sees HTTP and never writes SQL.
package sso

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/berth-registry/berth/internal/iam"
	"github.com/berth-registry/berth/internal/meta"
)

// Roles is what the domain asks of IAM: the roles permission sets become,
// and their sessions (iam.Service has them).
type Roles interface {
	ProvisionSSORole(ctx context.Context, r iam.SSORole) error
	DeleteSSORole(ctx context.Context, account, name string) error
	SSORoleSession(ctx context.Context, account, roleName, userName string, duration int) (*iam.AssumedRole, error)
	// Account is an account of the deployment other than the default one
	// (berth admin create-account); an error matching meta.ErrIAMNotFound
	// when there is none.
	Account(ctx context.Context, id string) (*iam.Account, error)
}

// Options configure a Service.
type Options struct {
	// Account owns the instance: the deployment's default account.
	Account string
	// PublicURL is where browsers reach Berth; the verification page is
	// PublicURL+"/device". A function, because the address is known only
	// once the server listens.
	PublicURL func() string
	// AccessTokenTTL is how long an access token lasts (1h unless set);
	// SessionTTL how long a sign-in lasts, refreshes included (8h unless
	// set), as Identity Center's default session duration.
	AccessTokenTTL time.Duration
	SessionTTL     time.Duration
	// RoleSessionLimit, when set, caps the role credentials the portal
	// hands out below their permission set's session duration.
	RoleSessionLimit time.Duration
	Logger           *slog.Logger
	Now              func() time.Time
}

// Service is the Identity Center domain.
type Service struct {
	store meta.SSOStore
	roles Roles
	opts  Options
	log   *slog.Logger
	now   func() time.Time

	mu   sync.Mutex
	inst *meta.SSOInstance
}

// New returns the domain over store, making roles through roles.
func New(store meta.SSOStore, roles Roles, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AccessTokenTTL <= 0 {
		opts.AccessTokenTTL = time.Hour
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 8 * time.Hour
	}
	if opts.PublicURL == nil {
		opts.PublicURL = func() string { return "http://127.0.0.1:5000" }
	}
	return &Service{store: store, roles: roles, opts: opts, log: opts.Logger, now: opts.Now}
}

// Error is a refusal in Identity Center's terms: Kind says which (the
// front doors word it), Message is for the caller.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// The kinds of refusal. The admin APIs answer the first four; the OIDC
// service the token ones; the portal Unauthorized and NotFound.
var (
	ErrNotFound     = errors.New("sso: not found")
	ErrConflict     = errors.New("sso: conflict")
	ErrValidation   = errors.New("sso: invalid input")
	ErrAccessDenied = errors.New("sso: access denied")

	ErrInvalidClient        = errors.New("sso: invalid client")
	ErrInvalidGrant         = errors.New("sso: invalid grant")
	ErrInvalidRequest       = errors.New("sso: invalid request")
	ErrUnsupportedGrantType = errors.New("sso: unsupported grant type")
	ErrAuthorizationPending = errors.New("sso: authorization pending")
	ErrSlowDown             = errors.New("sso: slow down")
	ErrExpiredToken         = errors.New("sso: expired token")

	ErrUnauthorized = errors.New("sso: unauthorized")
)

// Instance is the deployment's Identity Center instance, made on first
// use. Every node asks the store for the one instance (the first to ask
// makes it), and then keeps it: an instance never changes.
func (s *Service) Instance(ctx context.Context) (*meta.SSOInstance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inst != nil {
		return s.inst, nil
	}
	inst, err := s.store.EnsureSSOInstance(ctx, &meta.SSOInstance{
		ARN:             "arn:aws:sso:::instance/ssoins-" + randomHex(8),
		IdentityStoreID: "d-" + randomHex(5),
		Account:         s.opts.Account,
		CreatedAt:       s.now().UTC(),
	})
	if err != nil {
		return nil, fmt.Errorf("sso: instance: %w", err)
	}
	s.inst = inst
	return inst, nil
}

// InstanceID is the ssoins-… part of an instance ARN.
func InstanceID(instanceARN string) string {
	const prefix = "arn:aws:sso:::instance/"
	if len(instanceARN) > len(prefix) {
		return instanceARN[len(prefix):]
	}
	return instanceARN
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// randomToken is a bearer secret: prefix and 48 random bytes, URL-safe.
// It never starts with '-': people pass these to the AWS CLI
// (--client-secret, --access-token), whose argument parser takes a value
// that starts with '-' for an option and refuses the command.
func randomToken(prefix string) string {
	b := make([]byte, 48)
	for {
		rand.Read(b)
		if t := prefix + base64.RawURLEncoding.EncodeToString(b); t[0] != '-' {
			return t
		}
	}
}

// hashSecret is what the store keeps of a bearer secret.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// newUUID is a random (version 4) UUID, the form of identity store ids.
func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// fromStore words a store refusal; anything else is wrapped as a fault.
func fromStore(doing string, err error, notFound string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, meta.ErrIAMNotFound):
		return errorf(ErrNotFound, "%s", notFound)
	case errors.Is(err, meta.ErrIAMExists):
		return errorf(ErrConflict, "%s already exists", doing)
	case errors.Is(err, meta.ErrIAMConflict):
		return errorf(ErrConflict, "%s is still in use", doing)
	}
	return fmt.Errorf("sso: %s: %w", doing, err)
}
