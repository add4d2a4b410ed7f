package secrets

import (
	"errors"
	"fmt"
)

// The domain's error kinds. The Secrets Manager front door (secretsapi)
// words every one of them as Secrets Manager's exception in one table.
var (
	// ErrNotFound is a secret, or a version of one, that does not exist.
	// SecretValue also answers it for a secret scheduled for deletion.
	ErrNotFound = errors.New("secret not found")
	// ErrExists is a name, or a version ID, already taken.
	ErrExists = errors.New("secret already exists")
	// ErrInvalidRequest is a call the secret's state does not allow (it
	// is scheduled for deletion).
	ErrInvalidRequest = errors.New("invalid request")
	// ErrInvalidParameter is a parameter the call may not use as given.
	ErrInvalidParameter = errors.New("invalid parameter")
	// ErrValidation is a value the model allows but Secrets Manager
	// refuses (a name with a character it does not take).
	ErrValidation = errors.New("validation error")
	// ErrInvalidNextToken is a pagination token this service did not
	// give.
	ErrInvalidNextToken = errors.New("invalid next token")
	// ErrDecryption is a stored value that cannot be decrypted: the key
	// differs from the one it was encrypted with (--token-key changed).
	ErrDecryption = errors.New("decryption failure")
	// ErrLimitExceeded is a quota reached (tags per secret).
	ErrLimitExceeded = errors.New("limit exceeded")
)

// Kinds are every kind the domain's errors have.
func Kinds() []error {
	return []error{ErrNotFound, ErrExists, ErrInvalidRequest, ErrInvalidParameter, ErrValidation,
		ErrInvalidNextToken, ErrDecryption, ErrLimitExceeded}
}

// Error is a domain error: a kind from the list above and the message
// Secrets Manager answers with.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// The wording, in one place. Where it comes from: real Secrets Manager
// answers quoted in public issues — "Secrets Manager can't find the
// specified secret." (aws-parallelcluster, external-secrets), "You can't
// perform this operation on the secret because it was marked for
// deletion." (external-secrets/kubernetes-external-secrets#114, #415),
// "You can't create this secret because a secret with this name is
// already scheduled for deletion." (redpanda-data/console#1835), "Invalid
// name. Must be a valid name containing alphanumeric characters, or any of
// the following: -/_+=.@!" (hashicorp/terraform-provider-aws#39406), "The
// operation failed because the secret X already exists." (boto3 users'
// reports), and "Secrets Manager can't find the specified secret value
// for staging label: AWSCURRENT" (a secret created without a value).
// Where no answer is known (a version ID reused with another value, the
// recovery window's bounds) Berth words it after the API reference.

func notFound() *Error {
	return errorf(ErrNotFound, "Secrets Manager can't find the specified secret.")
}

func markedForDeletion() *Error {
	return errorf(ErrInvalidRequest, "You can't perform this operation on the secret because it was marked for deletion.")
}

func noValueForStage(stage string) *Error {
	return errorf(ErrNotFound, "Secrets Manager can't find the specified secret value for staging label: %s", stage)
}

func noValueForVersion(id string) *Error {
	return errorf(ErrNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", id)
}
