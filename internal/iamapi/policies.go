package iamapi

import (
	"context"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/iam"
)

// The policies of users, groups and roles: seven operations for each
// kind of owner, alike but for the member naming the owner. Each verb is
// one function, made for a kind.

// ownedIn is what the policy operations of an owner take; the model has
// the one name member of the operation's kind.
type ownedIn struct {
	UserName       string `json:"UserName"`
	GroupName      string `json:"GroupName"`
	RoleName       string `json:"RoleName"`
	PolicyName     string `json:"PolicyName"`
	PolicyDocument string `json:"PolicyDocument"`
	PolicyArn      string `json:"PolicyArn"`
	PathPrefix     string `json:"PathPrefix"`
}

// owner is the name of the owner of kind.
func (in *ownedIn) owner(kind iam.Kind) string {
	switch kind {
	case iam.User:
		return in.UserName
	case iam.Group:
		return in.GroupName
	}
	return in.RoleName
}

// onOwner checks the operation on the owner: a policy of a user is the
// user's.
func (a *API) onOwner(kind iam.Kind) func(context.Context, *awsapi.Call, *ownedIn) ([]awsapi.Check, error) {
	return func(ctx context.Context, c *awsapi.Call, in *ownedIn) ([]awsapi.Check, error) {
		return a.onEntity(ctx, c, kind, in.owner(kind)), nil
	}
}

func (a *API) putPolicy(kind iam.Kind) func(context.Context, *awsapi.Call, *ownedIn) (none, error) {
	return func(ctx context.Context, c *awsapi.Call, in *ownedIn) (none, error) {
		return none{}, a.iam.PutInlinePolicy(ctx, c.Principal.Account, kind, in.owner(kind), in.PolicyName, in.PolicyDocument)
	}
}

// inlinePolicyOut names the owner by the member of its kind.
type inlinePolicyOut struct {
	UserName       string `xml:"UserName,omitempty"`
	GroupName      string `xml:"GroupName,omitempty"`
	RoleName       string `xml:"RoleName,omitempty"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

// getPolicy answers with the document URL-encoded, as IAM does.
func (a *API) getPolicy(kind iam.Kind) func(context.Context, *awsapi.Call, *ownedIn) (*inlinePolicyOut, error) {
	return func(ctx context.Context, c *awsapi.Call, in *ownedIn) (*inlinePolicyOut, error) {
		p, err := a.iam.InlinePolicy(ctx, c.Principal.Account, kind, in.owner(kind), in.PolicyName)
		if err != nil {
			return nil, err
		}
		out := &inlinePolicyOut{PolicyName: p.Name, PolicyDocument: policyURLEncode(p.Document)}
		switch kind {
		case iam.User:
			out.UserName = in.UserName
		case iam.Group:
			out.GroupName = in.GroupName
		case iam.Role:
			out.RoleName = in.RoleName
		}
		return out, nil
	}
}

type policyNamesOut struct {
	PolicyNames awsapi.XMLList[string] `xml:"PolicyNames"`
	IsTruncated bool                   `xml:"IsTruncated"`
}

func (a *API) listPolicies(kind iam.Kind) func(context.Context, *awsapi.Call, *ownedIn) (*policyNamesOut, error) {
	return func(ctx context.Context, c *awsapi.Call, in *ownedIn) (*policyNamesOut, error) {
		names, err := a.iam.InlinePolicies(ctx, c.Principal.Account, kind, in.owner(kind))
		if err != nil {
			return nil, err
		}
		return &policyNamesOut{PolicyNames: awsapi.XMLList[string]{Member: names}}, nil
	}
}

func (a *API) deletePolicy(kind iam.Kind) func(context.Context, *awsapi.Call, *ownedIn) (none, error) {
	return func(ctx context.Context, c *awsapi.Call, in *ownedIn) (none, error) {
		return none{}, a.iam.DeleteInlinePolicy(ctx, c.Principal.Account, kind, in.owner(kind), in.PolicyName)
	}
}

func (a *API) attachPolicy(kind iam.Kind) func(context.Context, *awsapi.Call, *ownedIn) (none, error) {
	return func(ctx context.Context, c *awsapi.Call, in *ownedIn) (none, error) {
		return none{}, a.iam.AttachPolicy(ctx, c.Principal.Account, kind, in.owner(kind), in.PolicyArn)
	}
}

func (a *API) detachPolicy(kind iam.Kind) func(context.Context, *awsapi.Call, *ownedIn) (none, error) {
	return func(ctx context.Context, c *awsapi.Call, in *ownedIn) (none, error) {
		return none{}, a.iam.DetachPolicy(ctx, c.Principal.Account, kind, in.owner(kind), in.PolicyArn)
	}
}

type attachedPolicyXML struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type attachedPoliciesOut struct {
	AttachedPolicies awsapi.XMLList[attachedPolicyXML] `xml:"AttachedPolicies"`
	IsTruncated      bool                              `xml:"IsTruncated"`
}

func (a *API) listAttachedPolicies(kind iam.Kind) func(context.Context, *awsapi.Call, *ownedIn) (*attachedPoliciesOut, error) {
	return func(ctx context.Context, c *awsapi.Call, in *ownedIn) (*attachedPoliciesOut, error) {
		attached, err := a.iam.AttachedPolicies(ctx, c.Principal.Account, kind, in.owner(kind), in.PathPrefix)
		if err != nil {
			return nil, err
		}
		return &attachedPoliciesOut{AttachedPolicies: members(attached, func(p iam.AttachedPolicy) attachedPolicyXML {
			return attachedPolicyXML{PolicyName: p.Name, PolicyArn: p.ARN}
		})}, nil
	}
}
