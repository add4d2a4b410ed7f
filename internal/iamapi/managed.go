package iamapi

import (
	"context"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/iam"
)

// Managed policies: an account's own and the AWS managed ones Berth knows.

// managedIn is what the managed-policy operations take.
type managedIn struct {
	PolicyName     string `json:"PolicyName"`
	Path           string `json:"Path"`
	PolicyDocument string `json:"PolicyDocument"`
	Description    string `json:"Description"`
	PolicyArn      string `json:"PolicyArn"`
	VersionID      string `json:"VersionId"`
}

// newPolicy checks CreatePolicy on the ARN the policy will have.
func newPolicy(_ context.Context, c *awsapi.Call, in *managedIn) ([]awsapi.Check, error) {
	return on(c.Principal.Account, iam.ARN(c.Principal.Account, "policy", in.Path, in.PolicyName)), nil
}

// readPolicy checks a read of PolicyArn: as the caller's own when it is an
// AWS managed policy, which every account may read.
func readPolicy(_ context.Context, c *awsapi.Call, in *managedIn) ([]awsapi.Check, error) {
	ref, err := iam.ParsePolicyARN(in.PolicyArn)
	if err != nil {
		return nil, err
	}
	return on(ref.ReaderAccount(c.Principal.Account), ref.ARN), nil
}

// onPolicy checks a change of PolicyArn in the account that owns it: AWS
// managed policies belong to "aws", which the authorizer keeps callers
// out of.
func onPolicy(_ context.Context, _ *awsapi.Call, in *managedIn) ([]awsapi.Check, error) {
	ref, err := iam.ParsePolicyARN(in.PolicyArn)
	if err != nil {
		return nil, err
	}
	return on(ref.Account, ref.ARN), nil
}

type policyXML struct {
	PolicyName                    string          `xml:"PolicyName"`
	PolicyID                      string          `xml:"PolicyId"`
	Arn                           string          `xml:"Arn"`
	Path                          string          `xml:"Path"`
	DefaultVersionID              string          `xml:"DefaultVersionId"`
	AttachmentCount               int             `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int             `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool            `xml:"IsAttachable"`
	Description                   string          `xml:"Description,omitempty"`
	CreateDate                    *awsapi.XMLTime `xml:"CreateDate,omitempty"`
	UpdateDate                    *awsapi.XMLTime `xml:"UpdateDate,omitempty"`
}

// policyOf describes a managed policy without its description, which
// only GetPolicy returns (as in IAM).
func policyOf(p iam.ManagedPolicy) policyXML {
	return policyXML{
		PolicyName: p.Name, PolicyID: p.ID, Arn: p.ARN, Path: p.Path, DefaultVersionID: iam.DefaultVersion,
		AttachmentCount: p.AttachmentCount, IsAttachable: true,
		CreateDate: awsapi.NewXMLTime(p.CreatedAt), UpdateDate: awsapi.NewXMLTime(p.UpdatedAt),
	}
}

type policyOut struct {
	Policy policyXML `xml:"Policy"`
}

func (a *API) createPolicy(ctx context.Context, c *awsapi.Call, in *managedIn) (*policyOut, error) {
	p, err := a.iam.CreatePolicy(ctx, c.Principal.Account, iam.NewPolicy{
		Name: in.PolicyName, Path: in.Path, Document: in.PolicyDocument, Description: in.Description})
	if err != nil {
		return nil, err
	}
	return &policyOut{policyOf(*p)}, nil
}

func (a *API) getManagedPolicy(ctx context.Context, c *awsapi.Call, in *managedIn) (*policyOut, error) {
	p, err := a.iam.Policy(ctx, c.Principal.Account, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	out := policyOf(*p)
	out.Description = p.Description
	return &policyOut{out}, nil
}

func (a *API) deleteManagedPolicy(ctx context.Context, _ *awsapi.Call, in *managedIn) (none, error) {
	return none{}, a.iam.DeletePolicy(ctx, in.PolicyArn)
}

type policiesOut struct {
	Policies awsapi.XMLList[policyXML] `xml:"Policies"`
	truncation
}

// listManagedPolicies lists the AWS managed policies Berth knows and the
// account's own, by Scope (All, AWS, Local), in name order.
func (a *API) listManagedPolicies(ctx context.Context, c *awsapi.Call, in *listIn) (*policiesOut, error) {
	f := iam.PolicyFilter{Scope: in.Scope, OnlyAttached: in.OnlyAttached, Usage: in.PolicyUsageFilter}
	page, err := a.iam.Policies(ctx, c.Principal.Account, f, in.query())
	if err != nil {
		return nil, err
	}
	return &policiesOut{Policies: members(page.Items, policyOf), truncation: truncationOf(page)}, nil
}

type policyVersionXML struct {
	// Document is URL-encoded, as IAM sends it.
	Document         string          `xml:"Document,omitempty"`
	VersionID        string          `xml:"VersionId"`
	IsDefaultVersion bool            `xml:"IsDefaultVersion"`
	CreateDate       *awsapi.XMLTime `xml:"CreateDate,omitempty"`
}

// versionOf is a policy's one version, v1; its date is the policy's.
func versionOf(p *iam.ManagedPolicy) policyVersionXML {
	return policyVersionXML{VersionID: iam.DefaultVersion, IsDefaultVersion: true, CreateDate: awsapi.NewXMLTime(p.CreatedAt)}
}

type policyVersionOut struct {
	PolicyVersion policyVersionXML `xml:"PolicyVersion"`
}

func (a *API) getPolicyVersion(ctx context.Context, c *awsapi.Call, in *managedIn) (*policyVersionOut, error) {
	p, err := a.iam.PolicyVersion(ctx, c.Principal.Account, in.PolicyArn, in.VersionID)
	if err != nil {
		return nil, err
	}
	v := versionOf(p)
	v.Document = policyURLEncode(p.Document)
	return &policyVersionOut{v}, nil
}

type policyVersionsOut struct {
	Versions    awsapi.XMLList[policyVersionXML] `xml:"Versions"`
	IsTruncated bool                             `xml:"IsTruncated"`
}

func (a *API) listPolicyVersions(ctx context.Context, c *awsapi.Call, in *managedIn) (*policyVersionsOut, error) {
	p, err := a.iam.Policy(ctx, c.Principal.Account, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	return &policyVersionsOut{Versions: awsapi.XMLList[policyVersionXML]{Member: []policyVersionXML{versionOf(p)}}}, nil
}
