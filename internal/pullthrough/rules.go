package pullthrough

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/berth-registry/berth/internal/meta"
)

// Rule is a pull through cache rule.
type Rule = meta.PullThroughRule

// MaxRules is ECR's quota of rules per registry (not adjustable).
const MaxRules = 50

const rootPrefix = "ROOT"

// prefixRE is the model's PullThroughCacheRuleRepositoryPrefix, checked
// again here so that the domain holds its own rules.
var prefixRE = regexp.MustCompile(`^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*/?|ROOT)$`)

// normPrefix checks a repository prefix and drops its trailing '/': ECR
// treats "hub/" and "hub" as one prefix.
func normPrefix(field, p string) (string, error) {
	if len(p) < 2 || len(p) > 30 || !prefixRE.MatchString(p) {
		return "", invalid("%s '%s' is not a valid prefix: 2 to 30 characters of lowercase letters, digits and . _ - separated by /, or ROOT", field, p)
	}
	return strings.TrimSuffix(p, "/"), nil
}

// NewRule is CreatePullThroughCacheRule's input.
type NewRule struct {
	Prefix, UpstreamURL, Upstream, UpstreamPrefix, CredentialARN, CustomRoleARN string
}

// CreateRule validates and stores a rule.
func (s *Service) CreateRule(ctx context.Context, reg meta.RegistryKey, in NewRule) (*Rule, error) {
	prefix, err := normPrefix("ecrRepositoryPrefix", in.Prefix)
	if err != nil {
		return nil, err
	}
	base, err := parseUpstreamURL(in.UpstreamURL)
	if err != nil {
		return nil, err
	}
	up := upstreamOf(base)
	switch {
	case in.Upstream != "" && up == "":
		return nil, errorf(ErrUnsupportedUpstream, "upstreamRegistry %s does not match upstreamRegistryUrl %s, which is not one of ECR's upstream registries (Berth accepts any OCI registry's URL: leave upstreamRegistry out for it)", in.Upstream, in.UpstreamURL)
	case in.Upstream != "" && in.Upstream != up:
		return nil, invalid("upstreamRegistry %s does not match upstreamRegistryUrl %s, which is %s", in.Upstream, in.UpstreamURL, up)
	case needsCredentials(up) && in.CredentialARN == "":
		return nil, invalid("an upstream registry of type %s requires a credentialArn: store its user name and access token in a Secrets Manager secret named ecr-pullthroughcache/…", up)
	}
	upPrefix := rootPrefix
	if in.UpstreamPrefix != "" {
		if upPrefix, err = normPrefix("upstreamRepositoryPrefix", in.UpstreamPrefix); err != nil {
			return nil, err
		}
		if upPrefix != rootPrefix && up != UpstreamECR && up != "" {
			return nil, invalid("upstreamRepositoryPrefix is supported only for an ECR upstream registry (or, in Berth, any OCI registry ECR does not know), not for %s", up)
		}
	}
	if in.CredentialARN != "" {
		// ECR reads the secret when the rule is created: a rule never
		// names a secret that is not there.
		if _, err := s.credentials(ctx, in.CredentialARN); err != nil {
			return nil, err
		}
	}
	r := &Rule{Registry: reg, Prefix: prefix, UpstreamURL: strings.TrimSuffix(in.UpstreamURL, "/"), Upstream: up, UpstreamPrefix: upPrefix,
		CredentialARN: in.CredentialARN, CustomRoleARN: in.CustomRoleARN, CreatedAt: s.now().UTC()}
	err = s.store.CreatePullThroughRule(ctx, r, MaxRules)
	switch {
	case errors.Is(err, meta.ErrPullThroughRuleExists):
		return nil, errorf(ErrRuleExists, "A pull through cache rule with the prefix '%s' already exists in the registry with id '%s'", prefix, reg.Account)
	case errors.Is(err, meta.ErrPullThroughRuleLimit):
		return nil, errorf(ErrLimit, "The registry with id '%s' already has %d pull through cache rules in %s, the most it may have: delete one first", reg.Account, MaxRules, reg.Region)
	case err != nil:
		return nil, fmt.Errorf("create pull through cache rule %s: %w", prefix, err)
	}
	s.dropRules(reg)
	s.log.InfoContext(ctx, "pull through cache rule created", "registry", reg.Account, "region", reg.Region, "prefix", prefix, "upstream", r.UpstreamURL)
	return r, nil
}

// parseUpstreamURL checks upstreamRegistryUrl and returns its host.
func parseUpstreamURL(raw string) (string, error) {
	if raw == "" {
		return "", invalid("upstreamRegistryUrl is empty: give the upstream registry's host, e.g. registry-1.docker.io")
	}
	u, err := upstreamBase(raw)
	if err != nil {
		return "", errorf(ErrUnsupportedUpstream, "upstreamRegistryUrl %s: %v; ECR's upstreams are %s, and Berth accepts any OCI registry's https:// (or http://) URL", raw, err, knownHosts)
	}
	return u, nil
}

func notFound(reg meta.RegistryKey, prefix string) *Error {
	return errorf(ErrRuleNotFound, "The pull through cache rule with the prefix '%s' does not exist in the registry with id '%s'", prefix, reg.Account)
}

// Rule returns a registry's rule of a prefix.
func (s *Service) Rule(ctx context.Context, reg meta.RegistryKey, prefix string) (*Rule, error) {
	p, err := normPrefix("ecrRepositoryPrefix", prefix)
	if err != nil {
		return nil, err
	}
	r, err := s.store.GetPullThroughRule(ctx, reg, p)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, notFound(reg, p)
	}
	if err != nil {
		return nil, fmt.Errorf("get pull through cache rule %s: %w", p, err)
	}
	return r, nil
}

// DescribeRules lists a registry's rules, all or those of the prefixes
// given (each must exist, as ECR answers), from after a page token, at
// most max (100 when max is 0). next is the token of the next page.
func (s *Service) DescribeRules(ctx context.Context, reg meta.RegistryKey, prefixes []string, token string, max int) (rules []*Rule, next string, err error) {
	all, err := s.store.ListPullThroughRules(ctx, reg)
	if err != nil {
		return nil, "", fmt.Errorf("list pull through cache rules: %w", err)
	}
	if len(prefixes) > 0 {
		var picked []*Rule
		for _, p := range prefixes {
			np, err := normPrefix("ecrRepositoryPrefixes", p)
			if err != nil {
				return nil, "", err
			}
			i := slices.IndexFunc(all, func(r *Rule) bool { return r.Prefix == np })
			if i < 0 {
				return nil, "", notFound(reg, np)
			}
			if !slices.Contains(picked, all[i]) {
				picked = append(picked, all[i])
			}
		}
		slices.SortFunc(picked, func(a, b *Rule) int { return strings.Compare(a.Prefix, b.Prefix) })
		all = picked
	}
	if token != "" {
		after, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return nil, "", invalid("nextToken is not one DescribePullThroughCacheRules returned")
		}
		i := 0
		for i < len(all) && all[i].Prefix <= string(after) {
			i++
		}
		all = all[i:]
	}
	if max <= 0 {
		max = 100
	}
	if len(all) > max {
		all = all[:max]
		next = base64.RawURLEncoding.EncodeToString([]byte(all[max-1].Prefix))
	}
	return all, next, nil
}

// UpdateRule changes a rule's credentialArn and customRoleArn.
func (s *Service) UpdateRule(ctx context.Context, reg meta.RegistryKey, prefix, credentialARN, customRoleARN string) (*Rule, error) {
	r, err := s.Rule(ctx, reg, prefix)
	if err != nil {
		return nil, err
	}
	if credentialARN == "" && customRoleARN == "" {
		return nil, invalid("give a credentialArn or a customRoleArn to update the rule with the prefix '%s'", r.Prefix)
	}
	if credentialARN != "" {
		if _, err := s.credentials(ctx, credentialARN); err != nil {
			return nil, err
		}
		r.CredentialARN = credentialARN
	}
	if customRoleARN != "" {
		r.CustomRoleARN = customRoleARN
	}
	r.UpdatedAt = s.now().UTC()
	if err := s.store.UpdatePullThroughRule(ctx, r); errors.Is(err, meta.ErrNotFound) {
		return nil, notFound(reg, r.Prefix)
	} else if err != nil {
		return nil, fmt.Errorf("update pull through cache rule %s: %w", r.Prefix, err)
	}
	s.dropRules(reg)
	return r, nil
}

// DeleteRule removes a rule; the repositories it filled stay, as in ECR.
func (s *Service) DeleteRule(ctx context.Context, reg meta.RegistryKey, prefix string) (*Rule, error) {
	p, err := normPrefix("ecrRepositoryPrefix", prefix)
	if err != nil {
		return nil, err
	}
	r, err := s.store.DeletePullThroughRule(ctx, reg, p)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, notFound(reg, p)
	}
	if err != nil {
		return nil, fmt.Errorf("delete pull through cache rule %s: %w", p, err)
	}
	s.dropRules(reg)
	return r, nil
}

// Validation is ValidatePullThroughCacheRule's answer.
type Validation struct {
	Rule    *Rule
	Valid   bool
	Failure string
}

// ValidateRule reads the rule's secret and asks the upstream's /v2/ with
// it, as ECR does: a failure is an answer (isValid false, and why), not
// an error.
func (s *Service) ValidateRule(ctx context.Context, reg meta.RegistryKey, prefix string) (*Validation, error) {
	r, err := s.Rule(ctx, reg, prefix)
	if err != nil {
		return nil, err
	}
	v := &Validation{Rule: r}
	creds, err := s.credentials(ctx, r.CredentialARN)
	if err != nil {
		if _, msg, ok := KindOf(err); ok {
			v.Failure = msg
			return v, nil
		}
		return nil, err
	}
	ur, err := upstreamRegistry(r, creds)
	if err != nil {
		v.Failure = err.Error()
		return v, nil
	}
	pctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	if err := s.client.Ping(pctx, ur); err != nil {
		v.Failure = fmt.Sprintf("Could not authenticate to the upstream registry %s: %v", r.UpstreamURL, err)
		return v, nil
	}
	v.Valid = true
	return v, nil
}

// ruleFor finds the rule a repository name falls under: the longest
// prefix that is a whole leading part of the name, else ROOT's. rest is
// the name after the prefix.
func (s *Service) ruleFor(ctx context.Context, reg meta.RegistryKey, name string) (r *Rule, rest string, err error) {
	rules, err := s.cachedRules(ctx, reg)
	if err != nil {
		return nil, "", err
	}
	var root *Rule
	for _, c := range rules {
		if c.Prefix == rootPrefix {
			root = c
			continue
		}
		if after, ok := strings.CutPrefix(name, c.Prefix+"/"); ok && after != "" && (r == nil || len(c.Prefix) > len(r.Prefix)) {
			r, rest = c, after
		}
	}
	if r == nil && root != nil {
		return root, name, nil
	}
	return r, rest, nil
}

func (s *Service) cachedRules(ctx context.Context, reg meta.RegistryKey) ([]*Rule, error) {
	s.mu.Lock()
	c, ok := s.rules[reg]
	s.mu.Unlock()
	if ok && s.now().Sub(c.at) < rulesTTL {
		return c.rules, nil
	}
	rules, err := s.store.ListPullThroughRules(ctx, reg)
	if err != nil {
		return nil, fmt.Errorf("list pull through cache rules: %w", err)
	}
	s.mu.Lock()
	if len(s.rules) > 10000 {
		s.rules = map[meta.RegistryKey]cachedRules{}
	}
	s.rules[reg] = cachedRules{rules, s.now()}
	s.mu.Unlock()
	return rules, nil
}

func (s *Service) dropRules(reg meta.RegistryKey) {
	s.mu.Lock()
	delete(s.rules, reg)
	s.mu.Unlock()
}
