package s3

import (
	"context"
	"errors"
	"net"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// unavailableError marks an S3 call that failed because the server could
// not be reached or answered with a server error (after the SDK's
// retries): the front doors answer 503 for it, as for a database that is
// down, rather than a fault of Berth's (they look for the Unavailable
// method, as for meta.ErrUnavailable).
type unavailableError struct{ err error }

func (e *unavailableError) Error() string {
	return "blob/s3: the S3 server is unavailable: " + e.err.Error()
}
func (e *unavailableError) Unwrap() error     { return e.err }
func (e *unavailableError) Unavailable() bool { return true }

// unreachable tells an outage of the server from every other failure: the
// caller's context ending, a refusal about the request (4xx).
func unreachable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true // refused, reset, timed out: no answer
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() >= 500
}

// markUnavailable is the outermost middleware of every call: it marks the
// calls that failed for an outage, once the SDK has retried them.
var markUnavailable = middleware.InitializeMiddlewareFunc("BerthMarkUnavailable",
	func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleInitialize(ctx, in)
		if err != nil && unreachable(ctx, err) {
			err = &unavailableError{err}
		}
		return out, md, err
	})

func addMarkUnavailable(stack *middleware.Stack) error {
	return stack.Initialize.Add(markUnavailable, middleware.Before)
}
