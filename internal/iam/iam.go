// Package iam is Berth's IAM domain: users, groups, roles, their access
// keys, inline and managed policies (the AWS managed ones built in), the
// role sessions STS AssumeRole makes, and IAM's policy simulator
// (simulate.go), which decides with the authorizer's own code. The IAM and
// STS front doors (iamapi, stsapi) call it with the caller's account; it
// checks documents and parameters, keeps IAM's state through a narrow
// store, words IAM's refusals (errors.go) and tells the authorization
// caches of every change it commits. It never sees HTTP and never writes
// SQL.
//
// Every call acts in one account. A managed policy has one version, v1,
// its default; CreatePolicyVersion and friends are not supported yet.
package iam

import (
	"context"
	"log/slog"
	"time"

	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/changes"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/webidentity"
)

// Store is what the domain keeps in the metadata store: the IAM store's
// methods it calls (meta.IAMStore has them all). Every method is one
// transaction, and makes its own checks (the user exists, the role has
// no policies left) inside it.
type Store interface {
	PolicyStore

	GetAccount(ctx context.Context, id string) (*meta.IAMAccount, error)

	CreateIAMEntity(ctx context.Context, e *meta.IAMEntity) error
	GetIAMEntity(ctx context.Context, account string, kind meta.IAMKind, name string) (*meta.IAMEntity, error)
	ListIAMEntities(ctx context.Context, account string, kind meta.IAMKind, q meta.IAMListQuery) ([]*meta.IAMEntity, error)
	DeleteIAMEntity(ctx context.Context, account string, kind meta.IAMKind, name string) error
	UpdateAssumeRolePolicy(ctx context.Context, account, role, document string) error

	AddGroupMember(ctx context.Context, account, group, user string) error
	RemoveGroupMember(ctx context.Context, account, group, user string) error
	ListGroupMembers(ctx context.Context, account, group string) ([]*meta.IAMEntity, error)

	PutInlinePolicy(ctx context.Context, account string, kind meta.IAMKind, owner string, p meta.IAMInlinePolicy) error
	DeleteInlinePolicy(ctx context.Context, account string, kind meta.IAMKind, owner, name string) error

	CreateManagedPolicy(ctx context.Context, p *meta.IAMPolicy) error
	ListManagedPolicies(ctx context.Context, account string, q meta.IAMListQuery) ([]*meta.IAMPolicy, error)
	DeleteManagedPolicy(ctx context.Context, arn string) error
	AttachPolicy(ctx context.Context, account string, kind meta.IAMKind, owner, policyARN string) error
	DetachPolicy(ctx context.Context, account string, kind meta.IAMKind, owner, policyARN string) error
	PolicyAttachmentCounts(ctx context.Context, account string) (map[string]int, error)

	CreateAccessKey(ctx context.Context, k *meta.IAMAccessKey) error
	ListAccessKeys(ctx context.Context, account, user string) ([]*meta.IAMAccessKey, error)
	UpdateAccessKeyStatus(ctx context.Context, account, user, id, status string) error
	DeleteAccessKey(ctx context.Context, account, user, id string) error

	CreateRoleSession(ctx context.Context, s *meta.IAMSession) error
	DeleteRoleSessionsExpiredBefore(ctx context.Context, t time.Time) (int, error)

	// The OIDC providers AssumeRoleWithWebIdentity trusts.
	meta.OIDCProviderStore
}

// Options configure a Service.
type Options struct {
	// Authorizer decides the identity-based side of AssumeRole: whether
	// the caller's own policies allow sts:AssumeRole on the role. Required
	// for AssumeRole.
	Authorizer authz.Authorizer
	// Changes is told of every committed change, which makes cached
	// authorization decisions stale; nil tells no one.
	Changes changes.Notifier
	// WebIdentity verifies AssumeRoleWithWebIdentity's tokens; nil is a
	// webidentity.Verifier trusting the system's roots (and each
	// provider's thumbprints).
	WebIdentity TokenVerifier
	Logger      *slog.Logger
	Now         func() time.Time
}

// Service is the IAM domain over a store.
type Service struct {
	store      Store
	authorizer authz.Authorizer
	changes    changes.Notifier
	webID      TokenVerifier
	// policies reads identity policies for the simulator, as the
	// authorizer's reader does.
	policies *PolicyReader
	log      *slog.Logger
	now      func() time.Time
}

// New returns the IAM domain over store.
func New(store Store, opts Options) *Service {
	if opts.Changes == nil {
		opts.Changes = changes.Discard
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.WebIdentity == nil {
		opts.WebIdentity = &webidentity.Verifier{}
	}
	return &Service{store: store, authorizer: opts.Authorizer, changes: opts.Changes, webID: opts.WebIdentity, policies: NewPolicyReader(store), log: opts.Logger, now: opts.Now}
}

// timeResolution is how precisely IAM reports creation times.
const timeResolution = time.Second

// created is the creation time of what is made now, as IAM reports it.
func (s *Service) created() time.Time { return s.now().UTC().Truncate(timeResolution) }

// commit ends a change: a store refusal in IAM's words, or, once the
// change is committed, the authorization caches told that their
// decisions may be stale.
func (s *Service) commit(ctx context.Context, doing string, err error) error {
	if err != nil {
		return fromStore(doing, err)
	}
	s.changes.Changed(ctx, changes.Policies)
	return nil
}

// ARN is the ARN of an IAM resource: ARN("123456789012", "user", "/eng/",
// "bob") is arn:aws:iam::123456789012:user/eng/bob. An empty path is "/".
func ARN(account, kind, path, name string) string {
	if path == "" {
		path = "/"
	}
	return "arn:aws:iam::" + account + ":" + kind + path + name
}
