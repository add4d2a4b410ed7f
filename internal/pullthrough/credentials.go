package pullthrough

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/berth-registry/berth/internal/pullthrough/upstream"
)

// SecretSource reads a Secrets Manager secret's current value, as
// SecretString. It fails with an error wrapping ErrSecretNotFound for a
// secret that does not exist, ErrSecretAccess for one the cache may not
// read and ErrSecretDecrypt for one whose value cannot be decrypted.
type SecretSource interface {
	SecretString(ctx context.Context, account, region, id string) (string, error)
}

// NoSecrets is a SecretSource with no secrets: every credentialArn names
// a secret that does not exist.
type NoSecrets struct{}

func (NoSecrets) SecretString(context.Context, string, string, string) (string, error) {
	return "", ErrSecretNotFound
}

// secretARN splits arn:aws:secretsmanager:<region>:<account>:secret:<name>.
func secretARN(arn string) (region, account string, ok bool) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) != 7 || parts[0] != "arn" || parts[2] != "secretsmanager" || parts[5] != "secret" {
		return "", "", false
	}
	return parts[3], parts[4], true
}

// credentials reads a rule's secret: ECR's JSON {"username": …,
// "accessToken": …}. A rule without a credentialArn is anonymous.
func (s *Service) credentials(ctx context.Context, arn string) (upstream.Credentials, error) {
	if arn == "" {
		return upstream.Credentials{}, nil
	}
	region, account, ok := secretARN(arn)
	if !ok {
		return upstream.Credentials{}, invalid("credentialArn %q is not a Secrets Manager secret's ARN", arn)
	}
	val, err := s.secrets.SecretString(ctx, account, region, arn)
	switch {
	case errors.Is(err, ErrSecretNotFound):
		return upstream.Credentials{}, errorf(ErrSecretNotFound, "The secret %s was not found in account %s, region %s: create it with aws secretsmanager create-secret --name ecr-pullthroughcache/… and use its ARN", arn, account, region)
	case errors.Is(err, ErrSecretAccess):
		return upstream.Credentials{}, errorf(ErrSecretAccess, "The secret %s cannot be accessed: %v", arn, err)
	case errors.Is(err, ErrSecretDecrypt):
		return upstream.Credentials{}, errorf(ErrSecretDecrypt, "The secret %s cannot be decrypted: %v", arn, err)
	case err != nil:
		return upstream.Credentials{}, err
	}
	var v struct {
		Username    string `json:"username"`
		AccessToken string `json:"accessToken"`
	}
	if err := json.Unmarshal([]byte(val), &v); err != nil || v.Username == "" || v.AccessToken == "" {
		return upstream.Credentials{}, errorf(ErrSecretDecrypt, `The secret %s does not hold the JSON a pull through cache reads: {"username": "…", "accessToken": "…"}`, arn)
	}
	return upstream.Credentials{Username: v.Username, Password: v.AccessToken}, nil
}
