package scan

import (
	"errors"
	"fmt"
)

// The scanning domain's error kinds. The ECR front door words each as an
// exception (ecrapi's error table, which a test checks against Kinds).
var (
	ErrConfigInvalid    = errors.New("scanning configuration invalid")
	ErrScanLimit        = errors.New("scan limit exceeded")
	ErrUnsupportedImage = errors.New("unsupported image type")
	ErrScanNotFound     = errors.New("scan not found")
	ErrTokenInvalid     = errors.New("next token invalid")
)

// Kinds returns every error kind of the domain.
func Kinds() []error {
	return []error{ErrConfigInvalid, ErrScanLimit, ErrUnsupportedImage, ErrScanNotFound, ErrTokenInvalid}
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

func invalid(format string, args ...any) *Error { return errorf(ErrConfigInvalid, format, args...) }

// KindOf returns err's kind and message when it is one of the domain's.
func KindOf(err error) (kind error, msg string, ok bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind, e.Message, true
	}
	return nil, "", false
}
