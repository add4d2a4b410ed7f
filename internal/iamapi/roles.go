package iamapi

import (
	"context"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/iam"
)

// roleIn is what the role operations take.
type roleIn struct {
	RoleName                 string `json:"RoleName"`
	Path                     string `json:"Path"`
	AssumeRolePolicyDocument string `json:"AssumeRolePolicyDocument"`
	Description              string `json:"Description"`
	MaxSessionDuration       int    `json:"MaxSessionDuration"`
	PermissionsBoundary      string `json:"PermissionsBoundary"`
	// PolicyDocument is UpdateAssumeRolePolicy's trust policy.
	PolicyDocument string `json:"PolicyDocument"`
}

// newRole checks CreateRole on the ARN the role will have.
func newRole(_ context.Context, c *awsapi.Call, in *roleIn) ([]awsapi.Check, error) {
	return on(c.Principal.Account, iam.ARN(c.Principal.Account, "role", in.Path, in.RoleName)), nil
}

// onRole checks the operation on RoleName.
func (a *API) onRole(ctx context.Context, c *awsapi.Call, in *roleIn) ([]awsapi.Check, error) {
	return a.onEntity(ctx, c, iam.Role, in.RoleName), nil
}

type roleXML struct {
	Path string `xml:"Path"`
	Name string `xml:"RoleName"`
	ID   string `xml:"RoleId"`
	Arn  string `xml:"Arn"`
	// AssumeRolePolicyDocument is URL-encoded, as IAM sends it.
	AssumeRolePolicyDocument string          `xml:"AssumeRolePolicyDocument,omitempty"`
	CreateDate               *awsapi.XMLTime `xml:"CreateDate,omitempty"`
	Description              string          `xml:"Description,omitempty"`
	MaxSessionDuration       int             `xml:"MaxSessionDuration,omitempty"`
}

func roleOf(r *iam.Entity) roleXML {
	return roleXML{
		Path: r.Path, Name: r.Name, ID: r.ID, Arn: iam.EntityARN(r),
		AssumeRolePolicyDocument: policyURLEncode(r.AssumeRolePolicy), CreateDate: awsapi.NewXMLTime(r.CreatedAt),
		Description: r.Description, MaxSessionDuration: r.MaxSessionDuration,
	}
}

type roleOut struct {
	Role roleXML `xml:"Role"`
}

func (a *API) createRole(ctx context.Context, c *awsapi.Call, in *roleIn) (*roleOut, error) {
	r, err := a.iam.CreateRole(ctx, c.Principal.Account, iam.NewRole{
		Name: in.RoleName, Path: in.Path, AssumeRolePolicyDocument: in.AssumeRolePolicyDocument,
		Description: in.Description, MaxSessionDuration: in.MaxSessionDuration, PermissionsBoundary: in.PermissionsBoundary,
	})
	if err != nil {
		return nil, err
	}
	return &roleOut{roleOf(r)}, nil
}

func (a *API) getRole(ctx context.Context, c *awsapi.Call, in *roleIn) (*roleOut, error) {
	r, err := a.iam.Entity(ctx, c.Principal.Account, iam.Role, in.RoleName)
	if err != nil {
		return nil, err
	}
	return &roleOut{roleOf(r)}, nil
}

type rolesOut struct {
	Roles awsapi.XMLList[roleXML] `xml:"Roles"`
	truncation
}

func (a *API) listRoles(ctx context.Context, c *awsapi.Call, in *listIn) (*rolesOut, error) {
	page, err := a.iam.Entities(ctx, c.Principal.Account, iam.Role, in.query())
	if err != nil {
		return nil, err
	}
	return &rolesOut{Roles: members(page.Items, roleOf), truncation: truncationOf(page)}, nil
}

// deleteRole refuses while the role has policies; its sessions end with
// it.
func (a *API) deleteRole(ctx context.Context, c *awsapi.Call, in *roleIn) (none, error) {
	return none{}, a.iam.DeleteEntity(ctx, c.Principal.Account, iam.Role, in.RoleName)
}

func (a *API) updateAssumeRolePolicy(ctx context.Context, c *awsapi.Call, in *roleIn) (none, error) {
	return none{}, a.iam.UpdateAssumeRolePolicy(ctx, c.Principal.Account, in.RoleName, in.PolicyDocument)
}

type instanceProfilesOut struct {
	InstanceProfiles awsapi.XMLList[struct{}] `xml:"InstanceProfiles"`
	IsTruncated      bool                     `xml:"IsTruncated"`
}

// listInstanceProfilesForRole answers with none: Berth has no instance
// profiles. Terraform asks before deleting a role.
func (a *API) listInstanceProfilesForRole(ctx context.Context, c *awsapi.Call, in *roleIn) (*instanceProfilesOut, error) {
	if _, err := a.iam.Entity(ctx, c.Principal.Account, iam.Role, in.RoleName); err != nil {
		return nil, err
	}
	return &instanceProfilesOut{}, nil
}
