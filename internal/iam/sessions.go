package iam

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/meta"
)

// Role sessions: the temporary credentials STS AssumeRole makes. They are
// stored, so that every node sharing the database accepts them.

// roleARNRE is an IAM role's ARN: account, path and name.
var roleARNRE = regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):role(/(?:[\x21-\x7e]*/)?)([\w+=,.@-]+)$`)

const (
	// defaultSessionDuration is DurationSeconds unless given.
	defaultSessionDuration = 3600
	// chainedSessionLimit caps sessions made with a session's credentials.
	chainedSessionLimit = 3600
	// keepExpiredSessions is how long an expired session is kept, so that
	// its credentials are refused as expired rather than unknown.
	keepExpiredSessions = 24 * time.Hour
)

// AssumeRoleRequest is what a caller asks AssumeRole for.
type AssumeRoleRequest struct {
	RoleARN, SessionName string
	// DurationSeconds is how long the credentials last; 0 is an hour.
	DurationSeconds int
	ExternalID      string
	// SessionPolicy and SessionPolicyARNs are refused: they narrow a
	// session, and granting without them would give more than asked for.
	SessionPolicy     string
	SessionPolicyARNs []string
}

// AssumedRole is a new role session, and how STS names it.
type AssumedRole struct {
	Session *Session
	// ID is the role's id and the session's name: AROA…:name.
	ID string
	// ARN is the session's: arn:aws:sts::<account>:assumed-role/<role>/<name>.
	ARN string
}

// AssumeRole makes temporary credentials for a role whose trust policy
// lets the caller in. The caller's own policies are the identity-based
// side, decided by the Options' authorizer; the trust policy is the
// resource-based side.
func (s *Service) AssumeRole(ctx context.Context, caller *authn.Principal, req AssumeRoleRequest) (*AssumedRole, error) {
	if req.SessionPolicy != "" || len(req.SessionPolicyARNs) > 0 {
		return nil, notSupported("session policies (Policy, PolicyArns)")
	}
	if caller.Kind == authn.KindRoot || caller.Kind == "" {
		return nil, rootMayNotAssume()
	}
	denied := assumeRoleDenied(caller.ARN, req.RoleARN)
	role, err := s.roleOf(ctx, req.RoleARN)
	if err != nil {
		return nil, err
	}
	if role == nil {
		// As in AWS, a role that does not exist is refused like one that
		// does not trust the caller.
		return nil, denied
	}

	identityAllows := true
	err = s.authorizer.Authorize(ctx, authz.Request{Principal: caller, Action: "sts:AssumeRole", Resource: req.RoleARN, ResourceAccount: caller.Account})
	var d *authz.DeniedError
	switch {
	case errors.As(err, &d):
		identityAllows = false
		// AWS says why when the caller's own policies are the reason.
		denied.Message += " " + d.Reason
	case err != nil:
		return nil, fmt.Errorf("iam: authorize sts:AssumeRole on %s: %w", req.RoleARN, err)
	}
	now := s.now()
	conditionKeys := map[string][]string{"sts:RoleSessionName": {req.SessionName}}
	if req.ExternalID != "" {
		conditionKeys["sts:ExternalId"] = []string{req.ExternalID}
	}
	if !trustAllows(role.AssumeRolePolicy, caller, req.RoleARN, role.Account, identityAllows, now, conditionKeys) {
		return nil, denied
	}

	duration := req.DurationSeconds
	if duration == 0 {
		duration = defaultSessionDuration
	}
	if caller.Kind == authn.KindAssumedRole && duration > chainedSessionLimit {
		return nil, chainedDurationTooLong()
	}
	if duration > role.MaxSessionDuration {
		return nil, durationOverRoleMax()
	}

	ar, err := s.newRoleSession(ctx, role, req.SessionName, caller.ARN, now, duration)
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil, denied // deleted or replaced meanwhile
	}
	return ar, err
}

// roleOf is the role arn names, or nil when there is none.
func (s *Service) roleOf(ctx context.Context, arn string) (*Entity, error) {
	m := roleARNRE.FindStringSubmatch(arn)
	if m == nil {
		return nil, nil
	}
	role, err := s.store.GetIAMEntity(ctx, m[1], Role, m[3])
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("iam: get role %s: %w", arn, err)
	}
	if authn.RoleARN(role.Account, role.Path, role.Name) != arn {
		return nil, nil
	}
	return role, nil
}
