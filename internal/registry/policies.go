package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-registry/berth/internal/authz/policy"
	"github.com/berth-registry/berth/internal/changes"
	"github.com/berth-registry/berth/internal/meta"
)

// registryPolicySetting is where a registry's policy is kept among its
// settings; account settings have upper-case names, so it cannot clash.
const registryPolicySetting = "berth:registry-policy"

// checkPolicy parses a policy document, answering as ECR does with the
// reason appended for the person who has to fix it.
func checkPolicy(kind policy.Kind, text string, limit int, ecrMessage string) (*policy.Policy, error) {
	if len(text) > limit {
		return nil, &Error{Kind: ErrPolicyInvalid, Message: fmt.Sprintf("%s (the policy is %d characters; the limit is %d)", ecrMessage, len(text), limit)}
	}
	p, err := policy.Parse(kind, []byte(text))
	if err != nil {
		return nil, &Error{Kind: ErrPolicyInvalid, Message: ecrMessage + ": " + err.Error()}
	}
	return p, nil
}

// SetRepositoryPolicy validates and stores a repository's policy.
func (s *Service) SetRepositoryPolicy(ctx context.Context, reg meta.RegistryKey, name, text string) (*RepositoryInfo, error) {
	if _, err := checkPolicy(policy.Repository, text, policy.MaxRepositoryPolicySize, policy.ECRInvalidRepositoryPolicy); err != nil {
		return nil, err
	}
	return s.modify(ctx, reg, name, func(_ *meta.Repository, c *RepositoryConfig) error {
		c.Policy = text
		return nil
	})
}

// RepositoryPolicy returns a repository's policy text.
func (s *Service) RepositoryPolicy(ctx context.Context, reg meta.RegistryKey, name string) (string, error) {
	ri, err := s.DescribeRepository(ctx, reg, name)
	if err != nil {
		return "", err
	}
	if ri.Config.Policy == "" {
		return "", repositoryPolicyNotFound(name, reg.Account)
	}
	return ri.Config.Policy, nil
}

// DeleteRepositoryPolicy removes a repository's policy and returns it.
func (s *Service) DeleteRepositoryPolicy(ctx context.Context, reg meta.RegistryKey, name string) (string, error) {
	var old string
	_, err := s.modify(ctx, reg, name, func(_ *meta.Repository, c *RepositoryConfig) error {
		if c.Policy == "" {
			return repositoryPolicyNotFound(name, reg.Account)
		}
		old, c.Policy = c.Policy, ""
		return nil
	})
	return old, err
}

func repositoryPolicyNotFound(name, account string) *Error {
	return errorf(ErrRepositoryPolicyNotFound, "Repository policy does not exist for the repository with name '%s' in the registry with id '%s'", name, account)
}

// PutRegistryPolicy validates and stores a registry's policy.
func (s *Service) PutRegistryPolicy(ctx context.Context, reg meta.RegistryKey, text string) error {
	if _, err := checkPolicy(policy.Registry, text, policy.MaxRegistryPolicySize, policy.ECRInvalidRegistryPolicy); err != nil {
		return err
	}
	if err := s.meta.PutRegistrySetting(ctx, reg, registryPolicySetting, text); err != nil {
		return fmt.Errorf("put registry policy: %w", err)
	}
	s.changes.Changed(ctx, changes.Policies)
	return nil
}

// RegistryPolicy returns a registry's policy text.
func (s *Service) RegistryPolicy(ctx context.Context, reg meta.RegistryKey) (string, error) {
	text, err := s.meta.GetRegistrySetting(ctx, reg, registryPolicySetting)
	if errors.Is(err, meta.ErrNotFound) || (err == nil && text == "") {
		return "", errorf(ErrRegistryPolicyNotFound, "Registry policy does not exist in the registry with id '%s'", reg.Account)
	}
	if err != nil {
		return "", fmt.Errorf("get registry policy: %w", err)
	}
	return text, nil
}

// DeleteRegistryPolicy removes a registry's policy and returns it.
func (s *Service) DeleteRegistryPolicy(ctx context.Context, reg meta.RegistryKey) (string, error) {
	old, err := s.RegistryPolicy(ctx, reg)
	if err != nil {
		return "", err
	}
	// An empty value reads as no policy; the store has no delete for
	// settings, and none is needed.
	if err := s.meta.PutRegistrySetting(ctx, reg, registryPolicySetting, ""); err != nil {
		return "", fmt.Errorf("delete registry policy: %w", err)
	}
	s.changes.Changed(ctx, changes.Policies)
	return old, nil
}
