package iam

import (
	"context"
)

// defaultMaxSessionDuration is a role's MaxSessionDuration unless set, in
// seconds.
const defaultMaxSessionDuration = 3600

// NewRole is what CreateRole makes a role of.
type NewRole struct {
	Name, Path string
	// AssumeRolePolicyDocument is the trust policy: who may assume the
	// role.
	AssumeRolePolicyDocument string
	Description              string
	// MaxSessionDuration caps AssumeRole's DurationSeconds; 0 is an hour.
	MaxSessionDuration int
	// PermissionsBoundary is refused: Berth does not enforce boundaries,
	// and a role made without one would be allowed more than asked for.
	PermissionsBoundary string
}

// CreateRole creates a role of account.
func (s *Service) CreateRole(ctx context.Context, account string, r NewRole) (*Entity, error) {
	if r.PermissionsBoundary != "" {
		return nil, notSupported("PermissionsBoundary")
	}
	if err := validateTrustPolicy(r.AssumeRolePolicyDocument); err != nil {
		return nil, err
	}
	if r.MaxSessionDuration == 0 {
		r.MaxSessionDuration = defaultMaxSessionDuration
	}
	return s.create(ctx, &Entity{
		Account: account, Kind: Role, Name: r.Name, Path: r.Path,
		AssumeRolePolicy: r.AssumeRolePolicyDocument, Description: r.Description, MaxSessionDuration: r.MaxSessionDuration,
	})
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Service) UpdateAssumeRolePolicy(ctx context.Context, account, role, document string) error {
	if err := validateTrustPolicy(document); err != nil {
		return err
	}
	return s.commit(ctx, "update the trust policy of role "+role, s.store.UpdateAssumeRolePolicy(ctx, account, role, document))
}
