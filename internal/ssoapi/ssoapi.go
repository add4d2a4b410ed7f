// Package ssoapi answers IAM Identity Center's four APIs over the IAM
// Identity Center domain (package sso):
//
//   - SSO Admin (sso-admin, JSON 1.1): the instance, permission sets and
//     account assignments, authorized as sso:<Operation>;
//   - Identity Store (identitystore, JSON 1.1): users, authorized as
//     identitystore:<Operation>;
//   - SSO OIDC (sso-oidc, REST-JSON, unsigned): the device authorization
//     flow that signs the AWS CLI in;
//   - the access portal (sso, REST-JSON, unsigned, the access token in the
//     x-amz-sso_bearer_token header): accounts, roles, role credentials.
//
// As for every service, the front door (awsapi) routes, validates against
// the model and decodes; a function here calls the domain and shapes the
// answer, and each service's error table words the domain's refusals.
package ssoapi

import (
	"net/http"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/sso"
)

// API is Identity Center's operations over its domain.
type API struct {
	sso *sso.Service
}

// New returns the Identity Center APIs.
func New(svc *sso.Service) *API { return &API{sso: svc} }

// Services are the four services, for the front door.
func (a *API) Services() []*awsapi.Service {
	return []*awsapi.Service{a.Admin(), a.IdentityStore(), a.OIDC(), a.Portal()}
}

// Admin is SSO Admin's description.
func (a *API) Admin() *awsapi.Service {
	return &awsapi.Service{
		Name:         "SSO Admin",
		Model:        "sso-admin",
		ActionPrefix: "sso",
		FaultCode:    "InternalServerException",
		Errors:       awsapi.DomainErrors[*sso.Error](adminErrors),
		NotServed:    adminNotServed,
		Operations: []awsapi.Operation{
			awsapi.Op("ListInstances", on[listInstancesIn](a), a.listInstances),
			awsapi.Op("CreatePermissionSet", on[createPermissionSetIn](a), a.createPermissionSet),
			awsapi.Op("DescribePermissionSet", on[permissionSetIn](a), a.describePermissionSet),
			awsapi.Op("ListPermissionSets", on[listPermissionSetsIn](a), a.listPermissionSets),
			awsapi.Op("DeletePermissionSet", on[permissionSetIn](a), a.deletePermissionSet),
			awsapi.Op("AttachManagedPolicyToPermissionSet", on[managedPolicyIn](a), a.attachManagedPolicy),
			awsapi.Op("DetachManagedPolicyFromPermissionSet", on[managedPolicyIn](a), a.detachManagedPolicy),
			awsapi.Op("ListManagedPoliciesInPermissionSet", on[permissionSetIn](a), a.listManagedPolicies),
			awsapi.Op("PutInlinePolicyToPermissionSet", on[inlinePolicyIn](a), a.putInlinePolicy),
			awsapi.Op("GetInlinePolicyForPermissionSet", on[permissionSetIn](a), a.getInlinePolicy),
			awsapi.Op("DeleteInlinePolicyFromPermissionSet", on[permissionSetIn](a), a.deleteInlinePolicy),
			awsapi.Op("CreateAccountAssignment", on[assignmentIn](a), a.createAccountAssignment),
			awsapi.Op("ListAccountAssignments", on[listAssignmentsIn](a), a.listAccountAssignments),
			awsapi.Op("DeleteAccountAssignment", on[assignmentIn](a), a.deleteAccountAssignment),
		},
	}
}

// IdentityStore is Identity Store's description.
func (a *API) IdentityStore() *awsapi.Service {
	return &awsapi.Service{
		Name:         "Identity Store",
		Model:        "identitystore",
		ActionPrefix: "identitystore",
		FaultCode:    "InternalServerException",
		Errors:       awsapi.DomainErrors[*sso.Error](adminErrors),
		NotServed:    identityStoreNotServed,
		Operations: []awsapi.Operation{
			awsapi.Op("CreateUser", on[createUserIn](a), a.createUser),
			awsapi.Op("DescribeUser", on[userIn](a), a.describeUser),
			awsapi.Op("ListUsers", on[listUsersIn](a), a.listUsers),
			awsapi.Op("DeleteUser", on[userIn](a), a.deleteUser),
		},
	}
}

// OIDC is SSO OIDC's description. Its operations are unsigned, as in
// AWS: the client's secret and the device code are their proof.
func (a *API) OIDC() *awsapi.Service {
	return &awsapi.Service{
		Name:         "SSO OIDC",
		Model:        "sso-oidc",
		ActionPrefix: "sso-oauth",
		FaultCode:    "InternalServerException",
		Errors:       oidcError,
		NotServed:    oidcNotServed,
		Operations: []awsapi.Operation{
			awsapi.Op("RegisterClient", awsapi.Anyone, a.registerClient).WithoutSignature(),
			awsapi.Op("StartDeviceAuthorization", awsapi.Anyone, a.startDeviceAuthorization).WithoutSignature(),
			awsapi.Op("CreateToken", awsapi.Anyone, a.createToken).WithoutSignature(),
		},
	}
}

// Portal is the access portal's description. Its operations are unsigned:
// the access token is the proof.
func (a *API) Portal() *awsapi.Service {
	return &awsapi.Service{
		Name:         "SSO",
		Model:        "sso",
		ActionPrefix: "awsssoportal",
		FaultCode:    "InternalServerException",
		Errors:       awsapi.DomainErrors[*sso.Error](portalErrors),
		NotServed:    portalNotServed,
		Operations: []awsapi.Operation{
			awsapi.Op("GetRoleCredentials", awsapi.Anyone, a.getRoleCredentials).WithoutSignature(),
			awsapi.Op("ListAccounts", awsapi.Anyone, a.listAccounts).WithoutSignature(),
			awsapi.Op("ListAccountRoles", awsapi.Anyone, a.listAccountRoles).WithoutSignature(),
			awsapi.Op("Logout", awsapi.Anyone, a.logout).WithoutSignature(),
		},
	}
}

// adminErrors words the domain's refusals as SSO Admin and Identity Store
// do (both model these four).
var adminErrors = []awsapi.ErrorRow{
	{Kind: sso.ErrNotFound, Code: "ResourceNotFoundException", Status: http.StatusBadRequest},
	{Kind: sso.ErrConflict, Code: "ConflictException", Status: http.StatusBadRequest},
	{Kind: sso.ErrValidation, Code: "ValidationException", Status: http.StatusBadRequest},
	{Kind: sso.ErrAccessDenied, Code: "AccessDeniedException", Status: http.StatusBadRequest},
}

// oidcErrors words them as SSO OIDC does; the HTTP status is the model's
// (InvalidClientException's 401), which the REST front door applies.
var oidcErrors = []awsapi.ErrorRow{
	{Kind: sso.ErrInvalidClient, Code: "InvalidClientException", Status: http.StatusUnauthorized},
	{Kind: sso.ErrInvalidGrant, Code: "InvalidGrantException", Status: http.StatusBadRequest},
	{Kind: sso.ErrInvalidRequest, Code: "InvalidRequestException", Status: http.StatusBadRequest},
	{Kind: sso.ErrUnsupportedGrantType, Code: "UnsupportedGrantTypeException", Status: http.StatusBadRequest},
	{Kind: sso.ErrAuthorizationPending, Code: "AuthorizationPendingException", Status: http.StatusBadRequest},
	{Kind: sso.ErrSlowDown, Code: "SlowDownException", Status: http.StatusBadRequest},
	{Kind: sso.ErrExpiredToken, Code: "ExpiredTokenException", Status: http.StatusBadRequest},
	{Kind: sso.ErrAccessDenied, Code: "AccessDeniedException", Status: http.StatusBadRequest},
	{Kind: sso.ErrNotFound, Code: "InvalidRequestException", Status: http.StatusBadRequest},
	{Kind: sso.ErrValidation, Code: "InvalidRequestException", Status: http.StatusBadRequest},
}

// oauthCodes are the OAuth 2.0 error codes (RFC 6749, RFC 8628) the OIDC
// exceptions carry in their "error" member, as AWS sends them.
var oauthCodes = map[string]string{
	"InvalidClientException":        "invalid_client",
	"InvalidGrantException":         "invalid_grant",
	"InvalidRequestException":       "invalid_request",
	"UnsupportedGrantTypeException": "unsupported_grant_type",
	"AuthorizationPendingException": "authorization_pending",
	"SlowDownException":             "slow_down",
	"ExpiredTokenException":         "expired_token",
	"AccessDeniedException":         "access_denied",
}

var oidcDomainError = awsapi.DomainErrors[*sso.Error](oidcErrors)

// oidcError adds the OAuth members (error, error_description) the model
// gives every OIDC exception.
func oidcError(err error) *awsapi.Error {
	e := oidcDomainError(err)
	if e == nil {
		return nil
	}
	e.Members = map[string]any{"error": oauthCodes[e.Code], "error_description": e.Message}
	return e
}

// portalErrors words them as the portal does.
var portalErrors = []awsapi.ErrorRow{
	{Kind: sso.ErrUnauthorized, Code: "UnauthorizedException", Status: http.StatusUnauthorized},
	{Kind: sso.ErrNotFound, Code: "ResourceNotFoundException", Status: http.StatusNotFound},
	{Kind: sso.ErrValidation, Code: "InvalidRequestException", Status: http.StatusBadRequest},
}
