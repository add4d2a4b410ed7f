// Package authz decides whether a principal may perform an ECR action on a
// resource, and words a denial the way ECR does.
package authz

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz/policy"
	"github.com/berth-registry/berth/internal/meta"
)

// Request is one authorization question.
type Request struct {
	Principal *authn.Principal
	// Action is ECR's action name, e.g. ecr:BatchGetImage.
	Action string
	// Resource is the ARN acted on.
	Resource string
	// ResourceAccount owns the resource.
	ResourceAccount string
	// SourceIP and SecureTransport describe the connection, for the
	// aws:SourceIp and aws:SecureTransport condition keys.
	SourceIP        netip.Addr
	SecureTransport bool
	// RequestTags are the tags a request sets (aws:RequestTag, aws:TagKeys).
	RequestTags map[string]string
	// ResourceName is how a denial names the resource when not by its ARN
	// (IAM says "on resource: user bob").
	ResourceName string
	// Feature is the ECR feature the request is made for (pull through
	// cache, replication): only such requests consult the registry
	// policy, as ECR does.
	Feature policy.Feature
}

// DeniedError is a refusal, worded as ECR words it.
type DeniedError struct {
	Request Request
	// Reason is the end of the message: "because no identity-based policy
	// allows the ecr:X action", "with an explicit deny in a
	// resource-based policy", ...
	Reason string
}

func (e *DeniedError) Error() string {
	resource := e.Request.Resource
	if e.Request.ResourceName != "" {
		resource = e.Request.ResourceName
	}
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s",
		e.Request.Principal.ARN, e.Request.Action, resource, e.Reason)
}

// Authorizer answers authorization questions.
type Authorizer interface {
	Authorize(ctx context.Context, r Request) error
}

// AccountOwner allows every action of an account's own identities on the
// account's resources and nothing across accounts: the rule that holds
// before any policy is written.
type AccountOwner struct{}

// Authorize implements Authorizer.
func (AccountOwner) Authorize(_ context.Context, r Request) error {
	if r.Principal.Account == r.ResourceAccount {
		return nil
	}
	return &DeniedError{Request: r, Reason: "because no resource-based policy allows the " + r.Action + " action"}
}

// RepositoryARN is the ARN of an ECR repository; a repository of the
// public registry (meta.PublicRegion) has ECR Public's ARN, which names no
// region.
func RepositoryARN(region, account, name string) string {
	if region == meta.PublicRegion {
		return "arn:aws:ecr-public::" + account + ":repository/" + name
	}
	return "arn:aws:ecr:" + region + ":" + account + ":repository/" + name
}
