package sso

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/authz/policy"
	"github.com/berth-registry/berth/internal/iam"
	"github.com/berth-registry/berth/internal/meta"
)

// Permission sets, and their assignments to users in accounts. An
// assignment provisions the set's role in the account at once (AWS does it
// as part of CreateAccountAssignment too), and a change of the set's
// policies re-provisions every account it is assigned in.

// DefaultSessionDuration is a permission set's session duration unless set.
const DefaultSessionDuration = "PT1H"

// NewPermissionSet is what CreatePermissionSet makes a set of.
type NewPermissionSet struct {
	InstanceARN, Name, Description, SessionDuration string
}

// checkInstance refuses an instance ARN that is not the deployment's.
func (s *Service) checkInstance(ctx context.Context, arn string) (*meta.SSOInstance, error) {
	inst, err := s.Instance(ctx)
	if err != nil {
		return nil, err
	}
	if arn != inst.ARN {
		return nil, errorf(ErrNotFound, "Instance %s does not exist", arn)
	}
	return inst, nil
}

// isoDurationRE is the ISO 8601 durations a session duration takes: days,
// hours, minutes, seconds.
var isoDurationRE = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

// ParseSessionDuration reads a permission set's session duration, which
// Identity Center takes between one and twelve hours.
func ParseSessionDuration(d string) (time.Duration, error) {
	m := isoDurationRE.FindStringSubmatch(d)
	if m == nil || d == "P" || d == "PT" {
		return 0, errorf(ErrValidation, "Invalid session duration %s: an ISO 8601 duration such as PT1H or PT12H", d)
	}
	var total time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.Atoi(m[i+1])
		if err != nil || n > 1000000 {
			return 0, errorf(ErrValidation, "Invalid session duration %s", d)
		}
		total += time.Duration(n) * unit
	}
	if total < time.Hour || total > 12*time.Hour {
		return 0, errorf(ErrValidation, "Session duration %s is out of range: it must be between PT1H and PT12H", d)
	}
	return total, nil
}

// CreatePermissionSet makes a permission set with no policies.
func (s *Service) CreatePermissionSet(ctx context.Context, np NewPermissionSet) (*meta.SSOPermissionSet, error) {
	if _, err := s.checkInstance(ctx, np.InstanceARN); err != nil {
		return nil, err
	}
	if np.SessionDuration == "" {
		np.SessionDuration = DefaultSessionDuration
	}
	if _, err := ParseSessionDuration(np.SessionDuration); err != nil {
		return nil, err
	}
	ps := &meta.SSOPermissionSet{
		ARN:         "arn:aws:sso:::permissionSet/" + InstanceID(np.InstanceARN) + "/ps-" + randomHex(8),
		InstanceARN: np.InstanceARN, Name: np.Name, Description: np.Description, SessionDuration: np.SessionDuration,
		CreatedAt: s.now().UTC(),
	}
	err := s.store.CreatePermissionSet(ctx, ps)
	if errors.Is(err, meta.ErrIAMExists) {
		return nil, errorf(ErrConflict, "PermissionSet with name %s already exists", np.Name)
	}
	if err != nil {
		return nil, fromStore("create permission set", err, "")
	}
	return ps, nil
}

// PermissionSet is one of the instance's permission sets.
func (s *Service) PermissionSet(ctx context.Context, instanceARN, arn string) (*meta.SSOPermissionSet, error) {
	if _, err := s.checkInstance(ctx, instanceARN); err != nil {
		return nil, err
	}
	ps, err := s.store.GetPermissionSet(ctx, arn)
	if err == nil && ps.InstanceARN != instanceARN {
		err = &meta.IAMError{Err: meta.ErrIAMNotFound}
	}
	return ps, fromStore("get permission set", err, "Could not find PermissionSet with PermissionSetArn "+arn)
}

// PermissionSets lists the instance's permission sets in ARN order.
func (s *Service) PermissionSets(ctx context.Context, instanceARN string) ([]*meta.SSOPermissionSet, error) {
	if _, err := s.checkInstance(ctx, instanceARN); err != nil {
		return nil, err
	}
	list, err := s.store.ListPermissionSets(ctx, instanceARN)
	if err != nil {
		return nil, fmt.Errorf("sso: list permission sets: %w", err)
	}
	return list, nil
}

// AttachManagedPolicy attaches an AWS managed policy Berth knows.
func (s *Service) AttachManagedPolicy(ctx context.Context, instanceARN, arn, policyARN string) error {
	if _, ok := policy.LookupManaged(policyARN); !ok || !strings.HasPrefix(policyARN, "arn:aws:iam::aws:policy/") {
		return errorf(ErrValidation, "Berth does not know the managed policy %s: it knows the AWS managed ECR policies", policyARN)
	}
	return s.updatePermissionSet(ctx, instanceARN, arn, func(ps *meta.SSOPermissionSet) error {
		if slices.Contains(ps.ManagedPolicies, policyARN) {
			return errorf(ErrConflict, "Managed policy %s is already attached to the permission set", policyARN)
		}
		ps.ManagedPolicies = append(ps.ManagedPolicies, policyARN)
		return nil
	})
}

// DetachManagedPolicy detaches a managed policy.
func (s *Service) DetachManagedPolicy(ctx context.Context, instanceARN, arn, policyARN string) error {
	return s.updatePermissionSet(ctx, instanceARN, arn, func(ps *meta.SSOPermissionSet) error {
		i := slices.Index(ps.ManagedPolicies, policyARN)
		if i < 0 {
			return errorf(ErrNotFound, "Managed policy %s is not attached to the permission set", policyARN)
		}
		ps.ManagedPolicies = slices.Delete(ps.ManagedPolicies, i, i+1)
		return nil
	})
}

// PutInlinePolicy sets the permission set's inline policy; "" removes it.
func (s *Service) PutInlinePolicy(ctx context.Context, instanceARN, arn, document string) error {
	if document != "" {
		if _, err := policy.Parse(policy.Identity, []byte(document)); err != nil {
			return errorf(ErrValidation, "The inline policy is not a valid policy document: %v", err)
		}
	}
	return s.updatePermissionSet(ctx, instanceARN, arn, func(ps *meta.SSOPermissionSet) error {
		ps.InlinePolicy = document
		return nil
	})
}

// updatePermissionSet changes a set and re-provisions its roles.
func (s *Service) updatePermissionSet(ctx context.Context, instanceARN, arn string, update func(ps *meta.SSOPermissionSet) error) error {
	if _, err := s.PermissionSet(ctx, instanceARN, arn); err != nil {
		return err
	}
	err := s.store.UpdatePermissionSet(ctx, arn, update)
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	if err := fromStore("update permission set", err, "Could not find PermissionSet with PermissionSetArn "+arn); err != nil {
		return err
	}
	return s.reprovision(ctx, arn)
}

// reprovision brings the set's role in every account it is assigned in
// into step with it.
func (s *Service) reprovision(ctx context.Context, arn string) error {
	held, err := s.store.ListSSOAssignments(ctx, meta.SSOAssignmentQuery{PermissionSetARN: arn})
	if err != nil {
		return fmt.Errorf("sso: list assignments of %s: %w", arn, err)
	}
	done := map[string]bool{}
	for _, a := range held {
		if done[a.Account] {
			continue
		}
		done[a.Account] = true
		if _, err := s.provision(ctx, arn, a.Account); err != nil {
			return err
		}
	}
	return nil
}

// DeletePermissionSet deletes a set no one is assigned.
func (s *Service) DeletePermissionSet(ctx context.Context, instanceARN, arn string) error {
	if _, err := s.PermissionSet(ctx, instanceARN, arn); err != nil {
		return err
	}
	err := s.store.DeletePermissionSet(ctx, arn)
	if errors.Is(err, meta.ErrIAMConflict) {
		return errorf(ErrConflict, "PermissionSet %s is assigned in accounts; delete its account assignments first", arn)
	}
	return fromStore("delete permission set", err, "Could not find PermissionSet with PermissionSetArn "+arn)
}

// RoleName is the role a permission set becomes in an account:
// AWSReservedSSO_<name>_<16 hex>. The id is derived from the set and the
// account, so every node names the role alike without storing it.
func RoleName(ps *meta.SSOPermissionSet, account string) string {
	sum := sha256.Sum256([]byte(ps.ARN + "|" + account))
	return "AWSReservedSSO_" + ps.Name + "_" + hex.EncodeToString(sum[:8])
}

// RoleARN is that role's ARN.
func RoleARN(ps *meta.SSOPermissionSet, account string) string {
	return iam.ARN(account, "role", iam.SSORolePath, RoleName(ps, account))
}

// provision makes the set's role in account match the set.
func (s *Service) provision(ctx context.Context, arn, account string) (*meta.SSOPermissionSet, error) {
	ps, err := s.store.GetPermissionSet(ctx, arn)
	if err != nil {
		return nil, fromStore("get permission set", err, "Could not find PermissionSet with PermissionSetArn "+arn)
	}
	err = s.roles.ProvisionSSORole(ctx, iam.SSORole{Account: account, Name: RoleName(ps, account),
		ManagedPolicies: ps.ManagedPolicies, InlinePolicy: ps.InlinePolicy, Instance: InstanceID(ps.InstanceARN)})
	if err != nil {
		return nil, fmt.Errorf("sso: provision %s in %s: %w", ps.Name, account, err)
	}
	return ps, nil
}

// retireRole deletes the set's role in account once no one holds the set
// there.
func (s *Service) retireRole(ctx context.Context, arn, account string) error {
	left, err := s.store.ListSSOAssignments(ctx, meta.SSOAssignmentQuery{PermissionSetARN: arn, Account: account})
	if err != nil {
		return fmt.Errorf("sso: list assignments of %s: %w", arn, err)
	}
	if len(left) > 0 {
		return nil
	}
	ps, err := s.store.GetPermissionSet(ctx, arn)
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sso: get permission set %s: %w", arn, err)
	}
	return s.roles.DeleteSSORole(ctx, account, RoleName(ps, account))
}

// Assignment names one assignment.
type Assignment struct {
	InstanceARN, PermissionSetARN, Account, PrincipalType, PrincipalID string
}

func (a Assignment) record(now time.Time) *meta.SSOAssignment {
	return &meta.SSOAssignment{InstanceARN: a.InstanceARN, PermissionSetARN: a.PermissionSetARN, Account: a.Account,
		PrincipalType: a.PrincipalType, PrincipalID: a.PrincipalID, CreatedAt: now}
}

// checkAssignment refuses what Berth does not assign: groups.
func (s *Service) checkAssignment(ctx context.Context, a Assignment) error {
	if _, err := s.PermissionSet(ctx, a.InstanceARN, a.PermissionSetARN); err != nil {
		return err
	}
	if a.PrincipalType != "USER" {
		return errorf(ErrValidation, "Berth assigns permission sets to users only (PrincipalType USER), not %s", a.PrincipalType)
	}
	return nil
}

// checkAccount refuses an account the deployment does not have: a role
// made there would belong to no one.
func (s *Service) checkAccount(ctx context.Context, account string) error {
	if account == s.opts.Account {
		return nil
	}
	_, err := s.roles.Account(ctx, account)
	if errors.Is(err, iam.ErrNoSuchEntity) || errors.Is(err, meta.ErrIAMNotFound) {
		return errorf(ErrNotFound, "Account %s is not an account of this deployment (berth admin create-account makes accounts)", account)
	}
	if err != nil {
		return fmt.Errorf("sso: get account %s: %w", account, err)
	}
	return nil
}

// CreateAccountAssignment assigns a user a permission set in an account and
// provisions its role there. Assigning again is no error, as in AWS.
func (s *Service) CreateAccountAssignment(ctx context.Context, a Assignment) error {
	if err := s.checkAssignment(ctx, a); err != nil {
		return err
	}
	if err := s.checkAccount(ctx, a.Account); err != nil {
		return err
	}
	err := s.store.CreateSSOAssignment(ctx, a.record(s.now().UTC()))
	switch {
	case errors.Is(err, meta.ErrIAMExists):
	case errors.Is(err, meta.ErrIAMNotFound):
		return errorf(ErrNotFound, "User %s or permission set %s does not exist", a.PrincipalID, a.PermissionSetARN)
	case err != nil:
		return fmt.Errorf("sso: create account assignment: %w", err)
	}
	_, err = s.provision(ctx, a.PermissionSetARN, a.Account)
	return err
}

// AccountAssignments lists a permission set's assignments in an account.
func (s *Service) AccountAssignments(ctx context.Context, instanceARN, account, psARN string) ([]*meta.SSOAssignment, error) {
	if _, err := s.PermissionSet(ctx, instanceARN, psARN); err != nil {
		return nil, err
	}
	list, err := s.store.ListSSOAssignments(ctx, meta.SSOAssignmentQuery{InstanceARN: instanceARN, PermissionSetARN: psARN, Account: account})
	if err != nil {
		return nil, fmt.Errorf("sso: list account assignments: %w", err)
	}
	return list, nil
}

// DeleteAccountAssignment removes an assignment, and the role with the
// last one of the set in the account.
func (s *Service) DeleteAccountAssignment(ctx context.Context, a Assignment) error {
	if err := s.checkAssignment(ctx, a); err != nil {
		return err
	}
	err := s.store.DeleteSSOAssignment(ctx, a.record(time.Time{}))
	if err := fromStore("delete account assignment", err, "The account assignment does not exist"); err != nil {
		return err
	}
	return s.retireRole(ctx, a.PermissionSetARN, a.Account)
}
