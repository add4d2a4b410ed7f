package meta

import (
	"context"
	"time"
)

// IAMOIDCProvider is an IAM OpenID Connect identity provider: an issuer
// whose ID tokens AssumeRoleWithWebIdentity exchanges for role sessions.
type IAMOIDCProvider struct {
	// ARN is arn:aws:iam::<account>:oidc-provider/<URL>; unique in the
	// deployment.
	ARN     string
	Account string
	// URL is the issuer without its scheme, as IAM keeps it:
	// token.actions.githubusercontent.com, or host/path.
	URL string
	// ClientIDs are the audiences a token may be issued for.
	ClientIDs []string
	// Thumbprints are SHA-1 fingerprints (40 hex digits) of the issuer's
	// certificate authority, trusted when its certificate does not chain to
	// a trusted root.
	Thumbprints []string
	CreatedAt   time.Time
}

// OIDCProviderStore keeps IAM's OIDC providers. Every method is one
// transaction; missing and duplicate providers are *IAMError wrapping
// ErrIAMNotFound and ErrIAMExists, What IAMWhatOIDCProvider, Name the ARN.
type OIDCProviderStore interface {
	CreateOIDCProvider(ctx context.Context, p *IAMOIDCProvider) error
	GetOIDCProvider(ctx context.Context, arn string) (*IAMOIDCProvider, error)
	// ListOIDCProviders returns an account's providers in ARN order.
	ListOIDCProviders(ctx context.Context, account string) ([]*IAMOIDCProvider, error)
	// UpdateOIDCProvider changes a provider's client ids and thumbprints
	// by update, run inside the transaction on the stored provider, so
	// that two concurrent AddClientID calls both land. An error from
	// update aborts the change and is returned as it is.
	UpdateOIDCProvider(ctx context.Context, arn string, update func(p *IAMOIDCProvider) error) error
	DeleteOIDCProvider(ctx context.Context, arn string) error
}

// IAMWhatOIDCProvider is what an *IAMError about an OIDC provider names.
const IAMWhatOIDCProvider = "oidc provider"
