package awsapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"sync"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/awsapi/model"
)

// Service describes one AWS service the front door answers: which embedded
// model it speaks (and so its protocol, X-Amz-Target prefix or XML
// namespace, and SigV4 signing name), the operations it serves, the ones it
// does not serve yet, and how its errors are worded. A service package
// (ecrapi, iamapi, …) builds one; the front door does the rest.
type Service struct {
	// Name is how people call the service in messages: "ECR", "ECR Public".
	Name string
	// Model names the embedded botocore model: "ecr", "ecr-public", "sts",
	// "iam".
	Model string
	// ActionPrefix starts the IAM actions of the service's operations:
	// "ecr" makes CreateRepository's ecr:CreateRepository.
	ActionPrefix string
	// Operations are the operations served, one row each.
	Operations []Operation
	// NotServed lists the model's operations Berth does not serve yet. They
	// answer UnsupportedOperationException in words a user understands.
	// Every operation of the model is in exactly one of Operations and
	// NotServed (Service.Check, and each service's coverage test).
	NotServed []string
	// Errors words an error a handler returned that is not an *Error — a
	// domain error — as the service's exception, from the service's one
	// error table; nil means a server fault, which is logged and answered
	// with FaultCode.
	Errors func(error) *Error
	// FaultCode is the exception of a server fault: ECR's ServerException,
	// IAM's ServiceFailure.
	FaultCode string

	m       *model.Model
	ops     map[string]*Operation
	pending map[string]bool
}

// Operation is one row of a service's table: an operation's name, what
// authorizing it checks, and the handler that runs when the caller may.
// Build it with Op.
type Operation struct {
	Name string
	// Action, when set, is the IAM action authorized instead of
	// ActionPrefix:Name.
	Action string
	// Unsigned operations are answered without a signature, as AWS
	// answers the ones its model marks "authtype": "none"
	// (AssumeRoleWithWebIdentity): the request carries its own proof, and
	// the handler's Call has no Principal.
	Unsigned bool
	run      func(ctx context.Context, c *Call, decode func(v any) error) (any, error)
}

// Check is one authorization an operation needs: the caller may perform
// Action on Resource.
type Check struct {
	// Action is the IAM action; "" means the operation's own.
	Action string
	// Resource is the ARN acted on, or "*".
	Resource string
	// Account owns the resource.
	Account string
	// Name is how a denial names the resource when not by its ARN (IAM
	// says "on resource: user bob").
	Name string
	// Tags are the resource tags the request sets (aws:RequestTag,
	// aws:TagKeys).
	Tags map[string]string
}

// Op makes a row of a service's table. target names what the operation
// acts on, from the decoded input; the caller must be allowed every check
// it returns before handle runs. The input is decoded into In (JSON field
// names are the model's member names, on every protocol) after the model
// has validated it; handle's Out is encoded in the service's protocol.
func Op[In, Out any](name string, target func(context.Context, *Call, *In) ([]Check, error), handle func(context.Context, *Call, *In) (Out, error)) Operation {
	return Operation{Name: name, run: func(ctx context.Context, c *Call, decode func(v any) error) (any, error) {
		in := new(In)
		if err := decode(in); err != nil {
			return nil, err
		}
		checks, err := target(ctx, c, in)
		if err != nil {
			return nil, err
		}
		if err := c.Authorize(ctx, checks...); err != nil {
			return nil, err
		}
		return handle(ctx, c, in)
	}}
}

// WithAction is the row with action authorized instead of the operation's
// own (ECR's ListImageReferrers takes ecr:BatchGetImage).
func (o Operation) WithAction(action string) Operation {
	o.Action = action
	return o
}

// WithoutSignature is the row of an operation answered unsigned.
func (o Operation) WithoutSignature() Operation {
	o.Unsigned = true
	return o
}

// Anyone is the target of an operation every authenticated caller may
// call (GetCallerIdentity), or whose domain decides alone who may
// (AssumeRole, where the role's trust policy has the last word).
func Anyone[In any](context.Context, *Call, *In) ([]Check, error) { return nil, nil }

// Call is one authenticated API call, as handlers see it.
type Call struct {
	RequestID string
	Principal *authn.Principal
	// Region comes from the SigV4 credential scope.
	Region string
	// Operation is the operation's name in the model.
	Operation string
	// SourceIP and Secure describe the connection, for policy conditions.
	SourceIP netip.Addr
	Secure   bool

	service    *Service
	action     string
	authorizer authz.Authorizer
}

// Service is the service the call is for.
func (c *Call) Service() *Service { return c.service }

// Authorize asks whether the caller may do every check, in order, and
// answers the first refusal in the service's words.
func (c *Call) Authorize(ctx context.Context, checks ...Check) error {
	for _, ch := range checks {
		action := ch.Action
		if action == "" {
			action = c.action
		}
		req := authz.Request{Principal: c.Principal, Action: action, Resource: ch.Resource, ResourceAccount: ch.Account,
			ResourceName: ch.Name, RequestTags: ch.Tags, SourceIP: c.SourceIP, SecureTransport: c.Secure}
		err := c.authorizer.Authorize(ctx, req)
		var denied *authz.DeniedError
		if errors.As(err, &denied) {
			return c.service.denied(denied.Error())
		}
		if err != nil {
			return fmt.Errorf("authorize %s: %w", action, err)
		}
	}
	return nil
}

// denied words a refusal: the JSON services' AccessDeniedException, the
// query services' AccessDenied.
func (s *Service) denied(msg string) *Error {
	if s.m.Metadata.Protocol == "query" {
		return &Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: msg}
	}
	return &Error{Code: "AccessDeniedException", Status: http.StatusBadRequest, Message: msg}
}

// compile loads the service's model and checks its table against it.
func (s *Service) compile() error {
	m, err := model.Service(s.Model)
	if err != nil {
		return fmt.Errorf("service %s: %w", s.Name, err)
	}
	s.m = m
	if err := s.Check(); err != nil {
		return err
	}
	s.ops = make(map[string]*Operation, len(s.Operations))
	for i := range s.Operations {
		s.ops[s.Operations[i].Name] = &s.Operations[i]
	}
	s.pending = make(map[string]bool, len(s.NotServed))
	for _, name := range s.NotServed {
		s.pending[name] = true
	}
	if s.FaultCode == "" {
		s.FaultCode = "InternalFailure"
	}
	return nil
}

// Check reports how the table and the model disagree: an operation served
// or listed as not served that the model lacks, one in both lists or twice
// in one, or a model operation in neither.
func (s *Service) Check() error {
	m, err := model.Service(s.Model)
	if err != nil {
		return fmt.Errorf("service %s: %w", s.Name, err)
	}
	var problems []error
	seen := map[string]string{}
	note := func(name, list string) {
		if _, ok := m.Operation(name); !ok {
			problems = append(problems, fmt.Errorf("%s: %s lists %s, which the %s model does not define", s.Name, list, name, s.Model))
		}
		if prev, dup := seen[name]; dup {
			problems = append(problems, fmt.Errorf("%s: %s is in %s and in %s", s.Name, name, prev, list))
		}
		seen[name] = list
	}
	for _, op := range s.Operations {
		if op.run == nil {
			problems = append(problems, fmt.Errorf("%s: operation %s was not made with Op", s.Name, op.Name))
		}
		note(op.Name, "Operations")
	}
	for _, name := range s.NotServed {
		note(name, "NotServed")
	}
	for _, name := range m.Operations() {
		if _, ok := seen[name]; !ok {
			problems = append(problems, fmt.Errorf("%s: the model's operation %s is neither served nor listed as not served", s.Name, name))
		}
	}
	return errors.Join(problems...)
}

// Served returns the names of the operations served, sorted.
func (s *Service) Served() []string {
	names := make([]string, 0, len(s.Operations))
	for _, op := range s.Operations {
		names = append(names, op.Name)
	}
	slices.Sort(names)
	return names
}

// notServed answers an operation of the model that Berth does not serve.
func (s *Service) notServed(op string) *Error {
	return &Error{Code: "UnsupportedOperationException", Status: http.StatusBadRequest,
		Message: fmt.Sprintf("Berth does not serve %s's %s yet", s.Name, op)}
}

// validate checks an input against the model, as AWS's front end does
// before the service sees the call.
func (s *Service) validate(op string, input map[string]any) error {
	err := s.m.ValidateInput(op, input)
	var ve *model.ValidationError
	if errors.As(err, &ve) {
		code := ve.Code
		if s.m.Metadata.Protocol == "query" {
			code = "ValidationError" // the query services' word for all of them
		}
		return &Error{Code: code, Message: ve.Message, Status: ve.HTTPStatus()}
	}
	return err
}

// hasOutput reports whether op's answer has a body in the model.
func (s *Service) hasOutput(op string) bool {
	o, ok := s.m.Operation(op)
	return ok && o.Output != ""
}

// decodeJSON is the decoder of an input that arrives as JSON, or that the
// query protocol's form was turned into: unknown members are ignored, as
// AWS ignores them.
func decodeJSON(body []byte) func(v any) error {
	return func(v any) error {
		if err := json.Unmarshal(body, v); err != nil {
			return Errorf("SerializationException", "the request body is not the JSON this operation takes: "+err.Error())
		}
		return nil
	}
}

// serviceTable finds services by how requests name them.
type serviceTable struct {
	byTarget  map[string]*Service // JSON: X-Amz-Target prefix
	bySigning map[string]*Service // query: SigV4 signing name
	query     []*Service          // query services, in the order given
	rest      []*restRoute        // REST-JSON: method and URI template
}

var compileMu sync.Mutex

func newServiceTable(services []*Service) (*serviceTable, error) {
	compileMu.Lock()
	defer compileMu.Unlock()
	t := &serviceTable{byTarget: map[string]*Service{}, bySigning: map[string]*Service{}}
	for _, s := range services {
		if err := s.compile(); err != nil {
			return nil, err
		}
		md := s.m.Metadata
		switch md.Protocol {
		case "json":
			t.byTarget[md.TargetPrefix+"."] = s
		case "query":
			t.bySigning[md.SigningName] = s
			t.query = append(t.query, s)
		case "rest-json":
			if err := t.addREST(s); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("service %s: Berth does not speak the %s protocol yet", s.Name, md.Protocol)
		}
	}
	return t, nil
}
