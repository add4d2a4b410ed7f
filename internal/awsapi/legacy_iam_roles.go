package awsapi

import (
	"encoding/xml"
	"strconv"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/meta"
)

func init() {
	registerIAM("CreateRole", createRole)
	registerIAM("GetRole", getRole)
	registerIAM("ListRoles", listRoles)
	registerIAM("DeleteRole", deleteRole)
	registerIAM("UpdateAssumeRolePolicy", updateAssumeRolePolicy)
	registerIAM("ListInstanceProfilesForRole", listInstanceProfilesForRole)
}

// defaultMaxSessionDuration is a role's MaxSessionDuration unless set.
const defaultMaxSessionDuration = 3600

type iamRoleXML struct {
	Path string `xml:"Path"`
	Name string `xml:"RoleName"`
	ID   string `xml:"RoleId"`
	Arn  string `xml:"Arn"`
	// AssumeRolePolicyDocument is URL-encoded, as IAM sends it.
	AssumeRolePolicyDocument string   `xml:"AssumeRolePolicyDocument,omitempty"`
	CreateDate               *xmlTime `xml:"CreateDate,omitempty"`
	Description              string   `xml:"Description,omitempty"`
	MaxSessionDuration       int      `xml:"MaxSessionDuration,omitempty"`
}

func roleXML(r *meta.IAMEntity) iamRoleXML {
	return iamRoleXML{
		Path: r.Path, Name: r.Name, ID: r.ID, Arn: authn.RoleARN(r.Account, r.Path, r.Name),
		AssumeRolePolicyDocument: policyURLEncode(r.AssumeRolePolicy), CreateDate: newXMLTime(r.CreatedAt),
		Description: r.Description, MaxSessionDuration: r.MaxSessionDuration,
	}
}

// refuseUnsupported refuses parameters whose effect Berth does not
// implement and whose absence would grant more than asked for.
func (c *iamCall) refuseUnsupported(params ...string) error {
	for _, p := range params {
		if c.str(p) != "" {
			return iamValidation("Berth does not support " + p + " yet")
		}
	}
	return nil
}

func createRole(c *iamCall) (any, error) {
	name, path := c.str("RoleName"), c.path()
	if err := c.refuseUnsupported("PermissionsBoundary"); err != nil {
		return nil, err
	}
	if err := c.authorize(c.iamARN("role", path, name)); err != nil {
		return nil, err
	}
	doc := c.str("AssumeRolePolicyDocument")
	if err := validateTrustPolicy(doc); err != nil {
		return nil, err
	}
	maxDuration := defaultMaxSessionDuration
	if v := c.str("MaxSessionDuration"); v != "" {
		maxDuration, _ = strconv.Atoi(v) // the model checked it: 3600 to 43200
	}
	r := &meta.IAMEntity{
		Account: c.p.Account, Kind: meta.IAMRole, Name: name, Path: path, ID: authn.NewID("AROA", 17),
		CreatedAt: c.s.opts.Now().UTC().Truncate(timeResolution), AssumeRolePolicy: doc,
		Description: c.str("Description"), MaxSessionDuration: maxDuration,
	}
	if err := c.db.CreateIAMEntity(c.ctx, r); err != nil {
		return nil, err
	}
	return struct {
		XMLName xml.Name   `xml:"CreateRoleResult"`
		Role    iamRoleXML `xml:"Role"`
	}{Role: roleXML(r)}, nil
}

func getRole(c *iamCall) (any, error) {
	name := c.str("RoleName")
	if err := c.authorize(c.entityARN(meta.IAMRole, name)); err != nil {
		return nil, err
	}
	r, err := c.db.GetIAMEntity(c.ctx, c.p.Account, meta.IAMRole, name)
	if err != nil {
		return nil, err
	}
	return struct {
		XMLName xml.Name   `xml:"GetRoleResult"`
		Role    iamRoleXML `xml:"Role"`
	}{Role: roleXML(r)}, nil
}

func listRoles(c *iamCall) (any, error) {
	if err := c.authorize(c.iamARN("role", "/", "")); err != nil {
		return nil, err
	}
	q := c.page()
	roles, err := c.db.ListIAMEntities(c.ctx, c.p.Account, meta.IAMRole, fetchQuery(q))
	if err != nil {
		return nil, err
	}
	keep, truncated, marker := pageOf(len(roles), q.Limit, func(i int) string { return roles[i].Name })
	out := struct {
		XMLName     xml.Name            `xml:"ListRolesResult"`
		Roles       members[iamRoleXML] `xml:"Roles"`
		IsTruncated bool                `xml:"IsTruncated"`
		Marker      string              `xml:"Marker,omitempty"`
	}{IsTruncated: truncated, Marker: marker}
	for _, r := range roles[:keep] {
		out.Roles.Member = append(out.Roles.Member, roleXML(r))
	}
	return out, nil
}

// deleteRole refuses while the role has policies; its sessions end with
// it.
func deleteRole(c *iamCall) (any, error) {
	name := c.str("RoleName")
	if err := c.authorize(c.entityARN(meta.IAMRole, name)); err != nil {
		return nil, err
	}
	return nil, c.db.DeleteIAMEntity(c.ctx, c.p.Account, meta.IAMRole, name)
}

func updateAssumeRolePolicy(c *iamCall) (any, error) {
	name := c.str("RoleName")
	if err := c.authorize(c.entityARN(meta.IAMRole, name)); err != nil {
		return nil, err
	}
	doc := c.str("PolicyDocument")
	if err := validateTrustPolicy(doc); err != nil {
		return nil, err
	}
	return nil, c.db.UpdateAssumeRolePolicy(c.ctx, c.p.Account, name, doc)
}

// listInstanceProfilesForRole answers with none: Berth has no instance
// profiles. Terraform asks before deleting a role.
func listInstanceProfilesForRole(c *iamCall) (any, error) {
	name := c.str("RoleName")
	if err := c.authorize(c.entityARN(meta.IAMRole, name)); err != nil {
		return nil, err
	}
	if _, err := c.db.GetIAMEntity(c.ctx, c.p.Account, meta.IAMRole, name); err != nil {
		return nil, err
	}
	return struct {
		XMLName          xml.Name          `xml:"ListInstanceProfilesForRoleResult"`
		InstanceProfiles members[struct{}] `xml:"InstanceProfiles"`
		IsTruncated      bool              `xml:"IsTruncated"`
	}{}, nil
}
