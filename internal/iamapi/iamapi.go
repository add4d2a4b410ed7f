// Package iamapi answers IAM's API over the AWS query protocol: the subset
// ECR users drive with `aws iam` and Terraform. Each operation is one row
// in the table below and one function; the front door (package awsapi)
// decodes, validates against the model and authorizes the row's checks
// before a function runs, a function calls the IAM domain (package iam)
// with the caller's account and shapes its answer, and the domain's errors
// become IAM's in errors.go. The 21 policy operations that differ only in
// whose policies they touch (PutUserPolicy, PutGroupPolicy, …) share one
// function per verb, made for the owner's kind.
package iamapi

import (
	"context"
	"strings"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/iam"
)

// API is IAM's operations over the IAM domain.
type API struct {
	iam *iam.Service
}

// New returns the IAM API.
func New(svc *iam.Service) *API { return &API{iam: svc} }

// Service is IAM's description for the front door.
func (a *API) Service() *awsapi.Service {
	return &awsapi.Service{
		Name:         "IAM",
		Model:        "iam",
		ActionPrefix: "iam",
		FaultCode:    "ServiceFailure",
		Errors:       domainError,
		NotServed:    notServed,
		Operations: []awsapi.Operation{
			awsapi.Op("CreateUser", newUser, a.createUser),

			awsapi.Op("CreateOpenIDConnectProvider", newProvider, a.createOpenIDConnectProvider),
			awsapi.Op("GetOpenIDConnectProvider", onProvider, a.getOpenIDConnectProvider),
			awsapi.Op("ListOpenIDConnectProviders", allProviders, a.listOpenIDConnectProviders),
			awsapi.Op("DeleteOpenIDConnectProvider", onProvider, a.deleteOpenIDConnectProvider),
			awsapi.Op("AddClientIDToOpenIDConnectProvider", onProvider, a.addClientID),
			awsapi.Op("RemoveClientIDFromOpenIDConnectProvider", onProvider, a.removeClientID),
			awsapi.Op("UpdateOpenIDConnectProviderThumbprint", onProvider, a.updateThumbprint),

			awsapi.Op("GetUser", a.onUser, a.getUser),
			awsapi.Op("ListUsers", onAll("user"), a.listUsers),
			awsapi.Op("DeleteUser", a.onUser, a.deleteUser),
			awsapi.Op("CreateAccessKey", a.onUser, a.createAccessKey),
			awsapi.Op("ListAccessKeys", a.onUser, a.listAccessKeys),
			awsapi.Op("UpdateAccessKey", a.onUser, a.updateAccessKey),
			awsapi.Op("DeleteAccessKey", a.onUser, a.deleteAccessKey),

			awsapi.Op("CreateGroup", newGroup, a.createGroup),
			awsapi.Op("GetGroup", a.onGroup, a.getGroup),
			awsapi.Op("ListGroups", onAll("group"), a.listGroups),
			awsapi.Op("DeleteGroup", a.onGroup, a.deleteGroup),
			awsapi.Op("AddUserToGroup", a.onGroup, a.addUserToGroup),
			awsapi.Op("RemoveUserFromGroup", a.onGroup, a.removeUserFromGroup),
			awsapi.Op("ListGroupsForUser", a.onUser, a.listGroupsForUser),

			awsapi.Op("CreateRole", newRole, a.createRole),
			awsapi.Op("GetRole", a.onRole, a.getRole),
			awsapi.Op("ListRoles", onAll("role"), a.listRoles),
			awsapi.Op("DeleteRole", a.onRole, a.deleteRole),
			awsapi.Op("UpdateAssumeRolePolicy", a.onRole, a.updateAssumeRolePolicy),
			awsapi.Op("ListInstanceProfilesForRole", a.onRole, a.listInstanceProfilesForRole),

			awsapi.Op("PutUserPolicy", a.onOwner(iam.User), a.putPolicy(iam.User)),
			awsapi.Op("GetUserPolicy", a.onOwner(iam.User), a.getPolicy(iam.User)),
			awsapi.Op("ListUserPolicies", a.onOwner(iam.User), a.listPolicies(iam.User)),
			awsapi.Op("DeleteUserPolicy", a.onOwner(iam.User), a.deletePolicy(iam.User)),
			awsapi.Op("AttachUserPolicy", a.onOwner(iam.User), a.attachPolicy(iam.User)),
			awsapi.Op("DetachUserPolicy", a.onOwner(iam.User), a.detachPolicy(iam.User)),
			awsapi.Op("ListAttachedUserPolicies", a.onOwner(iam.User), a.listAttachedPolicies(iam.User)),

			awsapi.Op("PutGroupPolicy", a.onOwner(iam.Group), a.putPolicy(iam.Group)),
			awsapi.Op("GetGroupPolicy", a.onOwner(iam.Group), a.getPolicy(iam.Group)),
			awsapi.Op("ListGroupPolicies", a.onOwner(iam.Group), a.listPolicies(iam.Group)),
			awsapi.Op("DeleteGroupPolicy", a.onOwner(iam.Group), a.deletePolicy(iam.Group)),
			awsapi.Op("AttachGroupPolicy", a.onOwner(iam.Group), a.attachPolicy(iam.Group)),
			awsapi.Op("DetachGroupPolicy", a.onOwner(iam.Group), a.detachPolicy(iam.Group)),
			awsapi.Op("ListAttachedGroupPolicies", a.onOwner(iam.Group), a.listAttachedPolicies(iam.Group)),

			awsapi.Op("PutRolePolicy", a.onOwner(iam.Role), a.putPolicy(iam.Role)),
			awsapi.Op("GetRolePolicy", a.onOwner(iam.Role), a.getPolicy(iam.Role)),
			awsapi.Op("ListRolePolicies", a.onOwner(iam.Role), a.listPolicies(iam.Role)),
			awsapi.Op("DeleteRolePolicy", a.onOwner(iam.Role), a.deletePolicy(iam.Role)),
			awsapi.Op("AttachRolePolicy", a.onOwner(iam.Role), a.attachPolicy(iam.Role)),
			awsapi.Op("DetachRolePolicy", a.onOwner(iam.Role), a.detachPolicy(iam.Role)),
			awsapi.Op("ListAttachedRolePolicies", a.onOwner(iam.Role), a.listAttachedPolicies(iam.Role)),

			awsapi.Op("CreatePolicy", newPolicy, a.createPolicy),
			awsapi.Op("GetPolicy", readPolicy, a.getManagedPolicy),
			awsapi.Op("DeletePolicy", onPolicy, a.deleteManagedPolicy),
			awsapi.Op("ListPolicies", onAll("policy"), a.listManagedPolicies),
			awsapi.Op("GetPolicyVersion", readPolicy, a.getPolicyVersion),
			awsapi.Op("ListPolicyVersions", readPolicy, a.listPolicyVersions),

			awsapi.Op("SimulatePrincipalPolicy", onSimulated, a.simulate),
			awsapi.Op("SimulateCustomPolicy", onCustom, a.simulate),
		},
	}
}

// notServed are IAM's operations Berth does not serve yet.
var notServed = []string{
	"AcceptDelegationRequest",
	"AddRoleToInstanceProfile",
	"AssociateDelegationRequest",
	"ChangePassword",
	"CreateAccountAlias",
	"CreateDelegationRequest",
	"CreateInstanceProfile",
	"CreateLoginProfile",
	"CreatePolicyVersion",
	"CreateSAMLProvider",
	"CreateServiceLinkedRole",
	"CreateServiceSpecificCredential",
	"CreateVirtualMFADevice",
	"DeactivateMFADevice",
	"DeleteAccountAlias",
	"DeleteAccountPasswordPolicy",
	"DeleteInstanceProfile",
	"DeleteLoginProfile",
	"DeletePolicyVersion",
	"DeleteRolePermissionsBoundary",
	"DeleteSAMLProvider",
	"DeleteSSHPublicKey",
	"DeleteServerCertificate",
	"DeleteServiceLinkedRole",
	"DeleteServiceSpecificCredential",
	"DeleteSigningCertificate",
	"DeleteUserPermissionsBoundary",
	"DeleteVirtualMFADevice",
	"DisableOrganizationsRootCredentialsManagement",
	"DisableOrganizationsRootSessions",
	"DisableOutboundWebIdentityFederation",
	"EnableMFADevice",
	"EnableOrganizationsRootCredentialsManagement",
	"EnableOrganizationsRootSessions",
	"EnableOutboundWebIdentityFederation",
	"GenerateCredentialReport",
	"GenerateOrganizationsAccessReport",
	"GenerateServiceLastAccessedDetails",
	"GetAccessKeyLastUsed",
	"GetAccountAuthorizationDetails",
	"GetAccountPasswordPolicy",
	"GetAccountSummary",
	"GetContextKeysForCustomPolicy",
	"GetContextKeysForPrincipalPolicy",
	"GetCredentialReport",
	"GetDelegationRequest",
	"GetHumanReadableSummary",
	"GetInstanceProfile",
	"GetLoginProfile",
	"GetMFADevice",
	"GetOrganizationsAccessReport",
	"GetOutboundWebIdentityFederationInfo",
	"GetSAMLProvider",
	"GetSSHPublicKey",
	"GetServerCertificate",
	"GetServiceLastAccessedDetails",
	"GetServiceLastAccessedDetailsWithEntities",
	"GetServiceLinkedRoleDeletionStatus",
	"ListAccountAliases",
	"ListDelegationRequests",
	"ListEntitiesForPolicy",
	"ListInstanceProfileTags",
	"ListInstanceProfiles",
	"ListMFADeviceTags",
	"ListMFADevices",
	"ListOpenIDConnectProviderTags",
	"ListOrganizationsFeatures",
	"ListPoliciesGrantingServiceAccess",
	"ListPolicyTags",
	"ListRoleTags",
	"ListSAMLProviderTags",
	"ListSAMLProviders",
	"ListSSHPublicKeys",
	"ListServerCertificateTags",
	"ListServerCertificates",
	"ListServiceSpecificCredentials",
	"ListSigningCertificates",
	"ListUserTags",
	"ListVirtualMFADevices",
	"PutRolePermissionsBoundary",
	"PutUserPermissionsBoundary",
	"RejectDelegationRequest",
	"RemoveRoleFromInstanceProfile",
	"ResetServiceSpecificCredential",
	"ResyncMFADevice",
	"SendDelegationToken",
	"SetDefaultPolicyVersion",
	"SetSecurityTokenServicePreferences",
	"TagInstanceProfile",
	"TagMFADevice",
	"TagOpenIDConnectProvider",
	"TagPolicy",
	"TagRole",
	"TagSAMLProvider",
	"TagServerCertificate",
	"TagUser",
	"UntagInstanceProfile",
	"UntagMFADevice",
	"UntagOpenIDConnectProvider",
	"UntagPolicy",
	"UntagRole",
	"UntagSAMLProvider",
	"UntagServerCertificate",
	"UntagUser",
	"UpdateAccountPasswordPolicy",
	"UpdateDelegationRequest",
	"UpdateGroup",
	"UpdateLoginProfile",
	"UpdateRole",
	"UpdateRoleDescription",
	"UpdateSAMLProvider",
	"UpdateSSHPublicKey",
	"UpdateServerCertificate",
	"UpdateServiceSpecificCredential",
	"UpdateSigningCertificate",
	"UpdateUser",
	"UploadSSHPublicKey",
	"UploadServerCertificate",
	"UploadSigningCertificate",
}

// none is the answer of an operation that has no result.
type none = struct{}

// on is the check of an operation on an IAM resource of account, named in
// a denial as IAM names it.
func on(account, arn string) []awsapi.Check {
	return []awsapi.Check{{Resource: arn, Account: account, Name: resourceName(arn)}}
}

// onEntity checks the operation on an existing user, group or role, by its
// ARN with its path; on one that does not exist, on the ARN it would have
// at path "/", so that a caller refused learns nothing of what exists.
func (a *API) onEntity(ctx context.Context, c *awsapi.Call, kind iam.Kind, name string) []awsapi.Check {
	account := c.Principal.Account
	if e, err := a.iam.Entity(ctx, account, kind, name); err == nil {
		return on(account, iam.EntityARN(e))
	}
	return on(account, iam.ARN(account, string(kind), "/", name))
}

// onAll checks a List operation on every resource of a kind ("user",
// "policy") in the caller's account.
func onAll(kind string) func(context.Context, *awsapi.Call, *listIn) ([]awsapi.Check, error) {
	return func(_ context.Context, c *awsapi.Call, _ *listIn) ([]awsapi.Check, error) {
		return on(c.Principal.Account, iam.ARN(c.Principal.Account, kind, "/", "")), nil
	}
}

// resourceName is how IAM's denials name users, groups and roles: "user
// bob" rather than the ARN. Other resources keep their ARN ("").
func resourceName(arn string) string {
	_, rest, ok := strings.Cut(arn, ":iam::")
	if !ok {
		return ""
	}
	_, res, ok := strings.Cut(rest, ":")
	if !ok {
		return ""
	}
	kind, pathName, ok := strings.Cut(res, "/")
	if !ok || (kind != "user" && kind != "group" && kind != "role") {
		return ""
	}
	name := pathName[strings.LastIndexByte(pathName, '/')+1:]
	return kind + " " + name
}

// listIn is what the List operations take: a path prefix and a page, and
// ListPolicies' filters.
type listIn struct {
	PathPrefix        string `json:"PathPrefix"`
	Marker            string `json:"Marker"`
	MaxItems          int    `json:"MaxItems"`
	Scope             string `json:"Scope"`
	OnlyAttached      bool   `json:"OnlyAttached"`
	PolicyUsageFilter string `json:"PolicyUsageFilter"`
}

func (in *listIn) query() iam.ListQuery {
	return iam.ListQuery{PathPrefix: in.PathPrefix, Marker: in.Marker, MaxItems: in.MaxItems}
}

// truncation ends a page of a list: whether there is more, and the
// Marker that continues it.
type truncation struct {
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}

func truncationOf[T any](p iam.Page[T]) truncation {
	return truncation{IsTruncated: p.IsTruncated, Marker: p.Marker}
}

// members is a list as the query protocol sends it, each item described
// by describe.
func members[T, X any](items []T, describe func(T) X) awsapi.XMLList[X] {
	var out awsapi.XMLList[X]
	for _, it := range items {
		out.Member = append(out.Member, describe(it))
	}
	return out
}

// policyURLEncode encodes a policy document as IAM returns them: URL
// encoding per RFC 3986, which leaves only letters, digits and -._~ as
// they are. Clients (the AWS CLI, Terraform) decode it.
func policyURLEncode(doc string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
