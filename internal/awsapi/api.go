// Package awsapi is Berth's AWS front door: the AWS protocols (JSON 1.0/1.1
// by X-Amz-Target, query, REST-JSON by method and path), SigV4 authentication, validation against the
// embedded botocore models and one error renderer per protocol, on the
// same listener as the data plane. It knows no service: each service
// package (ecrapi, ecrpublicapi, …) describes itself as a Service — its
// model and a table of operations — and every call takes the same path:
// route → read → authenticate → validate against the model → decode →
// authorize the operation's action on its resources → handle → encode,
// with errors rendered from the service's one table.
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
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/awsapi/sigv4"
	"github.com/berth-registry/berth/internal/clientaddr"
)

// MaxBodySize bounds an API request body; UploadLayerPart carries a layer
// part base64-encoded in JSON.
const MaxBodySize = 64 << 20

// Options configure the API front door.
type Options struct {
	// Services are the services answered.
	Services   []*Service
	Directory  authn.Directory
	Authorizer authz.Authorizer
	Logger     *slog.Logger
	Now        func() time.Time
}

// Server is the API front door.
type Server struct {
	opts     Options
	log      *slog.Logger
	verifier *sigv4.Verifier
	services *serviceTable
}

// New returns the API handler; it fails when a service's table disagrees
// with its model.
func New(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	services, err := newServiceTable(opts.Services)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, log: opts.Logger, services: services}
	s.verifier = &sigv4.Verifier{Credentials: directorySecrets{opts.Directory}, Now: opts.Now}
	return s, nil
}

type directorySecrets struct{ dir authn.Directory }

func (d directorySecrets) SecretFor(ctx context.Context, accessKeyID string) (string, error) {
	_, secret, err := d.dir.Lookup(ctx, accessKeyID)
	if errors.Is(err, authn.ErrUnknownAccessKey) {
		return "", sigv4.ErrUnknownAccessKey
	}
	return secret, err
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
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		s.serveJSON(w, r, requestID, target)
		return
	}
	if s.IsRESTRequest(r) {
		s.serveREST(w, r, requestID)
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

// codeExpiredToken is the JSON services' code for expired temporary
// credentials.
const codeExpiredToken = "ExpiredTokenException"

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
		if unavailable(err) {
			s.log.WarnContext(r.Context(), "verify signature: a store is unavailable", "err", err)
			return nil, "", serviceUnavailable()
		}
		s.log.ErrorContext(r.Context(), "verify signature", "err", err)
		return nil, "", &Error{Code: "InternalFailure", Status: http.StatusInternalServerError, Message: "signature verification failed on the server"}
	}
	if res.Service != service {
		return nil, "", errorf(sigv4.CodeInvalidSignature, fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", service))
	}
	p, _, err := s.opts.Directory.Lookup(r.Context(), res.AccessKeyID)
	if unavailable(err) {
		s.log.WarnContext(r.Context(), "look up the caller: a store is unavailable", "err", err)
		return nil, "", serviceUnavailable()
	}
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

// newCall is the call an authenticated request makes to an operation.
func (s *Server) newCall(r *http.Request, requestID string, svc *Service, op *Operation, p *authn.Principal, region string) *Call {
	c := &Call{RequestID: requestID, Principal: p, Region: region, Operation: op.Name, Secure: r.TLS != nil,
		service: svc, action: op.Action, authorizer: s.opts.Authorizer}
	if c.action == "" {
		c.action = svc.ActionPrefix + ":" + op.Name
	}
	c.SourceIP = clientaddr.From(r)
	return c
}

// callError turns what a handler returned into the AWS error to answer:
// an *Error as it is, a domain error through the service's table, and
// anything else as a server fault, logged with its cause.
func (s *Server) callError(ctx context.Context, c *Call, err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	if c.service.Errors != nil {
		if e := c.service.Errors(err); e != nil {
			return e
		}
	}
	if unavailable(err) {
		s.log.WarnContext(ctx, "api call failed: a store is unavailable", "request_id", c.RequestID, "service", c.service.Name, "operation", c.Operation, "err", err)
		e := serviceUnavailable()
		e.Message += " (request id " + c.RequestID + ")"
		return e
	}
	s.log.ErrorContext(ctx, "api call failed", "request_id", c.RequestID, "service", c.service.Name, "operation", c.Operation, "err", err)
	return internalError(c.service.FaultCode, c.RequestID)
}

// unavailable reports whether err says a store Berth depends on cannot be
// reached (its Unavailable method; meta.ErrUnavailable has one), which is
// no fault of the caller's and may pass.
func unavailable(err error) bool {
	var u interface{ Unavailable() bool }
	return errors.As(err, &u) && u.Unavailable()
}

// serviceUnavailable is the answer while a store cannot be reached. The
// query protocol's renderer words it ServiceUnavailable.
func serviceUnavailable() *Error {
	return &Error{Code: codeServiceUnavailable, Status: http.StatusServiceUnavailable,
		Message: "Berth cannot reach its metadata or blob store right now; the request may not have taken effect. Try again shortly"}
}

const codeServiceUnavailable = "ServiceUnavailableException"
