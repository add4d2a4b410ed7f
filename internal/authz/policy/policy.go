// Package policy reads IAM policy documents and decides requests with them
// the way IAM does for Amazon ECR: identity-based policies (a user's inline,
// attached and group policies, or a role's), repository policies, and the
// private registry policy that governs replication and pull through cache.
//
// It is pure: no I/O, no clock, no storage. Parse compiles a document once
// (wildcards split into parts, CIDRs, numbers and dates parsed), so Evaluate
// compiles nothing and allocates little; callers cache decisions anyway.
package policy

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind says where a document is attached, which decides what it may say:
// Principal only in resource-based policies, Resource never in a repository
// policy, and only the replication and pull through cache actions in a
// registry policy.
type Kind uint8

const (
	// Identity is attached to a user, group or role, inline or managed.
	Identity Kind = iota + 1
	// Repository is an ECR repository policy (SetRepositoryPolicy).
	Repository
	// Registry is an ECR private registry policy (PutRegistryPolicy).
	Registry
)

func (k Kind) String() string {
	switch k {
	case Identity:
		return "identity-based policy"
	case Repository:
		return "repository policy"
	case Registry:
		return "registry policy"
	}
	return "policy kind " + strconv.Itoa(int(k))
}

// The policy language versions IAM accepts. A document without Version is
// read as 2008-10-17, in which ${…} is literal text, not a policy variable.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Size limits. IAM counts characters other than white space
// (NonWhitespaceLen) against its quotas, per identity and summed over all
// inline policies of that identity; ECR limits policyText to 10,240
// characters of any kind (the length constraint in the ECR API model).
const (
	MaxUserInlinePolicySize  = 2048
	MaxGroupInlinePolicySize = 5120
	MaxRoleInlinePolicySize  = 10240
	MaxManagedPolicySize     = 6144
	MaxRepositoryPolicySize  = 10240
	MaxRegistryPolicySize    = 10240
)

// NonWhitespaceLen is a document's size as IAM's quotas count it.
func NonWhitespaceLen(text []byte) int {
	n := 0
	for len(text) > 0 {
		r, size := utf8.DecodeRune(text)
		text = text[size:]
		switch r {
		case ' ', '\t', '\n', '\r':
		default:
			n++
		}
	}
	return n
}

// ECR's words for a policy SetRepositoryPolicy or PutRegistryPolicy
// refuses, sent as InvalidParameterException whatever the fault; Error
// says where the fault is, for logs and for IAM's MalformedPolicyDocument.
const (
	ECRInvalidRepositoryPolicy = "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'"
	ECRInvalidRegistryPolicy   = "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'"
)

// ErrInvalid matches every *Error with errors.Is.
var ErrInvalid = errors.New("policy: invalid policy document")

// Error is a document Parse refuses, located: the statement by index and
// Sid, and the element by its path (Principal.AWS,
// Condition.IpAddress.aws:SourceIp).
type Error struct {
	Kind Kind
	// Statement is the index in Statement, or -1 when the fault is outside
	// any one statement.
	Statement int
	Sid       string
	Element   string
	Msg       string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid ")
	b.WriteString(e.Kind.String())
	b.WriteString(": ")
	if e.Statement >= 0 {
		b.WriteString("Statement[")
		b.WriteString(strconv.Itoa(e.Statement))
		b.WriteString("]")
		if e.Sid != "" {
			b.WriteString(" (Sid ")
			b.WriteString(strconv.Quote(e.Sid))
			b.WriteString(")")
		}
		b.WriteString(": ")
	}
	if e.Element != "" {
		b.WriteString(e.Element)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Policy is a parsed, compiled document. It is immutable and safe for
// concurrent use.
type Policy struct {
	kind    Kind
	version string // as written; "" when absent
	id      string
	hasID   bool
	single  bool // Statement was written as one object, not an array
	stmts   []*statement
}

// Kind is where the document is attached.
func (p *Policy) Kind() Kind { return p.kind }

// Version is the Version element as written, "" when absent.
func (p *Policy) Version() string { return p.version }

// ID is the Id element, "" when absent.
func (p *Policy) ID() string { return p.id }

// Len is the number of statements.
func (p *Policy) Len() int { return len(p.stmts) }

// MustParse is Parse for documents known to be good, such as built-in ones.
func MustParse(kind Kind, text string) *Policy {
	p, err := Parse(kind, []byte(text))
	if err != nil {
		panic(err)
	}
	return p
}
