package server

import (
	"context"
	"errors"

	"github.com/berth-registry/berth/internal/replicate"
	"github.com/berth-registry/berth/internal/secrets"
)

// replicationSecrets reads the secrets that make a destination remote
// from the Secrets Manager, which the server opens with its identities,
// after replication is built: get is asked on each read.
type replicationSecrets struct{ get func() *secrets.Service }

func (r replicationSecrets) SecretString(ctx context.Context, account, region, id string) (string, error) {
	sec := r.get()
	if sec == nil {
		return "", replicate.ErrSecretNotFound
	}
	v, err := sec.SecretValue(ctx, account, region, id)
	if errors.Is(err, secrets.ErrNotFound) {
		return "", replicate.ErrSecretNotFound
	}
	if err != nil {
		return "", err
	}
	return v.String, nil
}
