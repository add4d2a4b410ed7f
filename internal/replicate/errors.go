package replicate

import (
	"errors"
	"fmt"
)

// The replication domain's error kinds. The ECR front door words each as
// an exception (ecrapi's error table, which a test checks against Kinds).
var (
	ErrConfigInvalid = errors.New("replication configuration invalid")
)

// Kinds returns every error kind of the domain.
func Kinds() []error { return []error{ErrConfigInvalid} }

// Error is a domain error: a kind and a message for whoever has to act.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

// KindOf returns err's kind and message when it is one of the domain's.
func KindOf(err error) (kind error, msg string, ok bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind, e.Message, true
	}
	return nil, "", false
}

// Failure codes: the first word of a FAILED status's failureCode, the
// rest of which says what happened in words (docs/replication.md).
const (
	// FailurePolicyDenied: the destination's registry policy does not
	// allow the source account ecr:ReplicateImage (or ecr:CreateRepository
	// for a repository that must be created).
	FailurePolicyDenied = "REGISTRY_POLICY_DENIED"
	// FailureDestinationRefused: the destination refused the image (an
	// immutable tag taken, a manifest it does not accept, its credentials
	// refused).
	FailureDestinationRefused = "DESTINATION_REFUSED"
	// FailureDestinationUnreachable: a remote destination could not be
	// reached, or failed.
	FailureDestinationUnreachable = "DESTINATION_UNREACHABLE"
	// FailureSourceUnreadable: the image could not be read where it was
	// pushed (a blob gone from storage).
	FailureSourceUnreadable = "SOURCE_UNREADABLE"
	// FailureInternal: anything else; the server log says more.
	FailureInternal = "INTERNAL_ERROR"
)

// failure is why one replication attempt failed: a code and the reason.
type failure struct {
	Code   string
	Reason string
	err    error
}

func (f *failure) Error() string { return f.Code + ": " + f.Reason }
func (f *failure) Unwrap() error { return f.err }

func fail(code string, err error, format string, args ...any) *failure {
	return &failure{Code: code, Reason: fmt.Sprintf(format, args...), err: err}
}
