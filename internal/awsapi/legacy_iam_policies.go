package awsapi

import (
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/meta"
)

// The owners of policies: users, groups and roles, each with its own
// Put/Get/List/Delete<Kind>Policy (inline) and
// Attach/Detach/ListAttached<Kind>Policies (managed) actions.
var policyOwners = []struct {
	kind  meta.IAMKind
	noun  string // "User", as in PutUserPolicy
	param string // "UserName"
}{
	{meta.IAMUser, "User", "UserName"},
	{meta.IAMGroup, "Group", "GroupName"},
	{meta.IAMRole, "Role", "RoleName"},
}

func init() {
	for _, o := range policyOwners {
		registerIAM("Put"+o.noun+"Policy", putInlinePolicy(o.kind, o.param))
		registerIAM("Get"+o.noun+"Policy", getInlinePolicy(o.kind, o.noun, o.param))
		registerIAM("List"+o.noun+"Policies", listInlinePolicies(o.kind, o.noun, o.param))
		registerIAM("Delete"+o.noun+"Policy", deleteInlinePolicy(o.kind, o.param))
		registerIAM("Attach"+o.noun+"Policy", attachPolicy(o.kind, o.param))
		registerIAM("Detach"+o.noun+"Policy", detachPolicy(o.kind, o.param))
		registerIAM("ListAttached"+o.noun+"Policies", listAttachedPolicies(o.kind, o.noun, o.param))
	}
	registerIAM("CreatePolicy", createPolicy)
	registerIAM("GetPolicy", getPolicy)
	registerIAM("DeletePolicy", deletePolicy)
	registerIAM("ListPolicies", listPolicies)
	registerIAM("GetPolicyVersion", getPolicyVersion)
	registerIAM("ListPolicyVersions", listPolicyVersions)
}

// --- inline policies

func putInlinePolicy(kind meta.IAMKind, param string) iamOp {
	return func(c *iamCall) (any, error) {
		owner := c.str(param)
		if err := c.authorize(c.entityARN(kind, owner)); err != nil {
			return nil, err
		}
		doc := c.str("PolicyDocument")
		if err := validateIdentityPolicy(doc); err != nil {
			return nil, err
		}
		return nil, c.db.PutInlinePolicy(c.ctx, c.p.Account, kind, owner, meta.IAMInlinePolicy{Name: c.str("PolicyName"), Document: doc})
	}
}

// getInlinePolicy answers with the document URL-encoded, as IAM does.
func getInlinePolicy(kind meta.IAMKind, noun, param string) iamOp {
	return func(c *iamCall) (any, error) {
		owner := c.str(param)
		if err := c.authorize(c.entityARN(kind, owner)); err != nil {
			return nil, err
		}
		p, err := c.db.GetInlinePolicy(c.ctx, c.p.Account, kind, owner, c.str("PolicyName"))
		if err != nil {
			return nil, err
		}
		type ownerXML struct {
			XMLName xml.Name
			Name    string `xml:",chardata"`
		}
		return struct {
			XMLName        xml.Name
			Owner          ownerXML
			PolicyName     string `xml:"PolicyName"`
			PolicyDocument string `xml:"PolicyDocument"`
		}{
			XMLName:    xml.Name{Local: "Get" + noun + "PolicyResult"},
			Owner:      ownerXML{XMLName: xml.Name{Local: param}, Name: owner},
			PolicyName: p.Name, PolicyDocument: policyURLEncode(p.Document),
		}, nil
	}
}

func listInlinePolicies(kind meta.IAMKind, noun, param string) iamOp {
	return func(c *iamCall) (any, error) {
		owner := c.str(param)
		if err := c.authorize(c.entityARN(kind, owner)); err != nil {
			return nil, err
		}
		names, err := c.db.ListInlinePolicies(c.ctx, c.p.Account, kind, owner)
		if err != nil {
			return nil, err
		}
		return struct {
			XMLName     xml.Name
			PolicyNames members[string] `xml:"PolicyNames"`
			IsTruncated bool            `xml:"IsTruncated"`
		}{XMLName: xml.Name{Local: "List" + noun + "PoliciesResult"}, PolicyNames: members[string]{names}}, nil
	}
}

func deleteInlinePolicy(kind meta.IAMKind, param string) iamOp {
	return func(c *iamCall) (any, error) {
		owner := c.str(param)
		if err := c.authorize(c.entityARN(kind, owner)); err != nil {
			return nil, err
		}
		return nil, c.db.DeleteInlinePolicy(c.ctx, c.p.Account, kind, owner, c.str("PolicyName"))
	}
}

// --- managed policies

// policyARNRE is a managed policy's ARN: the account (or "aws"), the path
// and the name.
var policyARNRE = regexp.MustCompile(`^arn:aws:iam::(aws|[0-9]{12}):policy((?:/[A-Za-z0-9.,+@=_-]+)*/)([\w+=,.@-]+)$`)

type policyRef struct {
	ARN, Account, Path, Name string
}

// parsePolicyARN reads PolicyArn, refusing what is not a policy ARN as IAM
// does.
func (c *iamCall) parsePolicyARN() (policyRef, error) {
	arn := c.str("PolicyArn")
	m := policyARNRE.FindStringSubmatch(arn)
	if m == nil {
		return policyRef{}, invalidInput(fmt.Sprintf("ARN %s is not valid.", arn))
	}
	return policyRef{ARN: arn, Account: m[1], Path: m[2], Name: m[3]}, nil
}

// policyResourceAccount is the account a policy action is authorized
// against: AWS managed policies are readable by every account.
func (c *iamCall) policyResourceAccount(ref policyRef) string {
	if ref.Account == "aws" {
		return c.p.Account
	}
	return ref.Account
}

type iamPolicyXML struct {
	PolicyName                    string   `xml:"PolicyName"`
	PolicyID                      string   `xml:"PolicyId"`
	Arn                           string   `xml:"Arn"`
	Path                          string   `xml:"Path"`
	DefaultVersionID              string   `xml:"DefaultVersionId"`
	AttachmentCount               int      `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int      `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool     `xml:"IsAttachable"`
	Description                   string   `xml:"Description,omitempty"`
	CreateDate                    *xmlTime `xml:"CreateDate,omitempty"`
	UpdateDate                    *xmlTime `xml:"UpdateDate,omitempty"`
}

// onlyVersion is the version every managed policy has: Berth keeps one.
const onlyVersion = "v1"

func customerPolicyXML(p *meta.IAMPolicy, attachments int) iamPolicyXML {
	return iamPolicyXML{
		PolicyName: p.Name, PolicyID: p.ID, Arn: p.ARN, Path: p.Path, DefaultVersionID: onlyVersion,
		AttachmentCount: attachments, IsAttachable: true,
		CreateDate: newXMLTime(p.CreatedAt), UpdateDate: newXMLTime(p.UpdatedAt),
	}
}

func awsPolicyXML(m awsManagedPolicy, attachments int) iamPolicyXML {
	return iamPolicyXML{
		PolicyName: m.Name, PolicyID: m.ID, Arn: m.ARN, Path: "/", DefaultVersionID: onlyVersion,
		AttachmentCount: attachments, IsAttachable: true,
	}
}

func createPolicy(c *iamCall) (any, error) {
	name, path := c.str("PolicyName"), c.path()
	arn := c.iamARN("policy", path, name)
	if err := c.authorize(arn); err != nil {
		return nil, err
	}
	doc := c.str("PolicyDocument")
	if err := validateIdentityPolicy(doc); err != nil {
		return nil, err
	}
	now := c.s.opts.Now().UTC().Truncate(timeResolution)
	p := &meta.IAMPolicy{
		Account: c.p.Account, Name: name, Path: path, ID: authn.NewID("ANPA", 17), ARN: arn,
		Description: c.str("Description"), Document: doc, CreatedAt: now, UpdatedAt: now,
	}
	if err := c.db.CreateManagedPolicy(c.ctx, p); err != nil {
		return nil, err
	}
	return struct {
		XMLName xml.Name     `xml:"CreatePolicyResult"`
		Policy  iamPolicyXML `xml:"Policy"`
	}{Policy: customerPolicyXML(p, 0)}, nil
}

// managedPolicy finds the policy PolicyArn names, built in or stored, with
// the number of the account's identities it is attached to.
func (c *iamCall) managedPolicy(ref policyRef) (xmlPolicy iamPolicyXML, document string, created *xmlTime, err error) {
	counts, err := c.db.PolicyAttachmentCounts(c.ctx, c.p.Account)
	if err != nil {
		return iamPolicyXML{}, "", nil, err
	}
	if ref.Account == "aws" {
		m, ok := lookupAWSManaged(ref.ARN)
		if !ok {
			return iamPolicyXML{}, "", nil, noSuchEntity(fmt.Sprintf("Policy %s was not found.", ref.ARN))
		}
		return awsPolicyXML(m, counts[m.ARN]), m.Document, nil, nil
	}
	p, err := c.db.GetManagedPolicy(c.ctx, ref.ARN)
	if err != nil {
		return iamPolicyXML{}, "", nil, err
	}
	x := customerPolicyXML(p, counts[p.ARN])
	x.Description = p.Description
	return x, p.Document, x.CreateDate, nil
}

func getPolicy(c *iamCall) (any, error) {
	ref, err := c.parsePolicyARN()
	if err != nil {
		return nil, err
	}
	if err := c.authorizeAction("iam:GetPolicy", ref.ARN, c.policyResourceAccount(ref)); err != nil {
		return nil, err
	}
	x, _, _, err := c.managedPolicy(ref)
	if err != nil {
		return nil, err
	}
	return struct {
		XMLName xml.Name     `xml:"GetPolicyResult"`
		Policy  iamPolicyXML `xml:"Policy"`
	}{Policy: x}, nil
}

// deletePolicy deletes a customer managed policy; AWS managed ones belong
// to the "aws" account, which the authorizer keeps callers out of.
func deletePolicy(c *iamCall) (any, error) {
	ref, err := c.parsePolicyARN()
	if err != nil {
		return nil, err
	}
	if err := c.authorizeAction("iam:DeletePolicy", ref.ARN, ref.Account); err != nil {
		return nil, err
	}
	return nil, c.db.DeleteManagedPolicy(c.ctx, ref.ARN)
}

type policyVersionXML struct {
	Document         string   `xml:"Document,omitempty"`
	VersionID        string   `xml:"VersionId"`
	IsDefaultVersion bool     `xml:"IsDefaultVersion"`
	CreateDate       *xmlTime `xml:"CreateDate,omitempty"`
}

// getPolicyVersion answers for v1, the only version; the document is
// URL-encoded, as IAM sends it.
func getPolicyVersion(c *iamCall) (any, error) {
	ref, err := c.parsePolicyARN()
	if err != nil {
		return nil, err
	}
	if err := c.authorizeAction("iam:GetPolicyVersion", ref.ARN, c.policyResourceAccount(ref)); err != nil {
		return nil, err
	}
	_, doc, created, err := c.managedPolicy(ref)
	if err != nil {
		return nil, err
	}
	if v := c.str("VersionId"); v != onlyVersion {
		// IAM's wording for a missing version is not on record; this is
		// Berth's.
		return nil, noSuchEntity(fmt.Sprintf("Policy %s version %s does not exist.", ref.ARN, v))
	}
	return struct {
		XMLName       xml.Name         `xml:"GetPolicyVersionResult"`
		PolicyVersion policyVersionXML `xml:"PolicyVersion"`
	}{PolicyVersion: policyVersionXML{Document: policyURLEncode(doc), VersionID: onlyVersion, IsDefaultVersion: true, CreateDate: created}}, nil
}

func listPolicyVersions(c *iamCall) (any, error) {
	ref, err := c.parsePolicyARN()
	if err != nil {
		return nil, err
	}
	if err := c.authorizeAction("iam:ListPolicyVersions", ref.ARN, c.policyResourceAccount(ref)); err != nil {
		return nil, err
	}
	_, _, created, err := c.managedPolicy(ref)
	if err != nil {
		return nil, err
	}
	return struct {
		XMLName     xml.Name                  `xml:"ListPolicyVersionsResult"`
		Versions    members[policyVersionXML] `xml:"Versions"`
		IsTruncated bool                      `xml:"IsTruncated"`
	}{Versions: members[policyVersionXML]{[]policyVersionXML{{VersionID: onlyVersion, IsDefaultVersion: true, CreateDate: created}}}}, nil
}

// listPolicies lists the AWS managed policies Berth knows and the
// account's own, by Scope (All, AWS, Local), in name order.
func listPolicies(c *iamCall) (any, error) {
	if err := c.authorize(c.iamARN("policy", "/", "")); err != nil {
		return nil, err
	}
	q := c.page()
	scope := cmp.Or(c.str("Scope"), "All")
	onlyAttached := c.str("OnlyAttached") == "true"
	counts, err := c.db.PolicyAttachmentCounts(c.ctx, c.p.Account)
	if err != nil {
		return nil, err
	}
	var all []iamPolicyXML
	if scope != "Local" {
		for _, m := range awsManagedPolicies() {
			if strings.HasPrefix("/", q.PathPrefix) {
				all = append(all, awsPolicyXML(m, counts[m.ARN]))
			}
		}
	}
	if scope != "AWS" {
		local, err := c.db.ListManagedPolicies(c.ctx, c.p.Account, meta.IAMListQuery{PathPrefix: q.PathPrefix})
		if err != nil {
			return nil, err
		}
		for _, p := range local {
			all = append(all, customerPolicyXML(p, counts[p.ARN]))
		}
	}
	// Berth has no permissions boundaries, so none is used as one.
	boundaries := c.str("PolicyUsageFilter") == "PermissionsBoundary"
	all = slices.DeleteFunc(all, func(p iamPolicyXML) bool {
		return boundaries || onlyAttached && p.AttachmentCount == 0 ||
			q.After != "" && strings.ToLower(p.PolicyName) <= strings.ToLower(q.After)
	})
	slices.SortStableFunc(all, func(a, b iamPolicyXML) int {
		return strings.Compare(strings.ToLower(a.PolicyName), strings.ToLower(b.PolicyName))
	})
	keep, truncated, marker := pageOf(len(all), q.Limit, func(i int) string { return all[i].PolicyName })
	return struct {
		XMLName     xml.Name              `xml:"ListPoliciesResult"`
		Policies    members[iamPolicyXML] `xml:"Policies"`
		IsTruncated bool                  `xml:"IsTruncated"`
		Marker      string                `xml:"Marker,omitempty"`
	}{Policies: members[iamPolicyXML]{all[:keep]}, IsTruncated: truncated, Marker: marker}, nil
}

// --- attachments

func attachPolicy(kind meta.IAMKind, param string) iamOp {
	return func(c *iamCall) (any, error) {
		owner := c.str(param)
		if err := c.authorize(c.entityARN(kind, owner)); err != nil {
			return nil, err
		}
		ref, err := c.parsePolicyARN()
		if err != nil {
			return nil, err
		}
		notAttachable := noSuchEntity(fmt.Sprintf("Policy %s does not exist or is not attachable.", ref.ARN))
		if ref.Account == "aws" {
			if _, ok := lookupAWSManaged(ref.ARN); !ok {
				return nil, notAttachable
			}
		}
		err = c.db.AttachPolicy(c.ctx, c.p.Account, kind, owner, ref.ARN)
		var ie *meta.IAMError
		if errors.As(err, &ie) && ie.What == meta.IAMWhatPolicy {
			return nil, notAttachable
		}
		return nil, err
	}
}

func detachPolicy(kind meta.IAMKind, param string) iamOp {
	return func(c *iamCall) (any, error) {
		owner := c.str(param)
		if err := c.authorize(c.entityARN(kind, owner)); err != nil {
			return nil, err
		}
		ref, err := c.parsePolicyARN()
		if err != nil {
			return nil, err
		}
		return nil, c.db.DetachPolicy(c.ctx, c.p.Account, kind, owner, ref.ARN)
	}
}

func listAttachedPolicies(kind meta.IAMKind, noun, param string) iamOp {
	return func(c *iamCall) (any, error) {
		owner := c.str(param)
		if err := c.authorize(c.entityARN(kind, owner)); err != nil {
			return nil, err
		}
		arns, err := c.db.ListAttachedPolicies(c.ctx, c.p.Account, kind, owner)
		if err != nil {
			return nil, err
		}
		type attached struct {
			PolicyName string `xml:"PolicyName"`
			PolicyArn  string `xml:"PolicyArn"`
		}
		out := struct {
			XMLName          xml.Name
			AttachedPolicies members[attached] `xml:"AttachedPolicies"`
			IsTruncated      bool              `xml:"IsTruncated"`
		}{XMLName: xml.Name{Local: "ListAttached" + noun + "PoliciesResult"}}
		prefix := c.str("PathPrefix")
		for _, arn := range arns {
			m := policyARNRE.FindStringSubmatch(arn)
			if m == nil || !strings.HasPrefix(m[2], prefix) {
				continue
			}
			out.AttachedPolicies.Member = append(out.AttachedPolicies.Member, attached{PolicyName: m[3], PolicyArn: arn})
		}
		return out, nil
	}
}
