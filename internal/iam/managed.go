package iam

import (
	"crypto/sha256"
	"encoding/base32"
	"regexp"
	"sync"
	"time"

	"github.com/berth-registry/berth/internal/authz/policy"
)

// DefaultVersion is the one version a managed policy has, its default:
// Berth keeps no others yet.
const DefaultVersion = "v1"

// ManagedPolicy is a managed policy as IAM describes it: an account's own
// (customer managed) or one of the AWS managed policies Berth knows.
type ManagedPolicy struct {
	Name, ID, ARN, Path string
	Description         string
	// Document is the default version's.
	Document string
	// AWSManaged is set for arn:aws:iam::aws:policy/… policies, which are
	// built in: they have no description and no dates.
	AWSManaged bool
	// AttachmentCount is how many of the account's users, groups and
	// roles it is attached to.
	AttachmentCount int
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// awsManagedPolicies are the AWS managed policies Berth knows (the ECR
// ones), in name order. Their ids are Berth's (stable, in AWS's shape);
// each has one version, v1.
var awsManagedPolicies = sync.OnceValue(func() []ManagedPolicy {
	var out []ManagedPolicy
	for _, m := range policy.ManagedPolicies() {
		doc, _ := m.Policy.MarshalJSON()
		sum := sha256.Sum256([]byte(m.ARN))
		id := "ANPA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
		out = append(out, ManagedPolicy{Name: m.Name, ARN: m.ARN, ID: id, Path: "/", Document: string(doc), AWSManaged: true})
	}
	return out
})

func lookupAWSManaged(arn string) (ManagedPolicy, bool) {
	for _, m := range awsManagedPolicies() {
		if m.ARN == arn {
			return m, true
		}
	}
	return ManagedPolicy{}, false
}

// policyARNRE is a managed policy's ARN: the account (or "aws"), the path
// and the name.
var policyARNRE = regexp.MustCompile(`^arn:aws:iam::(aws|[0-9]{12}):policy((?:/[A-Za-z0-9.,+@=_-]+)*/)([\w+=,.@-]+)$`)

// PolicyRef is a managed policy's ARN, read.
type PolicyRef struct {
	ARN string
	// Account owns the policy: an account id, or "aws" for an AWS managed
	// policy.
	Account    string
	Path, Name string
}

// ParsePolicyARN reads a managed policy's ARN, refusing what is not one as
// IAM does (InvalidInput).
func ParsePolicyARN(arn string) (PolicyRef, error) {
	m := policyARNRE.FindStringSubmatch(arn)
	if m == nil {
		return PolicyRef{}, invalidARN(arn)
	}
	return PolicyRef{ARN: arn, Account: m[1], Path: m[2], Name: m[3]}, nil
}

// ReaderAccount is the account a read of the policy by a caller of
// account is authorized against: AWS managed policies are readable by
// every account, as if their own.
func (r PolicyRef) ReaderAccount(account string) string {
	if r.Account == "aws" {
		return account
	}
	return r.Account
}
