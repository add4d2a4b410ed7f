package iam

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/berth-registry/berth/internal/meta"
)

// OIDC providers: the issuers whose ID tokens AssumeRoleWithWebIdentity
// accepts. IAM keeps a provider's URL without its scheme, names the
// provider arn:aws:iam::<account>:oidc-provider/<URL>, and uses the same
// URL to prefix the trust policy's condition keys (<URL>:sub, <URL>:aud).

// OIDCProvider is a provider as IAM returns it.
type OIDCProvider = meta.IAMOIDCProvider

// IAM's quotas on a provider's lists.
const (
	maxClientIDs   = 100
	maxThumbprints = 5
)

var thumbprintRE = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)

// OIDCProviderARN is the ARN of account's provider for url (without
// scheme).
func OIDCProviderARN(account, url string) string {
	return "arn:aws:iam::" + account + ":oidc-provider/" + url
}

// ProviderURL is a CreateOpenIDConnectProvider Url as IAM keeps it: no
// scheme, no trailing slash.
func ProviderURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return "", errorf(ErrInvalidInput, "The URL %s is not valid: it must begin with https:// and name a host.", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") {
		return "", errorf(ErrInvalidInput, "The URL %s is not valid: an issuer URL has no query or fragment.", raw)
	}
	return strings.TrimSuffix(u.Host+u.EscapedPath(), "/"), nil
}

func checkThumbprints(list []string) ([]string, error) {
	if len(list) > maxThumbprints {
		return nil, errorf(ErrLimitExceeded, "Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: %d", maxThumbprints)
	}
	out := make([]string, 0, len(list))
	for _, t := range list {
		if !thumbprintRE.MatchString(t) {
			return nil, errorf(ErrInvalidInput, "Thumbprint %s is not valid: it must be 40 hexadecimal digits.", t)
		}
		if t = strings.ToLower(t); !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

func dedupe(list []string) []string {
	var out []string
	for _, v := range list {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// CreateOpenIDConnectProvider registers an issuer in account. Thumbprints
// are recorded, and trusted only when the issuer's certificate does not
// chain to a trusted root, as IAM does today.
func (s *Service) CreateOpenIDConnectProvider(ctx context.Context, account, rawURL string, clientIDs, thumbprints []string) (*OIDCProvider, error) {
	u, err := ProviderURL(rawURL)
	if err != nil {
		return nil, err
	}
	clientIDs = dedupe(clientIDs)
	if len(clientIDs) > maxClientIDs {
		return nil, errorf(ErrLimitExceeded, "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxClientIDs)
	}
	if thumbprints, err = checkThumbprints(thumbprints); err != nil {
		return nil, err
	}
	p := &OIDCProvider{ARN: OIDCProviderARN(account, u), Account: account, URL: u,
		ClientIDs: clientIDs, Thumbprints: thumbprints, CreatedAt: s.created()}
	err = s.store.CreateOIDCProvider(ctx, p)
	if errors.Is(err, meta.ErrIAMExists) {
		return nil, errorf(ErrEntityExists, "Provider with url https://%s already exists.", u)
	}
	if err := s.commit(ctx, "create oidc provider "+u, err); err != nil {
		return nil, err
	}
	return p, nil
}

// GetOpenIDConnectProvider is account's provider arn.
func (s *Service) GetOpenIDConnectProvider(ctx context.Context, account, arn string) (*OIDCProvider, error) {
	if err := s.ownProvider(account, arn); err != nil {
		return nil, err
	}
	p, err := s.store.GetOIDCProvider(ctx, arn)
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil, providerNotFound(arn)
	}
	if err != nil {
		return nil, fmt.Errorf("iam: get oidc provider %s: %w", arn, err)
	}
	return p, nil
}

// ListOpenIDConnectProviders are account's providers, in ARN order.
func (s *Service) ListOpenIDConnectProviders(ctx context.Context, account string) ([]*OIDCProvider, error) {
	list, err := s.store.ListOIDCProviders(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("iam: list oidc providers: %w", err)
	}
	return list, nil
}

// DeleteOpenIDConnectProvider removes a provider; roles that trust it
// stay, and refuse its tokens.
func (s *Service) DeleteOpenIDConnectProvider(ctx context.Context, account, arn string) error {
	if err := s.ownProvider(account, arn); err != nil {
		return err
	}
	err := s.store.DeleteOIDCProvider(ctx, arn)
	if errors.Is(err, meta.ErrIAMNotFound) {
		return providerNotFound(arn)
	}
	return s.commit(ctx, "delete oidc provider "+arn, err)
}

// AddClientIDToOpenIDConnectProvider adds an audience; adding one already
// there changes nothing, as in IAM.
func (s *Service) AddClientIDToOpenIDConnectProvider(ctx context.Context, account, arn, clientID string) error {
	return s.updateProvider(ctx, account, arn, func(p *OIDCProvider) error {
		if slices.Contains(p.ClientIDs, clientID) {
			return nil
		}
		if len(p.ClientIDs) >= maxClientIDs {
			return errorf(ErrLimitExceeded, "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxClientIDs)
		}
		p.ClientIDs = append(p.ClientIDs, clientID)
		return nil
	})
}

// RemoveClientIDFromOpenIDConnectProvider removes an audience; removing
// one not there changes nothing, as in IAM.
func (s *Service) RemoveClientIDFromOpenIDConnectProvider(ctx context.Context, account, arn, clientID string) error {
	return s.updateProvider(ctx, account, arn, func(p *OIDCProvider) error {
		p.ClientIDs = slices.DeleteFunc(p.ClientIDs, func(c string) bool { return c == clientID })
		return nil
	})
}

// UpdateOpenIDConnectProviderThumbprint replaces the thumbprint list.
func (s *Service) UpdateOpenIDConnectProviderThumbprint(ctx context.Context, account, arn string, thumbprints []string) error {
	list, err := checkThumbprints(thumbprints)
	if err != nil {
		return err
	}
	return s.updateProvider(ctx, account, arn, func(p *OIDCProvider) error {
		p.Thumbprints = list
		return nil
	})
}

func (s *Service) updateProvider(ctx context.Context, account, arn string, update func(p *OIDCProvider) error) error {
	if err := s.ownProvider(account, arn); err != nil {
		return err
	}
	err := s.store.UpdateOIDCProvider(ctx, arn, update)
	var de *Error
	if errors.As(err, &de) {
		return de
	}
	if errors.Is(err, meta.ErrIAMNotFound) {
		return providerNotFound(arn)
	}
	return s.commit(ctx, "update oidc provider "+arn, err)
}

// ownProvider refuses an ARN that is not one of account's providers' ARNs.
func (s *Service) ownProvider(account, arn string) error {
	prefix := "arn:aws:iam::" + account + ":oidc-provider/"
	if !strings.HasPrefix(arn, prefix) || len(arn) == len(prefix) {
		if !strings.HasPrefix(arn, "arn:aws:iam::") {
			return invalidARN(arn)
		}
		return providerNotFound(arn)
	}
	return nil
}

func providerNotFound(arn string) *Error {
	return errorf(ErrNoSuchEntity, "OpenIDConnect Provider not found for arn %s", arn)
}
