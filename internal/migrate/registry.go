package migrate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/berth-registry/berth/internal/meta"
)

// pullThroughRules copies a registry's pull through cache rules with their
// times. A rule of the same prefix on the target with another upstream,
// credential or time is a conflict. (The record of when each cached tag
// was last found current upstream is not copied: the new nodes ask the
// upstream again at a tag's next pull.)
func (r *run) pullThroughRules(ctx context.Context, reg meta.RegistryKey) error {
	rules, err := r.src.Meta.ListPullThroughRules(ctx, reg)
	if err != nil {
		return fmt.Errorf("pull through cache rules of registry %s: %w", registryName(reg), err)
	}
	for _, rule := range rules {
		got, err := r.dst.Meta.GetPullThroughRule(ctx, reg, rule.Prefix)
		switch {
		case err == nil && samePullThroughRule(got, rule):
			r.present(PullThroughRules)
			continue
		case err == nil:
			if err := r.conflict("registry %s: the pull through cache rule %s differs on the target (upstream %s, credential %q, updated %s) from the source's (upstream %s, credential %q, updated %s)",
				registryName(reg), rule.Prefix, got.UpstreamURL, got.CredentialARN, stamp(got.UpdatedAt), rule.UpstreamURL, rule.CredentialARN, stamp(rule.UpdatedAt)); err != nil {
				return err
			}
			continue
		case !errors.Is(err, meta.ErrNotFound):
			return err
		}
		if !r.dry {
			// The domain's limit held in the source; the target may hold
			// rules of other prefixes.
			if err := r.dst.Meta.CreatePullThroughRule(ctx, rule, math.MaxInt32); err != nil {
				return fmt.Errorf("copy pull through cache rule %s of registry %s: %w", rule.Prefix, registryName(reg), err)
			}
		}
		r.copied(PullThroughRules, 1)
	}
	return nil
}

func samePullThroughRule(a, b *meta.PullThroughRule) bool {
	return a.UpstreamURL == b.UpstreamURL && a.Upstream == b.Upstream && a.UpstreamPrefix == b.UpstreamPrefix &&
		a.CredentialARN == b.CredentialARN && a.CustomRoleARN == b.CustomRoleARN &&
		sameTime(a.CreatedAt, b.CreatedAt) && sameTime(a.UpdatedAt, b.UpdatedAt)
}

// oidcProviders copies an account's IAM OIDC providers, by ARN. A provider
// the target holds with other client ids or thumbprints is a conflict.
func (r *run) oidcProviders(ctx context.Context, account string) error {
	ps, err := r.src.Meta.ListOIDCProviders(ctx, account)
	if err != nil {
		return fmt.Errorf("OIDC providers: %w", err)
	}
	for _, p := range ps {
		got, err := r.dst.Meta.GetOIDCProvider(ctx, p.ARN)
		switch {
		case err == nil && got.URL == p.URL && slices.Equal(got.ClientIDs, p.ClientIDs) && slices.Equal(got.Thumbprints, p.Thumbprints) && sameTime(got.CreatedAt, p.CreatedAt):
			r.present(OIDCProviders)
			continue
		case err == nil:
			if err := r.conflict("the OIDC provider %s differs on the target (client ids %q, thumbprints %q) from the source's (client ids %q, thumbprints %q)",
				p.ARN, got.ClientIDs, got.Thumbprints, p.ClientIDs, p.Thumbprints); err != nil {
				return err
			}
			continue
		case !errors.Is(err, meta.ErrIAMNotFound):
			return err
		}
		if !r.dry {
			cp := *p
			if err := r.dst.Meta.CreateOIDCProvider(ctx, &cp); err != nil {
				return fmt.Errorf("copy OIDC provider %s: %w", p.ARN, err)
			}
		}
		r.copied(OIDCProviders, 1)
	}
	return nil
}
