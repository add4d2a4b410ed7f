package iam

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/berth-registry/berth/internal/meta"
)

// Roles of IAM Identity Center: a permission set assigned in an account
// becomes a role there, AWSReservedSSO_<set>_<id> under SSORolePath, whose
// policies are the set's. Its sessions are ordinary role sessions, so the
// authorizer, GetCallerIdentity and expiry treat them like AssumeRole's.

// SSORolePath is where Identity Center's roles live, as in AWS.
const SSORolePath = "/aws-reserved/sso.amazonaws.com/"

// SSOInlinePolicyName names the inline policy a permission set's role
// carries, as in AWS.
const SSOInlinePolicyName = "AwsSSOInlinePolicy"

// ssoRoleMaxSession is the longest session a permission set may ask for
// (PT12H).
const ssoRoleMaxSession = 43200

// SSORole is the role a permission set becomes in one account.
type SSORole struct {
	Account, Name string
	// ManagedPolicies and InlinePolicy are the permission set's.
	ManagedPolicies []string
	InlinePolicy    string
	// Instance is the Identity Center instance's id (ssoins-…), which names
	// the SAML provider of the trust policy.
	Instance string
}

// ssoTrustPolicy is the trust policy of Identity Center's roles, as AWS
// writes it: only the instance's SAML provider may assume them, which
// Berth does not serve, so nobody can through STS. Sessions are made by
// SSORoleSession alone.
func ssoTrustPolicy(account, instance string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::` + account +
		`:saml-provider/AWSSSO_` + instance + `_DO_NOT_DELETE"},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"],` +
		`"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`
}

// ProvisionSSORole makes the role exist with exactly the permission set's
// policies: created when missing, its managed policies attached and
// detached and its inline policy put or deleted to match. Running it again
// changes nothing; every node may run it.
func (s *Service) ProvisionSSORole(ctx context.Context, r SSORole) error {
	_, err := s.store.GetIAMEntity(ctx, r.Account, Role, r.Name)
	if errors.Is(err, meta.ErrIAMNotFound) {
		_, err = s.create(ctx, &Entity{Account: r.Account, Kind: Role, Name: r.Name, Path: SSORolePath,
			AssumeRolePolicy: ssoTrustPolicy(r.Account, r.Instance), MaxSessionDuration: ssoRoleMaxSession,
			Description: "Role provisioned by Berth's IAM Identity Center for a permission set"})
		var ie *Error
		if errors.As(err, &ie) && errors.Is(err, ErrEntityExists) {
			err = nil // another node made it meanwhile
		}
	}
	if err != nil {
		return fmt.Errorf("iam: provision sso role %s in %s: %w", r.Name, r.Account, err)
	}
	attached, err := s.store.ListAttachedPolicies(ctx, r.Account, Role, r.Name)
	if err != nil {
		return fmt.Errorf("iam: list policies of sso role %s: %w", r.Name, err)
	}
	for _, arn := range r.ManagedPolicies {
		if !slices.Contains(attached, arn) {
			if err := s.AttachPolicy(ctx, r.Account, Role, r.Name, arn); err != nil {
				return err
			}
		}
	}
	for _, arn := range attached {
		if !slices.Contains(r.ManagedPolicies, arn) {
			if err := s.DetachPolicy(ctx, r.Account, Role, r.Name, arn); err != nil {
				return err
			}
		}
	}
	// Only a change is written: provisioning runs before every role
	// credential the portal hands out, and a write would drop every node's
	// cached authorization decisions.
	current, err := s.store.GetInlinePolicy(ctx, r.Account, Role, r.Name, SSOInlinePolicyName)
	switch {
	case errors.Is(err, meta.ErrIAMNotFound):
		current = nil
	case err != nil:
		return fmt.Errorf("iam: get the inline policy of sso role %s: %w", r.Name, err)
	}
	switch {
	case r.InlinePolicy != "" && (current == nil || current.Document != r.InlinePolicy):
		return s.PutInlinePolicy(ctx, r.Account, Role, r.Name, SSOInlinePolicyName, r.InlinePolicy)
	case r.InlinePolicy == "" && current != nil:
		return s.DeleteInlinePolicy(ctx, r.Account, Role, r.Name, SSOInlinePolicyName)
	}
	return nil
}

// DeleteSSORole deletes a permission set's role with its policies (and so
// its sessions); a role already gone is no error.
func (s *Service) DeleteSSORole(ctx context.Context, account, name string) error {
	if err := s.stripSSORole(ctx, account, name); err != nil {
		return err
	}
	err := s.DeleteEntity(ctx, account, Role, name)
	if errors.Is(err, ErrNoSuchEntity) {
		return nil
	}
	return err
}

// stripSSORole takes every policy off the role, which IAM
// requires before a role is deleted.
func (s *Service) stripSSORole(ctx context.Context, account, name string) error {
	attached, err := s.store.ListAttachedPolicies(ctx, account, Role, name)
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("iam: list policies of sso role %s: %w", name, err)
	}
	for _, arn := range attached {
		if err := s.DetachPolicy(ctx, account, Role, name, arn); err != nil && !errors.Is(err, ErrNoSuchEntity) {
			return err
		}
	}
	if err := s.DeleteInlinePolicy(ctx, account, Role, name, SSOInlinePolicyName); err != nil && !errors.Is(err, ErrNoSuchEntity) {
		return err
	}
	return nil
}

// SSORoleSession makes a session of a permission set's role for a signed-in
// user, named after the user, lasting duration seconds.
func (s *Service) SSORoleSession(ctx context.Context, account, roleName, userName string, duration int) (*AssumedRole, error) {
	role, err := s.store.GetIAMEntity(ctx, account, Role, roleName)
	if err != nil {
		return nil, fromStore("get role "+roleName, err)
	}
	return s.newRoleSession(ctx, role, userName, "arn:aws:iam::"+account+":saml-provider/AWSSSO", s.now(), duration)
}
