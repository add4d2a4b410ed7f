// Package awsapi answers the AWS APIs Berth speaks — ECR over the AWS JSON
// 1.1 protocol, STS over the query protocol — with SigV4 authentication, on
// the same listener as the data plane.
package awsapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/awsapi/sigv4"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
)

// MaxBodySize bounds an API request body; UploadLayerPart carries a layer
// part base64-encoded in JSON.
const MaxBodySize = 64 << 20

// Options configure the API front door.
type Options struct {
	Registry   *registry.Service
	Directory  authn.Directory
	Tokens     *authn.Tokens
	Authorizer authz.Authorizer
	// IAM holds the accounts, users, roles, policies, keys and role
	// sessions that IAM and STS AssumeRole manage; nil turns both off.
	IAM meta.IAMStore
	// Endpoint returns the base URL ("http://host:port") at which clients
	// reach the data plane of an (account, region) registry.
	Endpoint func(account, region string) string
	// PoliciesChanged is told of every change to a policy, so that cached
	// authorization decisions are dropped.
	PoliciesChanged func()
	Logger          *slog.Logger
	Now             func() time.Time
}

// Server is the API front door.
type Server struct {
	opts     Options
	log      *slog.Logger
	verifier *sigv4.Verifier
	ecr      *ecrAPI
}

// New returns the API handler.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, log: opts.Logger}
	s.verifier = &sigv4.Verifier{Credentials: directorySecrets{opts.Directory}, Now: opts.Now}
	s.ecr = newECR(s)
	return s
}

type directorySecrets struct{ dir authn.Directory }

func (d directorySecrets) SecretFor(ctx context.Context, accessKeyID string) (string, error) {
	_, secret, err := d.dir.Lookup(ctx, accessKeyID)
	if errors.Is(err, authn.ErrUnknownAccessKey) {
		return "", sigv4.ErrUnknownAccessKey
	}
	return secret, err
}

// Call is one authenticated API call.
type Call struct {
	RequestID string
	Principal *authn.Principal
	// Region comes from the SigV4 credential scope.
	Region    string
	Operation string
	Body      []byte
	// SourceIP and Secure describe the connection, for policy conditions.
	SourceIP netip.Addr
	Secure   bool
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// IsAPIRequest tells the API's requests (POST with an X-Amz-Target, or a
// form-encoded query-protocol call) from anything else.
func IsAPIRequest(r *http.Request) bool {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return false
	}
	if r.Header.Get("X-Amz-Target") != "" {
		return true
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return true
	}
	return r.URL.Query().Get("Action") != ""
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	w.Header().Set("X-Amzn-RequestId", requestID)
	target := r.Header.Get("X-Amz-Target")
	if target != "" {
		s.serveJSON(w, r, requestID, target)
		return
	}
	s.serveQuery(w, r, requestID)
}

// readBody reads a bounded request body.
func readBody(r *http.Request) ([]byte, *Error) {
	if r.ContentLength > MaxBodySize {
		return nil, &Error{Code: "RequestEntityTooLargeException", Status: http.StatusRequestEntityTooLarge,
			Message: fmt.Sprintf("request body is larger than %d bytes", MaxBodySize)}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodySize+1))
	if err != nil {
		return nil, errorf("SerializationException", "reading the request body failed: "+err.Error())
	}
	if len(body) > MaxBodySize {
		return nil, &Error{Code: "RequestEntityTooLargeException", Status: http.StatusRequestEntityTooLarge,
			Message: fmt.Sprintf("request body is larger than %d bytes", MaxBodySize)}
	}
	return body, nil
}

// authenticate verifies the signature and finds the caller.
func (s *Server) authenticate(r *http.Request, body []byte, service string) (*authn.Principal, string, *Error) {
	res, err := s.verifier.Verify(r, body)
	if errors.Is(err, authn.ErrExpiredCredentials) {
		return nil, "", errorf(codeExpiredToken, "The security token included in the request is expired")
	}
	var se *sigv4.Error
	if errors.As(err, &se) {
		return nil, "", &Error{Code: se.Code, Message: se.Message, Status: se.Status}
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "verify signature", "err", err)
		return nil, "", &Error{Code: "InternalFailure", Status: http.StatusInternalServerError, Message: "signature verification failed on the server"}
	}
	if res.Service != service {
		return nil, "", errorf(sigv4.CodeInvalidSignature, fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", service))
	}
	p, _, err := s.opts.Directory.Lookup(r.Context(), res.AccessKeyID)
	if errors.Is(err, authn.ErrExpiredCredentials) {
		return nil, "", errorf(codeExpiredToken, "The security token included in the request is expired")
	}
	// Temporary credentials come with their session token, and long-term
	// keys with none.
	if err != nil || subtle.ConstantTimeCompare([]byte(p.SessionToken), []byte(res.SessionToken)) != 1 {
		return nil, "", errorf(sigv4.CodeUnrecognizedClient, "The security token included in the request is invalid.")
	}
	return p, res.Region, nil
}

// apiError turns a handler error into an AWS error, logging server faults.
func (s *Server) apiError(ctx context.Context, c *Call, err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	s.log.ErrorContext(ctx, "api call failed", "request_id", c.RequestID, "operation", c.Operation, "err", err)
	return internalError(c.RequestID)
}

func (s *Server) policiesChanged() {
	if s.opts.PoliciesChanged != nil {
		s.opts.PoliciesChanged()
	}
}
