// Package model exposes the AWS service models that are Berth's API
// contract — ECR, ECR Public, STS, IAM, Secrets Manager and IAM Identity
// Center's four, embedded from botocore (see data/NOTICE) — and validates
// request input against them the way AWS does before any handler runs.
//
// A Model is loaded once, lazily, by Service and is immutable afterwards, so
// it is safe for concurrent use. Everything ValidateInput needs per shape
// (compiled patterns, member order, constraint texts) is computed at load
// time because validation runs on every API call.
package model

import "slices"

// Metadata is the part of a service model's "metadata" block the front door
// needs to route and sign requests.
type Metadata struct {
	APIVersion       string // "2015-09-21"
	Protocol         string // "json", "query" or "rest-json"
	JSONVersion      string // "1.1" for awsJson1_1; empty for query services
	TargetPrefix     string // X-Amz-Target prefix: "AmazonEC2ContainerRegistry_V20150921"
	SigningName      string // SigV4 service name; botocore defaults it to EndpointPrefix
	EndpointPrefix   string // "api.ecr"
	ServiceID        string // "ECR"
	ServiceFullName  string // "Amazon Elastic Container Registry"
	SignatureVersion string // "v4"
	XMLNamespace     string // query services only
}

// Model is one AWS service model.
type Model struct {
	Name     string // the name Service was called with: "ecr", "ecr-public", "sts", "iam"
	Metadata Metadata

	ops     map[string]*Operation
	opNames []string // sorted
	shapes  map[string]*Shape
	dialect *dialect
}

// Operation is one API operation.
type Operation struct {
	Name       string
	Input      string   // input shape name; empty when the operation takes no input
	Output     string   // output shape name; may be empty
	Errors     []string // error shape names, in model order
	HTTPMethod string
	RequestURI string
	// ResponseCode is the HTTP status of a success on the REST protocols;
	// 0 means 200.
	ResponseCode int
	Deprecated   bool

	doc string // raw HTML documentation; see Model.Documentation
}

// Shape is one model shape. Constraint fields are zero when absent.
type Shape struct {
	Name      string
	Type      string   // structure, list, map, string, integer, long, float, double, boolean, timestamp, blob
	Members   []Member // structure members, in model order
	Min, Max  *int64   // length (string, blob, list, map) or value (numbers) bounds
	Pattern   string   // Java regular expression, applied to the whole value
	Enum      []string // allowed string values, in model order
	Member    string   // list element shape
	Key       string   // map key shape
	Value     string   // map value shape
	Sensitive bool     // AWS leaves the value out of validation messages
	Exception bool     // an error shape
	Fault     bool     // an error caused by the server, not the caller
	ErrorCode string   // query protocol error code when it differs from Name
	HTTPCode  int      // HTTP status of an error shape, when the model says

	v shapeValidation // precomputed by compile; see validate.go
}

// Member is one member of a structure shape.
type Member struct {
	Name         string
	Shape        string
	Required     bool
	Location     string // "header", "uri", "querystring", ...; empty for the body
	LocationName string // wire name when it differs from Name
	Deprecated   bool

	target   *Shape // resolved Shape
	pathName string // name as AWS prints it in member paths (first letter lowered)
}

// Operation returns the named operation.
func (m *Model) Operation(name string) (*Operation, bool) {
	op, ok := m.ops[name]
	return op, ok
}

// Operations returns every operation name, sorted.
func (m *Model) Operations() []string {
	return slices.Clone(m.opNames)
}

// Shape returns the named shape.
func (m *Model) Shape(name string) (*Shape, bool) {
	s, ok := m.shapes[name]
	return s, ok
}

// Shapes returns every shape name, sorted.
func (m *Model) Shapes() []string {
	names := make([]string, 0, len(m.shapes))
	for n := range m.shapes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// MemberNamed returns the structure member with the given name.
func (s *Shape) MemberNamed(name string) (*Member, bool) {
	for i := range s.Members {
		if s.Members[i].Name == name {
			return &s.Members[i], true
		}
	}
	return nil, false
}

// RequiredMembers returns the names of the required members, in model order.
func (s *Shape) RequiredMembers() []string {
	var names []string
	for _, mem := range s.Members {
		if mem.Required {
			names = append(names, mem.Name)
		}
	}
	return names
}
