package pullthrough

import (
	"errors"
	"fmt"
)

// The pull through cache's error kinds. The ECR front door words each as
// ECR's exception and the data plane as an OCI error (each a table that a
// test checks against Kinds).
var (
	ErrInvalid             = errors.New("pull through cache rule invalid")
	ErrRuleExists          = errors.New("pull through cache rule exists")
	ErrRuleNotFound        = errors.New("pull through cache rule not found")
	ErrLimit               = errors.New("pull through cache rule limit")
	ErrUnsupportedUpstream = errors.New("upstream registry unsupported")
	ErrSecretNotFound      = errors.New("secret not found")
	ErrSecretAccess        = errors.New("secret inaccessible")
	ErrSecretDecrypt       = errors.New("secret undecryptable")
	// ErrUpstreamUnavailable: the upstream failed or timed out and nothing
	// cached can answer instead.
	ErrUpstreamUnavailable = errors.New("upstream unavailable")
	// ErrUpstreamRateLimited: the upstream answered 429 and nothing cached
	// can answer instead.
	ErrUpstreamRateLimited = errors.New("upstream rate limited")
	// ErrUpstreamDenied: the upstream refused the rule's credentials.
	ErrUpstreamDenied = errors.New("upstream denied")
)

// Kinds returns every error kind of the domain.
func Kinds() []error {
	return []error{ErrInvalid, ErrRuleExists, ErrRuleNotFound, ErrLimit, ErrUnsupportedUpstream,
		ErrSecretNotFound, ErrSecretAccess, ErrSecretDecrypt, ErrUpstreamUnavailable, ErrUpstreamRateLimited, ErrUpstreamDenied}
}

// Error is a domain error: a kind and a message for whoever has to act.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) *Error { return errorf(ErrInvalid, format, args...) }

// KindOf returns err's kind and message when it is one of the domain's.
func KindOf(err error) (kind error, msg string, ok bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind, e.Message, true
	}
	return nil, "", false
}
