// Package authz decides whether a principal may perform an ECR action on a
// resource, and words a denial the way ECR does.
package authz

import (
	"context"
	"fmt"

	"github.com/berth-registry/berth/internal/authn"
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
}

// DeniedError is a refusal, worded as ECR words it.
type DeniedError struct {
	Request Request
	Reason  string
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because %s",
		e.Request.Principal.ARN, e.Request.Action, e.Request.Resource, e.Reason)
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
	return &DeniedError{Request: r, Reason: "no resource-based policy allows the " + r.Action + " action"}
}

// RepositoryARN is the ARN of an ECR repository.
func RepositoryARN(region, account, name string) string {
	return "arn:aws:ecr:" + region + ":" + account + ":repository/" + name
}
