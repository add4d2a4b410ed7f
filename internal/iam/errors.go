package iam

import (
	"errors"
	"fmt"

	"github.com/berth-registry/berth/internal/meta"
)

// The domain's error kinds. Each front door (iamapi, stsapi) maps every
// one of them to its service's exception in one table.
var (
	ErrNoSuchEntity    = errors.New("no such entity")
	ErrEntityExists    = errors.New("entity already exists")
	ErrDeleteConflict  = errors.New("entity still in use")
	ErrLimitExceeded   = errors.New("quota exceeded")
	ErrMalformedPolicy = errors.New("malformed policy document")
	ErrInvalidInput    = errors.New("invalid input")
	// ErrValidation is a request IAM refuses as a whole: a parameter the
	// model allows but the call may not use here.
	ErrValidation = errors.New("validation error")
	// ErrAccessDenied is a refusal the domain decides itself (AssumeRole);
	// the front door decides every other one.
	ErrAccessDenied = errors.New("access denied")
	// ErrInvalidIdentityToken, ErrExpiredIdentityToken and
	// ErrIDPCommunication refuse AssumeRoleWithWebIdentity's token: STS's
	// InvalidIdentityToken, ExpiredTokenException, IDPCommunicationError.
	ErrInvalidIdentityToken = errors.New("invalid identity token")
	ErrExpiredIdentityToken = errors.New("expired identity token")
	ErrIDPCommunication     = errors.New("identity provider unreachable")
)

// Kinds are every kind the domain's errors have.
func Kinds() []error {
	return []error{ErrNoSuchEntity, ErrEntityExists, ErrDeleteConflict, ErrLimitExceeded,
		ErrMalformedPolicy, ErrInvalidInput, ErrValidation, ErrAccessDenied,
		ErrInvalidIdentityToken, ErrExpiredIdentityToken, ErrIDPCommunication}
}

// Error is a domain error: a kind from the list above and the message IAM
// (or STS) answers with, word for word.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// The wording, in one place.
//
// Where it comes from: real IAM and STS answers quoted in public issues —
// "The user with name X cannot be found." (ansible/ansible#45593), "The
// role with name X cannot be found." (jarpy/lambkin#3), "The role policy
// with name X cannot be found." (aws/aws-cli#6139), "User with name X
// already exists." (ucopacme/aws-orgs#12), "Role with name X already
// exists." (garnaat/kappa#17), "A policy called X already exists.
// Duplicate names are not allowed." (Aabyss-Team/awsKeyTools#13), the
// DeleteConflict texts (aws-controllers-k8s/community#2229,
// mozilla-services/userplex#17, aws/aws-sdk-java#2155,
// awslabs/aws-orbit-workbench#633, serverless/components#312), "Cannot
// exceed quota for AccessKeysPerUser: 2" (bartekj/aws-tools#29), "Policy X
// does not exist or is not attachable." (pulumi/pulumi#7419), "Policy X
// was not found." (a GetPolicy answer quoted in public test notes),
// "Syntax errors in policy." (99designs/iamy#74), "This policy contains
// invalid Json" (AWSCookbook/Security#2), "Must specify userName when
// calling with non-User credentials" (terraform-provider-aws), and STS's
// AccessDenied and DurationSeconds texts (aws-azure-login#251,
// prowler-cloud/prowler#789, amzn/selling-partner-api-models#2523,
// kreuzwerker/awsu#27, 99designs/aws-vault#263). "The group with name X
// cannot be found.", "Group with name X already exists.", "The Access Key
// with id X cannot be found." and "Has prohibited field Resource" follow
// the same patterns as mocks of IAM (fog-aws, moto) word them.
//
// Where IAM's behaviour is not known Berth chooses, and says so at the
// spot: RemoveUserFromGroup for a user not in the group, GetPolicyVersion
// for a version other than v1, and the order of DeleteUser's checks.

// storeRefusal words the store's refusals as IAM does; nil for one IAM
// has no words for (a server fault).
func storeRefusal(se *meta.IAMError) *Error {
	switch {
	case errors.Is(se, meta.ErrIAMNotFound):
		switch se.What {
		case string(User), string(Group), string(Role), "user policy", "group policy", "role policy":
			return errorf(ErrNoSuchEntity, "The %s with name %s cannot be found.", se.What, se.Name)
		case meta.IAMWhatAccessKey:
			return errorf(ErrNoSuchEntity, "The Access Key with id %s cannot be found.", se.Name)
		case meta.IAMWhatPolicy, meta.IAMWhatAttachment:
			return policyNotFound(se.Name)
		}
	case errors.Is(se, meta.ErrIAMExists):
		switch se.What {
		case string(User):
			return errorf(ErrEntityExists, "User with name %s already exists.", se.Name)
		case string(Group):
			return errorf(ErrEntityExists, "Group with name %s already exists.", se.Name)
		case string(Role):
			return errorf(ErrEntityExists, "Role with name %s already exists.", se.Name)
		case meta.IAMWhatPolicy:
			return errorf(ErrEntityExists, "A policy called %s already exists. Duplicate names are not allowed.", se.Name)
		}
	case errors.Is(se, meta.ErrIAMConflict):
		switch se.BlockedBy {
		case meta.IAMBlockedByAccessKeys:
			return errorf(ErrDeleteConflict, "Cannot delete entity, must delete access keys first.")
		case meta.IAMBlockedByInlinePolicies:
			return errorf(ErrDeleteConflict, "Cannot delete entity, must delete policies first.")
		case meta.IAMBlockedByAttachedPolicies:
			return errorf(ErrDeleteConflict, "Cannot delete entity, must detach all policies first.")
		case meta.IAMBlockedByGroups, meta.IAMBlockedByMembers:
			return errorf(ErrDeleteConflict, "Cannot delete entity, must remove users from group first.")
		case meta.IAMBlockedByAttachments:
			return errorf(ErrDeleteConflict, "Cannot delete a policy attached to entities.")
		}
	case errors.Is(se, meta.ErrIAMLimit):
		if se.What == meta.IAMWhatAccessKey {
			return errorf(ErrLimitExceeded, "Cannot exceed quota for AccessKeysPerUser: %d", meta.MaxAccessKeysPerUser)
		}
	}
	return nil
}

// fromStore is a store failure as the domain returns it: a refusal in
// IAM's words, anything else with what the domain was doing.
func fromStore(doing string, err error) error {
	if err == nil {
		return nil
	}
	var se *meta.IAMError
	if errors.As(err, &se) {
		if e := storeRefusal(se); e != nil {
			return e
		}
	}
	return fmt.Errorf("iam: %s: %w", doing, err)
}

func policyNotFound(arn string) *Error {
	return errorf(ErrNoSuchEntity, "Policy %s was not found.", arn)
}

func policyNotAttachable(arn string) *Error {
	return errorf(ErrNoSuchEntity, "Policy %s does not exist or is not attachable.", arn)
}

// notAMember: IAM's wording for this case is not on record; this is
// Berth's.
func notAMember(user, group string) *Error {
	return errorf(ErrNoSuchEntity, "The user with name %s is not a member of the group %s.", user, group)
}

// noSuchVersion: IAM's wording for a missing version is not on record;
// this is Berth's.
func noSuchVersion(arn, version string) *Error {
	return errorf(ErrNoSuchEntity, "Policy %s version %s does not exist.", arn, version)
}

func invalidARN(arn string) *Error { return errorf(ErrInvalidInput, "ARN %s is not valid.", arn) }

// nonUserCredentials refuses an action that, without a UserName, acts on
// the caller as a user when the caller is a role session.
func nonUserCredentials() *Error {
	return errorf(ErrValidation, "Must specify userName when calling with non-User credentials")
}

// notSupported refuses a parameter whose effect Berth does not implement
// and whose absence would grant more than asked for.
func notSupported(what string) *Error {
	return errorf(ErrValidation, "Berth does not support %s yet", what)
}

// malformedPolicy is the policy engine's account of what is wrong with a
// document.
func malformedPolicy(msg string) *Error { return &Error{Kind: ErrMalformedPolicy, Message: msg} }

// syntaxErrors refuses an identity policy that is not a JSON object.
func syntaxErrors() *Error { return malformedPolicy("Syntax errors in policy.") }

// invalidJSON refuses a trust policy that is not a JSON object.
func invalidJSON() *Error { return malformedPolicy("This policy contains invalid Json") }

// prohibitedField refuses a trust policy statement naming a resource.
func prohibitedField(field string) *Error {
	return errorf(ErrMalformedPolicy, "Has prohibited field %s", field)
}

// STS's words for AssumeRole.

func rootMayNotAssume() *Error {
	return errorf(ErrAccessDenied, "Roles may not be assumed by root accounts.")
}

func assumeRoleDenied(callerARN, roleARN string) *Error {
	return errorf(ErrAccessDenied, "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", callerARN, roleARN)
}

func chainedDurationTooLong() *Error {
	return errorf(ErrValidation, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
}

func durationOverRoleMax() *Error {
	return errorf(ErrValidation, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
}
