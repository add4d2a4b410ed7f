package ssoapi

// The operations of the four models that Berth does not serve yet; they
// answer UnsupportedOperationException. Every model operation is either in
// a service's table or here (awsapi.Service.Check).

// adminNotServed are sso-admin's operations Berth does not serve yet.
var adminNotServed = []string{
	"AddRegion",
	"AttachCustomerManagedPolicyReferenceToPermissionSet",
	"CreateApplication",
	"CreateApplicationAssignment",
	"CreateInstance",
	"CreateInstanceAccessControlAttributeConfiguration",
	"CreateTrustedTokenIssuer",
	"DeleteApplication",
	"DeleteApplicationAccessScope",
	"DeleteApplicationAssignment",
	"DeleteApplicationAuthenticationMethod",
	"DeleteApplicationGrant",
	"DeleteInstance",
	"DeleteInstanceAccessControlAttributeConfiguration",
	"DeletePermissionsBoundaryFromPermissionSet",
	"DeleteTrustedTokenIssuer",
	"DescribeAccountAssignmentCreationStatus",
	"DescribeAccountAssignmentDeletionStatus",
	"DescribeApplication",
	"DescribeApplicationAssignment",
	"DescribeApplicationProvider",
	"DescribeInstance",
	"DescribeInstanceAccessControlAttributeConfiguration",
	"DescribePermissionSetProvisioningStatus",
	"DescribeRegion",
	"DescribeTrustedTokenIssuer",
	"DetachCustomerManagedPolicyReferenceFromPermissionSet",
	"GetApplicationAccessScope",
	"GetApplicationAssignmentConfiguration",
	"GetApplicationAuthenticationMethod",
	"GetApplicationGrant",
	"GetApplicationSessionConfiguration",
	"GetPermissionsBoundaryForPermissionSet",
	"ListAccountAssignmentCreationStatus",
	"ListAccountAssignmentDeletionStatus",
	"ListAccountAssignmentsForPrincipal",
	"ListAccountsForProvisionedPermissionSet",
	"ListApplicationAccessScopes",
	"ListApplicationAssignments",
	"ListApplicationAssignmentsForPrincipal",
	"ListApplicationAuthenticationMethods",
	"ListApplicationGrants",
	"ListApplicationProviders",
	"ListApplications",
	"ListCustomerManagedPolicyReferencesInPermissionSet",
	"ListPermissionSetProvisioningStatus",
	"ListPermissionSetsProvisionedToAccount",
	"ListRegions",
	"ListTagsForResource",
	"ListTrustedTokenIssuers",
	"ProvisionPermissionSet",
	"PutApplicationAccessScope",
	"PutApplicationAssignmentConfiguration",
	"PutApplicationAuthenticationMethod",
	"PutApplicationGrant",
	"PutApplicationSessionConfiguration",
	"PutPermissionsBoundaryToPermissionSet",
	"RemoveRegion",
	"TagResource",
	"UntagResource",
	"UpdateApplication",
	"UpdateInstance",
	"UpdateInstanceAccessControlAttributeConfiguration",
	"UpdatePermissionSet",
	"UpdateTrustedTokenIssuer",
}

// identityStoreNotServed are identitystore's operations Berth does not serve yet.
var identityStoreNotServed = []string{
	"CreateGroup",
	"CreateGroupMembership",
	"DeleteGroup",
	"DeleteGroupMembership",
	"DescribeGroup",
	"DescribeGroupMembership",
	"GetGroupId",
	"GetGroupMembershipId",
	"GetUserId",
	"IsMemberInGroups",
	"ListGroupMemberships",
	"ListGroupMembershipsForMember",
	"ListGroups",
	"UpdateGroup",
	"UpdateUser",
}

// oidcNotServed are sso-oidc's operations Berth does not serve yet.
var oidcNotServed = []string{
	"CreateTokenWithIAM",
}

// portalNotServed are sso's operations Berth does not serve yet.
var portalNotServed = []string{}
