package ssoapi

import (
	"context"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/sso"
)

// SSO Admin: the instance, permission sets and account assignments. Every
// operation is authorized as sso:<Operation> on the ARNs it acts on (the
// instance's, the permission set's, the account's as
// arn:aws:sso:::account/<id>), owned by the instance's account.

// resourced is an input that names what it acts on.
type resourced interface{ resources() []string }

// on is the target of an operation acting on its input's resources.
func on[T any, PT interface {
	*T
	resourced
}](a *API) func(context.Context, *awsapi.Call, *T) ([]awsapi.Check, error) {
	return func(ctx context.Context, _ *awsapi.Call, in *T) ([]awsapi.Check, error) {
		inst, err := a.sso.Instance(ctx)
		if err != nil {
			return nil, err
		}
		var checks []awsapi.Check
		for _, r := range PT(in).resources() {
			checks = append(checks, awsapi.Check{Resource: r, Account: inst.Account})
		}
		return checks, nil
	}
}

type instanceIn struct {
	InstanceArn string `json:"InstanceArn"`
}

func (in *instanceIn) resources() []string { return []string{in.InstanceArn} }

type permissionSetIn struct {
	InstanceArn      string `json:"InstanceArn"`
	PermissionSetArn string `json:"PermissionSetArn"`
}

func (in *permissionSetIn) resources() []string { return []string{in.InstanceArn, in.PermissionSetArn} }

type listInstancesIn struct{}

func (*listInstancesIn) resources() []string { return []string{"*"} }

type instanceOut struct {
	InstanceArn     string            `json:"InstanceArn"`
	IdentityStoreID string            `json:"IdentityStoreId"`
	OwnerAccountID  string            `json:"OwnerAccountId"`
	Name            string            `json:"Name"`
	CreatedDate     *awsapi.EpochTime `json:"CreatedDate,omitempty"`
	Status          string            `json:"Status"`
}

func (a *API) listInstances(ctx context.Context, _ *awsapi.Call, _ *listInstancesIn) (any, error) {
	inst, err := a.sso.Instance(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Instances": []instanceOut{{InstanceArn: inst.ARN, IdentityStoreID: inst.IdentityStoreID, OwnerAccountID: inst.Account,
		Name: "Berth", CreatedDate: awsapi.NewEpochTime(inst.CreatedAt), Status: "ACTIVE"}}}, nil
}

type createPermissionSetIn struct {
	InstanceArn     string `json:"InstanceArn"`
	Name            string `json:"Name"`
	Description     string `json:"Description"`
	SessionDuration string `json:"SessionDuration"`
	RelayState      string `json:"RelayState"`
	Tags            []any  `json:"Tags"`
}

func (in *createPermissionSetIn) resources() []string { return []string{in.InstanceArn} }

type permissionSetOut struct {
	Name             string            `json:"Name"`
	PermissionSetArn string            `json:"PermissionSetArn"`
	Description      string            `json:"Description,omitempty"`
	CreatedDate      *awsapi.EpochTime `json:"CreatedDate,omitempty"`
	SessionDuration  string            `json:"SessionDuration"`
}

func permissionSetOf(ps *meta.SSOPermissionSet) map[string]any {
	return map[string]any{"PermissionSet": permissionSetOut{Name: ps.Name, PermissionSetArn: ps.ARN, Description: ps.Description,
		CreatedDate: awsapi.NewEpochTime(ps.CreatedAt), SessionDuration: ps.SessionDuration}}
}

func (a *API) createPermissionSet(ctx context.Context, _ *awsapi.Call, in *createPermissionSetIn) (any, error) {
	if in.RelayState != "" || len(in.Tags) > 0 {
		return nil, awsapi.Errorf("ValidationException", "Berth does not support RelayState or Tags on permission sets yet")
	}
	ps, err := a.sso.CreatePermissionSet(ctx, sso.NewPermissionSet{InstanceARN: in.InstanceArn, Name: in.Name,
		Description: in.Description, SessionDuration: in.SessionDuration})
	if err != nil {
		return nil, err
	}
	return permissionSetOf(ps), nil
}

func (a *API) describePermissionSet(ctx context.Context, _ *awsapi.Call, in *permissionSetIn) (any, error) {
	ps, err := a.sso.PermissionSet(ctx, in.InstanceArn, in.PermissionSetArn)
	if err != nil {
		return nil, err
	}
	return permissionSetOf(ps), nil
}

type listPermissionSetsIn struct {
	instanceIn
	paging
}

// paging is the admin list operations' MaxResults and NextToken.
type paging struct {
	MaxResults int    `json:"MaxResults"`
	NextToken  string `json:"NextToken"`
}

// badToken refuses a NextToken no page answered.
func badToken() error {
	return awsapi.Errorf("ValidationException", "NextToken is not one this operation answered")
}

// withNext adds NextToken to an answer when there is a next page.
func withNext(out map[string]any, next string) map[string]any {
	if next != "" {
		out["NextToken"] = next
	}
	return out
}

func (a *API) listPermissionSets(ctx context.Context, _ *awsapi.Call, in *listPermissionSetsIn) (any, error) {
	list, err := a.sso.PermissionSets(ctx, in.InstanceArn)
	if err != nil {
		return nil, err
	}
	list, next, ok := page(list, func(ps *meta.SSOPermissionSet) string { return ps.ARN }, in.MaxResults, in.NextToken)
	if !ok {
		return nil, badToken()
	}
	arns := []string{}
	for _, ps := range list {
		arns = append(arns, ps.ARN)
	}
	return withNext(map[string]any{"PermissionSets": arns}, next), nil
}

func (a *API) deletePermissionSet(ctx context.Context, _ *awsapi.Call, in *permissionSetIn) (any, error) {
	return nil, a.sso.DeletePermissionSet(ctx, in.InstanceArn, in.PermissionSetArn)
}

type managedPolicyIn struct {
	permissionSetIn
	ManagedPolicyArn string `json:"ManagedPolicyArn"`
}

func (a *API) attachManagedPolicy(ctx context.Context, _ *awsapi.Call, in *managedPolicyIn) (any, error) {
	return nil, a.sso.AttachManagedPolicy(ctx, in.InstanceArn, in.PermissionSetArn, in.ManagedPolicyArn)
}

func (a *API) detachManagedPolicy(ctx context.Context, _ *awsapi.Call, in *managedPolicyIn) (any, error) {
	return nil, a.sso.DetachManagedPolicy(ctx, in.InstanceArn, in.PermissionSetArn, in.ManagedPolicyArn)
}

type attachedPolicy struct {
	Name string `json:"Name"`
	Arn  string `json:"Arn"`
}

func (a *API) listManagedPolicies(ctx context.Context, _ *awsapi.Call, in *permissionSetIn) (any, error) {
	ps, err := a.sso.PermissionSet(ctx, in.InstanceArn, in.PermissionSetArn)
	if err != nil {
		return nil, err
	}
	out := []attachedPolicy{}
	for _, arn := range ps.ManagedPolicies {
		out = append(out, attachedPolicy{Name: arn[len("arn:aws:iam::aws:policy/"):], Arn: arn})
	}
	return map[string]any{"AttachedManagedPolicies": out}, nil
}

type inlinePolicyIn struct {
	permissionSetIn
	InlinePolicy string `json:"InlinePolicy"`
}

func (a *API) putInlinePolicy(ctx context.Context, _ *awsapi.Call, in *inlinePolicyIn) (any, error) {
	return nil, a.sso.PutInlinePolicy(ctx, in.InstanceArn, in.PermissionSetArn, in.InlinePolicy)
}

func (a *API) getInlinePolicy(ctx context.Context, _ *awsapi.Call, in *permissionSetIn) (any, error) {
	ps, err := a.sso.PermissionSet(ctx, in.InstanceArn, in.PermissionSetArn)
	if err != nil {
		return nil, err
	}
	if ps.InlinePolicy == "" {
		return struct{}{}, nil
	}
	return map[string]any{"InlinePolicy": ps.InlinePolicy}, nil
}

func (a *API) deleteInlinePolicy(ctx context.Context, _ *awsapi.Call, in *permissionSetIn) (any, error) {
	return nil, a.sso.PutInlinePolicy(ctx, in.InstanceArn, in.PermissionSetArn, "")
}

type assignmentIn struct {
	InstanceArn      string `json:"InstanceArn"`
	TargetID         string `json:"TargetId"`
	TargetType       string `json:"TargetType"`
	PermissionSetArn string `json:"PermissionSetArn"`
	PrincipalType    string `json:"PrincipalType"`
	PrincipalID      string `json:"PrincipalId"`
}

func (in *assignmentIn) resources() []string {
	return []string{in.InstanceArn, in.PermissionSetArn, "arn:aws:sso:::account/" + in.TargetID}
}

func (in *assignmentIn) assignment() sso.Assignment {
	return sso.Assignment{InstanceARN: in.InstanceArn, PermissionSetARN: in.PermissionSetArn, Account: in.TargetID,
		PrincipalType: in.PrincipalType, PrincipalID: in.PrincipalID}
}

type assignmentStatus struct {
	Status           string            `json:"Status"`
	RequestID        string            `json:"RequestId"`
	TargetID         string            `json:"TargetId"`
	TargetType       string            `json:"TargetType"`
	PermissionSetArn string            `json:"PermissionSetArn"`
	PrincipalType    string            `json:"PrincipalType"`
	PrincipalID      string            `json:"PrincipalId"`
	CreatedDate      *awsapi.EpochTime `json:"CreatedDate,omitempty"`
}

// status is an assignment's status: Berth provisions within the call, so
// it is SUCCEEDED when the call returns.
func (in *assignmentIn) status(c *awsapi.Call) assignmentStatus {
	return assignmentStatus{Status: "SUCCEEDED", RequestID: c.RequestID, TargetID: in.TargetID, TargetType: in.TargetType,
		PermissionSetArn: in.PermissionSetArn, PrincipalType: in.PrincipalType, PrincipalID: in.PrincipalID}
}

func (a *API) createAccountAssignment(ctx context.Context, c *awsapi.Call, in *assignmentIn) (any, error) {
	if err := a.sso.CreateAccountAssignment(ctx, in.assignment()); err != nil {
		return nil, err
	}
	return map[string]any{"AccountAssignmentCreationStatus": in.status(c)}, nil
}

func (a *API) deleteAccountAssignment(ctx context.Context, c *awsapi.Call, in *assignmentIn) (any, error) {
	if err := a.sso.DeleteAccountAssignment(ctx, in.assignment()); err != nil {
		return nil, err
	}
	return map[string]any{"AccountAssignmentDeletionStatus": in.status(c)}, nil
}

type listAssignmentsIn struct {
	permissionSetIn
	paging
	AccountID string `json:"AccountId"`
}

type assignmentOut struct {
	AccountID        string `json:"AccountId"`
	PermissionSetArn string `json:"PermissionSetArn"`
	PrincipalType    string `json:"PrincipalType"`
	PrincipalID      string `json:"PrincipalId"`
}

func (a *API) listAccountAssignments(ctx context.Context, _ *awsapi.Call, in *listAssignmentsIn) (any, error) {
	list, err := a.sso.AccountAssignments(ctx, in.InstanceArn, in.AccountID, in.PermissionSetArn)
	if err != nil {
		return nil, err
	}
	list, next, ok := page(list, func(as *meta.SSOAssignment) string { return as.PrincipalType + "/" + as.PrincipalID }, in.MaxResults, in.NextToken)
	if !ok {
		return nil, badToken()
	}
	out := []assignmentOut{}
	for _, as := range list {
		out = append(out, assignmentOut{AccountID: as.Account, PermissionSetArn: as.PermissionSetARN, PrincipalType: as.PrincipalType, PrincipalID: as.PrincipalID})
	}
	return withNext(map[string]any{"AccountAssignments": out}, next), nil
}
