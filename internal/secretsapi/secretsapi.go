// Package secretsapi answers AWS Secrets Manager's API (JSON 1.1, target
// prefix secretsmanager): the subset ECR users script against to keep a
// pull-through cache's upstream credentials. Each operation is one row in
// the table below and one function; the front door (package awsapi)
// decodes, validates against the model and authorizes the row's checks
// (secretsmanager:<Operation> on the secret's ARN, by identity policies)
// before a function runs; a function calls the secrets domain with the
// caller's registry — its account, and the region its signature names —
// and shapes the answer. The domain's errors become Secrets Manager's in
// errors.go.
package secretsapi

import (
	"context"
	"strings"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/secrets"
)

// API is Secrets Manager's operations over the secrets domain.
type API struct {
	sec *secrets.Service
}

// New returns the Secrets Manager API.
func New(svc *secrets.Service) *API { return &API{sec: svc} }

// Service is Secrets Manager's description for the front door.
func (a *API) Service() *awsapi.Service {
	return &awsapi.Service{
		Name:         "Secrets Manager",
		Model:        "secretsmanager",
		ActionPrefix: "secretsmanager",
		FaultCode:    "InternalServiceError",
		Errors:       domainError,
		NotServed:    notServed,
		Operations: []awsapi.Operation{
			awsapi.Op("CreateSecret", a.newSecret, a.createSecret),
			awsapi.Op("GetSecretValue", onSecret[getSecretValueIn](a), a.getSecretValue),
			awsapi.Op("PutSecretValue", onSecret[putSecretValueIn](a), a.putSecretValue),
			awsapi.Op("DescribeSecret", onSecret[secretIn](a), a.describeSecret),
			awsapi.Op("ListSecrets", onAll[listSecretsIn], a.listSecrets),
			awsapi.Op("ListSecretVersionIds", onSecret[listSecretVersionIdsIn](a), a.listSecretVersionIds),
			awsapi.Op("UpdateSecret", onSecret[updateSecretIn](a), a.updateSecret),
			awsapi.Op("DeleteSecret", onSecret[deleteSecretIn](a), a.deleteSecret),
			awsapi.Op("RestoreSecret", onSecret[secretIn](a), a.restoreSecret),
			awsapi.Op("TagResource", a.onTagging, a.tagResource),
			awsapi.Op("UntagResource", onSecret[untagResourceIn](a), a.untagResource),
			awsapi.Op("GetRandomPassword", onAll[getRandomPasswordIn], getRandomPassword),
		},
	}
}

// notServed are Secrets Manager's operations Berth does not serve yet:
// rotation (which runs Lambda functions), replication to other regions,
// resource policies, and the batch and label-moving calls.
var notServed = []string{
	"BatchGetSecretValue",
	"CancelRotateSecret",
	"DeleteResourcePolicy",
	"GetResourcePolicy",
	"PutResourcePolicy",
	"RemoveRegionsFromReplication",
	"ReplicateSecretToRegions",
	"RotateSecret",
	"StopReplicationToReplica",
	"UpdateSecretVersionStage",
	"ValidateResourcePolicy",
}

// registry is the caller's registry: its account, and the region its
// signature is scoped to.
func registry(c *awsapi.Call) secrets.Registry {
	return secrets.Registry{Account: c.Principal.Account, Region: c.Region}
}

// secretRef is an input naming one secret.
type secretRef interface{ secretID() string }

// secretIn is an input that names a secret and nothing else.
type secretIn struct {
	SecretID string `json:"SecretId"`
}

func (in *secretIn) secretID() string { return in.SecretID }

// onSecret checks the operation on the secret the input names, by its
// ARN. A secret that does not exist is checked on the ARN its name (or
// the ARN given) would have, so that a caller refused learns nothing of
// what exists; one allowed then hears that it does not exist.
func onSecret[In any, P interface {
	*In
	secretRef
}](a *API) func(context.Context, *awsapi.Call, *In) ([]awsapi.Check, error) {
	return func(ctx context.Context, c *awsapi.Call, in *In) ([]awsapi.Check, error) {
		arn, err := a.secretARN(ctx, c, P(in).secretID())
		if err != nil {
			return nil, err
		}
		return []awsapi.Check{{Resource: arn, Account: c.Principal.Account}}, nil
	}
}

func (a *API) secretARN(ctx context.Context, c *awsapi.Call, id string) (string, error) {
	reg := registry(c)
	sec, err := a.sec.Lookup(ctx, reg, id)
	switch {
	case err == nil:
		return sec.ARN, nil
	case !isNotFound(err):
		return "", err
	case strings.HasPrefix(id, "arn:"):
		return id, nil
	}
	return secrets.ARN(reg, id), nil
}

// onAll checks an operation that names no secret (ListSecrets) on "*".
func onAll[In any](_ context.Context, c *awsapi.Call, _ *In) ([]awsapi.Check, error) {
	return []awsapi.Check{{Resource: "*", Account: c.Principal.Account}}, nil
}

// none is the answer of an operation that has no result.
type none = struct{}

// tag is a resource tag on the wire.
type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func tagsIn(tags []tag) []secrets.Tag {
	out := make([]secrets.Tag, 0, len(tags))
	for _, t := range tags {
		out = append(out, secrets.Tag{Key: t.Key, Value: t.Value})
	}
	return out
}

func tagsOut(tags []secrets.Tag) []tag {
	if len(tags) == 0 {
		return nil
	}
	out := make([]tag, 0, len(tags))
	for _, t := range tags {
		out = append(out, tag{Key: t.Key, Value: t.Value})
	}
	return out
}

// tagMap is the tags a request sets, for aws:RequestTag and aws:TagKeys.
func tagMap(tags []tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

func omitEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
